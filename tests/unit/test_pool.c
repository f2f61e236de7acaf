/*
 * test_pool.c - pool.c, the chunked item pools (wsproxy(1) SMALL
 * SYSTEMS): nothing mapped until used; chunks aligned; the most
 * recently given item served first, and warm items before a new
 * chunk's; a chunk given back only after POOL_QUIET_MS empty at every
 * look (pool_trim()), and never below the items promised or out; a
 * promise that cannot be kept changes
 * nothing and every promised item can then be taken; and 200,000
 * random takes and gives against a model, each item's bytes intact;
 * free items untouched for a whole trim interval give their pages
 * back, and only those.
 * Without a sanitizer it also runs under an address-space limit
 * (RLIMIT_AS), where mapping really fails.
 */
#include <sys/mman.h>
#include <sys/resource.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pool.h"
#include "check.h"

#define SIZE 32768

static void
test_lazy_and_aligned(void)
{
	struct pool pl;
	uint8_t *a, *b;

	CHECK(pool_create(&pl, 1000, SIZE) == 0, "create");
	CHECK(pool_bytes(&pl) == 0, "nothing mapped at start: %llu",
	    (unsigned long long)pool_bytes(&pl));
	CHECK(pl.per >= 32 && pl.per <= 64, "items per chunk %u", pl.per);
	CHECK((pl.span & (pl.span - 1)) == 0, "span a power of two");
	a = pool_take(&pl);
	CHECK(a != NULL, "first take");
	CHECK(pool_bytes(&pl) == pl.span, "one chunk mapped");
	CHECK(((uintptr_t)a & ~(uintptr_t)(pl.span - 1)) + 4096 ==
	    (uintptr_t)a, "item 0 right after the head page");
	memset(a, 0xa5, SIZE);
	b = pool_take(&pl);
	CHECK(b == a + SIZE, "next item follows");
	pool_give(&pl, b);
	CHECK(pool_take(&pl) == b, "the item given back last comes first");
	pool_give(&pl, a);
	pool_give(&pl, b);
	CHECK(pool_used(&pl) == 0, "all given back");
	free(pl.chunk);		/* wsproxy's pools live as long as it */
	free(pl.free);
}

static void
test_order_and_trim(void)
{
	struct pool pl;
	uint8_t *it[200], *low;
	uint32_t i, n, k;

	pool_create(&pl, 1000, SIZE);
	n = pl.per + 5;			/* a chunk and a bit */
	for (i = 0; i < n; i++)
		it[i] = pool_take(&pl);
	CHECK(pool_bytes(&pl) == 2 * pl.span, "two chunks for %u", n);
	low = it[3];
	pool_give(&pl, low);
	CHECK(pool_take(&pl) == low, "the item given back last comes first");
	/* A chunk mapped for a promise goes under the warm free items. */
	pool_give(&pl, low);
	k = pl.mapped + 1;
	pool_promise(&pl, k);
	CHECK(pool_bytes(&pl) == 3 * pl.span, "a third chunk for the promise");
	CHECK(pool_take(&pl) == low, "a warm item before the new chunk's");
	pool_unpromise(&pl, k);
	for (i = pl.per; i < n; i++)
		pool_give(&pl, it[i]);
	pool_trim(&pl, 1000);
	pool_trim(&pl, 1000 + POOL_QUIET_MS - 1);
	CHECK(pool_bytes(&pl) == 3 * pl.span, "kept until quiet long enough");
	pool_trim(&pl, 1000 + POOL_QUIET_MS);
	CHECK(pool_bytes(&pl) == pl.span, "the empty chunks given back");
	/* Used again before its quiet time: the clock starts over. */
	for (i = 0; i < pl.per; i++)
		pool_give(&pl, it[i]);
	pool_trim(&pl, 50000);
	it[0] = pool_take(&pl);
	pool_trim(&pl, 51000);		/* seen with an item out */
	pool_give(&pl, it[0]);
	pool_trim(&pl, 50000 + POOL_QUIET_MS);
	CHECK(pool_bytes(&pl) == pl.span,
	    "a look with an item out restarts the quiet time");
	pool_trim(&pl, 50000 + 2 * POOL_QUIET_MS);
	CHECK(pool_bytes(&pl) == 0, "all given back at rest");
	CHECK(pool_take(&pl) != NULL, "maps again after a trim");
	free(pl.chunk);
	free(pl.free);
}

static void
test_promises(void)
{
	struct pool pl;
	uint8_t *it[64];
	uint32_t i, chunks;

	pool_create(&pl, 2 * 40, SIZE);
	chunks = pl.nchunk;
	for (i = 0; i < 40; i++)
		CHECK(pool_promise(&pl, 2) == 0, "promise %u", i);
	CHECK(pool_bytes(&pl) == (uint64_t)chunks * pl.span,
	    "80 promised items mapped");
	/* Past the last chunk slot: refused, nothing changed. */
	{
		uint32_t before = pl.promised;

		while (pool_promise(&pl, 2) == 0)
			continue;
		CHECK(pl.promised <= pl.mapped && pl.promised >= before,
		    "a refused promise changes nothing");
		pool_unpromise(&pl, pl.promised - before);
	}
	for (i = 0; i < 40; i++)
		pool_unpromise(&pl, 2);
	for (i = 0; i < 40; i++)
		pool_promise(&pl, 2);
	for (i = 0; i < 64; i++)
		it[i] = pool_take(&pl);
	for (i = 0; i < 64; i++)
		pool_give(&pl, it[i]);
	pool_trim(&pl, 1);
	pool_trim(&pl, 1 + POOL_QUIET_MS);
	CHECK(pool_bytes(&pl) == (uint64_t)chunks * pl.span,
	    "promised chunks are kept though empty");
	for (i = 0; i < 40; i++)
		pool_unpromise(&pl, 2);
	pool_trim(&pl, 2 + 2 * POOL_QUIET_MS);
	CHECK(pool_bytes(&pl) == 0, "given back once no longer promised");
	free(pl.chunk);
	free(pl.free);
}

/* Resident pages of the item at p (mincore), or -1 if it cannot say. */
static int
resident(const void *p, size_t len)
{
	unsigned char v[SIZE / 4096];
	size_t i;
	int n = 0;

	if (len > sizeof(v) * 4096 ||
	    mincore((void *)(uintptr_t)p, len, v) != 0)
		return -1;
	for (i = 0; i < (len + 4095) / 4096; i++)
		n += v[i] & 1;
	return n;
}

/* The pages of free items not touched for a whole interval between
 * trims go back (MADV_DONTNEED); items touched in it stay. */
static void
test_cold(void)
{
	struct pool pl;
	uint8_t *a[8], *p;
	int i, all = SIZE / 4096, r;

	pool_create(&pl, 1000, SIZE);
	for (i = 0; i < 8; i++) {
		a[i] = pool_take(&pl);
		memset(a[i], 0x5a, SIZE);
	}
	for (i = 0; i < 8; i++)
		pool_give(&pl, a[i]);
	if (resident(a[0], SIZE) < 0) {
		printf("SKIP cold part: no mincore()\n");
		goto out;
	}
	pool_trim(&pl, 1);	/* all eight were out in this interval */
	for (i = 0; i < 8; i++)
		CHECK(resident(a[i], SIZE) == all, "item %d kept", i);
	p = pool_take(&pl);	/* only a[7] is used in the next one */
	CHECK(p == a[7], "the last given back first");
	p[0] = 1;
	pool_give(&pl, p);
	pool_trim(&pl, 2);
	for (i = 0; i < 7; i++)
		CHECK((r = resident(a[i], SIZE)) == 0,
		    "item %d untouched for an interval: %d pages kept", i, r);
	CHECK(resident(a[7], SIZE) == all, "the item just used kept");
	pool_trim(&pl, 3);
	CHECK((r = resident(a[7], SIZE)) == 0, "then it goes too: %d", r);
	p = pool_take(&pl);
	CHECK(p == a[7] && p[0] == 0 && p[SIZE - 1] == 0,
	    "a given-back item comes back as zero pages");
	pool_give(&pl, p);
	pool_trim(&pl, 4);	/* out in this interval: kept */
	pool_trim(&pl, 5);
	for (i = 0; i < 8; i++)
		CHECK(resident(a[i], SIZE) == 0, "item %d given back", i);
out:
	free(pl.chunk);
	free(pl.free);
}

/* Random takes and gives against a model: no item handed out twice,
 * bytes written into an item intact until it is given back. */
static void
test_random(void)
{
	static uint8_t *out[3000];
	struct pool pl;
	uint32_t nout = 0, i, k, bad = 0, dup = 0;
	uint64_t now = 1;
	uint32_t seed = 12345;

	pool_create(&pl, 3000, 4096 * 3);
	for (i = 0; i < 200000; i++) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 100 < 52 && nout < 3000) {
			uint8_t *p = pool_take(&pl);

			if (p == NULL) {
				bad++;
				continue;
			}
			if (p[72] == 0xee)	/* marked as out */
				dup++;
			p[72] = 0xee;
			memset(p, (int)(nout & 0xff), 64);
			memcpy(p + 64, &p, sizeof(p));
			out[nout++] = p;
		} else if (nout > 0) {
			uint8_t *p;

			k = (seed >> 8) % nout;
			p = out[k];
			if (memcmp(p + 64, &p, sizeof(p)) != 0)
				bad++;
			p[72] = 0;
			pool_give(&pl, p);
			out[k] = out[--nout];
		}
		if (i % 1000 == 0)
			pool_trim(&pl, now += 7000);
	}
	CHECK(bad == 0, "%u takes failed or items overwritten", bad);
	CHECK(dup == 0, "%u items handed out twice", dup);
	CHECK(pool_used(&pl) == nout, "used %u, model %u", pool_used(&pl),
	    nout);
	while (nout > 0)
		pool_give(&pl, out[--nout]);
	pool_trim(&pl, now += 1);
	pool_trim(&pl, now + POOL_QUIET_MS);
	CHECK(pool_bytes(&pl) == 0, "at rest after the random run");
	free(pl.chunk);
	free(pl.free);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Under a real address-space limit: promises fail when mapping does,
 * and what was promised before can all be taken and written. */
static void
test_rlimit(void)
{
#ifdef UNDER_ASAN
	puts("SKIP rlimit part: ASan reserves its shadow, RLIMIT_AS is moot");
#else
	struct rlimit rl;
	struct pool pl;
	FILE *f;
	unsigned long long pages = 0;
	uint32_t ok = 0, i;
	uint8_t *p;

	f = fopen("/proc/self/statm", "r");
	if (f == NULL || fscanf(f, "%llu", &pages) != 1) {
		puts("SKIP rlimit part: no /proc/self/statm");
		if (f != NULL)
			fclose(f);
		return;
	}
	fclose(f);
	pool_create(&pl, 100000, SIZE);
	rl.rlim_cur = rl.rlim_max = pages * 4096 + 16 * 1024 * 1024;
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit");
	/* qemu-user takes the call but does not enforce it. */
	p = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED) {
		munmap(p, 64 << 20);
		puts("SKIP rlimit part: RLIMIT_AS is not enforced here");
		free(pl.chunk);
		free(pl.free);
		return;
	}
	while (pool_promise(&pl, 2) == 0)
		ok++;
	CHECK(ok > 0 && ok < 50000, "%u promises before the limit", ok);
	CHECK(pl.promised == 2 * ok, "the failed promise left no trace");
	for (i = 0; i < 2 * ok; i++) {
		p = pool_take(&pl);
		if (p == NULL)
			break;
		p[0] = p[SIZE - 1] = 1;
	}
	CHECK(i == 2 * ok, "all %u promised items taken (%u)", 2 * ok, i);
	free(pl.chunk);
	free(pl.free);
#endif
}

int
main(void)
{
	test_lazy_and_aligned();
	test_order_and_trim();
	test_promises();
	test_random();
	test_cold();
	test_rlimit();
	printf("test_pool: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
