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
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pair.h"

uint8_t px_scratch[64 * 1024];

/* ------------------------------------------------------------------ */
/* The pool                                                            */
/* ------------------------------------------------------------------ */

/* pool_n buffers of px_cfg.buf_size, reserved with mmap so untouched
 * ones cost no memory; a LIFO free stack keeps the hot ones in use. */
static uint8_t *pool_mem;
static uint32_t *pool_free;
static uint32_t pool_n, pool_nfree;

int
pool_init(uint32_t n)
{
	uint32_t i;

	pool_mem = mmap(NULL, (size_t)n * px_cfg.buf_size,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	    -1, 0);
	if (pool_mem == MAP_FAILED)
		return -1;
	pool_free = calloc(n, sizeof(*pool_free));
	if (pool_free == NULL)
		return -1;
	for (i = 0; i < n; i++)
		pool_free[i] = n - 1 - i;
	pool_n = pool_nfree = n;
	return 0;
}

uint32_t
pool_in_use(void)
{
	return pool_n - pool_nfree;
}

/* A buffer, or NULL when the pool is dry.  It has two per slot and a
 * pair never holds more than two, so that is for the invariant's sake. */
static uint8_t *
pool_take(void)
{
	if (pool_nfree == 0)
		return NULL;
	return pool_mem + (size_t)pool_free[--pool_nfree] * px_cfg.buf_size;
}

static void
pool_give(const uint8_t *buf)
{
	pool_free[pool_nfree++] =
	    (uint32_t)((size_t)(buf - pool_mem) / px_cfg.buf_size);
}

/* ------------------------------------------------------------------ */
/* Flows: bytes read from one end on their way to the other            */
/* ------------------------------------------------------------------ */

int
flow_buf(struct flow *f)
{
	if (f->buf != NULL)
		return 0;
	if ((f->buf = pool_take()) == NULL)
		return -1;
	f->start = f->ready = f->scan = f->end = 0;
	return 0;
}

void
flow_release(struct flow *f)
{
	if (f->buf == NULL)
		return;
	pool_give(f->buf);
	f->buf = NULL;
	f->start = f->ready = f->scan = f->end = 0;
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
	return n;
}

int
flow_send(struct flow *f, struct end *dst)
{
	int progress = 0;
	ssize_t n;

	while (f->start < f->ready && dst->writable && !dst->dead) {
		n = end_write(dst, f->buf + f->start, f->ready - f->start);
		if (n == PX_IO_AGAIN) {
			dst->writable = 0;
			break;
		}
		if (n < 0) {
			dst->dead = 1;
			break;
		}
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
	if (e->out.buf == NULL && (e->out.buf = pool_take()) == NULL)
		return NULL;
	e->out.start = e->out.end = 0;
	return e->out.buf;
}

void
output_release(struct end *e)
{
	if (e->out.buf == NULL)
		return;
	pool_give(e->out.buf);
	e->out.buf = NULL;
	e->out.start = e->out.end = 0;
}

int
output_write(struct end *e)
{
	struct output *o = &e->out;
	ssize_t n;

	while (o->buf != NULL && e->writable && !e->dead) {
		n = end_write(e, o->buf + o->start, o->end - o->start);
		if (n == PX_IO_AGAIN) {
			e->writable = 0;
			break;
		}
		if (n < 0) {
			e->dead = 1;
			break;
		}
		o->start += (uint32_t)n;
		if (o->start == o->end)
			output_release(e);
	}
	if (e->dead)
		return -1;
	return o->buf == NULL ? 1 : 0;
}
