/*
 * fuzz_http_request.c - libFuzzer target for http_parse_request() and
 * http_head_end(); fuzz_http_response.c includes this file with
 * FUZZ_RESPONSE set, so both parsers get the same invariants.
 *
 * Besides "no crash, no over-read" (ASan sees libFuzzer's exact-size
 * copy of the input), it checks what callers rely on:
 *   - a head length never exceeds the input, every pointer lies in it;
 *   - a prefix of the input never gets a different final answer: a
 *     successful head's prefixes are PARTIAL, an error's prefixes are
 *     PARTIAL or the same error, bytes after a head change nothing;
 *   - http_head_end() stops exactly at a head's end and never while
 *     the parser would still say PARTIAL.
 * Prefixes are parsed from their own exact-size copies so that a read
 * past len is caught, not just a read past the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ws.h"
#include "fuzz_check.h"

#ifndef FUZZ_RESPONSE
#define FUZZ_RESPONSE 0
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
parse(const char *buf, size_t len, struct http_head *h)
{
	return FUZZ_RESPONSE ? http_parse_response(buf, len, h) :
	    http_parse_request(buf, len, h);
}

/* Parse data[0..k) from a copy that ends where the prefix ends. */
static int
parse_prefix(const uint8_t *data, size_t k, struct http_head *h)
{
	char	*copy;
	int	 r;

	copy = malloc(k > 0 ? k : 1);
	if (copy == NULL)
		abort();
	if (k > 0)
		memcpy(copy, data, k);
	r = parse(copy, k, h);
	free(copy);		/* h now dangles: callers only use r */
	return r;
}

static int
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return n == 0 || (p >= buf && p + n <= buf + len);
}

static void
check_head(const struct http_head *h, const char *buf, size_t r)
{
	const struct http_header	*hd;
	size_t				 i;

	CHECK(inside(h->method, h->method_len, buf, r));
	CHECK(inside(h->target, h->target_len, buf, r));
	CHECK(inside(h->reason, h->reason_len, buf, r));
	CHECK(h->minor_version == 0 || h->minor_version == 1);
	if (FUZZ_RESPONSE)
		CHECK(h->status >= 100 && h->status <= 999);
	else
		CHECK(h->method_len > 0 && h->target_len > 0);
	CHECK(h->num_headers <= HTTP_MAX_HEADERS);
	for (i = 0; i < h->num_headers; i++) {
		hd = &h->headers[i];
		CHECK(hd->name_len > 0);
		CHECK(inside(hd->name, hd->name_len, buf, r));
		CHECK(inside(hd->value, hd->value_len, buf, r));
		CHECK(memchr(hd->value, '\r', hd->value_len) == NULL);
		CHECK(memchr(hd->value, '\n', hd->value_len) == NULL);
		CHECK(memchr(hd->value, '\0', hd->value_len) == NULL);
		CHECK(hd->value_len == 0 || (hd->value[0] != ' ' &&
		    hd->value[hd->value_len - 1] != ' ' &&
		    hd->value[0] != '\t' &&
		    hd->value[hd->value_len - 1] != '\t'));
		/* What the handshake code calls on header values. */
		(void)http_list_has(hd->value, hd->value_len, "upgrade");
	}
	CHECK((http_find(h, "Upgrade") != NULL) ==
	    (http_count(h, "upgrade") > 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head	 h;
	const char		*buf = (const char *)data;
	size_t			 scan, k, n, s2;
	int			 i, r, rk, end;

	r = parse(buf, size, &h);
	CHECK(r > 0 || r == HTTP_PARTIAL || r == HTTP_INVALID ||
	    r == HTTP_TOO_MANY);
	if (r > 0) {
		CHECK((size_t)r <= size && r >= 4);
		CHECK(memcmp(buf + r - 4, "\r\n\r\n", 4) == 0);
		check_head(&h, buf, (size_t)r);
		/* Bytes after the head change nothing. */
		CHECK(parse_prefix(data, (size_t)r, &h) == r);
		CHECK(parse_prefix(data, (size_t)r - 1, &h) == HTTP_PARTIAL);
	}

	/* Two more prefixes: one fixed, one chosen by the input. */
	for (i = 0; i < 2; i++) {
		n = i == 0 ? size / 2 :
		    size > 0 ? data[size - 1] * (size_t)257 % size : 0;
		rk = parse_prefix(data, n, &h);
		if (r == HTTP_PARTIAL)
			CHECK(rk == HTTP_PARTIAL);
		else if (r > 0)
			CHECK(n >= (size_t)r ? rk == r : rk == HTTP_PARTIAL);
		else
			CHECK(rk == HTTP_PARTIAL || rk == r);
	}

	/* The end finder, all at once and then a byte at a time. */
	scan = 0;
	end = http_head_end(buf, size, &scan);
	if (end) {
		CHECK(scan < size);
		CHECK(parse_prefix(data, scan + 1, &h) != HTTP_PARTIAL);
	} else
		CHECK(scan == size);
	if (r > 0)
		CHECK(end && scan == (size_t)r - 1);
	if (size <= 512) {
		s2 = 0;
		for (k = 1; k <= size; k++)
			if (http_head_end(buf, k, &s2))
				break;
		CHECK(end ? s2 == scan && k == scan + 1 : k == size + 1);
	}
	return 0;
}
