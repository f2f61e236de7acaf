/*
 * proxy.c - wsproxy's loop, slab and connection-pair state machine.
 *
 * A pair is a client end and an upstream end.  Its life is enum
 * pair_state, changed only in pair_set_state(); every ending goes
 * through pair_close(), which logs once.  Bytes read from one end live
 * in that end's flow until written to the other end; the frame parser
 * walks them in place (nothing is copied or re-masked) and decides how
 * far the writer may go: up to the end of the last complete frame, or
 * as far as bytes have arrived when a frame is too large to hold.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"


/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

#define PX_LINGER_MS 1000	/* drain time after an error response */
#define PX_ACCEPT_RETRY_MS 100	/* retry accept() this soon after EMFILE */
#define PX_MAX_INTERIM 8	/* 1xx answers skipped before the upstream's 101 */

#define cfg px_cfg

static uint64_t timer_ms[TIMER_KINDS];	/* from px_cfg at start-up */

static const char *const state_name[] = {
	"free", "request", "connect", "upgrade", "response", "open",
	"closing", "reject", "linger"
};

#define NIL UINT32_MAX

/*
 * The slab has --max-conns slots for pairs plus PX_SLAB_SPARE for
 * clients still sending their request head, so a request can be checked
 * (400, 404, 426...) before "no free slot" is decided, as wsproxy(1)
 * HANDSHAKE orders
 * it.  A pair counts against --max-conns from its upstream connect on.
 */
#define PX_SLAB_SPARE 16
static uint32_t slab_size;
static uint32_t pairs_counted;

static struct pair *slab;
static uint32_t *slab_free;		/* stack of free slot indices */
static uint32_t slab_nfree;
static uint32_t timer_head[TIMER_KINDS], timer_tail[TIMER_KINDS];
static uint32_t runq_head = UINT32_MAX, runq_tail = UINT32_MAX;
static uint32_t runq_len;
size_t px_turn_left = PX_TURN_BYTES;
static uint64_t now_ms;
static int accept_paused;
static int accept_logged;		/* one log line per pause */
static uint64_t accept_retry_at;
/*
 * The fd budget: accept() is not called unless, after it, one fd is left
 * for the new client's upstream, so clients wait in the listen queue
 * instead of being taken in only to get an error.  (Clients still
 * sending their heads do not reserve one: if several finish at once with
 * one fd left, the others get 503.)
 */
static uint64_t fd_limit;		/* RLIMIT_NOFILE; 0: not checked */
static uint64_t fds_open;		/* counted from start-up on */

static void
fd_close(int fd)
{
	close(fd);
	fds_open--;
}

/* Buffer pool: pool_n buffers of cfg.buf_size, reserved with mmap so
 * untouched ones cost no memory; a LIFO free stack keeps the hot ones. */
static uint8_t *pool_mem;
static uint32_t *pool_free;
static uint32_t pool_nfree;

uint8_t px_scratch[64 * 1024];

/* Where a request's normalised target is written while it is checked:
 * twice the longest head (see hs_check_request()), from start-up. */
static char *target_scratch;
static size_t target_scratch_len;

/* ------------------------------------------------------------------ */
/* Logging                                                             */
/* ------------------------------------------------------------------ */

void
px_log(enum px_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[1024];
	va_list ap;
	int n, m;

	if ((int)level > cfg.log_level)
		return;
	n = snprintf(line, sizeof(line), "level=%s ", names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so lines from a busy loop never interleave. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Time and timers                                                     */
/* ------------------------------------------------------------------ */

static uint64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
timer_unlink(struct pair *p)
{
	enum timer_kind k = (enum timer_kind)p->timer;

	if (k == TIMER_NONE)
		return;
	if (p->timer_prev != NIL)
		slab[p->timer_prev].timer_next = p->timer_next;
	else
		timer_head[k] = p->timer_next;
	if (p->timer_next != NIL)
		slab[p->timer_next].timer_prev = p->timer_prev;
	else
		timer_tail[k] = p->timer_prev;
	p->timer = TIMER_NONE;
}

/* Put p on list k with deadline now + its duration (0: no timer). */
static void
timer_set(struct pair *p, enum timer_kind k)
{
	uint32_t idx = (uint32_t)(p - slab);

	timer_unlink(p);
	if (k == TIMER_NONE || timer_ms[k] == 0)
		return;
	p->timer = (uint8_t)k;
	p->deadline = now_ms + timer_ms[k];
	p->timer_next = NIL;
	p->timer_prev = timer_tail[k];
	if (timer_tail[k] != NIL)
		slab[timer_tail[k]].timer_next = idx;
	else
		timer_head[k] = idx;
	timer_tail[k] = idx;
}

void
pair_touch(struct pair *p)
{
	if (p->timer == TIMER_IDLE && p->deadline != now_ms + timer_ms[TIMER_IDLE])
		timer_set(p, TIMER_IDLE);
}

/* Milliseconds until the earliest deadline, -1 if none. */
static int
timer_next_ms(void)
{
	uint64_t first = UINT64_MAX;
	int k;

	for (k = 1; k < TIMER_KINDS; k++)
		if (timer_head[k] != NIL && slab[timer_head[k]].deadline < first)
			first = slab[timer_head[k]].deadline;
	if (accept_paused && accept_retry_at < first)
		first = accept_retry_at;
	if (first == UINT64_MAX)
		return -1;
	if (first <= now_ms)
		return 0;
	return first - now_ms > INT_MAX ? INT_MAX : (int)(first - now_ms);
}

/* ------------------------------------------------------------------ */
/* The run queue: pairs whose turn ran out with work left              */
/* ------------------------------------------------------------------ */

void
pair_yield(struct pair *p)
{
	uint32_t idx = (uint32_t)(p - slab);

	if (p->queued)
		return;
	p->queued = 1;
	p->run_next = NIL;
	p->run_prev = runq_tail;
	if (runq_tail != NIL)
		slab[runq_tail].run_next = idx;
	else
		runq_head = idx;
	runq_tail = idx;
	runq_len++;
}

static void
runq_unlink(struct pair *p)
{
	if (!p->queued)
		return;
	if (p->run_prev != NIL)
		slab[p->run_prev].run_next = p->run_next;
	else
		runq_head = p->run_next;
	if (p->run_next != NIL)
		slab[p->run_next].run_prev = p->run_prev;
	else
		runq_tail = p->run_prev;
	p->queued = 0;
	runq_len--;
}

static void pair_run(struct pair *);

/* A pair's turn: a fresh read budget, and off the queue if it was on it. */
static void
pair_turn(struct pair *p)
{
	runq_unlink(p);
	px_turn_left = PX_TURN_BYTES;
	pair_run(p);
}

/* One turn for each pair queued before this call; those that yield
 * again go to the back, behind pairs that became ready meanwhile. */
static void
runq_run(void)
{
	uint32_t n = runq_len;

	while (n-- > 0 && runq_head != NIL)
		pair_turn(&slab[runq_head]);
}

/* ------------------------------------------------------------------ */
/* Buffer pool                                                         */
/* ------------------------------------------------------------------ */

static int
pool_init(uint32_t n)
{
	uint32_t i;

	pool_mem = mmap(NULL, (size_t)n * cfg.buf_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pool_mem == MAP_FAILED)
		return -1;
	pool_free = calloc(n, sizeof(*pool_free));
	if (pool_free == NULL)
		return -1;
	for (i = 0; i < n; i++)
		pool_free[i] = n - 1 - i;
	pool_nfree = n;
	return 0;
}

/* A buffer for f, if it has none.  The pool has two per slot, so this
 * cannot run dry; the check is for the invariant's sake. */
int
flow_buf(struct flow *f)
{
	if (f->buf != NULL)
		return 0;
	if (pool_nfree == 0)
		return -1;
	f->buf = pool_mem + (size_t)pool_free[--pool_nfree] * cfg.buf_size;
	f->start = f->ready = f->scan = f->end = 0;
	return 0;
}

void
flow_release(struct flow *f)
{
	if (f->buf == NULL)
		return;
	pool_free[pool_nfree++] =
	    (uint32_t)((size_t)(f->buf - pool_mem) / cfg.buf_size);
	f->buf = NULL;
	f->start = f->ready = f->scan = f->end = 0;
}

/* ------------------------------------------------------------------ */
/* I/O helpers: tri-state results, errno stays here                    */
/* ------------------------------------------------------------------ */

/*
 * New sockets are non-blocking and close-on-exec; where the kernel can
 * do that in the socket()/accept4() call itself, it saves two syscalls
 * per connection.
 */
#ifdef SOCK_NONBLOCK
#define PX_SOCK_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)

static int
new_socket(int family)
{
	return socket(family, SOCK_STREAM | PX_SOCK_FLAGS, 0);
}

static int
accept_socket(int lfd, struct sockaddr *sa, socklen_t *len)
{
	return accept4(lfd, sa, len, PX_SOCK_FLAGS);
}
#else
static int
set_flags(int fd)
{
	int fl;

	if (fd < 0)
		return fd;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
new_socket(int family)
{
	return set_flags(socket(family, SOCK_STREAM, 0));
}

static int
accept_socket(int lfd, struct sockaddr *sa, socklen_t *len)
{
	return set_flags(accept(lfd, sa, len));
}
#endif

static void
set_nodelay(int fd)
{
	int one = 1;

	/* WebSocket messages are small and latency-bound. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * TCP keepalive (wsproxy(1) SECURITY): a peer that vanished without a
 * FIN or reset (a NAT dropped it, a host lost power) is found after
 * --tcp-keepalive seconds of silence plus six probes SECS/6 apart,
 * about 2 x SECS, instead of never.  Accepted sockets inherit it from
 * the listener on Linux.
 */
void
px_keepalive(int fd)
{
	int on = 1, idle, intvl, count = 6;

	if (cfg.tcp_keepalive == 0)
		return;
	idle = (int)cfg.tcp_keepalive;
	intvl = idle / 6 > 0 ? idle / 6 : 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
#ifdef TCP_KEEPIDLE
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
#endif
#ifdef TCP_KEEPINTVL
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
#endif
#ifdef TCP_KEEPCNT
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
#endif
	(void)intvl;
	(void)count;
}

static const char *
addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;

	host[0] = '\0';
	/* Every caller passes an address filled in by accept(). */
	if (sa->sa_family == AF_INET) {	/* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(out, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(out, len, "[%s]:%u", host, port);
	} else {
		snprintf(out, len, "?");
	}
	return out;
}

/*
 * Keep the client's address; an IPv4 client of a dual-stack listener
 * ("::ffff:192.0.2.1") is kept as the IPv4 address it is, so logs and
 * X-Forwarded-For say 192.0.2.1 (wsproxy(1) SECURITY).
 */
static void
peer_set(struct pair *p, const struct sockaddr_storage *ss, socklen_t sl)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	memset(&p->peer, 0, sizeof(p->peer));
	/* ss was filled in by accept(); the analyzer cannot see that. */
	if (ss->ss_family == AF_INET6 &&	/* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	    IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		struct sockaddr_in in4;

		memset(&in4, 0, sizeof(in4));
		in4.sin_family = AF_INET;
		in4.sin_port = in6->sin6_port;
		memcpy(&in4.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
		memcpy(&p->peer, &in4, sizeof(in4));
		return;
	}
	memcpy(&p->peer, ss, sl < sizeof(p->peer) ? sl : sizeof(p->peer));
}

/* The client's IP alone, for X-Forwarded-For. */
static size_t
peer_ip(const struct pair *p, char *out, size_t len)
{
	const struct sockaddr *sa = (const struct sockaddr *)&p->peer;

	if (sa->sa_family == AF_INET) {
		/* By hand: inet_ntop() goes through sprintf (1k instructions
		 * per handshake in callgrind). */
		const uint8_t *a = (const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
		size_t n = 0;
		int i;

		if (len < INET_ADDRSTRLEN)
			return 0;
		for (i = 0; i < 4; i++) {
			if (a[i] >= 100)
				out[n++] = (char)('0' + a[i] / 100);
			if (a[i] >= 10)
				out[n++] = (char)('0' + a[i] / 10 % 10);
			out[n++] = (char)('0' + a[i] % 10);
			out[n++] = i < 3 ? '.' : '\0';
		}
		return n - 1;
	} else
		inet_ntop(AF_INET6, &p->peer.sin6_addr, out, (socklen_t)len);
	return strlen(out);
}

/* ------------------------------------------------------------------ */
/* Slab                                                                */
/* ------------------------------------------------------------------ */

#define DATA_LISTENER ((uint64_t)1 << 63)

static uint64_t
end_data(const struct pair *p, const struct end *e)
{
	uint64_t idx = (uint64_t)(p - slab);

	return ((uint64_t)(p->gen & 0x7fffffffU) << 32) | (idx << 1) |
	    (e == &p->upstream ? 1U : 0U);
}

static struct pair *
slab_get(void)
{
	struct pair *p;

	if (slab_nfree == 0)
		return NULL;
	p = &slab[slab_free[--slab_nfree]];
	p->client.fd = p->upstream.fd = -1;
	return p;
}

static void
end_reset(struct end *e)
{
	memset(e, 0, sizeof(*e));
	e->fd = -1;
}

static void
slab_put(struct pair *p)
{
	uint32_t gen = p->gen + 1;

	end_reset(&p->client);
	end_reset(&p->upstream);
	memset(p, 0, sizeof(*p));
	p->gen = gen;
	p->timer_prev = p->timer_next = NIL;
	p->run_prev = p->run_next = NIL;
	p->client.fd = p->upstream.fd = -1;
	slab_free[slab_nfree++] = (uint32_t)(p - slab);
}

/* ------------------------------------------------------------------ */
/* Ending a pair                                                       */
/* ------------------------------------------------------------------ */

void
end_close(struct end *e)
{
	if (e->fd >= 0) {
		tls_close(e->tls);
		e->tls = NULL;
		fd_close(e->fd);
		e->fd = -1;
	}
	/* The flow stays: bytes read from this end may still be on their
	 * way to the other.  pair_close() gives the buffers back. */
	e->dead = 1;
}

/*
 * The one way a pair ends: log once, close the upstream first, then the
 * client, and give the slot back.  'why' is NULL for a clean close
 * handshake.
 */
void
pair_close(struct pair *p, const char *why)
{
	static const char *const who[] = { "none", "client", "upstream", "proxy" };
	char addr[64];
	const struct px_route *r = &cfg.route[p->route];

	/* Formatting costs more than the rest of a handshake's user time:
	 * only when the line will be printed. */
	if (cfg.log_level < (int)(why != NULL || p->status >= 500 ?
	    PX_LOG_WARN : PX_LOG_INFO))
		goto done;
	addr_text((const struct sockaddr *)&p->peer, addr, sizeof(addr));
	if (p->state == PAIR_OPEN || p->state == PAIR_CLOSING)
		px_log(why ? PX_LOG_WARN : PX_LOG_INFO,
		    "event=close client=%s route=%s upstream=%s duration_ms=%llu"
		    " c2u_bytes=%llu c2u_msgs=%llu u2c_bytes=%llu u2c_msgs=%llu"
		    " close_code=%u closed_by=%s%s%s%s",
		    addr, r->prefix_len ? r->prefix : "/", r->uri,
		    (unsigned long long)(now_ms - p->started),
		    (unsigned long long)p->client.in.bytes,
		    (unsigned long long)p->client.in.messages,
		    (unsigned long long)p->upstream.in.bytes,
		    (unsigned long long)p->upstream.in.messages,
		    p->close_code, who[p->closed_by],
		    why ? " error=\"" : "", why ? why : "", why ? "\"" : "");
	else
		px_log(p->status >= 500 ? PX_LOG_WARN : PX_LOG_INFO,
		    "event=%s client=%s state=%s status=%u duration_ms=%llu"
		    " reason=\"%s\"",
		    p->status ? "reject" : "abort", addr,
		    state_name[p->status ? p->failed_in : p->state],
		    p->status, (unsigned long long)(now_ms - p->started),
		    why ? why : p->why ? p->why : "closed");
done:
	timer_unlink(p);
	runq_unlink(p);
	if (p->counted)
		pairs_counted--;
	end_close(&p->upstream);
	end_close(&p->client);
	flow_release(&p->upstream.in);
	flow_release(&p->client.in);
	slab_put(p);
	/* A slot and two fds are free: accept() may work again. */
	if (accept_paused)
		accept_retry_at = now_ms;
}

static void reject_run(struct pair *);

/* ------------------------------------------------------------------ */
/* State changes: the only place p->state is written after accept      */
/* ------------------------------------------------------------------ */

void
pair_set_state(struct pair *p, enum pair_state s)
{
	static const uint8_t timer_of[] = {
		[PAIR_FREE] = TIMER_NONE,
		[PAIR_REQUEST] = TIMER_REQUEST,
		[PAIR_CONNECT] = TIMER_CONNECT,
		[PAIR_UPGRADE] = TIMER_UPGRADE,
		[PAIR_RESPONSE] = TIMER_UPGRADE,
		[PAIR_OPEN] = TIMER_IDLE,
		[PAIR_CLOSING] = TIMER_CLOSE,
		[PAIR_REJECT] = TIMER_LINGER,
		[PAIR_LINGER] = TIMER_LINGER,
	};

	px_log(PX_LOG_DEBUG, "event=state slot=%u from=%s to=%s",
	    (unsigned)(p - slab), state_name[p->state], state_name[s]);
	if (s == PAIR_CONNECT && !p->counted) {
		p->counted = 1;
		pairs_counted++;
	}
	p->state = (uint8_t)s;
	timer_set(p, (enum timer_kind)timer_of[s]);
}

/* ------------------------------------------------------------------ */
/* Our own HTTP answers (wsproxy(1) HANDSHAKE)                        */
/* ------------------------------------------------------------------ */

/*
 * Answer the client with our own status and close: the response is
 * written from the (now unused) upstream flow's buffer.
 */
static void
pair_reject(struct pair *p, unsigned status, int version, const char *why)
{
	struct flow *out = &p->upstream.in;

	end_close(&p->upstream);
	flow_release(out);
	flow_release(&p->client.in);
	p->status = (uint16_t)status;
	p->why = why;
	p->failed_in = p->state;
	if (flow_buf(out) < 0) {
		pair_close(p, why);
		return;
	}
	out->end = out->ready = out->scan = (uint32_t)hs_error(
	    (char *)out->buf, cfg.buf_size, status, version);
	out->sealed = 1;
	pair_set_state(p, PAIR_REJECT);
	p->client.writable = 1;		/* nothing was written to it yet */
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
/* PAIR_REQUEST: the client's request head (wsproxy(1) HANDSHAKE)     */
/* ------------------------------------------------------------------ */

static void connect_start(struct pair *);

static void
request_run(struct pair *p)
{
	struct end *c = &p->client;
	struct flow *f = &c->in;
	struct http_head h;
	struct hs_request rq;
	const char *why = NULL;
	size_t limit = cfg.max_header_bytes + 1;
	char ip[INET6_ADDRSTRLEN];
	unsigned status;
	int n, version;
	size_t len;
	ssize_t r;

	for (;;) {
		if (!c->readable)
			return;
		if (flow_buf(f) < 0) {
			pair_close(p, "no buffer");
			return;
		}
		if (f->end >= limit) {
			pair_reject(p, 431, 0, "request head too large");
			return;
		}
		r = end_read(c, f->buf + f->end, limit - f->end);
		if (r == PX_IO_AGAIN) {
			c->readable = 0;
			if (f->end == 0)
				flow_release(f);	/* nothing in flight */
			return;
		}
		if (r < 0) {
			why = c->tls != NULL ? tls_error(c->tls, NULL, 0) : NULL;
			pair_close(p, why ? why : "client closed before its request");
			return;
		}
		if ((size_t)r < limit - f->end && !c->hup && c->tls == NULL)
			c->readable = 0;	/* drained: see flow_read() */
		f->end += (uint32_t)r;
		/* f->scan is the end-finder's position during this state. */
		{
			size_t scan = f->scan;
			int done = http_head_end((const char *)f->buf, f->end,
			    &scan);

			f->scan = (uint32_t)scan;
			if (done)
				break;
		}
	}
	n = http_parse_request((const char *)f->buf, f->end, &h);
	if (n == HTTP_TOO_MANY || (n > 0 && (size_t)n > cfg.max_header_bytes)) {
		pair_reject(p, 431, 0, "request head too large");
		return;
	}
	if (n < 0) {
		pair_reject(p, 400, 0, "malformed request head");
		return;
	}
	status = hs_check_request(&h, target_scratch, target_scratch_len, &rq,
	    &version, &why);
	p->route = (uint8_t)(rq.route ? rq.route - cfg.route : 0);
	if (status != 0) {
		pair_reject(p, status, version, why);
		return;
	}
	if (pairs_counted >= cfg.max_conns) {
		pair_reject(p, 503, 0, "no free slot");
		return;
	}
	p->head_len = (uint32_t)n;
	f->scan = 0;
	/* The upgrade request is built now, while the head is parsed, so
	 * it need not be parsed again; it waits in the upstream flow. */
	if (flow_buf(&p->upstream.in) < 0) {
		pair_close(p, "no buffer");
		return;
	}
	(void)peer_ip(p, ip, sizeof(ip));
	len = hs_upstream_request(&rq, ip, cfg.listen[p->listener].tls,
	    (char *)p->upstream.in.buf, cfg.buf_size);
	if (len == 0) {
		pair_reject(p, 431, 0, "request head too large for upstream");
		return;
	}
	p->upstream.in.end = p->upstream.in.ready = p->upstream.in.scan =
	    (uint32_t)len;
	connect_start(p);
}

/* ------------------------------------------------------------------ */
/* PAIR_CONNECT: TCP to the upstream, every resolved address in turn    */
/* ------------------------------------------------------------------ */

static void upgrade_run(struct pair *);
static void tls_connect_run(struct pair *);

static void
connect_start(struct pair *p)
{
	const struct px_route *r = &cfg.route[p->route];
	struct end *u = &p->upstream;
	int fd;

	for (; p->addr < r->naddr; p->addr++) {
		const struct sockaddr *sa =
		    (const struct sockaddr *)&r->addr[p->addr];

		fd = new_socket(sa->sa_family);
		if (fd < 0) {
			/* Out of fds: no other address helps, and it is our
			 * shortage, not the upstream's fault. */
			pair_reject(p, 503, 0, "no file descriptor for the upstream");
			return;
		}
		fds_open++;
		set_nodelay(fd);
		px_keepalive(fd);
		if (connect(fd, sa, r->addr_len[p->addr]) < 0 &&
		    errno != EINPROGRESS) {
			px_log(PX_LOG_DEBUG, "event=connect_failed upstream=%s"
			    " error=\"%s\"", r->uri, strerror(errno));
			fd_close(fd);
			continue;
		}
		u->fd = fd;
		u->dead = 0;
		u->readable = u->writable = u->hup = 0;
		if (ev_add(fd, end_data(p, u)) < 0) {
			fd_close(fd);
			u->fd = -1;
			break;
		}
		if (p->state != PAIR_CONNECT)
			pair_set_state(p, PAIR_CONNECT);
		return;
	}
	pair_reject(p, 502, 0, r->naddr == 0 ? "upstream name not resolved" :
	    "upstream connect failed");
}

static void
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
		px_log(PX_LOG_DEBUG, "event=connect_failed upstream=%s"
		    " error=\"%s\"", cfg.route[p->route].uri, strerror(err));
		fd_close(u->fd);
		u->fd = -1;
		p->addr++;
		connect_start(p);
		return;
	}
	if (cfg.route[p->route].tls) {
		/* wss://: the TLS handshake is part of PAIR_CONNECT, under
		 * --connect-timeout. */
		u->tls = tls_client_new(u->fd, p->route);
		if (u->tls == NULL) {
			pair_reject(p, 502, 0, "TLS: cannot start a session");
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
		    " reason=\"%s\" %s", cfg.route[p->route].uri, why, detail);
		pair_reject(p, 502, 0, why);
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
static void response_run(struct pair *);
static void linger_run(struct pair *);
static void open_start(struct pair *, const struct http_head *,
    const struct http_head *, size_t);

/* The client's request head, parsed again (it stays in its buffer until
 * the client has its 101; re-parsing beats keeping 3 KiB per pair). */
static void
client_head(struct pair *p, struct http_head *h)
{
	(void)http_parse_request((const char *)p->client.in.buf, p->head_len,
	    h);
}

static void
upgrade_run(struct pair *p)
{
	struct end *u = &p->upstream;
	struct flow *f = &u->in;
	struct http_head req, res;
	size_t scan;
	ssize_t r;
	int done;

	if (p->client.hup) {
		pair_close(p, "client went away during the handshake");
		return;
	}
	if (!p->request_sent) {
		/* The request was built by request_run(), see there. */
		(void)flow_write(f, u);
		if (u->dead) {
			pair_reject(p, 502, 0, "upstream write failed");
			return;
		}
		if (f->buf != NULL)
			return;		/* not all written yet */
		p->request_sent = 1;
		/* No read yet: the response's edge sets u->readable. */
	}
	for (;;) {
		if (f->end > 0) {
			scan = f->scan;
			done = http_head_end((const char *)f->buf, f->end, &scan);
			f->scan = (uint32_t)scan;
		} else
			done = 0;
		if (done) {
			r = http_parse_response((const char *)f->buf, f->end,
			    &res);
			if (r < 0) {
				pair_reject(p, 502, 0,
				    "malformed upstream response");
				return;
			}
			if (res.status >= 200 || res.status == 101)
				break;
			/* 100, 102, 103...: interim, the answer follows
			 * (wsproxy(1) HANDSHAKE).  Bounded, so that an
			 * upstream cannot keep the pair here forever. */
			if (++p->interim > PX_MAX_INTERIM) {
				pair_reject(p, 502, 0,
				    "too many interim upstream responses");
				return;
			}
			memmove(f->buf, f->buf + r, f->end - (size_t)r);
			f->end -= (uint32_t)r;
			f->scan = 0;
			continue;
		}
		if (!u->readable)
			return;
		if (flow_buf(f) < 0) {
			pair_close(p, "no buffer");
			return;
		}
		if (f->end == cfg.buf_size) {
			pair_reject(p, 502, 0, "upstream response head too large");
			return;
		}
		r = end_read(u, f->buf + f->end, cfg.buf_size - f->end);
		if (r == PX_IO_AGAIN) {
			u->readable = 0;
			if (f->end == 0)
				flow_release(f);
			return;
		}
		if (r < 0) {
			pair_reject(p, 502, 0, "upstream closed during upgrade");
			return;
		}
		if ((size_t)r < cfg.buf_size - f->end && !u->hup && u->tls == NULL)
			u->readable = 0;	/* drained: see flow_read() */
		f->end += (uint32_t)r;
	}
	f->scan = 0;
	if (res.status != 101) {
		response_start(p, &res, (size_t)r);
		return;
	}
	client_head(p, &req);
	open_start(p, &req, &res, (size_t)r);
}

/* ------------------------------------------------------------------ */
/* PAIR_RESPONSE: the upstream said no; its answer goes to the client   */
/* ------------------------------------------------------------------ */

static char head_out[16384];	/* heads wsproxy writes for the client */

static void
response_start(struct pair *p, const struct http_head *res, size_t head_len)
{
	struct flow *f = &p->upstream.in;
	size_t n, body;
	const char *why;

	why = hs_passthrough(res, &cfg.route[p->route], head_out,
	    sizeof(head_out), &n, &p->body_left);
	if (why != NULL) {
		pair_reject(p, 502, 0, why);
		return;
	}
	if (n == 0 || replace_head(f, head_len, head_out, n) < 0) {
		pair_reject(p, 502, 0, "upstream response head too large");
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

static void
response_run(struct pair *p)
{
	struct end *u = &p->upstream, *c = &p->client;
	struct flow *f = &u->in;
	ssize_t r;
	size_t room;

	for (;;) {
		(void)flow_write(f, c);
		if (c->dead) {
			pair_close(p, "client went away");
			return;
		}
		if (f->buf != NULL && f->start < f->ready)
			return;		/* wait for the client to take it */
		if (p->body_left == 0 || u->dead || u->eof) {
			/* All passed on: close like any error answer. */
			end_close(u);
			tls_shutdown(c->fd, c->tls);
			pair_set_state(p, PAIR_LINGER);
			c->readable = 1;
			linger_run(p);
			return;
		}
		if (!u->readable)
			return;
		if (turn_over(p))
			return;
		if (flow_buf(f) < 0)
			return;
		room = cfg.buf_size - f->end;
		if (room > p->body_left)
			room = (size_t)p->body_left;
		r = end_read(u, f->buf + f->end, room);
		if (r == PX_IO_AGAIN) {
			u->readable = 0;
			if (f->end == f->start)
				flow_release(f);
			return;
		}
		if (r <= 0) {
			u->eof = 1;
			continue;
		}
		turn_spend((size_t)r);
		f->end += (uint32_t)r;
		f->ready = f->scan = f->end;
		if (p->body_left != UINT64_MAX)
			p->body_left -= (uint64_t)r;
	}
}

/* ------------------------------------------------------------------ */
/* PAIR_REJECT and PAIR_LINGER: our answer out, then a gentle close     */
/* ------------------------------------------------------------------ */

static void
linger_run(struct pair *p)
{
	struct end *c = &p->client;
	ssize_t r;

	for (;;) {
		if (turn_over(p))
			return;
		r = end_read(c, px_scratch, sizeof(px_scratch));
		if (r == PX_IO_AGAIN) {
			c->readable = 0;
			return;
		}
		if (r < 0) {
			pair_close(p, NULL);
			return;
		}
		turn_spend((size_t)r);
	}
}

static void
reject_run(struct pair *p)
{
	struct end *c = &p->client;

	(void)flow_write(&p->upstream.in, c);
	if (c->dead) {
		pair_close(p, NULL);
		return;
	}
	if (p->upstream.in.buf != NULL)
		return;
	/* Sent.  A FIN after it, then drain what the client still sends,
	 * so closing does not turn into a reset that eats the answer. */
	tls_shutdown(c->fd, c->tls);
	pair_set_state(p, PAIR_LINGER);
	c->readable = 1;
	linger_run(p);
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

	why = hs_check_response(req, res, &deflate);
	if (why != NULL) {
		pair_reject(p, 502, 0, why);
		return;
	}
	n = hs_client_101(res, head_out, sizeof(head_out));
	if (n == 0 || replace_head(fu, head_len, head_out, n) < 0) {
		pair_reject(p, 502, 0, "upstream response head too large");
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
	relay_run(p);
}

/* ------------------------------------------------------------------ */
/* Timers firing                                                       */
/* ------------------------------------------------------------------ */

static void
timer_fire(struct pair *p)
{
	switch ((enum timer_kind)p->timer) {
	case TIMER_REQUEST:
		if (p->client.in.end == 0) {
			timer_unlink(p);
			pair_close(p, "request timeout, nothing received");
		} else
			pair_reject(p, 408, 0, "request timeout");
		break;
	case TIMER_CONNECT:
		pair_reject(p, 504, 0, p->upstream.tls != NULL ?
		    "upstream TLS handshake timeout" : "upstream connect timeout");
		break;
	case TIMER_UPGRADE:
		if (p->state == PAIR_UPGRADE)
			pair_reject(p, 504, 0, "upstream upgrade timeout");
		else
			pair_close(p, "upstream response timeout");
		break;
	case TIMER_IDLE:
		px_log(PX_LOG_DEBUG, "event=idle_timeout slot=%u",
		    (unsigned)(p - slab));
		send_close(p, &p->client, WS_CLOSE_GOING_AWAY);
		send_close(p, &p->upstream, WS_CLOSE_GOING_AWAY);
		pair_set_state(p, PAIR_CLOSING);
		relay_run(p);
		break;
	case TIMER_CLOSE:
		pair_close(p, "close handshake timeout");
		break;
	case TIMER_LINGER:
		pair_close(p, NULL);
		break;
	default:
		timer_unlink(p);
		break;
	}
}

static void
timers_run(void)
{
	int k;

	for (k = 1; k < TIMER_KINDS; k++)
		while (timer_head[k] != NIL &&
		    slab[timer_head[k]].deadline <= now_ms) {
			px_turn_left = PX_TURN_BYTES;
			timer_fire(&slab[timer_head[k]]);
		}
}

/* ------------------------------------------------------------------ */
/* Accepting clients                                                   */
/* ------------------------------------------------------------------ */

/* The slab is full: answer 503 without a slot, straight away. */
static void
reject_full(int fd)
{
	char buf[512];
	size_t n = hs_error(buf, sizeof(buf), 503, 0);
	ssize_t r;

	/* Drain what already came, so close() sends a FIN, not a reset
	 * that would destroy the answer. */
	while (recv(fd, px_scratch, sizeof(px_scratch), MSG_DONTWAIT) > 0)
		;
	r = send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)r;
	shutdown(fd, SHUT_WR);
	fd_close(fd);
}

static void
accept_run(int li)
{
	struct px_listener *l = &cfg.listen[li];
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pair *p;
	int fd;

	while (!accept_paused) {
		if (fd_limit > 0 && fds_open + 2 > fd_limit) {
			/* A client now would leave no fd for its upstream:
			 * leave it in the listen queue until a pair closes. */
			if (!accept_logged)
				px_log(PX_LOG_WARN, "event=accept_paused"
				    " reason=\"fd limit %llu reached\"",
				    (unsigned long long)fd_limit);
			accept_logged = 1;
			accept_paused = 1;
			accept_retry_at = UINT64_MAX;	/* pair_close() resumes */
			return;
		}
		sl = sizeof(ss);
		fd = accept_socket(l->fd, (struct sockaddr *)&ss, &sl);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Pause instead of spinning on a full fd table:
				 * retried when a pair closes, or soon. */
				if (!accept_logged)
					px_log(PX_LOG_WARN, "event=accept_paused"
					    " error=\"%s\"", strerror(errno));
				accept_logged = 1;
				accept_paused = 1;
				accept_retry_at = now_ms + PX_ACCEPT_RETRY_MS;
			}
			return;
		}
		fds_open++;
		if (accept_logged) {
			px_log(PX_LOG_INFO, "event=accept_resumed");
			accept_logged = 0;
		}
		p = slab_get();
		if (p == NULL) {
			char a[64];

			px_log(PX_LOG_WARN, "event=reject client=%s status=503"
			    " reason=\"no free slot\"", addr_text(
			    (struct sockaddr *)&ss, a, sizeof(a)));
			if (l->tls)
				fd_close(fd);	/* no TLS state to answer with */
			else
				reject_full(fd);
			continue;
		}
#ifndef __linux__
		set_nodelay(fd);	/* Linux: inherited from the listener */
		px_keepalive(fd);
#endif
		peer_set(p, &ss, sl);
		p->client.fd = fd;
		p->listener = (uint8_t)li;
		p->started = now_ms;
		if (ev_add(fd, end_data(p, &p->client)) < 0 || (l->tls &&
		    (p->client.tls = tls_server_new(fd)) == NULL)) {
			fd_close(fd);
			p->client.fd = -1;
			slab_put(p);
			continue;
		}
		/* Registering reports EPOLLIN at once if the request is
		 * already here, so no read is tried before that edge. */
		p->client.writable = 1;
		pair_set_state(p, PAIR_REQUEST);
	}
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */
/* ------------------------------------------------------------------ */

/* One place drives a pair after any event: its state says what to do. */
static void
pair_run(struct pair *p)
{
	switch ((enum pair_state)p->state) {
	case PAIR_REQUEST:
		request_run(p);
		break;
	case PAIR_CONNECT:
		connect_run(p);
		break;
	case PAIR_UPGRADE:
		upgrade_run(p);
		break;
	case PAIR_RESPONSE:
		response_run(p);
		break;
	case PAIR_OPEN:
	case PAIR_CLOSING:
		relay_run(p);
		break;
	case PAIR_REJECT:
		reject_run(p);
		break;
	case PAIR_LINGER:
		linger_run(p);
		break;
	case PAIR_FREE:
		break;
	}
}

static void
dispatch(const struct ev_event *ev)
{
	uint32_t idx, gen;
	struct pair *p;
	struct end *e;

	if (ev->data & DATA_LISTENER) {
		accept_run((int)(ev->data & 0xffff));
		return;
	}
	idx = (uint32_t)((ev->data >> 1) & 0x7fffffffU);
	gen = (uint32_t)(ev->data >> 32) & 0x7fffffffU;
	if (idx >= slab_size)
		return;
	p = &slab[idx];
	if (p->state == PAIR_FREE || (p->gen & 0x7fffffffU) != gen)
		return;		/* stale: the slot was reused */
	e = (ev->data & 1) ? &p->upstream : &p->client;
	if (e->fd < 0)
		return;
	if (ev->flags & EV_READ)
		e->readable = 1;
	if (ev->flags & EV_WRITE)
		e->writable = 1;
	if (ev->flags & EV_HUP)
		e->hup = 1;
	/* A TLS read may have to write (handshake, alerts) and a write may
	 * have to read: any edge lets both directions try again. */
	if (e->tls != NULL)
		e->readable = e->writable = 1;
	pair_turn(p);
}

/* One turn of the loop: one poller batch, then due timers.  The fuzz
 * harness (tests/fuzz/fuzz_pair.c) drives the real code through this. */
static void
loop_once(int max_wait_ms)
{
	static struct ev_event ev[EV_BATCH];
	int i, n, wait = runq_len > 0 ? 0 : timer_next_ms();

	if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms))
		wait = max_wait_ms;
	n = ev_wait(ev, EV_BATCH, wait);
	if (n < 0) {
		/* The poller itself failed: no event can come any more. */
		px_log(PX_LOG_ERROR, "event=fatal error=\"poller: %s\"",
		    strerror(errno));
		exit(71);
	}
	now_ms = clock_ms();
	for (i = 0; i < n; i++)
		dispatch(&ev[i]);
	runq_run();
	timers_run();
	if (accept_paused && accept_retry_at <= now_ms) {
		accept_paused = 0;
		for (i = 0; i < cfg.nlisten; i++)
			accept_run(i);
	}
}

/* ------------------------------------------------------------------ */
/* Start-up                                                            */
/* ------------------------------------------------------------------ */

static void
slab_init(void)
{
	uint32_t i, n = cfg.max_conns + PX_SLAB_SPARE;
	int k;

	slab_size = n;
	slab = calloc(n, sizeof(*slab));
	slab_free = calloc(n, sizeof(*slab_free));
	target_scratch_len = 2 * (cfg.max_header_bytes + 2);
	target_scratch = malloc(target_scratch_len);
	if (slab == NULL || slab_free == NULL || target_scratch == NULL ||
	    pool_init(2 * n) < 0 ||
	    tls_pool_init(n) < 0) {
		fprintf(stderr, "wsproxy: cannot allocate %u pairs\n", n);
		exit(71);
	}
	for (i = 0; i < n; i++) {
		slab[i].client.fd = slab[i].upstream.fd = -1;
		slab[i].timer_prev = slab[i].timer_next = NIL;
		slab[i].run_prev = slab[i].run_next = NIL;
		slab_free[i] = n - 1 - i;
	}
	slab_nfree = n;
	for (k = 0; k < TIMER_KINDS; k++)
		timer_head[k] = timer_tail[k] = NIL;
}

/*
 * Everything between the command line and the loop: timers, the slab
 * and pool, the poller, the fd budget, the listeners, and the start-up
 * log line.  The fuzz harness calls it too.
 */
static void
px_start(void)
{
	char routes[1024], listens[512];
	size_t rl = 0, ll = 0;
	struct rlimit lim;
	int i;

	timer_ms[TIMER_REQUEST] = cfg.request_timeout;
	timer_ms[TIMER_CONNECT] = cfg.connect_timeout;
	timer_ms[TIMER_UPGRADE] = cfg.upgrade_timeout;
	timer_ms[TIMER_IDLE] = cfg.idle_timeout;
	timer_ms[TIMER_CLOSE] = cfg.close_timeout;
	timer_ms[TIMER_LINGER] = PX_LINGER_MS;
	relay_init();
	slab_init();
	now_ms = clock_ms();
	if (ev_init() < 0) {
		fprintf(stderr, "wsproxy: poller: %s\n", strerror(errno));
		exit(71);
	}
	/* fds are handed out lowest first: the poller's is the last one
	 * start-up opened. */
	fds_open = (uint64_t)ev_fd() + 1;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
		fd_limit = (uint64_t)lim.rlim_cur;
	routes[0] = listens[0] = '\0';
	for (i = 0; i < cfg.nlisten; i++) {
		if (ev_add_listener(cfg.listen[i].fd, DATA_LISTENER |
		    (uint64_t)i) < 0) {
			fprintf(stderr, "wsproxy: poller: %s\n", strerror(errno));
			exit(71);
		}
		if (ll < sizeof(listens))
			ll += (size_t)snprintf(listens + ll, sizeof(listens) - ll,
			    "%s%s", i ? "," : "", cfg.listen[i].text);
	}
	for (i = 0; i < cfg.nroute; i++)
		if (rl < sizeof(routes))
			rl += (size_t)snprintf(routes + rl, sizeof(routes) - rl,
			    "%s%s=%s", i ? "," : "", cfg.route[i].prefix_len ?
			    cfg.route[i].prefix : "/", cfg.route[i].uri);
	px_log(PX_LOG_INFO, "event=start version=%s tls=%s listen=%s routes=%s"
	    " max_conns=%u buffer=%zu", WSPROXY_VERSION,
	    tls_built_in() ? "yes" : "no", listens, routes, cfg.max_conns,
	    cfg.buf_size);
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	px_configure(argc, argv);
	px_start();
	for (;;)
		loop_once(-1);
}
