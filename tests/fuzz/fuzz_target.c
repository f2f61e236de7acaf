/*
 * fuzz_target.c - libFuzzer target for target.c (wsproxy(1) ROUTING AND
 * REWRITING, SECURITY).
 *
 * The input is a request target.  Whatever it is, target_normalise()
 * must not crash or read past it, and what it accepts must hold no dot
 * segment in any spelling, no backslash, no encoded slash, only
 * upper-case escapes of reserved bytes, and must normalise to itself.
 * The input is also split at its first NUL into an operator query and
 * a client query for target_query_compose(): the output starts with the
 * operator's query and is never longer than both with one '&'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../target.h"
#include "../unit/target_invariants.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_compose(const char *in, size_t size)
{
	const char *nul = memchr(in, '\0', size);
	size_t oplen, clen, n;
	char *out;

	if (nul == NULL)
		return;
	oplen = (size_t)(nul - in);
	clen = size - oplen - 1;
	out = malloc(oplen + clen + 2);
	if (out == NULL)
		abort();
	n = target_query_compose(in, oplen, nul + 1, clen, out,
	    oplen + clen + 1);
	CHECK(n != SIZE_MAX && n <= oplen + clen + 1);
	CHECK(memcmp(out, in, oplen) == 0);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *out, *again, *out2;
	struct target t, t2;
	const char *why;
	size_t n;

	check_compose(in, size);
	out = malloc(size + 1);
	if (out == NULL)
		abort();
	why = target_normalise(in, size, out, size + 1, &t);
	if (why != NULL) {
		free(out);
		return 0;
	}
	CHECK(t.path_len + t.query_len <= size);
	CHECK(target_path_clean(t.path, t.path_len) == NULL);
	n = t.path_len + (t.query ? 1 + t.query_len : 0);
	again = malloc(n + 1);
	out2 = malloc(n + 1);
	if (again == NULL || out2 == NULL)
		abort();
	memcpy(again, t.path, t.path_len);
	if (t.query != NULL) {
		again[t.path_len] = '?';
		memcpy(again + t.path_len + 1, t.query, t.query_len);
	}
	why = target_normalise(again, n, out2, n + 1, &t2);
	CHECK(why == NULL);
	CHECK(t2.path_len == t.path_len &&
	    memcmp(t2.path, t.path, t.path_len) == 0);
	CHECK((t2.query == NULL) == (t.query == NULL));
	CHECK(t2.query_len == t.query_len &&
	    (t.query == NULL || memcmp(t2.query, t.query, t.query_len) == 0));
	free(again);
	free(out2);
	free(out);
	return 0;
}
