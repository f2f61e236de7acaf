/*
 * flow.c - the buffers a pair's bytes live in, and the one way each
 * kind is read and written.
 *
 * A flow holds bytes read from one end on their way to the other; an
 * output holds bytes wsproxy itself writes to an end (the upgrade
 * request, its own HTTP answers).  Both take a buffer from one pool
 * only while they hold bytes, so an idle pair holds none (wsproxy(1)
 * LIMITS).  Every state that reads from an end calls flow_fill() or
 * flow_drop(), so the rule of when a read has drained the socket is
 * written once, here, and so is the turn each read is charged to.
 */
#include <sys/types.h>

#include <errno.h>
#include <string.h>

#include "config.h"
#include "pair.h"
#include "pool.h"

uint8_t px_scratch[64 * 1024];

/* ------------------------------------------------------------------ */
/* The buffers                                                         */
/* ------------------------------------------------------------------ */

/* Buffers of px_cfg.buf_size.  A pair never holds more than two at
 * once (the table in pair.h), and two are promised to each slab slot in
 * use (buffers_promise()), so an admitted pair never finds it dry. */
static struct pool buffers;

int
buffers_init(uint32_t n)
{
	return pool_create(&buffers, n, px_cfg.buf_size);
}

int
buffers_promise(void)
{
	return pool_promise(&buffers, 2);
}

void
buffers_unpromise(void)
{
	pool_unpromise(&buffers, 2);
}

void
buffers_trim(uint64_t now_ms)
{
	pool_trim(&buffers, now_ms);
}

uint64_t
buffers_bytes(void)
{
	return pool_bytes(&buffers);
}

uint32_t
buffers_in_use(void)
{
	return pool_used(&buffers);
}

/* ------------------------------------------------------------------ */
/* Flows: bytes read from one end on their way to the other            */
/* ------------------------------------------------------------------ */

int
flow_buf(struct flow *f)
{
	if (f->buf != NULL)
		return 0;
	if ((f->buf = pool_take(&buffers)) == NULL)
		return -1;
	f->start = f->ready = f->scan = f->end = 0;
	return 0;
}

void
flow_release(struct flow *f)
{
	if (f->buf == NULL)
		return;
	pool_give(&buffers, f->buf);
	f->buf = NULL;
	f->start = f->ready = f->scan = f->end = 0;
}

void
end_errno(struct end *e)
{
	if (e->err == 0)
		e->err = (uint8_t)(errno > 0 && errno < 256 ? errno : EIO);
}

ssize_t
flow_fill(struct pair *p, struct end *e, size_t limit)
{
	struct flow *f = &e->in;
	ssize_t n;

	if (!e->readable || turn_over(p))
		return PX_IO_AGAIN;
	if (flow_buf(f) < 0)
		return FILL_NOBUF;
	if (f->end >= limit)
		return FILL_FULL;
	n = end_read(e, f->buf + f->end, limit - f->end);
	if (n > 0) {
		turn_spend((size_t)n);
		/*
		 * A short read drained the socket: skip the read that would
		 * only say EAGAIN, unless a hang-up came with the event (the
		 * FIN is still to be read, and edge triggering will not say
		 * so again) or the end is TLS (the engine may hold more).
		 */
		if ((size_t)n < limit - f->end && !e->hup && e->tls == NULL)
			e->readable = 0;
		f->end += (uint32_t)n;
		return n;
	}
	if (n == PX_IO_AGAIN)
		e->readable = 0;
	else if (n == PX_IO_ERROR)
		end_errno(e);
	if (f->end == f->start)
		flow_release(f);	/* nothing in flight */
	return n;
}

ssize_t
flow_drop(struct pair *p, struct end *e)
{
	ssize_t n;

	if (!e->readable || turn_over(p))
		return PX_IO_AGAIN;
	n = end_read(e, px_scratch, sizeof(px_scratch));
	if (n > 0)
		turn_spend((size_t)n);
	else if (n == PX_IO_AGAIN)
		e->readable = 0;
	else if (n == PX_IO_ERROR)
		end_errno(e);
	return n;
}

size_t
end_send(struct end *e, const void *buf, size_t len)
{
	ssize_t n;

	if (!e->writable || e->dead)
		return 0;
	n = end_write(e, buf, len);
	if (n > 0)
		return (size_t)n;
	if (n == PX_IO_AGAIN)
		e->writable = 0;
	else {
		end_errno(e);
		e->dead = 1;
	}
	return 0;
}

int
flow_send(struct flow *f, struct end *dst)
{
	int progress = 0;
	size_t n;

	while (f->start < f->ready &&
	    (n = end_send(dst, f->buf + f->start, f->ready - f->start)) > 0) {
		f->start += (uint32_t)n;
		progress = 1;
	}
	if (f->buf != NULL && f->start == f->end)
		flow_release(f);
	return progress;
}

/* ------------------------------------------------------------------ */
/* Outputs: bytes wsproxy itself writes to an end                      */
/* ------------------------------------------------------------------ */

uint8_t *
output_buf(struct end *e)
{
	if (e->out.buf == NULL && (e->out.buf = pool_take(&buffers)) == NULL)
		return NULL;
	e->out.start = e->out.end = 0;
	return e->out.buf;
}

void
output_release(struct end *e)
{
	if (e->out.buf == NULL)
		return;
	pool_give(&buffers, e->out.buf);
	e->out.buf = NULL;
	e->out.start = e->out.end = 0;
}

int
output_write(struct end *e)
{
	struct output *o = &e->out;
	size_t n;

	while (o->buf != NULL &&
	    (n = end_send(e, o->buf + o->start, o->end - o->start)) > 0) {
		o->start += (uint32_t)n;
		if (o->start == o->end)
			output_release(e);
	}
	if (e->dead)
		return -1;
	return o->buf == NULL ? 1 : 0;
}
