/*
 * pool.h - fixed-size items reserved at start-up (pool.c): the I/O
 * buffers of flows and outputs (flow.c), the TLS state of TLS ends
 * (tls.c).  The memory is reserved with mmap(MAP_NORESERVE), so an item
 * never handed out costs nothing, and a LIFO stack of free items hands
 * the most recently used one out first, so the pages in use stay few
 * (wsproxy(1) LIMITS).  Nothing is allocated after start-up.
 */
#ifndef WSPROXY_POOL_H
#define WSPROXY_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool {
	uint8_t		*mem;		/* n items of size bytes */
	size_t		 size;
	uint32_t	*free;		/* stack of free item indices */
	uint32_t	 n;
	uint32_t	 nfree;
};

/* Reserve n items of size bytes: 0, or -1 if that cannot be had. */
int pool_create(struct pool *pl, uint32_t n, size_t size);

/* An item, or NULL when every one is handed out. */
void *pool_take(struct pool *pl);

/* Give back an item pool_take() handed out. */
void pool_give(struct pool *pl, const void *item);

/* Items handed out now. */
static inline uint32_t
pool_used(const struct pool *pl)
{
	return pl->n - pl->nfree;
}

#endif /* WSPROXY_POOL_H */
