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
#include "admin.h"
#include "dns.h"
#include "health.h"
#include "life.h"
#include "iplimit.h"
#include "pairlog.h"
#include "sock.h"
#include "workers.h"


/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

#define PX_LINGER_MS 1000	/* drain time after an error response */
#define PX_ACCEPT_RETRY_MS 100	/* retry accept() this soon after EMFILE */

#define cfg px_cfg

static uint64_t timer_ms[TIMER_KINDS];	/* from px_cfg at start-up */

enum px_run px_run = RUN_STARTING;

static const char *const state_name[] = {
	"free", "request", "connect", "upgrade", "response", "open",
	"closing", "reject", "linger", "proxy"
};

const char *
pair_state_name(unsigned s)
{
	return s < PAIR_STATES ? state_name[s] : "?";
}

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
#define STEP_LOOK_MS 1000	/* a worker out of accepting looks again */
static int stepped_back;		/* out of accepting (step_back()) */
static int accept_logged;		/* one log line per pause */
static uint64_t accept_retry_at;
static uint64_t trim_at;		/* next look for quiet pool chunks */
/*
 * The fd budget: accept() is not called unless, after it, one fd is left
 * for the new client's upstream, so clients wait in the listen queue
 * instead of being taken in only to get an error.  (Clients still
 * sending their heads do not reserve one: if several finish at once with
 * one fd left, the others get 503.)
 */
static uint64_t fd_limit;		/* RLIMIT_NOFILE; 0: not checked */
static uint64_t fds_open;		/* counted from start-up on */

void
px_fd_opened(void)
{
	fds_open++;
}

void
px_fd_close(int fd)
{
	close(fd);
	fds_open--;
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
	uint64_t first = ping_next(), a = admin_next(), h = health_next();
	uint64_t d = dns_next();
	int k;

	if (workers_supervising()) {	/* no pairs, probes or lookups */
		first = h = d = UINT64_MAX;
		if ((k = workers_next_ms(now_ms)) >= 0)
			first = now_ms + (uint64_t)k;
	}
	if (a < first)
		first = a;
	if (h < first)
		first = h;
	if (d < first)
		first = d;
	for (k = 1; k < TIMER_KINDS; k++)
		if (timer_head[k] != NIL && slab[timer_head[k]].deadline < first)
			first = slab[timer_head[k]].deadline;
	if (accept_paused && accept_retry_at < first)
		first = accept_retry_at;
	if (stepped_back && now_ms + STEP_LOOK_MS < first)
		first = now_ms + STEP_LOOK_MS;
	if ((k = life_next_ms()) >= 0 && now_ms + (uint64_t)k < first)
		first = now_ms + (uint64_t)k;
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

uint32_t
px_slab_size(void)
{
	return slab_size;
}

struct pair *
px_slot(uint32_t i)
{
	return &slab[i];
}

uint64_t
px_now(void)
{
	return now_ms;
}

uint32_t
pair_index(const struct pair *p)
{
	return (uint32_t)(p - slab);
}

const char *
end_error(const struct end *e)
{
	const char *why = e->tls != NULL ? tls_error(e->tls, NULL, 0) : NULL;

	if (why == NULL && e->err != 0)
		why = strerror(e->err);
	return why;
}

void
px_timer_close_at_least(uint64_t ms)
{
	/* Lists stay sorted: a longer duration only appends later
	 * deadlines behind the ones already queued. */
	if (timer_ms[TIMER_CLOSE] < ms)
		timer_ms[TIMER_CLOSE] = ms;
}

int
pair_watch(struct pair *p, struct end *e)
{
	return ev_add(e->fd, end_data(p, e));
}

int
pair_may_connect(void)
{
	return pairs_counted < cfg.max_conns;
}

static struct pair *
slab_get(void)
{
	struct pair *p;

	/* Its two buffers are mapped before the slot is let in, so that
	 * a pair once admitted never waits on memory (wsproxy(1) SMALL
	 * SYSTEMS). */
	if (slab_nfree == 0 || buffers_promise() < 0)
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

	if (p->ip_counted)
		iplimit_give(&p->peer);
	end_reset(&p->client);
	end_reset(&p->upstream);
	memset(p, 0, sizeof(*p));
	p->gen = gen;
	p->timer_prev = p->timer_next = NIL;
	p->run_prev = p->run_next = NIL;
	p->client.fd = p->upstream.fd = -1;
	slab_free[slab_nfree++] = (uint32_t)(p - slab);
	buffers_unpromise();
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
		px_fd_close(e->fd);
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
	pairlog_end(p, why, now_ms);
	timer_unlink(p);
	runq_unlink(p);
	ping_stop(p);
	if (p->counted)
		pairs_counted--;
	pair_member_release(p);
	met_close(p);
	if (px_run == RUN_DRAINING)
		life_pair_closed(p->status == 101, why == NULL);
	end_close(&p->upstream);
	end_close(&p->client);
	flow_release(&p->upstream.in);
	flow_release(&p->client.in);
	output_release(&p->upstream);
	output_release(&p->client);
	slab_put(p);
	/* A slot and two fds are free: accept() may work again. */
	if (accept_paused)
		accept_retry_at = now_ms;
}


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
		[PAIR_PROXY] = TIMER_REQUEST,
	};

	px_log(PX_LOG_DEBUG, "event=state slot=%u from=%s to=%s",
	    (unsigned)(p - slab), state_name[p->state], state_name[s]);
	if (s == PAIR_CONNECT && !p->counted) {
		p->counted = 1;
		pairs_counted++;
	}
	met_state(p, s);
	if (p->state == PAIR_OPEN)
		ping_stop(p);
	/* --request-timeout runs from the accept across the PROXY header
	 * and the request head: the header does not buy a new one. */
	/* In a pool each try has half of --connect-timeout, so that a
	 * blackholed member leaves time for the next (wsproxy(1)
	 * UPSTREAMS). */
	if (p->state != PAIR_PROXY || s != PAIR_REQUEST)
		timer_set(p, s == PAIR_CONNECT &&
		    cfg.route[p->route].nupstream > 1 ?
		    TIMER_TRY : (enum timer_kind)timer_of[s]);
	p->state = (uint8_t)s;
	if (s == PAIR_OPEN)
		ping_start(p);
}

/* health.c: a member probed down with on-down=close closes its open
 * pairs with 1001, at their next message boundary like a drain. */
void
pair_close_member(const struct px_upstream *u)
{
	uint32_t i;

	for (i = 0; i < slab_size; i++) {
		struct pair *p = &slab[i];

		if (p->state != PAIR_FREE && p->member_open &&
		    pair_member(p) == u) {
			if (p->state == PAIR_OPEN)
				relay_drain(p, WS_CLOSE_GOING_AWAY, 0);
		}
	}
}

/* A new try in the same state: its timer starts over. */
void
pair_timer_restart(struct pair *p)
{
	timer_set(p, (enum timer_kind)p->timer);
}

/* ------------------------------------------------------------------ */
/* Timers firing                                                       */
/* ------------------------------------------------------------------ */

static void
timer_fire(struct pair *p)
{
	switch ((enum timer_kind)p->timer) {
	case TIMER_REQUEST:
		if (p->state == PAIR_PROXY) {
			timer_unlink(p);
			pair_close(p, "PROXY header timeout");
		} else if (p->client.in.end == 0) {
			timer_unlink(p);
			pair_close(p, "request timeout, nothing received");
		} else
			pair_reject(p, 408, 0, "request timeout");
		break;
	case TIMER_CONNECT:
	case TIMER_TRY:
		connect_timed_out(p);
		break;
	case TIMER_UPGRADE:
		met_upstream_error(p, MET_ERR_TIMEOUT);
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

/* Watch listener i, shared with the other workers if there are any. */
static int
listener_watch(int i)
{
	uint64_t data = DATA_LISTENER | (uint64_t)i;

	return workers_worker() ? ev_add_shared_listener(cfg.listen[i].fd,
	    data) : ev_add_listener(cfg.listen[i].fd, data);
}

/*
 * --workers: a worker whose room (free slots beyond the spare ones, the
 * pairs it may still take) is below an eighth of --max-conns stops
 * watching the listeners while another worker has at least twice that,
 * so the kernel wakes that one for new clients; it watches them again
 * once it has that much room itself, or once the others have less than
 * it (looked at every turn, and every STEP_LOOK_MS while it is out).
 * When all are low, each takes what it is given and answers 503 when
 * full, as one process does (wsproxy(1) WORKERS).  Connections already
 * queued when a worker steps back arrived while it was busy, so the
 * kernel woke another worker for them too.
 */
static int64_t
room(void)
{
	return (int64_t)slab_nfree - PX_SLAB_SPARE;
}

static uint32_t
room_reserve(void)
{
	return cfg.max_conns / 8 > 0 ? cfg.max_conns / 8 : 1;
}

static int
step_back(void)
{
	int i;

	if (stepped_back || !workers_worker() || px_run != RUN_ACCEPTING ||
	    room() >= room_reserve() || !workers_others_free(PX_SLAB_SPARE +
	    2 * (uint64_t)room_reserve() - 1))
		return 0;
	for (i = 0; i < cfg.nlisten; i++)
		if (cfg.listen[i].fd >= 0)
			(void)ev_del(cfg.listen[i].fd);
	stepped_back = 1;
	px_log(PX_LOG_DEBUG, "event=accept_step_back room=%lld",
	    (long long)room());
	return 1;
}

static void
step_in(void)
{
	int i;

	if (px_run != RUN_ACCEPTING) {
		stepped_back = 0;	/* the listeners are closed */
		return;
	}
	if (room() < 2 * (int64_t)room_reserve() &&
	    workers_others_free((uint64_t)slab_nfree))
		return;
	stepped_back = 0;
	for (i = 0; i < cfg.nlisten; i++)
		if (cfg.listen[i].fd >= 0 && listener_watch(i) < 0)
			px_log(PX_LOG_ERROR, "event=accept_failed"
			    " error=\"poller: %s\"", strerror(errno));
	px_log(PX_LOG_DEBUG, "event=accept_step_in room=%lld",
	    (long long)room());
}

/* The slab is full, or the client's address has --max-conns-per-ip:
 * answer 503 without a slot, straight away. */
static void
reject_full(int fd)
{
	char buf[512];

	sock_answer(fd, buf, hs_error(buf, sizeof(buf), 503, 0, 0));
	px_fd_close(fd);
}

static void
accept_run(int li)
{
	struct px_listener *l = &cfg.listen[li];
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pair *p;
	int fd;

	while (!accept_paused && l->fd >= 0 && !step_back()) {
		if (fd_limit > 0 && fds_open + 2 > fd_limit) {
			/* A client now would leave no fd for its upstream:
			 * leave it in the listen queue until a pair closes. */
			if (!accept_logged)
				px_log(PX_LOG_WARN, "event=accept_paused"
				    " error=\"fd limit %llu reached\"",
				    (unsigned long long)fd_limit);
			accept_logged = 1;
			accept_paused = 1;
			px_count.accept_paused++;
			accept_retry_at = UINT64_MAX;	/* pair_close() resumes */
			return;
		}
		sl = sizeof(ss);
		fd = sock_accept(l->fd, (struct sockaddr *)&ss, &sl);
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
				px_count.accept_paused++;
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
			    " error=\"%s\"", sock_addr_text(
			    (struct sockaddr *)&ss, a, sizeof(a)),
			    slab_nfree == 0 ? "no free slot" :
			    "no memory for buffers");
			if (l->tls)
				px_fd_close(fd);	/* no TLS state to answer with */
			else
				reject_full(fd);
			continue;
		}
#ifndef __linux__
		if (ss.ss_family != AF_UNIX) {	/* Linux: inherited */
			sock_nodelay(fd);
			sock_keepalive(fd, cfg.tcp_keepalive);
		}
#endif
		sock_peer(&p->peer, &ss, sl);
		if (l->proxy && !pp_cidr_match(cfg.trust, cfg.ntrust,
		    (const struct sockaddr *)&p->peer)) {
			char a[64];

			/* Only a balancer may say who the client is; anyone
			 * else is closed without a word, as HAProxy does. */
			px_log(PX_LOG_WARN, "event=reject client=%s status=0"
			    " error=\"PROXY peer not in --trust-proxy\"",
			    sock_addr_text((struct sockaddr *)&ss, a,
			    sizeof(a)));
			px_fd_close(fd);
			slab_put(p);
			continue;
		}
		/* A proxy: listener counts the client its header names
		 * (proxy_run()), not the balancer. */
		if (!l->proxy && iplimit_take(&p->peer) < 0) {
			char a[64];

			px_log(PX_LOG_WARN, "event=reject client=%s status=503"
			    " error=\"over --max-conns-per-ip\"",
			    sock_addr_text((struct sockaddr *)&ss, a,
			    sizeof(a)));
			if (l->tls)
				px_fd_close(fd);
			else
				reject_full(fd);
			slab_put(p);
			continue;
		}
		p->ip_counted = !l->proxy;
		p->client.fd = fd;
		p->listener = (uint8_t)li;
		p->started = now_ms;
		if (pair_watch(p, &p->client) < 0 || (l->tls && !l->proxy &&
		    (p->client.tls = tls_server_new(fd)) == NULL)) {
			char a[64];

			/* Without TLS state there is no way to answer. */
			px_log(PX_LOG_WARN, "event=reject client=%s status=0"
			    " error=\"%s\"", sock_addr_text(
			    (struct sockaddr *)&ss, a, sizeof(a)),
			    errno == ENOMEM ? "no memory for TLS state" :
			    strerror(errno));
			px_fd_close(fd);
			p->client.fd = -1;
			slab_put(p);
			continue;
		}
		/* Registering reports EPOLLIN at once if the request is
		 * already here, so no read is tried before that edge. */
		p->client.writable = 1;
		pair_set_state(p, l->proxy ? PAIR_PROXY : PAIR_REQUEST);
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
	case PAIR_PROXY:
		proxy_run(p);
		break;
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
	case PAIR_STATES:	/* not a state: the count of them */
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
		switch (ev->data & 0xffff) {
		case LIFE_TAG_SIGNAL:
			life_signals();
			break;
		case LIFE_TAG_RESTART:
			life_restart_ready();
			break;
		case ADMIN_TAG_LISTENER:
			admin_accept();
			break;
		default:
			if ((ev->data & 0xff00) == HEALTH_TAG)
				health_event((unsigned)(ev->data & 0xff),
				    ev->flags, now_ms);
			else if ((ev->data & 0xff00) == ADMIN_TAG_CONN)
				admin_event((unsigned)(ev->data & 0xff));
			else if ((ev->data & 0xff00) == DNS_TAG)
				dns_event((unsigned)(ev->data & 0xff));
			else
				accept_run((int)(ev->data & 0xffff));
			break;
		}
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
	/* While pool chunks are mapped, wake once a second to see whether
	 * they have been quiet long enough to give back. */
	if ((wait < 0 || wait > 1000) &&
	    (buffers_bytes() > 0 || tls_pool_bytes() > 0))
		wait = 1000;
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
	if (workers_supervising()) {
		admin_tick();
		workers_tick(now_ms);
		life_tick();
		return;
	}
	runq_run();
	timers_run();
	ping_run();
	admin_tick();
	health_tick(now_ms);
	dns_tick();
	if (accept_paused && accept_retry_at <= now_ms) {
		accept_paused = 0;
		for (i = 0; i < cfg.nlisten; i++)
			accept_run(i);
	}
	if (now_ms >= trim_at) {
		buffers_trim(now_ms);
		tls_pool_trim(now_ms);
		trim_at = now_ms + 1000;
	}
	if (workers_worker()) {
		workers_publish();
		if (stepped_back)
			step_in();
	}
	life_tick();
}

/* ------------------------------------------------------------------ */
/* Start-up                                                            */
/* ------------------------------------------------------------------ */

static void
slab_init(void)
{
	uint32_t i, n = cfg.max_conns + PX_SLAB_SPARE;
	int k;

	for (k = 0; k < TIMER_KINDS; k++)
		timer_head[k] = timer_tail[k] = NIL;
	if (workers_supervising())	/* its workers hold the pairs */
		return;
	slab_size = n;
	slab = calloc(n, sizeof(*slab));
	slab_free = calloc(n, sizeof(*slab_free));
	if (slab == NULL || slab_free == NULL || upgrade_init() < 0 ||
	    pairlog_init(n) < 0 || metrics_init(1) < 0 || iplimit_init(n) < 0 ||
	    buffers_init(2 * n) < 0 ||
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
	px_count.pairs[PAIR_FREE] = n;
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
	timer_ms[TIMER_TRY] = cfg.connect_timeout / 2;
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
		if (!workers_supervising() && listener_watch(i) < 0) {
			fprintf(stderr, "wsproxy: poller: %s\n", strerror(errno));
			exit(71);
		}
		if (ll < sizeof(listens))
			ll += (size_t)snprintf(listens + ll, sizeof(listens) - ll,
			    "%s%s", i ? "," : "", cfg.listen[i].text);
	}
	for (i = 0; i < cfg.nroute; i++) {
		int j;

		for (j = 0; j < cfg.route[i].nupstream && rl < sizeof(routes);
		    j++)
			rl += (size_t)snprintf(routes + rl, sizeof(routes) - rl,
			    "%s%s%s%s", j ? "|" : i ? "," : "",
			    j ? "" : cfg.route[i].label, j ? "" : "=",
			    cfg.route[i].upstream[j].uri);
	}
	if (!workers_worker())
		px_log(PX_LOG_INFO, "event=start version=%s tls=%s listen=%s"
		    " routes=%s max_conns=%u buffer=%zu", WSPROXY_VERSION,
		    tls_built_in() ? "yes" : "no", listens, routes,
		    cfg.max_conns, cfg.buf_size);
	if (admin_init(DATA_LISTENER | ADMIN_TAG_LISTENER,
	    DATA_LISTENER | ADMIN_TAG_CONN) < 0) {
		fprintf(stderr, "wsproxy: --admin: %s\n", strerror(errno));
		exit(71);
	}
	if (!workers_supervising()) {
		health_init(DATA_LISTENER | HEALTH_TAG, now_ms);
		dns_start(DATA_LISTENER | DNS_TAG);
	}
	px_run = RUN_ACCEPTING;
	life_start(DATA_LISTENER | LIFE_TAG_SIGNAL);
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	px_configure(argc, argv);
#ifndef WSPROXY_NO_WORKERS
	if (cfg.workers > 1 && workers_init() < 0) {
		fprintf(stderr, "wsproxy: --workers: %s\n", strerror(errno));
		exit(71);
	}
#endif
	px_start();
	if (workers_supervising())
		workers_start();
	while (px_run != RUN_STOPPED)
		loop_once(-1);
	return 0;
}

/*
 * A worker, just forked by its supervisor (workers.c): the supervisor's
 * poller, signal source, admin sockets and restart pipe are let go, then
 * the same start-up and loop as a single process, with the listeners
 * shared (wsproxy(1) WORKERS).
 */
_Noreturn void
px_worker(unsigned index)
{
	ev_forget();
	admin_forget();
	life_forget();
	listen_handed_over();	/* unix socket files: the supervisor's */
	metrics_use(index + 1);
	px_log_worker = (int)index;
	(void)unsetenv("NOTIFY_SOCKET");	/* systemd hears the supervisor */
	px_run = RUN_STARTING;
	px_start();
	while (px_run != RUN_STOPPED)
		loop_once(-1);
	exit(0);
}
