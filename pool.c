/*
 * pool.c - fixed-size items in chunks mapped as use grows (see pool.h).
 *
 * Each chunk is a mapping of span bytes aligned to span (a power of
 * two), so the chunk an item belongs to is its address with the low
 * bits cleared, found without a search.  The chunk's first page is its
 * head: its slot in pl->chunk, its count of free items, a stack of
 * their numbers (the most recently given back on top), and since when
 * it has had none out.  Items follow the head; a page never touched
 * costs no memory, and mappings are MAP_NORESERVE, so a chunk costs
 * address space at once but memory only for the items used.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <stdlib.h>

#include "pool.h"

#define POOL_HEAD	4096		/* one page: the chunk's head */
#define POOL_AIM	32		/* items per chunk at least */

struct chunk_head {
	uint32_t	 slot;		/* its index in pl->chunk */
	uint32_t	 nfree;
	uint64_t	 empty_since;	/* 0: has items out, or not seen empty */
	uint16_t	 free[];	/* stack of free item numbers */
};

#define POOL_PER_MAX ((POOL_HEAD - sizeof(struct chunk_head)) / sizeof(uint16_t))

static struct chunk_head *
head_of(const struct pool *pl, const void *item)
{
	return (struct chunk_head *)((uintptr_t)item & ~(uintptr_t)(pl->span - 1));
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
	if (pl->per > POOL_PER_MAX)
		pl->per = (uint32_t)POOL_PER_MAX;
	if (pl->per == 0)	/* only if span overflowed: size absurd */
		return -1;
	pl->nchunk = (max + pl->per - 1) / pl->per;
	pl->low = pl->mapped = pl->used = pl->promised = 0;
	pl->chunk = calloc(pl->nchunk ? pl->nchunk : 1, sizeof(*pl->chunk));
	return pl->chunk == NULL ? -1 : 0;
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

/* Map one more chunk into the lowest empty slot: 0, or -1. */
static int
pool_grow(struct pool *pl)
{
	struct chunk_head *h;
	uint32_t c, i;
	uint8_t *m;

	c = 0;
	while (c < pl->nchunk && pl->chunk[c] != NULL)
		c++;
	if (c == pl->nchunk || (m = map_aligned(pl->span)) == NULL)
		return -1;
	h = (struct chunk_head *)m;
	h->slot = c;
	h->nfree = pl->per;
	h->empty_since = 0;
	/* Item 0 on top: a fresh chunk is used from its start. */
	for (i = 0; i < pl->per; i++)
		h->free[i] = (uint16_t)(pl->per - 1 - i);
	pl->chunk[c] = m;
	pl->mapped += pl->per;
	if (c < pl->low)
		pl->low = c;
	return 0;
}

void *
pool_take(struct pool *pl)
{
	struct chunk_head *h;
	uint32_t c = pl->low;

	while (c < pl->nchunk && (pl->chunk[c] == NULL ||
	    ((struct chunk_head *)pl->chunk[c])->nfree == 0))
		c++;
	if (c == pl->nchunk) {
		if (pool_grow(pl) < 0)
			return NULL;
		return pool_take(pl);	/* low now names the new chunk */
	}
	pl->low = c;
	h = (struct chunk_head *)pl->chunk[c];
	h->empty_since = 0;
	pl->used++;
	return pl->chunk[c] + POOL_HEAD +
	    (size_t)h->free[--h->nfree] * pl->size;
}

void
pool_give(struct pool *pl, const void *item)
{
	struct chunk_head *h = head_of(pl, item);

	h->free[h->nfree++] = (uint16_t)(((uintptr_t)item - (uintptr_t)h -
	    POOL_HEAD) / pl->size);
	pl->used--;
	if (h->slot < pl->low)
		pl->low = h->slot;
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

void
pool_trim(struct pool *pl, uint64_t now_ms)
{
	struct chunk_head *h;
	uint32_t c;

	/* From the top down: the high chunks are the ones that empty. */
	for (c = pl->nchunk; c-- > 0;) {
		if (pl->chunk[c] == NULL)
			continue;
		h = (struct chunk_head *)pl->chunk[c];
		if (h->nfree != pl->per)
			continue;
		if (h->empty_since == 0) {
			h->empty_since = now_ms ? now_ms : 1;
			continue;
		}
		if (now_ms - h->empty_since < POOL_QUIET_MS ||
		    pl->mapped - pl->per < pl->promised ||
		    pl->mapped - pl->per < pl->used)
			continue;
		munmap(pl->chunk[c], pl->span);
		pl->chunk[c] = NULL;
		pl->mapped -= pl->per;
	}
}
