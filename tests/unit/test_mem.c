/*
 * test_mem.c - mem.c against a model: 100,000 random mallocs, callocs,
 * reallocs and frees of sizes from 0 to past MEM_BIG, each block filled
 * with a pattern of its own that must be intact when it is freed or
 * moved (two blocks sharing a byte would break one), every pointer
 * 16-aligned, every calloc zero, realloc keeping the old bytes.  Then,
 * everything freed, the free list must be whole arenas again (each
 * split merged back), and as much load again must not double them.
 * mem.c is included, so its free list can be walked.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../mem.c"

#define SLOTS	300

static struct {
	unsigned char	*p;
	size_t		 n;
	unsigned	 seed;
} slot[SLOTS];

static unsigned long long rng = 0x2545f4914f6cdd1dULL;
static int failed;

static unsigned long long
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
fill(int i)
{
	size_t k;

	for (k = 0; k < slot[i].n; k++)
		slot[i].p[k] = (unsigned char)(slot[i].seed + k * 7);
}

static void
verify(int i, size_t n, const char *when)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (slot[i].p[k] != (unsigned char)(slot[i].seed + k * 7)) {
			printf("slot %d (%zu bytes): byte %zu changed, %s\n",
			    i, slot[i].n, k, when);
			failed++;
			return;
		}
}

static size_t
size_of(void)
{
	unsigned long long r = next();

	switch (r % 8) {
	case 0:
		return 0;
	case 1:
		return (size_t)(r >> 8) % 16;
	case 2:
	case 3:
	case 4:
		return (size_t)(r >> 8) % 512;
	case 5:
		return (size_t)(r >> 8) % 8192;
	case 6:
		return (size_t)(r >> 8) % MEM_BIG;
	default:
		return MEM_BIG - 64 + (size_t)(r >> 8) % 200000;
	}
}

static void
run(int steps)
{
	int step, i;
	size_t n, k;
	unsigned char *q;

	for (step = 0; step < steps && !failed; step++) {
		i = (int)(next() % SLOTS);
		if (slot[i].p != NULL && next() % 3 == 0) {
			verify(i, slot[i].n, "at realloc");
			n = size_of();
			q = mem_realloc(slot[i].p, n);
			if (q == NULL) {
				printf("realloc(%zu) failed\n", n);
				failed++;
				return;
			}
			slot[i].p = q;
			verify(i, n < slot[i].n ? n : slot[i].n,
			    "moved by realloc");
			slot[i].n = n;
		} else if (slot[i].p != NULL) {
			verify(i, slot[i].n, "at free");
			mem_free(slot[i].p);
			slot[i].p = NULL;
			continue;
		} else {
			n = size_of();
			if (next() % 2) {
				q = mem_calloc(1, n);
				for (k = 0; q != NULL && k < n; k++)
					if (q[k] != 0) {
						printf("calloc(%zu): byte %zu "
						    "is %d\n", n, k, q[k]);
						failed++;
						break;
					}
			} else {
				q = mem_malloc(n);
			}
			if (q == NULL) {
				printf("malloc(%zu) failed\n", n);
				failed++;
				return;
			}
			slot[i].p = q;
			slot[i].n = n;
		}
		if ((uintptr_t)slot[i].p % MEM_ALIGN != 0) {
			printf("%p is not %d-aligned\n", (void *)slot[i].p,
			    MEM_ALIGN);
			failed++;
		}
		slot[i].seed = (unsigned)next();
		fill(i);
	}
	for (i = 0; i < SLOTS; i++) {
		if (slot[i].p != NULL) {
			verify(i, slot[i].n, "at the end");
			mem_free(slot[i].p);
			slot[i].p = NULL;
		}
	}
}

/* Free bytes in the list, each block checked to be an arena multiple
 * (all splits merged back) and in address order. */
static size_t
whole_arenas(void)
{
	struct block *b;
	size_t total = 0;

	for (b = free_list; b != NULL; b = b->next) {
		if (b->size % MEM_ARENA != 0) {
			printf("free block of %zu bytes after freeing all\n",
			    b->size);
			failed++;
		}
		if (b->next != NULL && (uintptr_t)b->next <= (uintptr_t)b) {
			printf("free list out of order\n");
			failed++;
		}
		total += b->size;
	}
	return total;
}

int
main(void)
{
	size_t first, again;

	run(50000);
	first = whole_arenas();
	run(50000);
	again = whole_arenas();
	if (again > 2 * first) {
		printf("arenas not reused: %zu bytes, then %zu\n", first,
		    again);
		failed++;
	}
	if (mem_calloc(SIZE_MAX / 2, 4) != NULL || errno != ENOMEM ||
	    mem_malloc(SIZE_MAX - 8) != NULL) {
		printf("an impossible size was not refused\n");
		failed++;
	}
	mem_free(NULL);
	printf("%d passed, %d failed (%zu KiB of arenas)\n", failed ? 0 : 1,
	    failed, again / 1024);
	return failed != 0;
}
