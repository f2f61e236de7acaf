/*
 * fuzz_uri.c - libFuzzer target for the upstream URI parser of
 * routes.c (the -u and -r flags, wsproxy(1) UNIX SOCKETS): routes.c is
 * #included so that its static parse_uri() can be called alone.
 *
 * The input, made a C string, is parsed as a URI; usage_error() (exit
 * 64 in wsproxy) is a longjmp here.  It must not read past the string,
 * and what it accepts must be whole: a unix URI has one AF_UNIX address
 * whose NUL-terminated absolute path is a prefix of the input, Host
 * "localhost" and no resolution; any URI has a host, a Host header, and
 * a path that starts with '/'.
 *
 * A refused URI leaves what was allocated to exit(64) (the target
 * normaliser's buffers among it), so routes.c's malloc() and free() are
 * tracked here and whatever is left after each input is freed: no leak
 * grows the fuzzer's memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>

#define MAX_LIVE 16
static void	*live[MAX_LIVE];

static void *
tracked_malloc(size_t n)
{
	void *p = malloc(n);
	int i;

	for (i = 0; p != NULL && i < MAX_LIVE; i++)
		if (live[i] == NULL) {
			live[i] = p;
			return p;
		}
	abort();		/* more live blocks than one URI can make */
}

static void
tracked_free(void *p)
{
	int i;

	for (i = 0; p != NULL && i < MAX_LIVE; i++)
		if (live[i] == p)
			live[i] = NULL;
	free(p);
}

#define malloc(n) tracked_malloc(n)
#define free(p) tracked_free(p)
#include "../../routes.c"
#undef malloc
#undef free
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct px_config px_cfg;
static jmp_buf on_error;

void
usage_error(const char *fmt, ...)
{
	(void)fmt;
	longjmp(on_error, 1);
}

char *
xstrndup(const char *s, size_t n)
{
	char *d = tracked_malloc(n + 1);

	if (d == NULL)
		abort();
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

#include "../unit/routes_stubs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct px_upstream up;	/* static: longjmp clobbers locals */
	static char *in;
	const struct sockaddr_un *sun;
	int i;

	in = malloc(size + 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	memset(&up, 0, sizeof(up));
	if (setjmp(on_error) == 0) {
		parse_uri("-u", in, &up);
		CHECK(up.host != NULL && up.host_header != NULL);
		CHECK(up.path == NULL || up.path[0] == '/');
		if (up.is_unix) {
			sun = (const struct sockaddr_un *)&up.addr[0];
			CHECK(up.naddr == 1 && sun->sun_family == AF_UNIX);
			CHECK(memchr(sun->sun_path, '\0',
			    sizeof(sun->sun_path)) != NULL);
			CHECK(sun->sun_path[0] == '/');
			CHECK(strstr(in, sun->sun_path) != NULL);
			CHECK(strcmp(up.host_header, "localhost") == 0);
		}
	}
	for (i = 0; i < MAX_LIVE; i++)
		tracked_free(live[i]);
	free(in);
	return 0;
}
