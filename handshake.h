/*
 * handshake.h - the HTTP side of the WebSocket handshake (handshake.c):
 * pure functions over parsed heads, wsproxy(1) HANDSHAKE.  Nothing here
 * reads the global configuration: what a function needs comes in as a
 * policy, a route or an upstream, so all of it is unit-tested alone
 * (tests/unit/test_handshake.c).
 */
#ifndef WSPROXY_HANDSHAKE_H
#define WSPROXY_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "target.h"
#include "ws.h"

/* What the handshake needs of the configuration. */
struct hs_policy {
	const struct px_route *route;		/* the routes, in flag order */
	int		 nroute;
	const struct px_header *header;		/* --header */
	int		 nheader;
	char *const	*protocol;		/* --protocol */
	int		 nprotocol;		/* 0: every subprotocol */
	const struct px_origin *origin;		/* --allow-origin */
	int		 norigin;		/* 0: no Origin check */
};

/* A request the handshake accepted: its normalised target and route. */
struct hs_request {
	const struct http_head *head;
	struct target	 target;	/* wsproxy(1) REWRITING */
	const char	*host;		/* the target's authority, else Host;
					 * NULL when neither (HTTP/1.0) */
	size_t		 host_len;
	const struct px_route *route;
	const struct px_upstream *upstream;	/* the pool member chosen;
					 * NULL: the route's first */
	const char	*id;		/* X-Request-Id: the client's when it is
					 * a safe token (hs_check_request), else
					 * the caller's own */
	size_t		 id_len;
};

/* The pool member rq goes to. */
static inline const struct px_upstream *
hs_member(const struct hs_request *rq)
{
	return rq->upstream != NULL ? rq->upstream : rq->route->upstream;
}

/* Longest X-Request-Id kept from a client (wsproxy(1) LOGGING). */
#define HS_MAX_ID 64

/*
 * The route for rq (its head and host) and the normalised path[0..len)
 * (PATH matches PATH and PATH/..., never PATHX), or NULL: the most
 * specific as wsproxy(1) ROUTING says.
 */
const struct px_route *hs_route_match(const struct hs_policy *pol,
    const struct hs_request *rq, const char *path, size_t len);

/*
 * An Origin (RFC 6454: SCHEME://HOST[:PORT]) or an --allow-origin entry
 * ([SCHEME://]HOST[:PORT], HOST "*.domain" when wild_ok) s[0..n) into
 * *o, pointing into s; -1 when it is not one.
 */
int hs_origin_parse(const char *s, size_t n, struct px_origin *o,
    int wild_ok);

/*
 * The status for a parsed request head, in the order of wsproxy(1)
 * HANDSHAKE (0 when it may go upstream), with *rq filled in.  scratch
 * (cap bytes, at least twice the target's length plus 2) receives the
 * normalised target.  *version is set when a 426 must carry
 * Sec-WebSocket-Version, *why a reason for the log.  431 (size) and 503
 * (slab) are decided by the caller.
 */
unsigned hs_check_request(const struct hs_policy *pol,
    const struct http_head *h, char *scratch, size_t cap,
    struct hs_request *rq, int *version, const char **why);

/*
 * The upgrade request for rq's upstream into buf: rewritten target and
 * composed query, Host, the client's end-to-end headers less identity
 * claims, narrowed subprotocols, permessage-deflate offers,
 * X-Forwarded-* and Forwarded, X-Request-Id (rq->id), --header.
 * client_ip is the address as text; trusted: it is inside --trust-proxy,
 * and its own X-Forwarded-For and Forwarded are kept, client_ip appended
 * (else dropped).  Returns its length, 0 if it does not fit in cap.
 */
size_t hs_upstream_request(const struct hs_policy *pol,
    const struct hs_request *rq, const char *client_ip, int client_tls,
    int trusted, char *buf, size_t cap);

/*
 * Check the upstream's 101 (res) against the client's request (req):
 * NULL when good, else why it is a 502.  *deflate tells whether
 * permessage-deflate was negotiated.
 */
const char *hs_check_response(const struct hs_policy *pol,
    const struct http_head *req, const struct http_head *res, int *deflate);

/* The 101 for the client into buf; its length, 0 if it does not fit. */
size_t hs_client_101(const struct http_head *res, char *buf, size_t cap);

/*
 * A non-101 upstream answer on route r for the client into buf: NULL
 * with *len (0 if it does not fit) and *body (bytes that follow, or
 * UINT64_MAX until the upstream closes), or why it is a 502 instead
 * (ambiguous framing, wsproxy(1) HANDSHAKE).
 */
const char *hs_passthrough(const struct http_head *res,
    const struct px_route *r, const struct px_upstream *up, char *buf, size_t cap, size_t *len,
    uint64_t *body);

/*
 * wsproxy's own error answer (wsproxy(1) HANDSHAKE) into out; its
 * length.  version: a 426 names Sec-WebSocket-Version: 13; retry_after
 * (seconds, 0: none): a Retry-After header.
 */
size_t hs_error(char *out, size_t len, unsigned status, int version,
    unsigned retry_after);

#endif /* WSPROXY_HANDSHAKE_H */
