/*
 * proxyproto.c - the PROXY protocol header, read and written, and the
 * --trust-proxy address blocks (see proxyproto.h; wsproxy(1) CLIENT
 * IDENTITY).
 *
 * The parser is a pure function over (buf, len), like picohttpparser:
 * it is called again from the start as bytes arrive.  A header is at
 * most PP_MAX bytes, so parsing it again costs nothing worth keeping
 * state for.  It answers -1 as soon as the bytes so far cannot begin a
 * header (a client speaking HTTP or TLS to a proxy: listener is known
 * from its first byte), and reads nothing past len.
 *
 * Version 1 is read strictly: single spaces, addresses as inet_pton()
 * takes them (dotted quads without leading zeros, RFC 4291 text), ports
 * in decimal without leading zeros.  A balancer writes exactly that;
 * anything looser is a sign that something else is talking.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_FAM_UNSPEC 0x0
#define V2_FAM_INET 0x1
#define V2_FAM_INET6 0x2
#define V2_FAM_UNIX 0x3
#define V2_PROTO_UNSPEC 0x0
#define V2_PROTO_STREAM 0x1

/* ------------------------------------------------------------------ */
/* Version 1                                                           */
/* ------------------------------------------------------------------ */

/* "0" to "65535", no sign, no leading zero: the port in network order. */
static int
v1_port(const uint8_t *s, size_t n, uint16_t *port)
{
	uint32_t v = 0;
	size_t i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = htons((uint16_t)v);
	return 0;
}

/* An address of family af from s[0..n) into ss: 0, or -1. */
static int
v1_addr(int af, const uint8_t *s, size_t n, struct sockaddr_storage *ss)
{
	char text[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(text))
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		return inet_pton(AF_INET, text, &a->sin_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		return inet_pton(AF_INET6, text, &a->sin6_addr) == 1 ? 0 : -1;
	}
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = port;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = port;
}

/*
 * "TCP4 SRC DST SPORT DPORT" (or TCP6), line[0..n) without "PROXY " and
 * CRLF: exactly four fields after the protocol, one space apart.
 */
static int
v1_fields(const uint8_t *line, size_t n, struct pp_header *out)
{
	const uint8_t *f[4];
	size_t flen[4], i, start = 5, k = 0;
	uint16_t sport, dport;
	int af = line[3] == '4' ? AF_INET : AF_INET6;

	for (i = start; i <= n; i++) {
		if (i < n && line[i] != ' ')
			continue;
		if (i == start || k == 4)
			return -1;	/* an empty field, or a fifth */
		f[k] = line + start;
		flen[k++] = i - start;
		start = i + 1;
	}
	if (k != 4 || v1_addr(af, f[0], flen[0], &out->src) < 0 ||
	    v1_addr(af, f[1], flen[1], &out->dst) < 0 ||
	    v1_port(f[2], flen[2], &sport) < 0 ||
	    v1_port(f[3], flen[3], &dport) < 0)
		return -1;
	set_port(&out->src, sport);
	set_port(&out->dst, dport);
	out->known = 1;
	return 0;
}

static int
v1_parse(const uint8_t *buf, size_t len, struct pp_header *out)
{
	static const char sig[] = "PROXY ";
	size_t scan = len, i, eol = 0, n;
	const uint8_t *rest;
	int found = 0;

	if (scan > PP_V1_MAX)
		scan = PP_V1_MAX;
	for (i = 0; i < scan && !found; i++) {
		if (i < 6) {
			if (buf[i] != (uint8_t)sig[i])
				return -1;
		} else if (buf[i] == '\n') {
			if (buf[i - 1] != '\r')
				return -1;
			eol = i - 1;
			found = 1;
		} else if (buf[i] == '\r') {
			if (i + 1 < scan && buf[i + 1] != '\n')
				return -1;
		} else if (buf[i] < 0x20 || buf[i] > 0x7e)
			return -1;
	}
	if (!found)
		return len >= PP_V1_MAX ? -1 : 0;
	if (eol < 6)
		return -1;
	rest = buf + 6;
	n = eol - 6;
	memset(out, 0, sizeof(*out));
	out->version = 1;
	/* UNKNOWN: the balancer does not know (or will not say); what
	 * follows it up to CRLF is ignored, as the protocol asks. */
	if (n >= 7 && memcmp(rest, "UNKNOWN", 7) == 0 &&
	    (n == 7 || rest[7] == ' '))
		return (int)(eol + 2);
	if (n < 5 || (memcmp(rest, "TCP4 ", 5) != 0 &&
	    memcmp(rest, "TCP6 ", 5) != 0))
		return -1;
	if (v1_fields(rest, n, out) < 0)
		return -1;
	return (int)(eol + 2);
}

/* ------------------------------------------------------------------ */
/* Version 2                                                           */
/* ------------------------------------------------------------------ */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* The addresses of an INET or INET6 block at a into out. */
static void
v2_addrs(const uint8_t *a, unsigned fam, struct pp_header *out)
{
	if (fam == V2_FAM_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		s->sin_port = htons(be16(a + 8));
		d->sin_port = htons(be16(a + 10));
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		s->sin6_port = htons(be16(a + 32));
		d->sin6_port = htons(be16(a + 34));
	}
	out->known = 1;
}

/*
 * The fixed part's checks on what has arrived of bytes 12 and 13: the
 * version and command, then (PROXY only) family and transport.  The
 * address block's length for that family into *need.
 */
static int
v2_check(const uint8_t *buf, size_t len, size_t *need)
{
	unsigned cmd, fam, proto;

	*need = 0;
	if (len <= 12)
		return 0;
	if (buf[12] >> 4 != 2)
		return -1;
	cmd = buf[12] & 0xf;
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return -1;
	/* LOCAL: the family is ignored, as the protocol asks. */
	if (cmd == V2_CMD_LOCAL || len <= 13)
		return 0;
	fam = buf[13] >> 4;
	proto = buf[13] & 0xf;
	if (fam > V2_FAM_UNIX || proto > 2)
		return -1;
	/* wsproxy relays TCP: a datagram transport, or an address family
	 * without a transport, is not something a balancer sends it. */
	if (fam != V2_FAM_UNSPEC && proto != V2_PROTO_STREAM)
		return -1;
	*need = fam == V2_FAM_INET ? 12 : fam == V2_FAM_INET6 ? 36 :
	    fam == V2_FAM_UNIX ? 216 : 0;
	return 0;
}

static int
v2_parse(const uint8_t *buf, size_t len, struct pp_header *out)
{
	size_t i, total, need, off, tlen;
	unsigned fam;

	for (i = 0; i < len && i < sizeof(v2_sig); i++)
		if (buf[i] != v2_sig[i])
			return -1;
	if (v2_check(buf, len, &need) < 0)
		return -1;
	if (len < 16)
		return 0;
	total = 16 + (size_t)be16(buf + 14);
	if (total > PP_V2_MAX || total < 16 + need)
		return -1;
	if (len < total)
		return 0;
	memset(out, 0, sizeof(*out));
	out->version = 2;
	if ((buf[12] & 0xf) == V2_CMD_LOCAL) {
		out->local = 1;
		return (int)total;
	}
	fam = buf[13] >> 4;
	if (fam == V2_FAM_INET || fam == V2_FAM_INET6)
		v2_addrs(buf + 16, fam, out);
	/* UNSPEC and UNIX: the source is unknown to wsproxy.  The TLVs
	 * after the addresses are skipped, but must fill the rest exactly. */
	for (off = 16 + need; off < total; off += 3 + tlen) {
		if (total - off < 3)
			return -1;
		tlen = be16(buf + off + 1);
		if (tlen > total - off - 3)
			return -1;
	}
	return (int)total;
}

int
pp_parse(const uint8_t *buf, size_t len, struct pp_header *out)
{
	if (len > 0 && buf[0] == 'P')
		return v1_parse(buf, len, out);
	if (len > 0 && buf[0] == v2_sig[0])
		return v2_parse(buf, len, out);
	return len == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Writing version 2                                                   */
/* ------------------------------------------------------------------ */

/* The 16 bytes of a as IPv6 (IPv4 v4-mapped) and its port. */
static void
put_v6(uint8_t *addr, uint8_t *port, const struct sockaddr *sa)
{
	uint16_t p;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &a->sin_addr, 4);
		p = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		memcpy(addr, &a->sin6_addr, 16);
		p = ntohs(a->sin6_port);
	}
	port[0] = (uint8_t)(p >> 8);
	port[1] = (uint8_t)p;
}

static int
is_inet(const struct sockaddr *sa)
{
	return sa != NULL && (sa->sa_family == AF_INET ||
	    sa->sa_family == AF_INET6);
}

size_t
pp_build_v2(uint8_t *buf, size_t cap, const struct sockaddr *src,
    const struct sockaddr *dst)
{
	size_t alen;

	if (!is_inet(src) || !is_inet(dst))
		alen = 0;
	else if (src->sa_family == AF_INET && dst->sa_family == AF_INET)
		alen = 12;
	else
		alen = 36;
	if (cap < 16 + alen)
		return 0;
	memcpy(buf, v2_sig, sizeof(v2_sig));
	buf[12] = 0x20 | V2_CMD_PROXY;
	buf[14] = 0;
	buf[15] = (uint8_t)alen;
	if (alen == 0) {
		buf[13] = V2_FAM_UNSPEC << 4 | V2_PROTO_UNSPEC;
	} else if (alen == 12) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)src;
		const struct sockaddr_in *d = (const struct sockaddr_in *)dst;
		uint16_t sp = ntohs(s->sin_port), dp = ntohs(d->sin_port);

		buf[13] = V2_FAM_INET << 4 | V2_PROTO_STREAM;
		memcpy(buf + 16, &s->sin_addr, 4);
		memcpy(buf + 20, &d->sin_addr, 4);
		buf[24] = (uint8_t)(sp >> 8);
		buf[25] = (uint8_t)sp;
		buf[26] = (uint8_t)(dp >> 8);
		buf[27] = (uint8_t)dp;
	} else {
		buf[13] = V2_FAM_INET6 << 4 | V2_PROTO_STREAM;
		put_v6(buf + 16, buf + 48, src);
		put_v6(buf + 32, buf + 50, dst);
	}
	return 16 + alen;
}

/* ------------------------------------------------------------------ */
/* Address blocks                                                      */
/* ------------------------------------------------------------------ */

int
pp_cidr_parse(const char *s, struct pp_cidr *out)
{
	char text[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s), i;
	unsigned bits = 0, max;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(text))
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else
		return -1;
	if (slash == NULL) {
		out->bits = (uint8_t)max;
		return 0;
	}
	s = slash + 1;
	n = strlen(s);
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		bits = bits * 10 + (unsigned)(s[i] - '0');
	}
	if (bits > max)
		return -1;
	out->bits = (uint8_t)bits;
	for (i = 0; i < 16; i++) {
		if (i * 8 >= bits)
			out->addr[i] = 0;
		else if (i * 8 + 8 > bits)
			out->addr[i] &= (uint8_t)(0xff00 >> (bits - i * 8));
	}
	return 0;
}

/* Do the first bits bits of a and b agree? */
static int
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	uint8_t m;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	m = (uint8_t)(0xff00 >> rest);
	return (a[full] & m) == (b[full] & m);
}

int
pp_cidr_match(const struct pp_cidr *set, int n, const struct sockaddr *sa)
{
	const uint8_t *a;
	int i;

	if (sa->sa_family == AF_INET)
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		return 0;
	for (i = 0; i < n; i++)
		if (set[i].family == sa->sa_family &&
		    prefix_equal(set[i].addr, a, set[i].bits))
			return 1;
	return 0;
}
