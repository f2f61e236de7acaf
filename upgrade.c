/*
 * upgrade.c - a pair's states from accept to PAIR_OPEN (wsproxy(1)
 * HANDSHAKE): the client's request head, the connect to the upstream
 * (and its TLS handshake), the upgrade request out and the upstream's
 * answer in, and wsproxy's own answers.
 *
 * The heads themselves are made and checked by handshake.c; this file
 * moves them.  The client's head stays in its flow until the client has
 * its 101 (re-parsing it beats keeping 3 KiB per pair); the upgrade
 * request and wsproxy's own answers are written from the output of the
 * end they go to; the upstream's answer is read into its flow and, once
 * rewritten, passed on from there.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balance.h"
#include "config.h"
#include "handshake.h"
#include "io.h"
#include "life.h"
#include "log.h"
#include "pair.h"
#include "pairlog.h"
#include "sock.h"
#include "ws.h"

#define cfg px_cfg

#define PX_MAX_INTERIM 8	/* 1xx answers skipped before the upstream's 101 */

/* Where a request's normalised target is written while it is checked:
 * twice the longest head (see hs_check_request()), from start-up. */
static char *target_scratch;
static size_t target_scratch_len;

static char head_out[16384];	/* heads wsproxy writes for the client */

/* What the handshake needs of px_cfg, from start-up. */
static struct hs_policy policy;

int
upgrade_init(void)
{
	policy.route = cfg.route;
	policy.nroute = cfg.nroute;
	policy.header = cfg.header;
	policy.nheader = cfg.nheader;
	policy.protocol = cfg.protocol;
	policy.nprotocol = cfg.nprotocol;
	policy.origin = cfg.origin;
	policy.norigin = cfg.norigin;
	target_scratch_len = 2 * (cfg.max_header_bytes + 2);
	target_scratch = malloc(target_scratch_len);
	return target_scratch == NULL ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Our own HTTP answers                                                */
/* ------------------------------------------------------------------ */

/* The upstream failed the pair before its 101: counted by reason
 * (wsproxy(1) METRICS), then answered like any rejection. */
static void
upstream_fail(struct pair *p, enum met_reason reason, unsigned status,
    const char *why)
{
	met_upstream_error(p, reason);
	pair_reject(p, status, 0, why);
}

void
pair_reject(struct pair *p, unsigned status, int version, const char *why)
{
	pair_answer(p, status, version, 0, why);
}

void
pair_answer(struct pair *p, unsigned status, int version,
    unsigned retry_after, const char *why)
{
	struct end *c = &p->client;
	uint8_t *buf;

	end_close(&p->upstream);
	output_release(&p->upstream);
	flow_release(&p->upstream.in);
	flow_release(&c->in);
	p->status = (uint16_t)status;
	p->why = why;
	p->failed_in = p->state;
	if ((buf = output_buf(c)) == NULL) {
		pair_close(p, why);
		return;
	}
	c->out.end = (uint32_t)hs_error((char *)buf, cfg.buf_size, status,
	    version, retry_after);
	pair_set_state(p, PAIR_REJECT);
	c->writable = 1;		/* nothing was written to it yet */
	reject_run(p);
}

/*
 * Replace the head at the front of f (head_len bytes) by new[0..len),
 * keeping what followed it.  Returns -1 if it does not fit.
 */
static int
replace_head(struct flow *f, size_t head_len, const char *new, size_t len)
{
	size_t rest = f->end - head_len;

	if (len + rest > cfg.buf_size)
		return -1;
	memmove(f->buf + len, f->buf + head_len, rest);
	memcpy(f->buf, new, len);
	f->end = (uint32_t)(len + rest);
	return 0;
}

/* ------------------------------------------------------------------ */
/* PAIR_REQUEST: the client's request head                             */
/* ------------------------------------------------------------------ */

static void connect_start(struct pair *);
static void try_member(struct pair *, const struct http_head *,
    struct hs_request *, unsigned);

/*
 * Read more of a head from e (the client's request, the upstream's
 * answer): 1 when bytes came, 0 when the pair waits for an edge or has
 * been answered or closed.  A head that reaches limit is too large:
 * 'full' is the answer (431, or 502 for the upstream's).
 */
static int
head_fill(struct pair *p, struct end *e, size_t limit, unsigned full)
{
	const char *why;
	ssize_t r;

	r = flow_fill(p, e, limit);
	if (r > 0)
		return 1;
	if (r == FILL_NOBUF)
		pair_close(p, "no buffer");
	else if (r == FILL_FULL && e == &p->client)
		pair_reject(p, full, 0, "request head too large");
	else if (r == FILL_FULL)
		upstream_fail(p, MET_ERR_BAD_RESPONSE, full,
		    "upstream response head too large");
	else if (r != PX_IO_AGAIN && e == &p->client) {
		why = e->tls != NULL ? tls_error(e->tls, NULL, 0) : NULL;
		pair_close(p, why ? why : "client closed before its request");
	} else if (r != PX_IO_AGAIN)
		upstream_fail(p, MET_ERR_CLOSED, 502,
		    "upstream closed during upgrade");
	return 0;
}

/* Read until the head is complete: 1, or 0 when the pair waits or ended. */
static int
request_head(struct pair *p)
{
	struct flow *f = &p->client.in;
	size_t scan;

	for (;;) {
		if (!head_fill(p, &p->client, cfg.max_header_bytes + 1, 431))
			return 0;
		/* f->scan is the end-finder's position during this state. */
		scan = f->scan;
		if (http_head_end((const char *)f->buf, f->end, &scan)) {
			f->scan = (uint32_t)scan;
			return 1;
		}
		f->scan = (uint32_t)scan;
	}
}

void
request_run(struct pair *p)
{
	struct flow *f = &p->client.in;
	struct http_head h;
	struct hs_request rq;
	const char *why = NULL;
	unsigned status;
	int n, version;

	if (!request_head(p))
		return;
	n = http_parse_request((const char *)f->buf, f->end, &h);
	if (n == HTTP_TOO_MANY || (n > 0 && (size_t)n > cfg.max_header_bytes)) {
		pair_reject(p, 431, 0, "request head too large");
		return;
	}
	if (n < 0) {
		pair_reject(p, 400, 0, "malformed request head");
		return;
	}
	status = hs_check_request(&policy, &h, target_scratch,
	    target_scratch_len, &rq, &version, &why);
	p->route = (uint8_t)(rq.route ? rq.route - cfg.route : 0);
	p->routed = rq.route != NULL;
	p->member = 0;		/* the log names the first until one is tried */
	pairlog_request(p, &h, &rq);
	if (status != 0) {
		pair_reject(p, status, version, why);
		return;
	}
	if (!pair_may_connect()) {
		pair_reject(p, 503, 0, "no free slot");
		return;
	}
	p->head_len = (uint32_t)n;
	f->scan = 0;
	p->tried = 0;
	try_member(p, &h, &rq, 502);
}

/* ------------------------------------------------------------------ */
/* PAIR_CONNECT: a pool member, every resolved address in turn          */
/* ------------------------------------------------------------------ */

static void tls_connect_run(struct pair *);

/* The hash(...) key of the request (wsproxy(1) UPSTREAMS): 1 with *key
 * set, or 0 when the request has none (round robin then). */
static int
balance_key(const struct pair *p, const struct px_route *r,
    const struct http_head *h, uint64_t *key)
{
	size_t i;

	if (r->balance != BAL_HASH)
		return 0;
	if (r->hash_key == KEY_IP) {
		const struct sockaddr_in *v4 = (const void *)&p->peer;

		if (p->peer.sin6_family == AF_INET)
			*key = bal_hash(&v4->sin_addr, 4, 0);
		else if (p->peer.sin6_family == AF_INET6)
			*key = bal_hash(&p->peer.sin6_addr, 16, 0);
		else
			return 0;
		return 1;
	}
	for (i = 0; i < h->num_headers; i++) {
		const struct http_header *x = &h->headers[i];
		const char *v = x->value, *end = v + x->value_len, *c;

		if (r->hash_key == KEY_HEADER) {
			if (x->name_len == r->hash_name_len &&
			    strncasecmp(x->name, r->hash_name,
			    r->hash_name_len) == 0) {
				*key = bal_hash(v, x->value_len, 0);
				return 1;
			}
			continue;
		}
		if (x->name_len != 6 || strncasecmp(x->name, "Cookie", 6) != 0)
			continue;
		/* Cookie: a=1; b=2 (RFC 6265 5.4) */
		for (; v < end; v = c + 1) {
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			c = memchr(v, ';', (size_t)(end - v));
			if (c == NULL)
				c = end;
			if ((size_t)(c - v) > r->hash_name_len &&
			    v[r->hash_name_len] == '=' &&
			    memcmp(v, r->hash_name, r->hash_name_len) == 0) {
				v += r->hash_name_len + 1;
				*key = bal_hash(v, (size_t)(c - v), 0);
				return 1;
			}
		}
	}
	return 0;
}

void
pair_member_release(struct pair *p)
{
	if (p->member_open) {
		pair_member(p)->open--;
		px_count.member_open[pair_member(p) - cfg.upstream]--;
		p->member_open = 0;
	}
}

/* Every member failed: one line naming each one's reason, and a 502. */
static void
pool_exhausted(struct pair *p, unsigned status, const char *why)
{
	const struct px_route *r = &cfg.route[p->route];
	char list[1024];
	size_t n = 0;
	int i;

	if (r->nupstream == 1) {
		pair_reject(p, status, 0, why);
		return;
	}
	list[0] = '\0';
	for (i = 0; i < r->nupstream && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s: %s",
		    i ? "; " : "", r->upstream[i].uri,
		    r->upstream[i].probe_down ? "health check failed" :
		    bal_addrs(&r->upstream[i]) == 0 ?
		    "upstream name not resolved" : r->upstream[i].fail_why ?
		    r->upstream[i].fail_why : "not tried");
	px_log(PX_LOG_WARN, "event=pool_failed route=%s status=%u"
	    " upstreams=\"%s\"", r->label, status, list);
	pair_reject(p, status, 0, status == 504 ?
	    "every upstream timed out or failed" : "every upstream failed");
}

/*
 * The next try: a member of the pool not tried yet for this request
 * (balance.c), the upgrade request built for it into upstream.out, and
 * its connect.  h and rq are the client's parsed request; when no
 * member is left after a failed try, the client gets last_status.
 */
static void
try_member(struct pair *p, const struct http_head *h, struct hs_request *rq,
    unsigned last_status)
{
	struct px_route *r = &cfg.route[p->route];
	char ip[INET6_ADDRSTRLEN];
	uint64_t key = 0;
	int m, have_key;
	uint8_t *buf;
	size_t len;

	have_key = balance_key(p, r, h, &key);
	m = bal_pick(r, p->tried, have_key, key, px_now());
	if (m < 0) {
		if (r->nupstream == 1 || p->tried == 0) {
			met_upstream_error(p, MET_ERR_UNRESOLVED);
			pool_exhausted(p, 502, r->nupstream == 1 &&
			    !r->upstream[0].probe_down ?
			    "upstream name not resolved" :
			    "no upstream is up");
		} else
			pool_exhausted(p, last_status, "every upstream failed");
		return;
	}
	p->member = (uint8_t)m;
	p->addr = 0;
	p->member_open = 1;
	r->upstream[m].open++;
	px_count.member_open[&r->upstream[m] - cfg.upstream]++;
	rq->upstream = &r->upstream[m];
	/* The upgrade request is built now, while the head is parsed, so
	 * it need not be parsed again; it waits in the upstream's output. */
	if ((buf = output_buf(&p->upstream)) == NULL) {
		pair_close(p, "no buffer");
		return;
	}
	(void)sock_ip_text((const struct sockaddr *)&p->peer, ip, sizeof(ip));
	len = hs_upstream_request(&policy, rq, ip,
	    cfg.listen[p->listener].tls, pair_trusted(p), (char *)buf,
	    cfg.buf_size);
	if (len == 0) {
		pair_reject(p, 431, 0, "request head too large for upstream");
		return;
	}
	p->upstream.out.start = 0;
	p->upstream.out.end = (uint32_t)len;
	connect_start(p);
}

/*
 * The try at the pair's member failed before any HTTP answer: the
 * member sits out its back-off and the next one is tried, while
 * --connect-timeout lasts (wsproxy(1) UPSTREAMS).  Otherwise the client
 * gets status and why, or a 502 naming every member's reason.
 */
static void
try_failed(struct pair *p, enum met_reason reason, unsigned status,
    const char *why)
{
	const struct px_route *r = &cfg.route[p->route];
	struct end *u = &p->upstream;
	struct hs_request rq;
	struct http_head h;
	const char *ignored;
	int version, n;

	met_upstream_error(p, reason);
	met_member_failed(p, reason);
	bal_failed(pair_member(p), why, px_now());
	pair_member_release(p);
	p->tried = (uint16_t)(p->tried | (1U << p->member));
	if (r->nupstream == 1 || reason == MET_ERR_NO_FD) {
		pair_reject(p, status, 0, why);
		return;
	}
	px_log(PX_LOG_INFO, "event=upstream_failed route=%s upstream=%s"
	    " error=\"%s\"", r->label, pair_member(p)->uri, why);
	if (px_now() >= p->mark_us / 1000 + cfg.connect_timeout) {
		pool_exhausted(p, status, why);
		return;
	}
	end_close(u);
	u->dead = 0;
	u->readable = u->writable = u->hup = 0;
	/* The client's head is still in client.in: parsed again, it gives
	 * the same route and target for the next member. */
	n = http_parse_request((const char *)p->client.in.buf, p->head_len, &h);
	if (n <= 0 || hs_check_request(&policy, &h, target_scratch,
	    target_scratch_len, &rq, &version, &ignored) != 0) {
		pair_reject(p, 502, 0, "internal: the request no longer parses");
		return;
	}
	pairlog_id(p, &rq);
	try_member(p, &h, &rq, status);
	if (p->state == PAIR_CONNECT)
		pair_timer_restart(p);
}

void
connect_timed_out(struct pair *p)
{
	try_failed(p, MET_ERR_TIMEOUT, 504, p->upstream.tls != NULL ?
	    "upstream TLS handshake timeout" : "upstream connect timeout");
}

static void
connect_start(struct pair *p)
{
	const struct px_upstream *r = pair_member(p);
	struct end *u = &p->upstream;
	int fd;

	for (; p->addr < r->naddr; p->addr++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&r->addr[p->addr];

		fd = sock_new(sa->sa_family);
		if (fd < 0) {
			/* Out of fds: no other address helps, and it is our
			 * shortage, not the upstream's fault. */
			u->err = (uint8_t)errno;
			upstream_fail(p, MET_ERR_NO_FD, 503,
			    "no file descriptor for the upstream");
			return;
		}
		px_fd_opened();
		if (sa->sa_family != AF_UNIX) {	/* TCP options only */
			sock_nodelay(fd);
			sock_keepalive(fd, cfg.tcp_keepalive);
		}
		pairlog_upstream(p, sa, r->addr_len[p->addr]);
		if (connect(fd, sa, r->addr_len[p->addr]) < 0 &&
		    errno != EINPROGRESS) {
			u->err = (uint8_t)errno;
			px_log(PX_LOG_DEBUG, "event=connect_failed upstream=%s"
			    " error=\"%s\"", r->uri, strerror(errno));
			px_fd_close(fd);
			continue;
		}
		u->fd = fd;
		u->dead = 0;
		u->readable = u->writable = u->hup = 0;
		if (pair_watch(p, u) < 0) {
			px_fd_close(fd);
			u->fd = -1;
			break;
		}
		if (p->state != PAIR_CONNECT)
			pair_set_state(p, PAIR_CONNECT);
		return;
	}
	if (r->naddr == 0)
		try_failed(p, MET_ERR_UNRESOLVED, 502,
		    "upstream name not resolved");
	else if (r->route->nupstream > 1 && u->err != 0)
		/* The member's own reason for the pool's 502 and log:
		 * strerror()'s text for a known errno is static. */
		try_failed(p, MET_ERR_REFUSED, 502, strerror(u->err));
	else
		try_failed(p, MET_ERR_REFUSED, 502, "upstream connect failed");
}

void
connect_run(struct pair *p)
{
	struct end *u = &p->upstream;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int err = 0;
	socklen_t el = sizeof(err);

	if (p->client.hup) {
		pair_close(p, "client went away during the handshake");
		return;
	}
	if (u->tls != NULL) {
		tls_connect_run(p);
		return;
	}
	if (!u->writable && !u->hup)
		return;
	/* A failed connect always comes with EPOLLERR/EPOLLHUP; a clean
	 * EPOLLOUT needs no SO_ERROR call. */
	if (u->hup)
		(void)getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &el);
	/* After a retry an edge of the previous socket may still be in
	 * this batch: ask whether this one is connected yet. */
	if (err == 0 && p->addr > 0 &&
	    getpeername(u->fd, (struct sockaddr *)&ss, &sl) < 0) {
		if (errno == ENOTCONN) {
			/* Still in progress (a stale edge): wait. */
			u->writable = 0;
			return;
		}
		err = errno;
	}
	if (err != 0) {
		u->err = (uint8_t)(err < 256 ? err : EIO);
		px_log(PX_LOG_DEBUG, "event=connect_failed upstream=%s"
		    " error=\"%s\"", pair_member(p)->uri, strerror(err));
		px_fd_close(u->fd);
		u->fd = -1;
		p->addr++;
		connect_start(p);
		return;
	}
	/* send-proxy: the PROXY header is the connection's first bytes,
	 * before TLS and before the upgrade request. */
	if (cfg.route[p->route].send_proxy && proxy_send(p) < 0)
		return;
	if (pair_member(p)->tls) {
		/* wss://: the TLS handshake is part of PAIR_CONNECT, under
		 * --connect-timeout. */
		u->tls = tls_client_new(u->fd, pair_member(p));
		if (u->tls == NULL && errno == ENOMEM) {
			/* Our shortage, not the member's fault. */
			pair_reject(p, 503, 0, "no memory for TLS state");
			return;
		}
		if (u->tls == NULL) {
			try_failed(p, MET_ERR_TLS, 502,
			    "TLS: cannot start a session");
			return;
		}
		u->readable = u->writable = 1;
		tls_connect_run(p);
		return;
	}
	pair_set_state(p, PAIR_UPGRADE);
	upgrade_run(p);
}

/* The upstream's TLS handshake; any failure is a 502 naming it. */
static void
tls_connect_run(struct pair *p)
{
	struct end *u = &p->upstream;
	const char *why;
	char detail[64];
	int r;

	if (!u->readable && !u->writable)
		return;
	r = tls_handshake(u->tls);
	if (r == PX_IO_AGAIN) {
		u->readable = u->writable = 0;
		return;
	}
	if (r < 0) {
		why = tls_error(u->tls, detail, sizeof(detail));
		if (why == NULL)
			why = "TLS: handshake failed";
		px_log(PX_LOG_WARN, "event=tls_error side=upstream upstream=%s"
		    " error=\"%s\" %s", pair_member(p)->uri, why,
		    detail);
		try_failed(p, MET_ERR_TLS, 502, why);
		return;
	}
	u->readable = u->writable = 1;
	pair_set_state(p, PAIR_UPGRADE);
	upgrade_run(p);
}

/* ------------------------------------------------------------------ */
/* PAIR_UPGRADE: our request out, the upstream's response head in      */
/* ------------------------------------------------------------------ */

static void response_start(struct pair *, const struct http_head *, size_t);
static void open_start(struct pair *, const struct http_head *,
    const struct http_head *, size_t);

/*
 * The upstream's answer head, once complete: its length with res
 * filled in, 0 while more bytes are needed or the pair has ended.
 * Interim 1xx answers (100, 102, 103...) are dropped on the way
 * (wsproxy(1) HANDSHAKE), at most PX_MAX_INTERIM of them, so that an
 * upstream cannot keep the pair here.
 */
static size_t
upgrade_head(struct pair *p, struct http_head *res)
{
	struct end *u = &p->upstream;
	struct flow *f = &u->in;
	size_t scan;
	ssize_t r;

	for (;;) {
		scan = f->scan;
		if (f->end > 0 && http_head_end((const char *)f->buf, f->end,
		    &scan)) {
			r = http_parse_response((const char *)f->buf, f->end,
			    res);
			if (r < 0) {
				upstream_fail(p, MET_ERR_BAD_RESPONSE, 502,
				    "malformed upstream response");
				return 0;
			}
			if (res->status >= 200 || res->status == 101)
				return (size_t)r;
			if (++p->interim > PX_MAX_INTERIM) {
				upstream_fail(p, MET_ERR_BAD_RESPONSE, 502,
				    "too many interim upstream responses");
				return 0;
			}
			memmove(f->buf, f->buf + r, f->end - (size_t)r);
			f->end -= (uint32_t)r;
			f->scan = 0;
			continue;
		}
		f->scan = (uint32_t)scan;
		if (!head_fill(p, u, cfg.buf_size, 502))
			return 0;
	}
}

void
upgrade_run(struct pair *p)
{
	struct end *u = &p->upstream;
	struct http_head req, res;
	size_t n;

	if (p->client.hup) {
		pair_close(p, "client went away during the handshake");
		return;
	}
	/* The request first, whole (request_run() built it): the answer's
	 * edge sets u->readable after that. */
	switch (output_write(u)) {
	case -1:
		upstream_fail(p, MET_ERR_CLOSED, 502, "upstream write failed");
		return;
	case 0:
		return;
	default:
		break;
	}
	if ((n = upgrade_head(p, &res)) == 0)
		return;
	p->upstream.in.scan = 0;
	if (res.status != 101) {
		response_start(p, &res, n);
		return;
	}
	/* The client's head, parsed again: it stayed in its buffer. */
	(void)http_parse_request((const char *)p->client.in.buf, p->head_len,
	    &req);
	open_start(p, &req, &res, n);
}

/* ------------------------------------------------------------------ */
/* PAIR_RESPONSE: the upstream said no; its answer goes to the client   */
/* ------------------------------------------------------------------ */

static void
response_start(struct pair *p, const struct http_head *res, size_t head_len)
{
	struct flow *f = &p->upstream.in;
	size_t n, body;
	const char *why;

	bal_succeeded(pair_member(p));
	why = hs_passthrough(res, &cfg.route[p->route], pair_member(p), head_out,
	    sizeof(head_out), &n, &p->body_left);
	if (why != NULL) {
		upstream_fail(p, MET_ERR_BAD_RESPONSE, 502, why);
		return;
	}
	if (n == 0 || replace_head(f, head_len, head_out, n) < 0) {
		upstream_fail(p, MET_ERR_BAD_RESPONSE, 502,
		    "upstream response head too large");
		return;
	}
	p->status = (uint16_t)res->status;
	body = f->end - n;
	if (body > p->body_left) {
		f->end = (uint32_t)(n + p->body_left);
		body = (size_t)p->body_left;
	}
	if (p->body_left != UINT64_MAX)
		p->body_left -= body;
	f->start = 0;
	f->ready = f->scan = f->end;
	p->why = "upstream refused the upgrade";
	p->failed_in = p->state;
	pair_set_state(p, PAIR_RESPONSE);
	p->client.writable = 1;		/* nothing was written to it yet */
	response_run(p);
}

/* Answered: a FIN after it, then drain what the client still sends, so
 * closing does not turn into a reset that eats the answer. */
static void
linger_start(struct pair *p)
{
	struct end *c = &p->client;

	tls_shutdown(c->fd, c->tls);
	pair_set_state(p, PAIR_LINGER);
	c->readable = 1;
	linger_run(p);
}

void
response_run(struct pair *p)
{
	struct end *u = &p->upstream, *c = &p->client;
	struct flow *f = &u->in;
	size_t limit;
	ssize_t r;

	for (;;) {
		(void)flow_send(f, c);
		if (c->dead) {
			pair_close(p, "client went away");
			return;
		}
		if (f->start < f->ready)
			return;		/* wait for the client to take it */
		if (p->body_left == 0 || u->dead || u->rd == READ_EOF) {
			/* All passed on: close like any error answer. */
			end_close(u);
			linger_start(p);
			return;
		}
		limit = cfg.buf_size;
		if (p->body_left < limit - f->end)
			limit = f->end + (size_t)p->body_left;
		r = flow_fill(p, u, limit);
		if (r == PX_IO_AGAIN || r == FILL_NOBUF || r == FILL_FULL)
			return;
		if (r < 0) {
			u->rd = READ_EOF;
			continue;
		}
		f->ready = f->scan = f->end;
		if (p->body_left != UINT64_MAX)
			p->body_left -= (uint64_t)r;
	}
}

/* ------------------------------------------------------------------ */
/* PAIR_REJECT and PAIR_LINGER: our answer out, then a gentle close     */
/* ------------------------------------------------------------------ */

void
linger_run(struct pair *p)
{
	ssize_t r;

	while ((r = flow_drop(p, &p->client)) > 0)
		;
	if (r != PX_IO_AGAIN)
		pair_close(p, NULL);
}

void
reject_run(struct pair *p)
{
	switch (output_write(&p->client)) {
	case -1:
		pair_close(p, NULL);
		break;
	case 1:
		linger_start(p);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* From the upstream's 101 to PAIR_OPEN                                */
/* ------------------------------------------------------------------ */

static void
open_start(struct pair *p, const struct http_head *req,
    const struct http_head *res, size_t head_len)
{
	struct flow *fu = &p->upstream.in, *fc = &p->client.in;
	const char *why;
	int deflate;
	size_t n;

	bal_succeeded(pair_member(p));
	why = hs_check_response(&policy, req, res, &deflate);
	if (why != NULL) {
		upstream_fail(p, MET_ERR_BAD_RESPONSE, 502, why);
		return;
	}
	n = hs_client_101(res, head_out, sizeof(head_out));
	if (n == 0 || replace_head(fu, head_len, head_out, n) < 0) {
		upstream_fail(p, MET_ERR_BAD_RESPONSE, 502,
		    "upstream response head too large");
		return;
	}
	fu->start = 0;
	fu->ready = fu->scan = (uint32_t)n;
	/* The client's head is done with; frames it sent early stay. */
	fc->start = fc->ready = fc->scan = p->head_len;
	if (fc->start == fc->end)
		flow_release(fc);
	/* Frame bytes that came in the same reads as the heads count too. */
	fc->bytes += fc->end - fc->start;
	fu->bytes += fu->end - fu->scan;
	px_count.bytes[0] += fc->end - fc->start;
	px_count.bytes[1] += fu->end - fu->scan;
	fc->ws.must_mask = 1;
	fu->ws.must_mask = 0;
	fc->ws.deflate = fu->ws.deflate = (uint8_t)deflate;
	p->status = 101;
	p->client.writable = 1;		/* nothing was written to it yet */
	/* client.readable is still 1 if bytes followed its head unread
	 * (request_run stops at the head); else its next edge sets it. */
	pair_set_state(p, PAIR_OPEN);
	if (fc->buf != NULL)
		flow_scan(p, &p->client);
	flow_scan(p, &p->upstream);
	if (life_drain_code() != 0 && p->state == PAIR_OPEN) {
		/* Opened while draining: closed like the others were. */
		relay_drain(p, life_drain_code(), 0);
		return;
	}
	relay_run(p);
}
