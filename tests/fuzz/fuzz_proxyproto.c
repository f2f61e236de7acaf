/*
 * fuzz_proxyproto.c - libFuzzer target for the PROXY protocol parser of
 * proxyproto.c (wsproxy(1) CLIENT IDENTITY).
 *
 * The input is parsed from an exact-size copy (ASan sees a read past
 * it), and so is every prefix of it: a prefix of a header that parses
 * must give 0, and a prefix that gives -1 makes the whole give -1.  An
 * accepted header is at most PP_MAX bytes (PP_V1_MAX for version 1) and
 * within the input; its addresses, when known, are IPv4 or IPv6, the
 * same family twice.  A header built by pp_build_v2() from them parses
 * back to the same addresses.  The first two bytes of the input, as a
 * prefix length, are also fed as --trust-proxy text to pp_cidr_parse().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proxyproto.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
parse_copy(const uint8_t *data, size_t n, struct pp_header *h)
{
	uint8_t *in = malloc(n ? n : 1);
	int r;

	if (in == NULL)
		abort();
	memcpy(in, data, n);
	r = pp_parse(in, n, h);
	free(in);
	return r;
}

static size_t
addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_header h, back;
	struct pp_cidr c;
	uint8_t out[PP_V2_OUT_MAX];
	char text[64];
	size_t k, n;
	int r, rk;

	r = parse_copy(data, size, &h);
	CHECK(r >= -1 && (size_t)(r > 0 ? r : 0) <= size);
	if (r > 0) {
		CHECK(r <= PP_MAX);
		CHECK(h.version == 1 || h.version == 2);
		CHECK(h.version == 2 || r <= PP_V1_MAX);
		CHECK(!(h.local && h.known));
		if (h.known) {
			CHECK(h.src.ss_family == AF_INET ||
			    h.src.ss_family == AF_INET6);
			CHECK(h.src.ss_family == h.dst.ss_family);
			n = pp_build_v2(out, sizeof(out),
			    (struct sockaddr *)&h.src, (struct sockaddr *)&h.dst);
			CHECK(n > 0);
			CHECK(parse_copy(out, n, &back) == (int)n);
			CHECK(back.known && back.src.ss_family ==
			    h.src.ss_family);
			CHECK(memcmp(&back.src, &h.src, addr_len(&h.src)) == 0);
			CHECK(memcmp(&back.dst, &h.dst, addr_len(&h.dst)) == 0);
		}
	}
	/* prefixes: a few spread over the input keep this fast */
	for (k = 0; k < size && k < (size_t)(r > 0 ? r : PP_MAX);
	    k += 1 + k / 8) {
		rk = parse_copy(data, k, &back);
		if (r > 0)
			CHECK(rk == 0);
		if (rk < 0)
			CHECK(r == -1);
	}
	if (size >= 1) {
		n = data[0] % sizeof(text);
		if (n > size - 1)
			n = size - 1;
		memcpy(text, data + 1, n);
		text[n] = '\0';
		if (pp_cidr_parse(text, &c) == 0)
			CHECK((c.family == AF_INET && c.bits <= 32) ||
			    (c.family == AF_INET6 && c.bits <= 128));
	}
	return 0;
}
