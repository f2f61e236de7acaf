/*
 * test_proxyproto.c - the PROXY protocol parser and builder and the
 * --trust-proxy blocks (proxyproto.c), table-driven.
 *
 * Every vector is also parsed at every split point: a good header's
 * every proper prefix must give 0 (more bytes), the whole its length,
 * with bytes after it too; a bad one's prefixes give 0 until they give
 * -1, and then -1 for good.  Each prefix is parsed from a buffer whose
 * last byte abuts a PROT_NONE page, so a read past len faults.
 *
 * Prints one line per failing case and ends with "N passed, N failed".
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "../../proxyproto.h"

static unsigned passed, failed;

static void
check(int ok, const char *name, const char *what)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: %s\n", name, what);
}

/* ------------------------------------------------------------------ */
/* Guard page                                                          */
/* ------------------------------------------------------------------ */

static uint8_t *guard_page;
static size_t page_size;

static void
guard_init(void)
{
	guard_page = guard_map(&page_size);
}

/* Copy len bytes so that the last one is the last readable byte. */
static const uint8_t *
guard_put(const void *data, size_t len)
{
	uint8_t *dst;

	if (len > page_size) {
		fprintf(stderr, "guard_put: %zu bytes do not fit\n", len);
		exit(2);
	}
	dst = guard_page + page_size - len;
	if (len > 0)
		memcpy(dst, data, len);
	return dst;
}

/* ------------------------------------------------------------------ */
/* Vectors                                                             */
/* ------------------------------------------------------------------ */

#define SIG "\r\n\r\n\0\r\nQUIT\n"
#define B(s) (const uint8_t *)(s), sizeof(s) - 1

struct vec {
	const char	*name;
	const uint8_t	*in;
	size_t		 len;
	int		 good;
	unsigned	 version;
	int		 known;
	int		 local;
	const char	*src;		/* "addr port" when known */
	const char	*dst;
};

static const struct vec vecs[] = {
	/* v1 good */
	{ "v1 tcp4", B("PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n"), 1, 1,
	    1, 0, "203.0.113.7 56324", "192.0.2.1 443" },
	{ "v1 tcp6", B("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n"), 1,
	    1, 1, 0, "2001:db8::1 1", "2001:db8::2 65535" },
	{ "v1 tcp6 mapped", B("PROXY TCP6 ::ffff:10.0.0.1 ::1 0 80\r\n"), 1,
	    1, 1, 0, "::ffff:10.0.0.1 0", "::1 80" },
	{ "v1 unknown", B("PROXY UNKNOWN\r\n"), 1, 1, 0, 0, NULL, NULL },
	{ "v1 unknown with junk", B("PROXY UNKNOWN ffff::1 x y z\r\n"), 1, 1,
	    0, 0, NULL, NULL },
	{ "v1 longest", B("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
	    " ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"), 1, 1,
	    1, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535" },
	/* v1 bad */
	{ "v1 not proxy", B("GET / HTTP/1.1\r\n"), 0, 0, 0, 0, NULL, NULL },
	{ "v1 lower case", B("proxy TCP4 1.2.3.4 1.2.3.4 1 1\r\n"), 0, 0, 0,
	    0, NULL, NULL },
	{ "v1 PROXY alone", B("PROXY\r\n"), 0, 0, 0, 0, NULL, NULL },
	{ "v1 two spaces", B("PROXY TCP4  1.2.3.4 1.2.3.4 1 1\r\n"), 0, 0, 0,
	    0, NULL, NULL },
	{ "v1 trailing space", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 1 \r\n"), 0, 0,
	    0, 0, NULL, NULL },
	{ "v1 five fields", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 1 1\r\n"), 0, 0,
	    0, 0, NULL, NULL },
	{ "v1 three fields", B("PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n"), 0, 0, 0,
	    0, NULL, NULL },
	{ "v1 bare LF", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 1\n"), 0, 0, 0, 0,
	    NULL, NULL },
	{ "v1 CR alone", B("PROXY TCP4 1.2.3.4 1.2.3.4 1 1\rx\n"), 0, 0, 0, 0,
	    NULL, NULL },
	{ "v1 tab", B("PROXY TCP4\t1.2.3.4 1.2.3.4 1 1\r\n"), 0, 0, 0, 0,
	    NULL, NULL },
	{ "v1 port leading zero", B("PROXY TCP4 1.2.3.4 1.2.3.4 01 1\r\n"), 0,
	    0, 0, 0, NULL, NULL },
	{ "v1 port too big", B("PROXY TCP4 1.2.3.4 1.2.3.4 65536 1\r\n"), 0,
	    0, 0, 0, NULL, NULL },
	{ "v1 port sign", B("PROXY TCP4 1.2.3.4 1.2.3.4 +1 1\r\n"), 0, 0, 0,
	    0, NULL, NULL },
	{ "v1 port six digits", B("PROXY TCP4 1.2.3.4 1.2.3.4 000001 1\r\n"),
	    0, 0, 0, 0, NULL, NULL },
	{ "v1 address leading zero", B("PROXY TCP4 01.2.3.4 1.2.3.4 1 1\r\n"),
	    0, 0, 0, 0, NULL, NULL },
	{ "v1 address short", B("PROXY TCP4 1.2.3 1.2.3.4 1 1\r\n"), 0, 0, 0,
	    0, NULL, NULL },
	{ "v1 address 256", B("PROXY TCP4 1.2.3.256 1.2.3.4 1 1\r\n"), 0, 0,
	    0, 0, NULL, NULL },
	{ "v1 tcp4 with v6", B("PROXY TCP4 ::1 ::1 1 1\r\n"), 0, 0, 0, 0,
	    NULL, NULL },
	{ "v1 tcp6 with v4", B("PROXY TCP6 1.2.3.4 1.2.3.4 1 1\r\n"), 0, 0, 0,
	    0, NULL, NULL },
	{ "v1 udp4", B("PROXY UDP4 1.2.3.4 1.2.3.4 1 1\r\n"), 0, 0, 0, 0,
	    NULL, NULL },
	{ "v1 unknownx", B("PROXY UNKNOWNX\r\n"), 0, 0, 0, 0, NULL, NULL },
	{ "v1 nul", B("PROXY TCP4 1.2.3.4\0 1.2.3.4 1 1\r\n"), 0, 0, 0, 0,
	    NULL, NULL },
	{ "v1 too long", B("PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxx\r\n"), 0, 0, 0, 0, NULL, NULL },
	/* v2 good */
	{ "v2 tcp4", B(SIG "\x21\x11\x00\x0c" "\xcb\x00\x71\x07" "\xc0\x00\x02"
	    "\x01" "\xdc\x04" "\x01\xbb"), 1, 2, 1, 0, "203.0.113.7 56324",
	    "192.0.2.1 443" },
	{ "v2 tcp6", B(SIG "\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02" "\x00\x01" "\xff\xff"),
	    1, 2, 1, 0, "2001:db8::1 1", "2001:db8::2 65535" },
	{ "v2 tcp4 with TLVs", B(SIG "\x21\x11\x00\x17" "\x0a\x00\x00\x01"
	    "\x0a\x00\x00\x02" "\x00\x50" "\x00\x51" "\x04\x00\x00"
	    "\x05\x00\x05" "abcde"), 1, 2, 1, 0, "10.0.0.1 80", "10.0.0.2 81" },
	{ "v2 local", B(SIG "\x20\x00\x00\x00"), 1, 2, 0, 1, NULL, NULL },
	{ "v2 local with any family and bytes", B(SIG "\x20\x11\x00\x03"
	    "xyz"), 1, 2, 0, 1, NULL, NULL },
	{ "v2 unspec", B(SIG "\x21\x00\x00\x00"), 1, 2, 0, 0, NULL, NULL },
	{ "v2 unspec with a TLV", B(SIG "\x21\x00\x00\x04" "\xe0\x00\x01"
	    "z"), 1, 2, 0, 0, NULL, NULL },
	{ "v2 unix", B(SIG "\x21\x31\x00\xd8" "/run/a.sock\0"
	    "............................................................"
	    "............................................................"
	    "............................................................"
	    "........................"), 1, 2, 0, 0,
	    NULL, NULL },
	/* v2 bad */
	{ "v2 bad signature", B("\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x00"), 0, 0,
	    0, 0, NULL, NULL },
	{ "v2 version 1", B(SIG "\x11\x11\x00\x0c" "\1\1\1\1\2\2\2\2\0\1\0\2"),
	    0, 0, 0, 0, NULL, NULL },
	{ "v2 version 3", B(SIG "\x31\x11\x00\x0c" "\1\1\1\1\2\2\2\2\0\1\0\2"),
	    0, 0, 0, 0, NULL, NULL },
	{ "v2 command 2", B(SIG "\x22\x11\x00\x0c" "\1\1\1\1\2\2\2\2\0\1\0\2"),
	    0, 0, 0, 0, NULL, NULL },
	{ "v2 family 4", B(SIG "\x21\x41\x00\x00"), 0, 0, 0, 0, NULL, NULL },
	{ "v2 udp4", B(SIG "\x21\x12\x00\x0c" "\1\1\1\1\2\2\2\2\0\1\0\2"), 0,
	    0, 0, 0, NULL, NULL },
	{ "v2 inet no transport", B(SIG "\x21\x10\x00\x0c"
	    "\1\1\1\1\2\2\2\2\0\1\0\2"), 0, 0, 0, 0, NULL, NULL },
	{ "v2 transport 3", B(SIG "\x21\x03\x00\x00"), 0, 0, 0, 0, NULL,
	    NULL },
	{ "v2 tcp4 too short", B(SIG "\x21\x11\x00\x0b"
	    "\1\1\1\1\2\2\2\2\0\1\0"), 0, 0, 0, 0, NULL, NULL },
	{ "v2 tcp6 too short", B(SIG "\x21\x21\x00\x0c"
	    "\1\1\1\1\2\2\2\2\0\1\0\2"), 0, 0, 0, 0, NULL, NULL },
	{ "v2 TLV past the end", B(SIG "\x21\x11\x00\x10"
	    "\1\1\1\1\2\2\2\2\0\1\0\2" "\x04\x00\x02" "a"), 0, 0, 0, 0, NULL,
	    NULL },
	{ "v2 TLV header cut", B(SIG "\x21\x11\x00\x0e"
	    "\1\1\1\1\2\2\2\2\0\1\0\2" "\x04\x00"), 0, 0, 0, 0, NULL, NULL },
	{ "v2 too long", B(SIG "\x21\x11\x03\xf1"), 0, 0, 0, 0, NULL, NULL },
	{ "neither", B("\x16\x03\x01\x02\x00"), 0, 0, 0, 0, NULL, NULL },
};

/* "addr port" of ss. */
static void
addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
	}
	snprintf(out, len, "%s %u", a, port);
}

static void
test_vec(const struct vec *v)
{
	uint8_t more[PP_MAX + 64];
	struct pp_header h;
	char a[80];
	size_t k;
	int r, bad = 0;

	/* every proper prefix */
	for (k = 0; k < v->len; k++) {
		r = pp_parse(guard_put(v->in, k), k, &h);
		if (v->good && r != 0) {
			printf("  at %zu: %d\n", k, r);
			check(0, v->name, "a prefix is not 0");
			return;
		}
		if (!v->good && r != 0 && r != -1) {
			check(0, v->name, "a bad prefix parses");
			return;
		}
		if (bad && r != -1) {
			check(0, v->name, "-1 and then not -1");
			return;
		}
		bad = r == -1;
	}
	r = pp_parse(guard_put(v->in, v->len), v->len, &h);
	if (!v->good) {
		check(r == -1, v->name, "bad vector accepted");
		return;
	}
	check(r == (int)v->len, v->name, "whole header not its length");
	if (r != (int)v->len)
		return;
	check(h.version == v->version, v->name, "version");
	check(h.known == v->known, v->name, "known");
	check(h.local == v->local, v->name, "local");
	if (v->src != NULL) {
		addr_text(&h.src, a, sizeof(a));
		check(strcmp(a, v->src) == 0, v->name, a);
		addr_text(&h.dst, a, sizeof(a));
		check(strcmp(a, v->dst) == 0, v->name, a);
	}
	/* bytes after the header are the next reader's */
	memcpy(more, v->in, v->len);
	memcpy(more + v->len, "GET / HTTP/1.1\r\n\r\n", 18);
	r = pp_parse(guard_put(more, v->len + 18), v->len + 18, &h);
	check(r == (int)v->len, v->name, "with bytes after it");
}

/* ------------------------------------------------------------------ */
/* pp_build_v2: what it writes parses back                             */
/* ------------------------------------------------------------------ */

static void
set_addr(struct sockaddr_storage *ss, const char *text, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':') == NULL) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		inet_pton(AF_INET, text, &s->sin_addr);
		s->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		inet_pton(AF_INET6, text, &s->sin6_addr);
		s->sin6_port = htons((uint16_t)port);
	}
}

static void
test_build(void)
{
	static const struct {
		const char *name, *src, *dst, *want_src, *want_dst;
		unsigned sport, dport;
		size_t len;
	} b[] = {
		{ "build tcp4", "203.0.113.7", "192.0.2.1", "203.0.113.7 4000",
		    "192.0.2.1 443", 4000, 443, 28 },
		{ "build tcp6", "2001:db8::7", "::1", "2001:db8::7 65535",
		    "::1 1", 65535, 1, 52 },
		{ "build mixed", "198.51.100.1", "2001:db8::1",
		    "::ffff:198.51.100.1 8", "2001:db8::1 9", 8, 9, 52 },
	};
	uint8_t buf[PP_V2_OUT_MAX];
	struct sockaddr_storage s, d;
	struct pp_header h;
	char a[80];
	size_t i, n;
	int r;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		set_addr(&s, b[i].src, b[i].sport);
		set_addr(&d, b[i].dst, b[i].dport);
		n = pp_build_v2(buf, sizeof(buf), (struct sockaddr *)&s,
		    (struct sockaddr *)&d);
		check(n == b[i].len, b[i].name, "length");
		check(pp_build_v2(buf, n - 1, (struct sockaddr *)&s,
		    (struct sockaddr *)&d) == 0, b[i].name, "fits in less");
		n = pp_build_v2(buf, sizeof(buf), (struct sockaddr *)&s,
		    (struct sockaddr *)&d);
		r = pp_parse(guard_put(buf, n), n, &h);
		check(r == (int)n && h.version == 2 && h.known && !h.local,
		    b[i].name, "does not parse back");
		addr_text(&h.src, a, sizeof(a));
		check(strcmp(a, b[i].want_src) == 0, b[i].name, a);
		addr_text(&h.dst, a, sizeof(a));
		check(strcmp(a, b[i].want_dst) == 0, b[i].name, a);
	}
	n = pp_build_v2(buf, sizeof(buf), NULL, NULL);
	r = pp_parse(guard_put(buf, n), n, &h);
	check(n == 16 && r == 16 && !h.known && !h.local, "build unknown",
	    "PROXY UNSPEC");
}

/* ------------------------------------------------------------------ */
/* --trust-proxy blocks                                                */
/* ------------------------------------------------------------------ */

static void
test_cidr(void)
{
	static const struct {
		const char *cidr, *addr;
		int match;
	} m[] = {
		{ "10.0.0.0/8", "10.1.2.3", 1 },
		{ "10.0.0.0/8", "11.0.0.1", 0 },
		{ "10.1.2.3/8", "10.200.0.1", 1 },	/* host bits cleared */
		{ "127.0.0.1", "127.0.0.1", 1 },
		{ "127.0.0.1", "127.0.0.2", 0 },
		{ "192.0.2.128/25", "192.0.2.200", 1 },
		{ "192.0.2.128/25", "192.0.2.127", 0 },
		{ "0.0.0.0/0", "198.51.100.1", 1 },
		{ "0.0.0.0/0", "::1", 0 },
		{ "::1", "::1", 1 },
		{ "::1", "127.0.0.1", 0 },
		{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::1", 0 },
		{ "2001:db8::/33", "2001:db8:8000::1", 0 },
		{ "::/0", "2001:db8::1", 1 },
	};
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08",
		"10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/+8", "::/129", "abc",
		"01.2.3.4", "10.0.0", "10.0.0.0 /8", "::1/1000", "[::1]",
		"2001:db8::/3a",
	};
	struct pp_cidr c;
	struct sockaddr_storage ss;
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		set_addr(&ss, m[i].addr, 1);
		check(pp_cidr_parse(m[i].cidr, &c) == 0, m[i].cidr,
		    "does not parse");
		check(pp_cidr_match(&c, 1, (struct sockaddr *)&ss) ==
		    m[i].match, m[i].cidr, m[i].addr);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check(pp_cidr_parse(bad[i], &c) < 0, bad[i], "bad CIDR parses");
	set_addr(&ss, "10.0.0.1", 1);
	check(pp_cidr_match(&c, 0, (struct sockaddr *)&ss) == 0, "empty set",
	    "matches");
}

int
main(void)
{
	size_t i;

	guard_init();
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		test_vec(&vecs[i]);
	test_build();
	test_cidr();
	printf("%u passed, %u failed\n", passed, failed);
	return failed != 0;
}
