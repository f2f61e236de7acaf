/*
 * ping.c - wsproxy's own pings, which find legs that died without a
 * word (wsproxy(1) PINGS).
 *
 * A leg is one end of an open pair.  While pings are on (--ping-interval)
 * every leg is on one of two FIFO lists: LEG_QUIET until it has been
 * silent for the interval, then LEG_PINGED until it answers or the
 * timeout passes.  Any bytes from the leg put it back at the tail of
 * LEG_QUIET: the other leg's traffic does not count, so a leg that only
 * receives is still found.  Each list has one duration, so appending
 * keeps it sorted and only its head is looked at.
 *
 * The ping goes between two frames of the flow toward the leg (RFC 6455
 * 5.4 allows control frames there, even inside a fragmented message);
 * its payload is an 8-byte token of the pair, and the pong that carries
 * it back is taken out of the flow, never forwarded.
 */
#include <sys/types.h>

#include <string.h>

#include "config.h"
#include "log.h"
#include "pair.h"

#define NIL UINT32_MAX

static uint32_t head[3] = { NIL, NIL, NIL };	/* by enum leg_list */
static uint32_t tail[3] = { NIL, NIL, NIL };
static uint64_t secret;

/* A leg's index: its slot twice, plus one for the upstream end. */
static uint32_t
leg_of(const struct pair *p, const struct end *e)
{
	return pair_index(p) * 2 + (e == &p->upstream ? 1U : 0U);
}

static struct end *
leg_end(uint32_t leg)
{
	struct pair *p = px_slot(leg >> 1);

	return (leg & 1) ? &p->upstream : &p->client;
}

static void
leg_unlink(struct end *e)
{
	enum leg_list l = (enum leg_list)e->leg_list;

	if (l == LEG_NONE)
		return;
	if (e->leg_prev != NIL)
		leg_end(e->leg_prev)->leg_next = e->leg_next;
	else
		head[l] = e->leg_next;
	if (e->leg_next != NIL)
		leg_end(e->leg_next)->leg_prev = e->leg_prev;
	else
		tail[l] = e->leg_prev;
	e->leg_list = LEG_NONE;
}

static void
leg_append(const struct pair *p, struct end *e, enum leg_list l,
    uint64_t deadline)
{
	uint32_t leg = leg_of(p, e);

	e->leg_list = (uint8_t)l;
	e->leg_deadline = deadline;
	e->leg_next = NIL;
	e->leg_prev = tail[l];
	if (tail[l] != NIL)
		leg_end(tail[l])->leg_next = leg;
	else
		head[l] = leg;
	tail[l] = leg;
}

/* The pair's token: unguessable from outside, different for each use of
 * a slot (splitmix64 of a secret, the slot and its generation). */
static uint64_t
token(const struct pair *p)
{
	uint64_t z = secret ^ ((uint64_t)pair_index(p) << 32) ^ p->gen;

	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
token_bytes(const struct pair *p, uint8_t out[8])
{
	uint64_t t = token(p);
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(t >> (56 - 8 * i));
}

void
ping_start(struct pair *p)
{
	if (px_cfg.ping_interval == 0)
		return;
	if (secret == 0)
		secret = relay_random() | 1;
	leg_append(p, &p->client, LEG_QUIET, px_now() + px_cfg.ping_interval);
	leg_append(p, &p->upstream, LEG_QUIET, px_now() + px_cfg.ping_interval);
}

void
ping_stop(struct pair *p)
{
	leg_unlink(&p->client);
	leg_unlink(&p->upstream);
}

void
ping_heard(struct pair *p, struct end *e)
{
	uint64_t d;

	if (e->leg_list == LEG_NONE)
		return;
	d = px_now() + px_cfg.ping_interval;
	/* Heard again within 1/64 of an interval of the last move: stay
	 * put (pinged at most that much early), so that a busy leg is not
	 * moved on every read.  Every move appends now + interval, so the
	 * list stays in order. */
	if (e->leg_list == LEG_QUIET &&
	    e->leg_deadline + (px_cfg.ping_interval >> 6) >= d)
		return;
	leg_unlink(e);
	leg_append(p, e, LEG_QUIET, d);
}

void
ping_waiting(struct pair *p, struct end *e)
{
	if (e->leg_list != LEG_PINGED)
		return;
	leg_unlink(e);
	leg_append(p, e, LEG_PINGED, px_now() + px_cfg.ping_timeout);
}

uint64_t
ping_next(void)
{
	uint64_t first = UINT64_MAX;

	if (head[LEG_QUIET] != NIL)
		first = leg_end(head[LEG_QUIET])->leg_deadline;
	if (head[LEG_PINGED] != NIL &&
	    leg_end(head[LEG_PINGED])->leg_deadline < first)
		first = leg_end(head[LEG_PINGED])->leg_deadline;
	return first;
}

/* Queue the ping for leg e in the flow toward it: unmasked to a client,
 * masked to an upstream (RFC 6455 5.3). */
static void
ping_queue(struct pair *p, struct end *e)
{
	struct flow *f = &peer_of(p, e)->in;
	uint8_t tok[8];
	uint64_t m;
	int i;

	if (f->ping_len != 0 || flow_sealed(f))
		return;		/* one is still on its way, or a close is */
	token_bytes(p, tok);
	f->ping[0] = 0x80 | WS_OP_PING;
	if (e == &p->upstream) {
		m = relay_random();
		f->ping[1] = 0x80 | 8;
		for (i = 0; i < 4; i++)
			f->ping[2 + i] = (uint8_t)(m >> (8 * i));
		for (i = 0; i < 8; i++)
			f->ping[6 + i] = tok[i] ^ f->ping[2 + (i & 3)];
		f->ping_len = 14;
	} else {
		f->ping[1] = 8;
		memcpy(f->ping + 2, tok, 8);
		f->ping_len = 10;
	}
	f->ping_off = 0;
	px_count.pings_sent++;
}

/*
 * Is our ping to e still unwritten only because the frame ahead of it
 * in the flow toward e has stalled half-way at its sender, e having
 * taken every byte it was given?  A leg that does not take bytes is
 * not excused.
 */
static int
ping_stalled(struct pair *p, struct end *e)
{
	const struct flow *f = &peer_of(p, e)->in;

	return f->ping_len != 0 && f->ping_off == 0 &&
	    f->start == f->ready && f->frame_left != 0;
}

void
ping_run(void)
{
	uint64_t now = px_now();
	struct pair *p;
	struct end *e;
	uint32_t leg;

	while ((leg = head[LEG_QUIET]) != NIL &&
	    leg_end(leg)->leg_deadline <= now) {
		e = leg_end(leg);
		p = px_slot(leg >> 1);
		leg_unlink(e);
		leg_append(p, e, LEG_PINGED, now + px_cfg.ping_timeout);
		px_log(PX_LOG_DEBUG, "event=ping slot=%u side=%s",
		    (unsigned)(leg >> 1), side_name(p, e));
		ping_queue(p, e);
		px_turn_left = PX_TURN_BYTES;
		relay_run(p);
	}
	while ((leg = head[LEG_PINGED]) != NIL &&
	    leg_end(leg)->leg_deadline <= now) {
		e = leg_end(leg);
		p = px_slot(leg >> 1);
		leg_unlink(e);
		if (ping_stalled(p, e)) {
			/* Not the leg's fault: its timeout starts again. */
			leg_append(p, e, LEG_PINGED, now + px_cfg.ping_timeout);
			continue;
		}
		px_count.ping_timeouts++;
		px_turn_left = PX_TURN_BYTES;
		relay_leg_dead(p, e);
	}
}

int
ping_own_pong(const struct pair *p, const struct flow *f,
    const struct ws_frame *w)
{
	uint8_t payload[8], tok[8];

	if (w->opcode != WS_OP_PONG || w->payload_len != 8 || secret == 0)
		return 0;
	memcpy(payload, f->buf + f->scan + w->header_len, 8);
	if (w->masked)
		ws_unmask(payload, 8, w->mask, 0);
	token_bytes(p, tok);
	return memcmp(payload, tok, 8) == 0;
}

int
ping_write(struct flow *f, struct end *dst)
{
	int progress = 0;
	size_t n;

	if (f->ping_len == 0)
		return 0;
	if (f->ping_off == 0) {
		if (flow_sealed(f)) {
			f->ping_len = 0;	/* a close goes instead */
			return 0;
		}
		/* Only between frames: what is ready is written, and no
		 * frame is half-way through the scanner. */
		if (f->start != f->ready || f->frame_left != 0)
			return 0;
	}
	while ((n = end_send(dst, f->ping + f->ping_off,
	    (size_t)(f->ping_len - f->ping_off))) > 0) {
		progress = 1;
		f->ping_off = (uint8_t)(f->ping_off + n);
		if (f->ping_off == f->ping_len) {
			f->ping_len = f->ping_off = 0;
			break;
		}
	}
	return progress;
}
