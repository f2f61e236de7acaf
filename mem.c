/*
 * mem.c - malloc, calloc, realloc and free for the static build.
 *
 * wsproxy allocates while it starts and reloads (the slab, the routes,
 * certificates), and musl's own callers (getpwnam, setenv,
 * getaddrinfo) a little; after that only the resolver's 64 KiB buffer
 * for an answer over TCP, a mapping of its own: nothing per connection,
 * nothing to fragment a heap.  musl's mallocng, made for long-lived
 * heaps, is 8 KiB of the static binary; this is well under one.  Built
 * with WSPROXY_MEM_LIBC (make static), these four are linked instead of
 * musl's.  One thread only, as wsproxy is.
 *
 * A request of MEM_BIG or more gets a mapping of its own, as musl gives
 * it: a big calloc (the slab, the pair notes) stays untouched zero pages
 * until used, and free() returns it.  Smaller ones are cut from
 * MEM_ARENA mappings through one free list in address order: first
 * fit, the tail of a larger block split off, a freed block merged with
 * the free blocks on either side (K&R's allocator).  Arenas are kept.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define MEM_ALIGN	16		/* max_align_t on x86-64 */
#define MEM_ARENA	(128 * 1024)
#define MEM_BIG		(32 * 1024)
#define MEM_MAPPED	1		/* in size: a mapping of its own */

/* Before each block; a block's bytes follow it, 16-aligned.  The
 * _Alignas pads the header to 16 bytes where two words are 8 (armhf). */
struct block {
	_Alignas(MEM_ALIGN) size_t size; /* header included; MEM_MAPPED bit */
	struct block	*next;		/* the next free block (if free) */
};

_Static_assert(sizeof(struct block) % MEM_ALIGN == 0, "aligned blocks");

static struct block *free_list;		/* address order */

static void *
map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* b into the free list, merged with a free neighbour on either side. */
static void
release(struct block *b)
{
	struct block *before = NULL, *after = free_list;

	while (after != NULL && (uintptr_t)after < (uintptr_t)b) {
		before = after;
		after = after->next;
	}
	if (after != NULL && (char *)b + b->size == (char *)after) {
		b->size += after->size;
		b->next = after->next;
	} else {
		b->next = after;
	}
	if (before != NULL && (char *)before + before->size == (char *)b) {
		before->size += b->size;
		before->next = b->next;
	} else if (before != NULL) {
		before->next = b;
	} else {
		free_list = b;
	}
}

void *
mem_malloc(size_t n)
{
	struct block **link, *b;
	size_t need;

	if (n > SIZE_MAX / 2) {
		errno = ENOMEM;
		return NULL;
	}
	need = (n + sizeof(struct block) + MEM_ALIGN - 1) &
	    ~(size_t)(MEM_ALIGN - 1);
	if (need >= MEM_BIG) {
		need = (need + 4095) & ~(size_t)4095;
		if ((b = map(need)) == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		b->size = need | MEM_MAPPED;
		return b + 1;
	}
	for (;;) {
		for (link = &free_list; (b = *link) != NULL; link = &b->next) {
			if (b->size < need)
				continue;
			if (b->size - need >= sizeof(struct block) + MEM_ALIGN) {
				b->size -= need;	/* hand out the tail */
				b = (struct block *)(void *)((char *)b +
				    b->size);
				b->size = need;
			} else {
				*link = b->next;
			}
			return b + 1;
		}
		if ((b = map(MEM_ARENA)) == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		b->size = MEM_ARENA;
		release(b);
	}
}

void
mem_free(void *p)
{
	struct block *b;

	if (p == NULL)
		return;
	b = (struct block *)p - 1;
	if (b->size & MEM_MAPPED)
		munmap(b, b->size & ~(size_t)MEM_MAPPED);
	else
		release(b);
}

void *
mem_calloc(size_t m, size_t n)
{
	void *p;

	if (n != 0 && m > SIZE_MAX / n) {
		errno = ENOMEM;
		return NULL;
	}
	p = mem_malloc(m * n);
	/* A mapping of its own is zero already: leave its pages alone. */
	if (p != NULL && !(((struct block *)p - 1)->size & MEM_MAPPED))
		memset(p, 0, m * n);
	return p;
}

/* Grows by moving; never shrinks (the old block keeps fitting). */
void *
mem_realloc(void *p, size_t n)
{
	size_t have;
	void *q;

	if (p == NULL)
		return mem_malloc(n);
	have = (((struct block *)p - 1)->size & ~(size_t)MEM_MAPPED) -
	    sizeof(struct block);
	if (n <= have)
		return p;
	if ((q = mem_malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, have);
	mem_free(p);
	return q;
}

#ifdef WSPROXY_MEM_LIBC
void *
malloc(size_t n)
{
	return mem_malloc(n);
}

void *
calloc(size_t m, size_t n)
{
	return mem_calloc(m, n);
}

void *
realloc(void *p, size_t n)
{
	return mem_realloc(p, n);
}

void
free(void *p)
{
	mem_free(p);
}
#endif
