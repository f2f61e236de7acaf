/*
 * pool.c - fixed-size items reserved once at start-up (see pool.h).
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <stdlib.h>

#include "pool.h"

int
pool_create(struct pool *pl, uint32_t n, size_t size)
{
	uint32_t i;

	pl->mem = mmap(NULL, (size_t)n * size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pl->mem == MAP_FAILED) {
		pl->mem = NULL;
		return -1;
	}
	pl->free = calloc(n, sizeof(*pl->free));
	if (pl->free == NULL)
		return -1;
	for (i = 0; i < n; i++)
		pl->free[i] = n - 1 - i;
	pl->size = size;
	pl->n = pl->nfree = n;
	return 0;
}

void *
pool_take(struct pool *pl)
{
	if (pl->nfree == 0)
		return NULL;
	return pl->mem + (size_t)pl->free[--pl->nfree] * pl->size;
}

void
pool_give(struct pool *pl, const void *item)
{
	pl->free[pl->nfree++] =
	    (uint32_t)((size_t)((const uint8_t *)item - pl->mem) / pl->size);
}
