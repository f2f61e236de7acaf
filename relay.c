/*
 * relay.c - moving frames between the two ends of an open pair
 * (wsproxy(1) RELAYING).
 *
 * Bytes read from one end live in that end's flow until written to the
 * other; flow_scan() walks them in place, parsing each frame header as
 * it arrives and checking it (ws.c), and moves 'ready' as far as the
 * writer may go: to the end of the last complete frame, or as far as
 * bytes have come when a frame is too large to hold.  Payloads are never
 * copied or re-masked.  Frames wsproxy sends itself (closes) are queued
 * with send_close() and written only between frames.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pair.h"
#include "ws.h"

/* ------------------------------------------------------------------ */
/* Writing a flow to its destination                                   */
/* ------------------------------------------------------------------ */

/*
 * Write f's ready bytes to dst, then our close when the direction has
 * one; 1 if anything was written.  Moves the direction on to DIR_DONE
 * once dst has its last byte.
 */
static int
flow_write(struct pair *p, struct flow *f, struct end *dst)
{
	int progress = 0;
	size_t n;

	/* A ping of ours half-way out goes first: nothing may cut into it. */
	if (f->ping_off > 0 && (progress = ping_write(f, dst),
	    f->ping_off > 0))
		return progress;
	if (f->buf != NULL)
		progress |= flow_send(f, dst);
	if (f->ping_len != 0) {
		/* dst took bytes while our ping waits for the frame's end:
		 * it is alive, its timeout counts from the ping's write. */
		if (progress)
			ping_waiting(p, dst);
		progress |= ping_write(f, dst);
	}
	if (f->dir == DIR_CLOSE_OWN && f->start == f->ready) {
		while ((n = end_send(dst, f->close + f->close_off,
		    (size_t)(f->close_len - f->close_off))) > 0) {
			progress = 1;
			f->close_off = (uint8_t)(f->close_off + n);
			if (f->close_off == f->close_len) {
				f->dir = DIR_DONE;
				break;
			}
		}
	} else if (f->dir == DIR_LAST && f->start == f->ready)
		f->dir = DIR_DONE;	/* its close, or nothing more at all */
	if (f->buf != NULL && flow_sealed(f) && f->start == f->ready &&
	    f->ready < f->scan) {
		/* Parsed bytes past a seal are never written: drop them. */
		memmove(f->buf, f->buf + f->scan, f->end - f->scan);
		f->end -= f->scan;
		f->start = f->ready = f->scan = 0;
		if (f->end == 0)
			flow_release(f);
	}
	return progress;
}

/* ------------------------------------------------------------------ */
/* Frames wsproxy sends itself                                         */
/* ------------------------------------------------------------------ */

static uint64_t rng_state;
static uint64_t relay_cut;	/* bytes of our own pongs taken out by the
				 * scan of the read being handled */

void
relay_init(void)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &rng_state, sizeof(rng_state)) !=
		    (ssize_t)sizeof(rng_state))
			rng_state = 0;
		close(fd);
	}
	rng_state ^= (uint64_t)(uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
	if (rng_state == 0)
		rng_state = 0x9e3779b97f4a7c15ULL;
}

uint64_t
relay_random(void)
{
	/* xorshift64*: mask keys need to be unpredictable to the
	 * application, not cryptographic (RFC 6455 10.3). */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint32_t
rng32(void)
{
	return (uint32_t)(relay_random() >> 32);
}

/* Bytes of the flow's source that the scanner has passed. */
static uint64_t
flow_scanned(const struct flow *f)
{
	return f->bytes - (f->end - f->scan);
}

/* Is the flow at a message boundary past its close mark (a drain's)? */
static int
message_done(const struct flow *f)
{
	return !f->ws.in_message && f->frame_left == 0 && f->held == 0 &&
	    flow_scanned(f) >= f->close_mark;
}

/* Make our close frame with code for dst in the flow toward it. */
static void
close_frame(struct pair *p, const struct end *dst, struct flow *f,
    unsigned code)
{
	uint8_t mask[4];
	uint32_t r;

	if (dst == &p->upstream) {
		r = rng32();
		mask[0] = (uint8_t)r;
		mask[1] = (uint8_t)(r >> 8);
		mask[2] = (uint8_t)(r >> 16);
		mask[3] = (uint8_t)(r >> 24);
		f->close_len = (uint8_t)ws_close_frame(f->close, code, mask);
	} else {
		f->close_len = (uint8_t)ws_close_frame(f->close, code, NULL);
	}
	f->close_off = 0;
	if (p->closed_by == CLOSED_BY_NONE) {
		p->closed_by = CLOSED_BY_PROXY;
		p->close_code = (uint16_t)code;
	}
}

/*
 * Queue a close frame with code for the end 'dst', written after the
 * frame now in flight from its peer (never inside a frame).
 */
void
send_close(struct pair *p, struct end *dst, unsigned code)
{
	struct flow *f = &peer_of(p, dst)->in;

	/* Only one close ever goes to an end: ours, or a relayed one that
	 * has sealed the direction already. */
	if (dst->dead || f->dir != DIR_RELAY)
		return;
	close_frame(p, dst, f, code);
	/* Inside a streamed frame it waits for the frame's end. */
	f->dir = f->frame_left > 0 ? DIR_CLOSE_NEXT : DIR_CLOSE_OWN;
}

/* The drain's close toward dst: after the message in flight, or (now)
 * after the frame in flight. */
static void
drain_close(struct pair *p, struct end *dst, unsigned code, int now)
{
	struct flow *f = &peer_of(p, dst)->in;

	if (f->dir == DIR_CLOSE_MSG && now) {
		/* The deadline: a frame held back incomplete is dropped. */
		f->held = 0;
		f->end = f->scan;
		f->dir = f->frame_left > 0 ? DIR_CLOSE_NEXT : DIR_CLOSE_OWN;
		return;
	}
	if (dst->dead || f->dir != DIR_RELAY)
		return;
	if (now) {
		send_close(p, dst, code);
		return;
	}
	close_frame(p, dst, f, code);
	f->close_mark = f->bytes;	/* every byte read so far goes on */
	f->dir = message_done(f) ? DIR_CLOSE_OWN : DIR_CLOSE_MSG;
}

int
relay_closes_out(const struct pair *p)
{
	return p->client.in.dir >= DIR_DONE && p->upstream.in.dir >= DIR_DONE;
}

void
relay_drain(struct pair *p, unsigned code, int now)
{
	drain_close(p, &p->client, code, now);
	/* The upstream hears the client's own close answer, after all the
	 * client sent before it; a close of ours only at the deadline
	 * (wsproxy(1) SIGNALS). */
	if (now)
		drain_close(p, &p->upstream, code, now);
	if (p->state == PAIR_OPEN)
		pair_set_state(p, PAIR_CLOSING);
	relay_run(p);
}

/* Who 'from' is, as the log says who closed. */
static enum closed_by
closer(const struct pair *p, const struct end *from)
{
	return from == &p->client ? CLOSED_BY_CLIENT : CLOSED_BY_UPSTREAM;
}

/*
 * 'from' broke a rule of wsproxy(1) RELAYING: it gets 'code', its peer
 * gets 1001 (the client broke it) or 1014 (the upstream did).  Nothing
 * more from it is parsed or forwarded.
 */
static void
protocol_error(struct pair *p, struct end *from, unsigned code)
{
	struct end *to = peer_of(p, from);
	struct flow *f = &from->in;

	px_log(PX_LOG_DEBUG, "event=protocol_error side=%s code=%u",
	    side_name(p, from), code);
	if (p->why == NULL) {
		p->why = code == WS_CLOSE_BAD_DATA ? "invalid frame payload" :
		    code == WS_CLOSE_TOO_BIG ? "message too big" :
		    "protocol error";
		p->why_side = from == &p->client ? 1 : 2;
	}
	if (p->closed_by == CLOSED_BY_NONE) {
		p->closed_by = (uint8_t)closer(p, from);
		p->close_code = (uint16_t)code;
	}
	/* Cut the flow at the offending frame: what came before goes on. */
	f->end = f->scan = f->ready;
	f->held = 0;
	from->rd = READ_DROP;
	send_close(p, to, from == &p->client ? WS_CLOSE_GOING_AWAY :
	    WS_CLOSE_BAD_GATEWAY);
	send_close(p, from, code);
	if (p->state == PAIR_OPEN)
		pair_set_state(p, PAIR_CLOSING);
}

/* ------------------------------------------------------------------ */
/* The frame scanner                                                   */
/* ------------------------------------------------------------------ */

/* A complete close frame from 'from' at f->buf + f->scan. */
static int
close_frame_seen(struct pair *p, struct end *from, const struct ws_frame *w)
{
	struct flow *f = &from->in;
	uint8_t payload[WS_MAX_CONTROL];
	size_t len = (size_t)w->payload_len;
	unsigned code;
	int bad;

	memcpy(payload, f->buf + f->scan + w->header_len, len);
	if (w->masked)
		ws_unmask(payload, len, w->mask, 0);
	bad = ws_close_check(payload, len, &code);
	if (bad)
		return bad;
	from->rd = READ_CLOSED;
	if (p->closed_by == CLOSED_BY_NONE) {
		p->closed_by = (uint8_t)closer(p, from);
		p->close_code = (uint16_t)code;
	}
	return 0;
}

/*
 * Walk the frames in [scan, end) of the flow read from 'from' and move
 * 'ready' as far as the writer may go.  Returns 0, or -1 after a
 * protocol error was handled.
 */
int
flow_scan(struct pair *p, struct end *from)
{
	struct flow *f = &from->in;
	struct ws_frame w;
	uint64_t total, avail;
	int n, code;
	unsigned dir = from == &p->client ? 0 : 1;

	while (f->scan < f->end) {
		avail = f->end - f->scan;
		if (f->frame_left > 0) {
			/* Streaming a frame larger than the buffer. */
			if (avail > f->frame_left)
				avail = f->frame_left;
			f->scan += (uint32_t)avail;
			f->frame_left -= avail;
			if (!flow_sealed(f))
				f->ready = f->scan;
			if (f->frame_left == 0 && (f->dir == DIR_CLOSE_NEXT ||
			    (f->dir == DIR_CLOSE_MSG && message_done(f))))
				f->dir = DIR_CLOSE_OWN;	/* at the boundary */
			continue;
		}
		n = ws_frame_parse(f->buf + f->scan, (size_t)avail, &w);
		if (n == WS_PARTIAL)
			break;
		if (n < 0) {
			protocol_error(p, from, WS_CLOSE_PROTOCOL);
			return -1;
		}
		if (f->held == 0) {
			code = ws_frame_check(&f->ws, &w, px_cfg.max_message);
			if (code) {
				protocol_error(p, from, (unsigned)code);
				return -1;
			}
			total = (uint64_t)n + w.payload_len;
			if (total > avail && total <= px_cfg.buf_size) {
				f->held = total;	/* wait until complete */
				break;
			}
		} else {
			total = f->held;
			if (total > avail)
				break;
		}
		f->held = 0;
		if (w.opcode == WS_OP_PONG && total <= avail &&
		    ping_own_pong(p, f, &w)) {
			/* The answer to our own ping: taken out, not relayed. */
			memmove(f->buf + f->scan, f->buf + f->scan + total,
			    (size_t)(avail - total));
			f->end -= (uint32_t)total;
			relay_cut += total;
			continue;
		}
		/* Counted once, when the frame is taken: whole, or the first
		 * bytes of one too large to hold (wsproxy(1) METRICS). */
		px_count.frames[dir]++;
		if (w.fin && w.opcode < WS_OP_CLOSE) {
			f->messages++;
			px_count.messages[dir]++;
		}
		if (total > avail) {
			/* Too large to hold: stream header and payload. */
			f->scan = f->end;
			f->frame_left = total - avail;
			if (!flow_sealed(f))
				f->ready = f->scan;
			continue;
		}
		if (w.opcode == WS_OP_CLOSE) {
			code = close_frame_seen(p, from, &w);
			if (code) {
				protocol_error(p, from, (unsigned)code);
				return -1;
			}
		}
		f->scan += (uint32_t)total;
		if (!flow_sealed(f))
			f->ready = f->scan;
		if (w.opcode != WS_OP_CLOSE && f->dir == DIR_CLOSE_MSG &&
		    message_done(f))
			f->dir = DIR_CLOSE_OWN;	/* the drained message is out */
		if (w.opcode == WS_OP_CLOSE) {
			/* Nothing after a close is forwarded (RFC 6455 5.5.1).
			 * It goes instead of a close of ours waiting for a
			 * message boundary; one already sealed in goes instead
			 * of it. */
			if (f->dir == DIR_RELAY || f->dir == DIR_CLOSE_MSG)
				f->dir = DIR_LAST;
			f->end = f->scan;
			if (p->state == PAIR_OPEN)
				pair_set_state(p, PAIR_CLOSING);
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Relaying                                                            */
/* ------------------------------------------------------------------ */

/*
 * The source ended (EOF or error) without a close frame: the other side
 * gets 1001 (client gone) or 1014 (upstream gone) at a frame boundary.
 * Inside a streamed frame there is no boundary to reach: the other side
 * can only be closed, which is wsproxy(1) RELAYING's single 1006 case.
 */
static void
source_gone(struct pair *p, struct end *from, int had_closed, unsigned code)
{
	struct flow *f = &from->in;
	struct end *to = peer_of(p, from);
	struct flow *g = &to->in;

	/* A FIN after its close frame is a normal half-close: that side
	 * still takes the other's frames and close answer. */
	if (had_closed && !from->dead)
		return;
	/* Nothing more is written to a side that is gone: what waits for it
	 * is dropped, so the other side's frames can still be read (its
	 * close answer among them) though they go nowhere. */
	from->dead = 1;
	g->dir = DIR_NOWHERE;
	g->start = g->ready = g->scan;
	if (had_closed)
		return;
	if (p->closed_by == CLOSED_BY_NONE) {
		p->closed_by = (uint8_t)closer(p, from);
		p->close_code = 1006;
	}
	/* A frame held back incomplete is dropped; whole frames go on. */
	f->end = f->scan = f->ready;
	f->held = 0;
	if (f->frame_left > 0) {
		/* What arrived of the frame still goes on, then a FIN: a
		 * close() with unread bytes would be a reset, which can
		 * destroy what the other side has not read yet. */
		f->frame_left = 0;
		if (!flow_sealed(f))	/* else our close is still due */
			f->dir = f->start == f->ready ? DIR_DONE : DIR_LAST;
		if (to->rd == READ_FRAMES)
			to->rd = READ_DROP;
	} else {
		send_close(p, to, code);
	}
	if (p->state == PAIR_OPEN)
		pair_set_state(p, PAIR_CLOSING);
}

/*
 * The source ended (EOF, or an error while reading or writing it).
 * Without its close frame first that is an abrupt end, which the log
 * tells at warn with error= (wsproxy(1) LOGGING).
 */
static void
source_ended(struct pair *p, struct end *from)
{
	int had_closed = from->rd == READ_CLOSED;

	from->rd = READ_EOF;
	if (!had_closed && p->why == NULL) {
		p->why = end_error(from);
		if (p->why == NULL)
			p->why = "closed without a close frame";
		p->why_side = from == &p->client ? 1 : 2;
	}
	source_gone(p, from, had_closed, from == &p->client ?
	    WS_CLOSE_GOING_AWAY : WS_CLOSE_BAD_GATEWAY);
}

void
relay_leg_dead(struct pair *p, struct end *e)
{
	if (p->why == NULL) {
		p->why = "ping timeout";
		p->why_side = e == &p->client ? 1 : 2;
	}
	if (p->closed_by == CLOSED_BY_NONE) {
		p->closed_by = CLOSED_BY_PROXY;
		p->close_code = WS_CLOSE_GOING_AWAY;
	}
	e->rd = READ_EOF;
	source_gone(p, e, 0, WS_CLOSE_GOING_AWAY);
	relay_run(p);
}

/* Read what 'from' has into its flow. Returns 1 on progress. */
static int
flow_read(struct pair *p, struct end *from)
{
	struct flow *f = &from->in;
	ssize_t n;

	if (!from->readable || from->dead || from->rd == READ_EOF)
		return 0;
	if (from->rd != READ_FRAMES) {
		/* Drain and drop until the peer closes its side. */
		n = flow_drop(p, from);
		if (n > 0)
			return 1;
	} else {
		if (f->buf != NULL && f->end == px_cfg.buf_size &&
		    f->start > 0) {
			/* Make room: move unwritten bytes to the front. */
			memmove(f->buf, f->buf + f->start, f->end - f->start);
			f->ready -= f->start;
			f->scan -= f->start;
			f->end -= f->start;
			f->start = 0;
		}
		n = flow_fill(p, from, px_cfg.buf_size);
		if (n > 0) {
			f->bytes += (uint64_t)n;
			px_count.bytes[from == &p->client ? 0 : 1] += (uint64_t)n;
			if (from->leg_list != LEG_NONE)	/* pings are on */
				ping_heard(p, from);
			relay_cut = 0;
			/* Write what became ready at once: most events move one
			 * message one way, and this saves a turn of relay_run. */
			if (flow_scan(p, from) == 0 && f->ready > f->start)
				(void)flow_write(p, f, peer_of(p, from));
			/* Our own pongs alone do not make a pair busy. */
			if ((uint64_t)n > relay_cut)
				pair_touch(p);
			return 1;
		}
		if (n == FILL_FULL || n == FILL_NOBUF)
			return 0;	/* backpressure: stay readable */
	}
	if (n == PX_IO_AGAIN)
		return 0;
	if (n == PX_IO_ERROR)
		from->dead = 1;
	source_ended(p, from);
	return 1;
}

/* Is this end finished with: nothing more to read or write?  Its peer's
 * flow is the direction toward it. */
static int
end_finished(struct pair *p, const struct end *e)
{
	const struct flow *toward = &peer_of(p, e)->in;

	return e->dead || ((toward->dir == DIR_DONE ||
	    toward->dir == DIR_SHUT) && (e->rd == READ_CLOSED ||
	    e->rd == READ_EOF));
}

/* A write error is a side gone too; returns 1 as the close it queues
 * for the other side needs another turn of relay_run(). */
static int
end_lost(struct pair *p, struct end *e)
{
	if (!e->dead || e->rd == READ_EOF)
		return 0;
	source_ended(p, e);
	return 1;
}

/* A side whose bytes are dropped (it broke the rules, or its peer died
 * mid-frame) gets our FIN once its last byte is out, so it closes and
 * the pair does not wait for --close-timeout. */
static void
end_shut_if_done(struct pair *p, struct end *e)
{
	struct flow *toward = &peer_of(p, e)->in;

	if (e->rd == READ_DROP && toward->dir == DIR_DONE && !e->dead) {
		toward->dir = DIR_SHUT;
		tls_shutdown(e->fd, e->tls);
	}
}

void
relay_run(struct pair *p)
{
	struct end *c = &p->client, *u = &p->upstream;
	int progress;

	do {
		progress = 0;
		/* Flag tests first: an event mostly concerns one direction,
		 * and a direction with nothing in flight has no buffer. */
		if (u->in.buf != NULL || u->in.dir == DIR_CLOSE_OWN ||
		    u->in.dir == DIR_LAST || u->in.ping_len != 0)
			progress |= flow_write(p, &u->in, c);
		if (c->in.buf != NULL || c->in.dir == DIR_CLOSE_OWN ||
		    c->in.dir == DIR_LAST || c->in.ping_len != 0)
			progress |= flow_write(p, &c->in, u);
		if (c->readable)
			progress |= flow_read(p, c);
		if (u->readable)
			progress |= flow_read(p, u);
		progress |= end_lost(p, c);
		progress |= end_lost(p, u);
	} while (progress);

	end_shut_if_done(p, c);
	end_shut_if_done(p, u);
	if (end_finished(p, u) && end_finished(p, c)) {
		pair_close(p, NULL);
		return;
	}
	/* A side that is gone and has nothing more to get can go now. */
	if (u->dead && u->fd >= 0)
		end_close(u);
	if (c->dead && c->fd >= 0)
		end_close(c);
}

