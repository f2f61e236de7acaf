/*
 * proxyproto.h - the PROXY protocol (proxyproto.c), versions 1 and 2 as
 * HAProxy's proxy-protocol.txt defines them: the header a load balancer
 * puts before a client's bytes to say whom it accepted (read on a
 * proxy: listener), and the one wsproxy puts before its own upgrade
 * request for an upstream that asks for it (send-proxy=v2); and the
 * --trust-proxy address blocks.  wsproxy(1) CLIENT IDENTITY.
 *
 * Everything here is pure: bytes and addresses in, bytes and addresses
 * out, no I/O and no global state.
 */
#ifndef WSPROXY_PROXYPROTO_H
#define WSPROXY_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* A version 1 line, "PROXY ... \r\n" included, is at most this long. */
#define PP_V1_MAX 107

/*
 * A version 2 header, its 16 fixed bytes included, is at most this long:
 * the addresses (216 bytes for AF_UNIX, the largest) and room for the
 * TLVs balancers add (SSL details, a VPC endpoint, a unique id).  A
 * longer one is refused rather than buffered.
 */
#define PP_V2_MAX 1024

/* What any header can take: a reader never needs more bytes than this. */
#define PP_MAX PP_V2_MAX

/* The v2 header wsproxy writes: 16 fixed bytes and two IPv6 addresses
 * with their ports. */
#define PP_V2_OUT_MAX 52

struct pp_header {
	uint8_t		 version;	/* 1 or 2 */
	uint8_t		 local;		/* v2 LOCAL: the balancer's own
					 * connection (a health check) */
	uint8_t		 known;		/* src and dst hold addresses: TCP4 or
					 * TCP6, v2 PROXY over INET or INET6 */
	struct sockaddr_storage src;	/* AF_INET or AF_INET6, when known */
	struct sockaddr_storage dst;
};

/*
 * Parse a PROXY header at the front of buf[0..len), v1 or v2 told apart
 * by its first byte.  Returns its length (> 0) with *out filled in, 0
 * when buf is a good beginning that needs more bytes, -1 when it is not
 * a header (or one wsproxy refuses).  Reads nothing past len; calling
 * it again from the start with more bytes is how it is incremental (a
 * header is at most PP_MAX bytes).
 */
int pp_parse(const uint8_t *buf, size_t len, struct pp_header *out);

/*
 * A v2 PROXY header for a TCP connection from src to dst (AF_INET or
 * AF_INET6; with one of each, the IPv4 one is written v4-mapped) into
 * buf: its length, or 0 if cap is too small.  A NULL or other address
 * gives the PROXY command with family UNSPEC (the source is unknown).
 */
size_t pp_build_v2(uint8_t *buf, size_t cap, const struct sockaddr *src,
    const struct sockaddr *dst);

/* An address block: family AF_INET or AF_INET6, bits of prefix. */
struct pp_cidr {
	uint8_t		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 bits;		/* 0-32 or 0-128 */
	uint8_t		 addr[16];	/* network order, host bits zero */
};

/*
 * "192.0.2.0/24", "2001:db8::/32", or an address alone (/32, /128) into
 * *out: 0, or -1 when it is not one.  Host bits past the prefix are
 * cleared.
 */
int pp_cidr_parse(const char *s, struct pp_cidr *out);

/* Is sa (AF_INET or AF_INET6) inside one of set[0..n)? */
int pp_cidr_match(const struct pp_cidr *set, int n, const struct sockaddr *sa);

#endif /* WSPROXY_PROXYPROTO_H */
