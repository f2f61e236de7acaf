/*
 * wsutil.h - small helpers shared by the bench programs (loadgen, echo).
 *
 * Deliberately independent of wsproxy's own ws.c: the bench must not
 * inherit the proxy's bugs.  Everything is static so each program is a
 * single translation unit built with plain `cc -O2`.
 */
#ifndef BENCH_WSUTIL_H
#define BENCH_WSUTIL_H

#include <stdlib.h>
#include <stdio.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <ctype.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* ---------------------------------------------------------------- SHA-1 */

/* "HOST:PORT" (IPv4) into sa; an empty HOST is dflt. */
static inline int parse_addr(const char *s, struct sockaddr_in *sa, const char *dflt)
{
	char host[64];
	const char *c = strrchr(s, ':');

	if (!c || (size_t)(c - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = 0;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(c + 1));
	return inet_pton(AF_INET, *host ? host : dflt, &sa->sin_addr) == 1 ? 0 : -1;
}

static inline uint32_t sha1_rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static inline void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = sha1_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
		else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
		else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
		else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
		t = sha1_rol(a, 5) + f + e + k + w[i];
		e = d; d = c; c = sha1_rol(b, 30); b = a; a = t;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

static inline void sha1(const void *data, size_t len, uint8_t out[20])
{
	uint32_t h[5] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u };
	const uint8_t *p = data;
	uint8_t tail[128];
	size_t i, rest, tlen;
	uint64_t bits = (uint64_t)len * 8;

	for (i = 0; i + 64 <= len; i += 64)
		sha1_block(h, p + i);
	rest = len - i;
	memset(tail, 0, sizeof tail);
	memcpy(tail, p + i, rest);
	tail[rest] = 0x80;
	tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha1_block(h, tail);
	if (tlen == 128)
		sha1_block(h, tail + 64);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

/* --------------------------------------------------------------- base64 */

/* Encodes n bytes; writes 4*ceil(n/3) chars plus a NUL; returns the length. */
static inline size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
	return o;
}

/* Sec-WebSocket-Accept for a key of klen bytes; out gets 28 chars + NUL. */
static inline void ws_accept(const char *key, size_t klen, char out[29])
{
	char buf[128];
	uint8_t dig[20];

	if (klen > 64)
		klen = 64;
	memcpy(buf, key, klen);
	memcpy(buf + klen, WS_GUID, sizeof WS_GUID - 1);
	sha1(buf, klen + sizeof WS_GUID - 1, dig);
	base64_encode(dig, 20, out);
}

/*
 * Find header `name` (lower case, without the colon) in a request or
 * response head; returns a pointer to the trimmed value and its length,
 * or NULL.  The head must be NUL-free up to `len`.
 */
static inline const char *http_find_header(const char *head, size_t len, const char *name,
				    size_t *vlen)
{
	size_t nl = strlen(name), i = 0;

	/* skip the start line */
	while (i + 1 < len && !(head[i] == '\r' && head[i + 1] == '\n'))
		i++;
	i += 2;
	while (i < len) {
		size_t e = i, j;
		while (e + 1 < len && !(head[e] == '\r' && head[e + 1] == '\n'))
			e++;
		if (e == i)
			break;	/* blank line */
		if (e - i > nl && head[i + nl] == ':') {
			for (j = 0; j < nl; j++)
				if (tolower((unsigned char)head[i + j]) != name[j])
					break;
			if (j == nl) {
				const char *v = head + i + nl + 1, *ve = head + e;
				while (v < ve && (*v == ' ' || *v == '\t'))
					v++;
				while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
					ve--;
				*vlen = (size_t)(ve - v);
				return v;
			}
		}
		i = e + 2;
	}
	return NULL;
}

/* Index just past "\r\n\r\n" in buf[0..len), or 0 if not there yet. */
static inline size_t http_head_len(const char *buf, size_t len)
{
	size_t i;

	for (i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* ------------------------------------------------------------- masking */

/*
 * dst[i] = src[i] ^ key[(pos + i) & 3] for i < n; dst may equal src.
 * Word at a time; memcpy keeps it free of alignment and aliasing UB.
 */
static inline void ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t n,
			 const uint8_t key[4], uint64_t pos)
{
	uint8_t k[8];
	uint64_t kw, w;
	size_t i = 0;
	int j;

	for (j = 0; j < 8; j++)
		k[j] = key[(pos + (uint64_t)j) & 3];
	memcpy(&kw, k, 8);
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, src + i, 8);
		w ^= kw;
		memcpy(dst + i, &w, 8);
	}
	for (; i < n; i++)
		dst[i] = src[i] ^ k[i & 7];
}

/* ------------------------------------------------------------------ time */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
