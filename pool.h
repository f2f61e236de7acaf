/*
 * pool.h - fixed-size items mapped in chunks as use grows (pool.c): the
 * I/O buffers of flows and outputs (flow.c), the TLS state of TLS ends
 * (tls.c).
 *
 * Nothing is mapped at start-up.  A chunk of about 2 MiB (some sixty
 * items) is mapped when the items already mapped are all out or
 * promised, and unmapped again once it has had none out at each look
 * (pool_trim(), once a second) for POOL_QUIET_MS, so the address space
 * follows the peak of recent use, not --max-conns (wsproxy(1) SMALL
 * SYSTEMS).  Free items are a stack, the most recently given back on
 * top, as before chunks: taking and giving cost what they did, the
 * pages in use stay few, and items seldom needed sink to the bottom,
 * so their chunks empty and can go.
 *
 * A promise (pool_promise()) maps what a pair may need before the pair
 * is let in, so that a pair once admitted never finds the pool dry:
 * running out of memory refuses newcomers, never harms a pair.
 */
#ifndef WSPROXY_POOL_H
#define WSPROXY_POOL_H

#include <stddef.h>
#include <stdint.h>

#define POOL_QUIET_MS	30000	/* a chunk empty this long is unmapped */

struct pool {
	uint8_t		**chunk;	/* nchunk slots; NULL: not mapped */
	void		**free;		/* free items, most recent on top */
	size_t		 size;		/* bytes per item */
	size_t		 span;		/* bytes per chunk: a power of two */
	uint32_t	 per;		/* items per chunk */
	uint32_t	 nchunk;	/* chunk slots: enough for max items */
	uint32_t	 nfree;
	uint32_t	 mapped;	/* items in mapped chunks */
	uint32_t	 promised;	/* items promised to admitted pairs */
	uint32_t	 chunks;	/* chunks mapped */
	uint32_t	 low;		/* fewest free since the last trim */
	uint32_t	 cold;		/* free[0..cold): pages given back */
};

/* Ready a pool of at most max items of size bytes, mapping nothing:
 * 0, or -1 if its small index cannot be had. */
int pool_create(struct pool *pl, uint32_t max, size_t size);

/* An item, mapping a chunk if none is free; NULL when no more can be
 * mapped (the address-space limit, or max items out). */
void *pool_take(struct pool *pl);

/* Give back an item pool_take() handed out. */
void pool_give(struct pool *pl, const void *item);

/* Make sure n more items than are promised now are mapped, and promise
 * them: 0, or -1 (nothing promised) when they cannot be mapped. */
int pool_promise(struct pool *pl, uint32_t n);

/* Withdraw a promise of n items. */
void pool_unpromise(struct pool *pl, uint32_t n);

/* Give the pages of free items untouched since the last call back to
 * the system, and unmap chunks that have had no item out for
 * POOL_QUIET_MS, as far as the promises allow; called about once a
 * second with the time. */
void pool_trim(struct pool *pl, uint64_t now_ms);

/* Items handed out now. */
static inline uint32_t
pool_used(const struct pool *pl)
{
	return pl->mapped - pl->nfree;
}

/* Bytes of address space the pool has mapped now. */
static inline uint64_t
pool_bytes(const struct pool *pl)
{
	return (uint64_t)pl->chunks * pl->span;
}

#endif /* WSPROXY_POOL_H */
