/*
 * test_routes.c - unit tests for the upstream URI parser of routes.c
 * (wsproxy(1) UNIX SOCKETS, the -u flag): routes.c is #included so that
 * its static parse_uri() can be called alone.
 *
 *   - a table of URIs, ws:// and ws+unix: alike, each with what start-up
 *     makes of it (socket path, path, query, Host, TLS) or the words of
 *     its exit 64;
 *   - each URI parsed from a copy that ends at a PROT_NONE page, so a
 *     read past its NUL faults.
 * (That the resolver leaves a unix upstream's one address alone is
 * dns.c's, seen end to end by the unix-socket integration tests.)
 *
 * usage_error() is a longjmp here (no URI here fails inside the target
 * normaliser, whose buffers only exit 64 frees).  Prints one line per failing case and
 * ends with "N passed, N failed".
 */
#include <sys/mman.h>
#include <setjmp.h>
#include <stdarg.h>
#include <unistd.h>

#include "guard.h"
#include "../../routes.c"

struct px_config px_cfg;

static jmp_buf	 on_error;
static char	 error_text[512];
static unsigned	 passed, failed;

void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error_text, sizeof(error_text), fmt, ap);
	va_end(ap);
	longjmp(on_error, 1);
}

char *
xstrndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d == NULL)
		abort();
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

#include "routes_stubs.h"

/* ------------------------------------------------------------------ */
/* Guard page                                                          */
/* ------------------------------------------------------------------ */

static char	*guard;
static size_t	 page;

static void
guard_init(void)
{
	guard = (char *)guard_map(&page);
}

/* s with its NUL the last byte before the PROT_NONE page. */
static const char *
at_guard(const char *s)
{
	size_t len = strlen(s) + 1;

	memcpy(guard + page - len, s, len);
	return guard + page - len;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

struct vector {
	const char	*uri;
	const char	*error;		/* a word of the exit-64 message */
	int		 is_unix, tls;
	const char	*socket;	/* sun_path */
	const char	*path;		/* NULL: none */
	const char	*query;
	const char	*host_header;
};

/* 107 bytes: the longest socket path a sockaddr_un holds with its NUL */
#define P107 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct vector vectors[] = {
	/* unix sockets */
	{ "ws+unix:/run/app.sock", NULL, 1, 0, "/run/app.sock", NULL, NULL,
	  "localhost" },
	{ "ws+unix:/run/app.sock:", NULL, 1, 0, "/run/app.sock", NULL, NULL,
	  "localhost" },
	{ "ws+unix:/run/app.sock:/x/y?a=1", NULL, 1, 0, "/run/app.sock",
	  "/x/y", "a=1", "localhost" },
	{ "ws+unix:/run/app.sock:?a=1", NULL, 1, 0, "/run/app.sock", NULL,
	  "a=1", "localhost" },
	{ "WS+UNIX:/s:/%61pi/b", NULL, 1, 0, "/s", "/api/b", NULL,
	  "localhost" },
	{ "wss+unix:/run/app.sock:/x", NULL, 1, 1, "/run/app.sock", "/x",
	  NULL, "localhost" },
	{ "ws+unix:" P107, NULL, 1, 0, P107, NULL, NULL, "localhost" },
	{ "ws+unix:" P107 "a", "longer than 107", 0, 0, NULL, NULL, NULL,
	  NULL },
	{ "ws+unix:", "absolute", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws+unix::/x", "absolute", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws+unix:run/app.sock", "absolute", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws+unix:/a:b", "followed", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws+unix:/a:b:/x", "followed", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws+unix:/a:/x:/y", NULL, 1, 0, "/a", "/x:/y", NULL, "localhost" },
	{ "ws+unix:/a b", "blanks", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws+unix:/a\"b", "may not hold", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws+unix:/a\\b", "may not hold", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws+unix:/a\x01" "b", "may not hold", 0, 0, NULL, NULL, NULL,
	  NULL },
	{ "ws+unix:/a#f", "fragment", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws+unixx:/a", "is not a", 0, 0, NULL, NULL, NULL, NULL },
	{ "unix:/a", "is not a", 0, 0, NULL, NULL, NULL, NULL },
	/* TCP, unchanged */
	{ "ws://app:4000/socket?v=2", NULL, 0, 0, NULL, "/socket", "v=2",
	  "app:4000" },
	{ "wss://[::1]/x", NULL, 0, 1, NULL, "/x", NULL, "[::1]" },
	{ "ws://", "no host", 0, 0, NULL, NULL, NULL, NULL },
	{ "ws://a:0", "bad port", 0, 0, NULL, NULL, NULL, NULL },
	{ "http://a", "is not a", 0, 0, NULL, NULL, NULL, NULL },
};

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
bad(const struct vector *v, const char *what, const char *got)
{
	failed++;
	printf("FAIL '%s': %s: got '%s'\n", v->uri, what,
	    got != NULL ? got : "(null)");
}

/* What parse_uri() allocated (an error exits 64 in wsproxy itself). */
static void
up_free(struct px_upstream *up)
{
	free(up->host);
	free(up->host_header);
	free(up->path);
	free(up->query);
}

static void
run_vector(const struct vector *v)
{
	static struct px_upstream up;	/* static: longjmp clobbers locals */
	const struct sockaddr_un *sun;
	const char *uri = at_guard(v->uri);
	unsigned before = failed;

	if (strcmp(v->uri, "ws+unix:" P107) == 0 && strlen(P107) != 107)
		bad(v, "the vector itself", "P107 is not 107 bytes");
	memset(&up, 0, sizeof(up));
	error_text[0] = '\0';
	if (setjmp(on_error) != 0) {
		up_free(&up);
		if (v->error == NULL)
			bad(v, "refused", error_text);
		else if (strstr(error_text, v->error) == NULL ||
		    strncmp(error_text, "-u: ", 4) != 0)
			bad(v, "wrong message", error_text);
		else
			passed++;
		return;
	}
	parse_uri("-u", uri, &up);
	if (v->error != NULL) {
		bad(v, "accepted, want an error", v->error);
		return;
	}
	if (up.is_unix != v->is_unix)
		bad(v, "is_unix", up.is_unix ? "1" : "0");
	if (up.tls != v->tls)
		bad(v, "tls", up.tls ? "1" : "0");
	if (!same(up.path, v->path))
		bad(v, "path", up.path);
	if (!same(up.query, v->query))
		bad(v, "query", up.query);
	if (!same(up.host_header, v->host_header))
		bad(v, "host_header", up.host_header);
	if (v->is_unix) {
		sun = (const struct sockaddr_un *)&up.addr[0];
		if (up.naddr != 1 || sun->sun_family != AF_UNIX ||
		    up.addr_len[0] != sizeof(*sun))
			bad(v, "address", "not one sockaddr_un");
		else if (!same(sun->sun_path, v->socket))
			bad(v, "socket path", sun->sun_path);
		else if (!same(up.host, "localhost"))
			bad(v, "host (SNI)", up.host);
	}
	if (failed == before)
		passed++;
	up_free(&up);
}

int
main(void)
{
	size_t i;

	guard_init();
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		run_vector(&vectors[i]);
	printf("%u passed, %u failed\n", passed, failed);
	return failed != 0;
}
