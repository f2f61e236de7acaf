/*
 * fuzz_san.c - libFuzzer target for tls_x509.c's iPAddress subjectAltName
 * walker, the one parser wsproxy itself runs on certificate bytes from
 * the network (BearSSL parses the rest).  It sees the upstream's
 * end-entity certificate in whatever pieces the TLS records cut it, so:
 *   input = 1 byte (even: IPv4, odd: IPv6), the address, then the DER;
 *   - fed whole, byte by byte, and in chunks whose sizes come from the
 *     input, the walker ends in the same state (found, position, depth);
 *   - it stays inside what it is given (ASan) and within SAN_DEPTH;
 *   - "found" implies the address bytes occur in the certificate.
 * Built only with TLS (it includes tls_x509.c, which needs BearSSL).
 */
#define WSPROXY_TLS 1
#include "../../tls_x509.c"

#include <stdio.h>
#include <stdlib.h>
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feed der in pieces of the sizes step() gives; an exact-size heap copy
 * of each piece, so a read past it is caught. */
static void
walk(struct tls_x509 *x, const uint8_t *der, size_t len,
    size_t (*step)(size_t, const uint8_t *, size_t))
{
	size_t off = 0, n, i = 0;
	uint8_t *piece;

	memset(&x->san, 0, sizeof(x->san));
	while (off < len) {
		n = step(i++, der, len);
		if (n > len - off)
			n = len - off;
		piece = malloc(n);
		CHECK(piece != NULL);
		memcpy(piece, der + off, n);
		san_feed(&x->san, x, piece, n);
		free(piece);
		CHECK(x->san.depth <= SAN_DEPTH);
		off += n;
	}
}

static size_t
whole(size_t i, const uint8_t *d, size_t len)
{
	(void)i;
	(void)d;
	return len;
}

static size_t
bytewise(size_t i, const uint8_t *d, size_t len)
{
	(void)i;
	(void)d;
	(void)len;
	return 1;
}

static size_t
chunks(size_t i, const uint8_t *d, size_t len)
{
	return (size_t)d[(i * 7) % len] % 23 + 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_x509 x;
	struct san_walk a, b, c;
	const uint8_t *der;
	size_t len, i;

	if (size < 1)
		return 0;
	x.ip_len = (data[0] & 1) ? 16 : 4;
	if (size < 1u + x.ip_len)
		return 0;
	memcpy(x.ip, data + 1, x.ip_len);
	der = data + 1 + x.ip_len;
	len = size - 1 - x.ip_len;
	if (len == 0)
		return 0;
	walk(&x, der, len, whole);
	a = x.san;
	walk(&x, der, len, bytewise);
	b = x.san;
	walk(&x, der, len, chunks);
	c = x.san;
	CHECK(a.found == b.found && a.found == c.found);
	CHECK(a.pos == b.pos && a.pos == c.pos);
	CHECK(a.state == b.state && a.state == c.state);
	CHECK(a.depth == b.depth && a.depth == c.depth);
	if (a.found) {
		for (i = 0; i + x.ip_len <= len; i++)
			if (memcmp(der + i, x.ip, x.ip_len) == 0)
				break;
		CHECK(i + x.ip_len <= len);
	}
	return 0;
}
