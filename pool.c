/*
 * pool.c - fixed-size items in chunks mapped as use grows (see pool.h).
 *
 * Each chunk is a mapping of span bytes aligned to span (a power of
 * two), so the chunk an item belongs to is its address with the low
 * bits cleared.  The chunk's first page is its head, used only by
 * pool_trim(); items follow it, page-aligned when their size is.  A page
 * never touched costs no memory, and mappings are MAP_NORESERVE, so a
 * chunk costs address space at once but memory only for the items used.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>

#include "pool.h"

#define POOL_HEAD	4096		/* one page: the chunk's head */
#define POOL_AIM	32		/* items per chunk at least */

struct pool_chunk {
	uint64_t	 empty_since;	/* 0: seen with items out last look */
	uint32_t	 nfree;		/* counted by pool_trim() */
	int		 going;		/* pool_trim() unmaps it */
};

static struct pool_chunk *
chunk_of(const struct pool *pl, const void *item)
{
	return (struct pool_chunk *)((uintptr_t)item &
	    ~(uintptr_t)(pl->span - 1));
}

int
pool_create(struct pool *pl, uint32_t max, size_t size)
{
	size_t span = POOL_HEAD;

	while (span < POOL_HEAD + POOL_AIM * size)
		span <<= 1;
	pl->size = size;
	pl->span = span;
	pl->per = (uint32_t)((span - POOL_HEAD) / size);
	if (pl->per == 0)	/* only if span overflowed: size absurd */
		return -1;
	pl->nchunk = (max + pl->per - 1) / pl->per;
	pl->nfree = pl->mapped = pl->promised = pl->chunks = 0;
	pl->low = pl->cold = 0;
	pl->chunk = calloc(pl->nchunk ? pl->nchunk : 1, sizeof(*pl->chunk));
	pl->free = calloc(pl->nchunk ? (size_t)pl->nchunk * pl->per : 1,
	    sizeof(*pl->free));
	return pl->chunk == NULL || pl->free == NULL ? -1 : 0;
}

/* A mapping of span bytes aligned to span, or NULL.  Twice the span is
 * mapped and the ends cut off; under a tight address-space limit, where
 * twice may not fit, a plain mapping is kept if it happens to align. */
static uint8_t *
map_aligned(size_t span)
{
	int prot = PROT_READ | PROT_WRITE;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	uint8_t *m, *a;

	m = mmap(NULL, 2 * span, prot, flags, -1, 0);
	if (m == MAP_FAILED) {
		m = mmap(NULL, span, prot, flags, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		if (((uintptr_t)m & (span - 1)) == 0)
			return m;
		munmap(m, span);
		return NULL;
	}
	a = (uint8_t *)(((uintptr_t)m + span - 1) & ~(uintptr_t)(span - 1));
	if (a > m)
		munmap(m, (size_t)(a - m));
	munmap(a + span, (size_t)(m + 2 * span - (a + span)));
	return a;
}

/*
 * Map one more chunk into the lowest empty slot: 0, or -1.  Its items go
 * under the free ones already there, so warm items are handed out
 * before a new chunk's pages are touched; its first item is the first
 * of them to go.
 */
static int
pool_grow(struct pool *pl)
{
	struct pool_chunk *h;
	uint32_t c = 0, i;
	uint8_t *m;

	while (c < pl->nchunk && pl->chunk[c] != NULL)
		c++;
	if (c == pl->nchunk || (m = map_aligned(pl->span)) == NULL)
		return -1;
	h = (struct pool_chunk *)m;
	h->empty_since = 0;
	h->going = 0;
	memmove(pl->free + pl->per, pl->free, pl->nfree * sizeof(*pl->free));
	for (i = 0; i < pl->per; i++)
		pl->free[pl->per - 1 - i] = m + POOL_HEAD + (size_t)i * pl->size;
	pl->nfree += pl->per;
	pl->low += pl->per;	/* untouched: as good as cold */
	pl->cold += pl->per;
	pl->chunk[c] = m;
	pl->mapped += pl->per;
	pl->chunks++;
	return 0;
}

void *
pool_take(struct pool *pl)
{
	if (pl->nfree == 0 && pool_grow(pl) < 0)
		return NULL;
	if (--pl->nfree < pl->low)
		pl->low = pl->nfree;
	return pl->free[pl->nfree];
}

void
pool_give(struct pool *pl, const void *item)
{
	pl->free[pl->nfree++] = (void *)(uintptr_t)item;
}

int
pool_promise(struct pool *pl, uint32_t n)
{
	while (pl->mapped < pl->promised + n)
		if (pool_grow(pl) < 0)
			return -1;
	pl->promised += n;
	return 0;
}

void
pool_unpromise(struct pool *pl, uint32_t n)
{
	pl->promised -= n;
}

/*
 * Free items that sat below the stack's low-water mark for a whole
 * interval were not touched in it: their whole pages go back to the
 * system (MADV_DONTNEED: zero pages when next touched), once each, so
 * what a burst touched is memory again for a second or two only, not
 * until its chunk empties (wsproxy(1) SMALL SYSTEMS).  Stack positions
 * below cold are known given back; the stack only moves at its top.
 */
static void
pool_release_cold(struct pool *pl)
{
	uintptr_t a, b, pg = POOL_HEAD - 1;
	uint32_t i;

	if (pl->low > pl->nfree)
		pl->low = pl->nfree;
	if (pl->cold > pl->low)
		pl->cold = pl->low;
	for (i = pl->cold; i < pl->low; i++) {
		a = ((uintptr_t)pl->free[i] + pg) & ~pg;
		b = ((uintptr_t)pl->free[i] + pl->size) & ~pg;
		if (b > a)
			(void)madvise((void *)a, b - a, MADV_DONTNEED);
	}
	pl->cold = pl->low;
	pl->low = pl->nfree;
}

/*
 * Once a second while chunks are mapped: count each chunk's free items
 * (O(free items), a few microseconds for thousands), note since when a
 * chunk has been whole, and unmap those whole for POOL_QUIET_MS, top
 * slots first, while the rest still keep every promise.  Quiet means
 * whole at every look, so take and give carry no clock.
 */
void
pool_trim(struct pool *pl, uint64_t now_ms)
{
	struct pool_chunk *h;
	uint32_t c, i, n, cold, going = 0;

	pool_release_cold(pl);
	for (c = 0; c < pl->nchunk; c++)
		if (pl->chunk[c] != NULL)
			((struct pool_chunk *)pl->chunk[c])->nfree = 0;
	for (i = 0; i < pl->nfree; i++)
		chunk_of(pl, pl->free[i])->nfree++;
	for (c = pl->nchunk; c-- > 0;) {
		if ((h = (struct pool_chunk *)pl->chunk[c]) == NULL)
			continue;
		if (h->nfree != pl->per) {
			h->empty_since = 0;
			continue;
		}
		if (h->empty_since == 0) {
			h->empty_since = now_ms ? now_ms : 1;
			continue;
		}
		if (now_ms - h->empty_since < POOL_QUIET_MS ||
		    pl->mapped - pl->per < pl->promised)
			continue;
		h->going = 1;
		pl->mapped -= pl->per;
		going++;
	}
	if (going == 0)
		return;
	for (i = n = cold = 0; i < pl->nfree; i++)
		if (!chunk_of(pl, pl->free[i])->going) {
			if (i < pl->cold)
				cold++;
			pl->free[n++] = pl->free[i];
		}
	pl->nfree = pl->low = n;
	pl->cold = cold;
	for (c = 0; c < pl->nchunk; c++)
		if (pl->chunk[c] != NULL &&
		    ((struct pool_chunk *)pl->chunk[c])->going) {
			munmap(pl->chunk[c], pl->span);
			pl->chunk[c] = NULL;
			pl->chunks--;
		}
}
