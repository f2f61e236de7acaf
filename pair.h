/*
 * pair.h - a connection pair: its ends, their flows and its states;
 * shared by the loop (proxy.c), the states up to the 101 (upgrade.c),
 * the relay (relay.c) and the buffers (flow.c) only.
 */
#ifndef WSPROXY_PAIR_H
#define WSPROXY_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "config.h"
#include "io.h"
#include "metrics.h"
#include "ws.h"

/*
 * Timers: one FIFO list per kind of deadline.  All entries of a list
 * share one duration, so appending keeps each list sorted and the loop
 * only ever looks at list heads: O(1) per event, no scan of all pairs.
 */
enum timer_kind {
	TIMER_NONE,
	TIMER_REQUEST,		/* --request-timeout */
	TIMER_CONNECT,		/* --connect-timeout */
	TIMER_TRY,		/* half of it: one try in a pool */
	TIMER_UPGRADE,		/* --upgrade-timeout */
	TIMER_IDLE,		/* --idle-timeout, when not 0 */
	TIMER_CLOSE,		/* --close-timeout: close handshake */
	TIMER_LINGER,		/* draining after an error response */
	TIMER_KINDS
};

/*
 * A pair's life (wsproxy(1) HANDSHAKE, RELAYING): pair_set_state() is
 * the one place it moves, and sets the state's timer.
 *
 * state     timer              valid besides gen/peer/listener/started
 *                              buffers it may hold (2 at most)
 * --------  -----------------  -----------------------------------------
 * FREE      -                  nothing; on the slab's free stack
 *                              none
 * PROXY     --request-timeout  client fd, no tls yet: a proxy: listener's
 *                              PROXY header is peeked at, then read;
 *                              its timer runs on into REQUEST
 *                              none
 * REQUEST   --request-timeout  client fd/tls; client.in holds the head
 *                              so far, client.in.scan the end-finder
 *                              client.in
 * CONNECT   --connect-timeout  route, addr (the one being tried),
 *                              head_len, upstream fd (and tls: its
 *                              handshake is part of this state)
 *                              client.in (the head), upstream.out (the
 *                              upgrade request)
 * UPGRADE   --upgrade-timeout  request written, then upstream.in is
 *                              the answer head; interim
 *                              client.in, then upstream.out or
 *                              upstream.in
 * RESPONSE  --upgrade-timeout  status, body_left, why, failed_in;
 *                              upstream.in: the answer on its way
 *                              client.in, upstream.in
 * OPEN      --idle-timeout     status 101; client.in/upstream.in are
 *                              the two directions, each in.dir
 *                              DIR_RELAY; in.ws the message rules
 *                              client.in, upstream.in (while bytes are
 *                              in flight)
 * CLOSING   --close-timeout    as OPEN; some in.dir past DIR_RELAY,
 *                              closed_by and close_code set
 *                              as OPEN
 * REJECT    linger (1000 ms)   status, why, failed_in; client.out is
 *                              wsproxy's answer; upstream closed
 *                              client.out
 * LINGER    linger (1000 ms)   status; the client is read and dropped
 *                              until it closes
 *                              none
 */
enum pair_state {
	PAIR_FREE,
	PAIR_REQUEST,		/* reading the client's request head */
	PAIR_CONNECT,		/* TCP connect to the upstream in progress */
	PAIR_UPGRADE,		/* upgrade request out, response head in */
	PAIR_RESPONSE,		/* passing a non-101 upstream answer on */
	PAIR_OPEN,		/* relaying frames both ways */
	PAIR_CLOSING,		/* a close frame is in flight */
	PAIR_REJECT,		/* writing our own error response */
	PAIR_LINGER,		/* response sent; draining until EOF */
	PAIR_PROXY,		/* reading a PROXY header (proxy: listener);
				 * then PAIR_REQUEST, same timer.  Last, so
				 * the others keep their numbers */
	PAIR_STATES
};

/*
 * Where one direction of an open pair is (wsproxy(1) RELAYING): what its
 * destination still gets.  One per flow, that is per source end; every
 * change is one assignment to flow.dir.
 *
 *   DIR_RELAY ------ send_close() in a streamed frame ---> DIR_CLOSE_NEXT
 *      |\ \                                                  | frame ends
 *      | \ `-- send_close() between frames --> DIR_CLOSE_OWN <'
 *      |  `-- relay_drain() -> DIR_CLOSE_MSG -- message ends --^
 *      |                                          | our close written
 *      |-- the source's close frame --> DIR_LAST --+-> DIR_DONE -> DIR_SHUT
 *      `-- the source dies in a streamed frame -'   (FIN when the
 *                                                    destination's bytes
 *   any -- the destination is gone --> DIR_NOWHERE   are being dropped)
 */
enum relay_dir {
	DIR_RELAY,		/* frames pass as they arrive */
	DIR_CLOSE_NEXT,		/* wsproxy's close waits for the end of the
				 * frame being streamed */
	DIR_CLOSE_MSG,		/* it waits for the end of the message whose
				 * bytes came before close_mark (a drain) */
	DIR_CLOSE_OWN,		/* sealed: the ready bytes, then wsproxy's
				 * close frame */
	DIR_LAST,		/* sealed: the ready bytes are the last, the
				 * source's close frame or what came of a
				 * frame it died in */
	/* From here on the direction is over (relay_closes_out() counts
	 * on this order). */
	DIR_DONE,		/* the destination has had its last byte */
	DIR_SHUT,		/* ... and a FIN after it */
	DIR_NOWHERE		/* the destination is gone */
};

/* How an end is read. */
enum read_state {
	READ_FRAMES,		/* frames are parsed into its flow */
	READ_CLOSED,		/* its close frame was parsed: what follows is
				 * read and dropped */
	READ_DROP,		/* read and dropped unparsed: it broke the
				 * rules, or what it sends can go nowhere */
	READ_EOF		/* end of stream or an error: no more reads */
};

/* Who ended a pair first, for the log. */
enum closed_by {
	CLOSED_BY_NONE,
	CLOSED_BY_CLIENT,
	CLOSED_BY_UPSTREAM,
	CLOSED_BY_PROXY
};

/*
 * Bytes read from one end on their way to the other.  Offsets into buf:
 * start <= ready <= scan <= end.  [start, ready) may be written now;
 * [ready, scan) is parsed but held (a frame that fits the buffer waits
 * until it is complete, or everything after a seal); [scan, end) is not
 * parsed yet.
 */
struct flow {
	uint8_t		*buf;		/* pool buffer while bytes are in flight */
	uint32_t	 start;
	uint32_t	 ready;
	uint32_t	 scan;
	uint32_t	 end;
	uint64_t	 frame_left;	/* payload still to come of a streamed frame */
	uint64_t	 held;		/* size of the checked frame waiting at scan */
	struct ws_stream ws;
	uint8_t		 dir;		/* enum relay_dir */
	uint8_t		 close_len;	/* DIR_CLOSE_*: our close frame ... */
	uint8_t		 close_off;	/* ... and how much of it is written */
	uint8_t		 close[8];
	uint64_t	 close_mark;	/* DIR_CLOSE_MSG: 'bytes' when queued */
	uint64_t	 bytes;		/* frame bytes read from the source */
	uint64_t	 messages;	/* data messages (counted at their last
					 * frame's header) */
	uint8_t		 ping_len;	/* wsproxy's own ping to the destination,
					 * put between frames (ping.c) ... */
	uint8_t		 ping_off;	/* ... and how much of it is written */
	uint8_t		 ping[14];
};

/*
 * Bytes wsproxy itself writes to an end: the upgrade request to the
 * upstream, its own HTTP answers to the client.  A pool buffer while
 * they are in flight; [start, end) is still to be written.
 */
struct output {
	uint8_t		*buf;
	uint32_t	 start;
	uint32_t	 end;
};

struct end {
	int		 fd;
	struct tls_conn	*tls;
	uint8_t		 readable;	/* edge seen, not yet read to EAGAIN */
	uint8_t		 writable;
	uint8_t		 hup;		/* the poller reported a hang-up */
	uint8_t		 dead;		/* error, or done with: never touched again */
	uint8_t		 rd;		/* enum read_state */
	uint8_t		 err;		/* errno of its failed read or write */
	uint8_t		 leg_list;	/* enum leg_list (ping.c) */
	uint32_t	 leg_prev;	/* its list, by leg index (slot * 2 + */
	uint32_t	 leg_next;	/* 1 for the upstream) */
	uint64_t	 leg_deadline;	/* ms */
	struct flow	 in;		/* bytes read from this end */
	struct output	 out;		/* bytes wsproxy writes to this end */
};

struct pair {
	struct end	 client;
	struct end	 upstream;
	uint32_t	 gen;		/* bumped on reuse: stale events are dropped */
	uint32_t	 timer_prev;	/* slot indices; UINT32_MAX ends a list */
	uint32_t	 timer_next;
	uint32_t	 run_prev;	/* the run queue, while 'queued' */
	uint32_t	 run_next;
	uint8_t		 queued;	/* its turn ran out with work left */
	uint8_t		 timer;		/* enum timer_kind */
	uint8_t		 state;		/* enum pair_state */
	uint8_t		 route;
	uint8_t		 addr;		/* which upstream address is being tried */
	uint8_t		 member;	/* which member of the route's pool */
	uint8_t		 member_open;	/* counted in that member's open pairs */
	uint16_t	 tried;		/* pool members tried, bit by index */
	uint8_t		 listener;
	uint8_t		 closed_by;	/* enum closed_by */
	uint8_t		 request_sent;	/* PAIR_UPGRADE: reading the response */
	uint8_t		 interim;	/* PAIR_UPGRADE: 1xx answers skipped */
	uint8_t		 counted;	/* counts against --max-conns */
	uint8_t		 failed_in;	/* state when the pair was rejected */
	uint8_t		 routed;	/* the request matched a route */
	uint8_t		 hs_counted;	/* in wsproxy_handshakes_total */
	uint8_t		 why_side;	/* 1: 'why' concerns the client, 2: the
					 * upstream (the log's side=) */
	uint8_t		 ip_counted;	/* counts against --max-conns-per-ip */
	uint16_t	 status;	/* HTTP status answered, 101 when open */
	uint16_t	 close_code;	/* first close code seen */
	uint32_t	 head_len;	/* client head length, kept until its 101 */
	uint64_t	 deadline;	/* ms, for the current timer */
	uint64_t	 started;	/* ms */
	uint64_t	 body_left;	/* PAIR_RESPONSE: bytes still to pass on */
	uint64_t	 mark_us;	/* when CONNECT or UPGRADE began (metrics) */
	const char	*why;		/* reason of a rejection, or of an open
					 * pair's abrupt end, for the log */
	struct sockaddr_in6 peer;	/* client address: a sockaddr_in for IPv4
					 * (v4-mapped ones unmapped, sock_peer()),
					 * the family alone for AF_UNIX */
};

/* Is the flow sealed: nothing past 'ready' is ever written? */
static inline int
flow_sealed(const struct flow *f)
{
	return f->dir != DIR_RELAY && f->dir != DIR_CLOSE_NEXT &&
	    f->dir != DIR_CLOSE_MSG;
}

/* The ends of a pair, and their I/O through the transport seam. */
/* The pool member the pair is trying, or holds (wsproxy(1) UPSTREAMS). */
static inline struct px_upstream *
pair_member(const struct pair *p)
{
	return &px_cfg.route[p->route].upstream[p->member];
}

static inline struct end *
peer_of(struct pair *p, const struct end *e)
{
	return e == &p->client ? &p->upstream : &p->client;
}

static inline const char *
side_name(const struct pair *p, const struct end *e)
{
	return e == &p->client ? "client" : "upstream";
}

static inline ssize_t
end_read(struct end *e, void *buf, size_t len)
{
	return io_read(e->fd, e->tls, buf, len);
}

static inline ssize_t
end_write(struct end *e, const void *buf, size_t len)
{
	return io_write(e->fd, e->tls, buf, len);
}

/* ------------------------------------------------------------------ */
/* flow.c: the buffer pool, flows and outputs                          */
/* ------------------------------------------------------------------ */

extern uint8_t px_scratch[64 * 1024];	/* sink for bytes that are dropped */

/* Ready a pool of at most n buffers of px_cfg.buf_size, mapping none
 * yet (wsproxy(1) SMALL SYSTEMS). */
int buffers_init(uint32_t n);

/* Promise a slot its two buffers, mapping more if needed: 0, or -1 when
 * they cannot be mapped (the slot is then refused).  Withdrawn when the
 * slot is freed. */
int buffers_promise(void);
void buffers_unpromise(void);

/* Unmap buffer chunks unused for a while (about once a second). */
void buffers_trim(uint64_t now_ms);

/* Address space the buffers hold now. */
uint64_t buffers_bytes(void);

/* Buffers handed out now. */
uint32_t buffers_in_use(void);

/* Take a pool buffer for f if it has none: 0, or -1 if the pool is dry. */
int flow_buf(struct flow *f);

/* Give f's buffer back to the pool and reset its offsets. */
void flow_release(struct flow *f);

/* Keep errno as e's error (the first one counts), for end_error(). */
void end_errno(struct end *e);

/* flow_fill() results besides bytes read and PX_IO_* */
#define FILL_FULL (-4)		/* the flow already holds limit bytes */
#define FILL_NOBUF (-5)		/* the pool is dry */

/*
 * Read what e has into its flow e->in, until the flow holds limit
 * bytes: the one read helper of every state that reads heads or frames,
 * so the rule of when a read has drained the socket lives here once.
 * Returns bytes read (> 0), PX_IO_AGAIN (nothing now: not readable,
 * would block, or p's turn is over and it is queued), FILL_FULL,
 * FILL_NOBUF, PX_IO_CLOSED or PX_IO_ERROR.  An empty flow gives its
 * buffer back.
 */
ssize_t flow_fill(struct pair *p, struct end *e, size_t limit);

/* Read what e sends and drop it: > 0, PX_IO_AGAIN as above, or the end. */
ssize_t flow_drop(struct pair *p, struct end *e);

/*
 * Write buf[0..len) to e: bytes written, or 0 when e cannot take more
 * now (e->writable is cleared) or failed (e->dead is set).
 */
size_t end_send(struct end *e, const void *buf, size_t len);

/* Write f's ready bytes [start, ready) to dst: 1 on progress.  A flow
 * with nothing left gives its buffer back; dst->dead on an error. */
int flow_send(struct flow *f, struct end *dst);

/* A pool buffer for e's output (cleared), or NULL if the pool is dry. */
uint8_t *output_buf(struct end *e);

/* Write e's output: 1 when all is out (the buffer goes back), 0 when
 * e cannot take more now, -1 when e failed. */
int output_write(struct end *e);

/* Give e's output buffer back, written or not. */
void output_release(struct end *e);

/* ------------------------------------------------------------------ */
/* proxy.c: the slab, its states, the loop                             */
/* ------------------------------------------------------------------ */

/*
 * Whether the loop runs, and what it does: main() loops while px_run is
 * not RUN_STOPPED.
 */
enum px_run {
	RUN_STARTING,		/* before the listeners are watched */
	RUN_ACCEPTING,		/* serving */
	RUN_DRAINING,		/* not accepting; pairs finish */
	RUN_STOPPED		/* the loop ends */
};
extern enum px_run px_run;


/* An fd was opened (sock_new), or is closed: the accept budget. */
void px_fd_opened(void);
void px_fd_close(int fd);

/* The slab, for the lifecycle's walks over every pair. */
uint32_t px_slab_size(void);
struct pair *px_slot(uint32_t i);

/* The loop's clock (ms, monotonic), as of this turn. */
uint64_t px_now(void);

/* Close handshakes that begin from now on may take ms (a drain waits
 * for them up to its deadline, not --close-timeout). */
void px_timer_close_at_least(uint64_t ms);

/* Register an end's fd with the poller for p: 0, or -1. */
int pair_watch(struct pair *p, struct end *e);

/* May one more pair connect to an upstream (--max-conns)? */
int pair_may_connect(void);

/* Close an end's socket (its flow stays for what it still holds). */
void end_close(struct end *e);

/* The one way a pair ends: log once, close both ends, free the slot.
 * 'why' is NULL for a clean close handshake. */
void pair_close(struct pair *p, const char *why);

/* The one place a pair changes state (and timer). */
void pair_set_state(struct pair *p, enum pair_state s);

/* Bytes moved: restart the idle timer (cheap when it is off). */
void pair_touch(struct pair *p);

/*
 * Fairness (wsproxy(1) LIMITS): in one turn, the run after an event or
 * from the run queue, a pair reads at most PX_TURN_BYTES.  A pair that
 * has more to do calls pair_yield() and runs again after every other
 * pair that was ready, so one flooding pair cannot hold the loop.
 */
#ifndef PX_TURN_BYTES
#define PX_TURN_BYTES (128 * 1024)
#endif

/* Bytes the running pair may still read in this turn. */
extern size_t px_turn_left;

/* Take n bytes of the turn (reads that made progress). */
static inline void
turn_spend(size_t n)
{
	px_turn_left = n >= px_turn_left ? 0 : px_turn_left - n;
}

/* The turn is spent and p can still read: run it again later. */
void pair_yield(struct pair *p);

/* Before a read: is the turn over?  Then p is queued for another. */
static inline int
turn_over(struct pair *p)
{
	if (px_turn_left > 0)
		return 0;
	pair_yield(p);
	return 1;
}

/* "open" for PAIR_OPEN, and so on (the log's names). */
const char *pair_state_name(unsigned s);

/* The slot index of p (the log's and the ping token's). */
uint32_t pair_index(const struct pair *p);

/* What went wrong with e, for error=: the TLS reason, else the system
 * error of its failed read or write; NULL if neither. */
const char *end_error(const struct end *e);

/* ------------------------------------------------------------------ */
/* upgrade.c: the states up to PAIR_OPEN                               */
/* ------------------------------------------------------------------ */

/* Start-up: the scratch a request's target is normalised into. */
int upgrade_init(void);

/* One function per state: run after an event, they do what the state
 * can do now and move the pair on. */
void request_run(struct pair *p);	/* PAIR_REQUEST */
void connect_run(struct pair *p);	/* PAIR_CONNECT */
/* A try's time is up: the next pool member, or 504 (wsproxy(1) UPSTREAMS). */
void connect_timed_out(struct pair *p);
/* Close the open pairs of pool member u with 1001 (on-down=close). */
void pair_close_member(const struct px_upstream *u);
/* A new try in the same state: the state's timer starts over. */
void pair_timer_restart(struct pair *p);
/* The pair no longer counts in its member's open pairs. */
void pair_member_release(struct pair *p);
void upgrade_run(struct pair *p);	/* PAIR_UPGRADE */
void response_run(struct pair *p);	/* PAIR_RESPONSE */
void reject_run(struct pair *p);	/* PAIR_REJECT */
void linger_run(struct pair *p);	/* PAIR_LINGER */

/* Answer the client with wsproxy's own status and close (wsproxy(1)
 * HANDSHAKE); version: 426 with Sec-WebSocket-Version. */
void pair_reject(struct pair *p, unsigned status, int version,
    const char *why);

/* The same with a Retry-After (seconds, 0: none), as a drain's 503. */
void pair_answer(struct pair *p, unsigned status, int version,
    unsigned retry_after, const char *why);

/* ------------------------------------------------------------------ */
/* ppconn.c: the PROXY protocol on a pair's connections                */
/* ------------------------------------------------------------------ */

/* PAIR_PROXY: read the PROXY header, then p->peer is the client it
 * names and the pair goes on to PAIR_REQUEST. */
void proxy_run(struct pair *p);

/* Is p's client (after any PROXY header) inside --trust-proxy?  Then
 * its X-Forwarded-For and Forwarded are kept and added to. */
int pair_trusted(const struct pair *p);

/* The upstream is connected and its route has send-proxy: write the v2
 * header on the socket, before TLS or the upgrade request.  0, or -1
 * when the pair has been answered (a 502). */
int proxy_send(struct pair *p);

/* ------------------------------------------------------------------ */
/* relay.c: frames between the open ends                               */
/* ------------------------------------------------------------------ */

/* Seed the generator of the mask keys wsproxy's own frames use. */
void relay_init(void);

/* Walk the frames read from 'from', moving 'ready'; -1 after a protocol
 * error was handled (the pair is then closing). */
int flow_scan(struct pair *p, struct end *from);

/* Queue a close frame with code for dst, put between frames. */
void send_close(struct pair *p, struct end *dst, unsigned code);

/*
 * Drain (wsproxy(1) SIGNALS): close code to both ends, each at the end
 * of the message in flight toward it, so that no message whose first
 * byte wsproxy has read is cut.  now: at the next frame boundary
 * instead (the drain's deadline has passed).
 */
void relay_drain(struct pair *p, unsigned code, int now);

/* Has each end had its last byte from wsproxy (our close, a relayed
 * one, or nothing because it is gone)? */
int relay_closes_out(const struct pair *p);

/* Move bytes both ways until nothing more can move; ends the pair when
 * both sides are done. */
void relay_run(struct pair *p);

/* 64 bits from the generator of the mask keys (not cryptographic). */
uint64_t relay_random(void);

/* Leg e did not answer wsproxy's ping: 1001 to the live side, e is
 * closed, the log says error="ping timeout" side=... */
void relay_leg_dead(struct pair *p, struct end *e);

/* ------------------------------------------------------------------ */
/* ping.c: wsproxy's own pings (wsproxy(1) PINGS)                      */
/* ------------------------------------------------------------------ */

/*
 * Which list a leg (an end of an open pair) is on.  Both lists are FIFO
 * with one duration each (--ping-interval, --ping-timeout), like the
 * pair timers, so only their heads are ever looked at.
 */
enum leg_list {
	LEG_NONE,
	LEG_QUIET,		/* heard from; pinged when quiet for interval */
	LEG_PINGED		/* pinged; dead if silent until the timeout */
};

/* p is open: both legs start their quiet time (nothing if pings are off). */
void ping_start(struct pair *p);

/* p is no longer open: its legs leave the lists. */
void ping_stop(struct pair *p);

/* Bytes came from e: it is alive. */
void ping_heard(struct pair *p, struct end *e);

/* The earliest deadline of the lists (ms), UINT64_MAX if none. */
uint64_t ping_next(void);

/* Ping the legs that are due, end the ones that did not answer. */
void ping_run(void);

/* Is the pong frame w at f->buf + f->scan the answer to wsproxy's own
 * ping to its sender?  Then it is not forwarded. */
int ping_own_pong(const struct pair *p, const struct flow *f,
    const struct ws_frame *w);

/* Bytes were written to leg e while wsproxy's ping to it waits for the
 * end of a frame: e's ping timeout starts again (a leg that takes bytes
 * is alive; one that takes none times out). */
void ping_waiting(struct pair *p, struct end *e);

/* Write the ping waiting in f (toward dst), between frames only: 1 on
 * progress.  Returns with f->ping_off == 0 when nothing is half-way. */
int ping_write(struct flow *f, struct end *dst);

#endif /* WSPROXY_PAIR_H */
