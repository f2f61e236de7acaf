/*
 * ppconn.c - the PROXY protocol on a pair's connections (wsproxy(1)
 * CLIENT IDENTITY): PAIR_PROXY, where a proxy: listener's client says
 * whom its balancer accepted, and the v2 header wsproxy writes first to
 * an upstream whose route has send-proxy.  The bytes themselves are
 * proxyproto.c's.
 *
 * The header is peeked at (MSG_PEEK) until it is complete, then exactly
 * its bytes are read: what follows it stays in the socket for the next
 * reader, the request head's or, on a tls: listener, the TLS engine's,
 * which is only made once the header is gone.  Each new segment brings
 * a new edge, so a header that comes in pieces is peeked again, from
 * the start, as each piece arrives; PP_MAX bytes at most.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>

#include "config.h"
#include "iplimit.h"
#include "log.h"
#include "pair.h"
#include "proxyproto.h"
#include "sock.h"

#define cfg px_cfg

int
pair_trusted(const struct pair *p)
{
	return pp_cidr_match(cfg.trust, cfg.ntrust,
	    (const struct sockaddr *)&p->peer);
}

/*
 * The header is in: the client is the one it names (a LOCAL or UNKNOWN
 * header, the balancer's own check, keeps the balancer's address), and
 * that client is the one --max-conns-per-ip counts.
 */
static void
proxy_done(struct pair *p, const struct pp_header *h)
{
	struct end *c = &p->client;
	char a[64];

	if (h->known)
		sock_peer(&p->peer, &h->src, sizeof(h->src));
	px_log(PX_LOG_DEBUG, "event=proxy_header slot=%u version=%u client=%s",
	    pair_index(p), h->version, sock_addr_text(
	    (const struct sockaddr *)&p->peer, a, sizeof(a)));
	if (cfg.listen[p->listener].tls &&
	    (c->tls = tls_server_new(c->fd)) == NULL) {
		pair_close(p, "no TLS slot");
		return;
	}
	/* What came after the header is read by the next state, which has
	 * had no edge of its own for it. */
	c->readable = c->writable = 1;
	if (iplimit_take(&p->peer) < 0) {
		pair_reject(p, 503, 0, "over --max-conns-per-ip");
		return;
	}
	p->ip_counted = 1;
	pair_set_state(p, PAIR_REQUEST);
	request_run(p);
}

/*
 * Look at what e has sent without taking it: bytes (> 0), PX_IO_AGAIN,
 * PX_IO_CLOSED or PX_IO_ERROR (kept as e's error).
 */
static ssize_t
end_peek(struct end *e, uint8_t *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(e->fd, buf, len, MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n == 0)
		return PX_IO_CLOSED;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return PX_IO_AGAIN;
	end_errno(e);
	return PX_IO_ERROR;
}

void
proxy_run(struct pair *p)
{
	struct end *c = &p->client;
	uint8_t buf[PP_MAX];
	struct pp_header h;
	ssize_t n;
	int r;

	if (!c->readable && !c->hup)
		return;
	n = end_peek(c, buf, sizeof(buf));
	if (n == PX_IO_AGAIN) {
		c->readable = 0;
		return;
	}
	if (n < 0) {
		pair_close(p, "client closed before its PROXY header");
		return;
	}
	r = pp_parse(buf, (size_t)n, &h);
	if (r < 0) {
		pair_close(p, buf[0] == 'P' || buf[0] == '\r' ?
		    "bad PROXY header" : "no PROXY header");
		return;
	}
	if (r == 0) {
		/* All that is there was peeked: the next piece is an edge,
		 * unless the client is gone. */
		c->readable = 0;
		if (c->hup)
			pair_close(p, "client closed before its PROXY header");
		return;
	}
	/* The bytes peeked are in the socket: this takes exactly them. */
	if (recv(c->fd, buf, (size_t)r, 0) != r) {
		end_errno(c);
		pair_close(p, "client closed before its PROXY header");
		return;
	}
	proxy_done(p, &h);
}

int
proxy_send(struct pair *p)
{
	struct end *u = &p->upstream;
	struct sockaddr_storage local;
	struct sockaddr_in6 dst;
	socklen_t len = sizeof(local);
	uint8_t hdr[PP_V2_OUT_MAX];
	size_t n;
	ssize_t w;

	/* dst: where the client came in, as the client sees it (an IPv4
	 * client of a dual-stack listener unmapped, like its address). */
	memset(&local, 0, sizeof(local));
	if (getsockname(p->client.fd, (struct sockaddr *)&local, &len) < 0) {
		pair_reject(p, 502, 0, "send-proxy: no local address");
		return -1;
	}
	sock_peer(&dst, &local, len);
	n = pp_build_v2(hdr, sizeof(hdr), (const struct sockaddr *)&p->peer,
	    (const struct sockaddr *)&dst);
	/* A new connected socket has an empty send buffer: the header (52
	 * bytes at most) goes in one send, or the upstream is failing. */
	w = send(u->fd, hdr, n, MSG_NOSIGNAL);
	if (w != (ssize_t)n) {
		if (w < 0)
			end_errno(u);
		px_log(PX_LOG_WARN, "event=send_proxy_failed upstream=%s"
		    " error=\"%s\"", cfg.route[p->route].upstream->uri,
		    w < 0 ? strerror(errno) : "short write");
		met_upstream_error(p, MET_ERR_CLOSED);
		pair_reject(p, 502, 0, "send-proxy: header write failed");
		return -1;
	}
	return 0;
}
