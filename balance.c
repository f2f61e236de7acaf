/*
 * balance.c - which pool member a new pair goes to (wsproxy(1)
 * UPSTREAMS): round robin, least connections or a consistent hash with
 * bounded loads, over the members that are up, weighted; and the
 * passive health that takes a failing member out for a back-off.
 *
 * Nothing here does I/O: upgrade.c asks for a member, reports how its
 * try went, and counts the pairs it holds.
 */
#include <stddef.h>
#include <stdint.h>

#include "balance.h"

/* A stable 64-bit hash (FNV-1a, then a splitmix64 finish): the same on
 * every wsproxy, so hash(...) sends a key to the same upstream on all
 * of them and across restarts. */
uint64_t
bal_hash(const void *data, size_t len, uint64_t h)
{
	const uint8_t *b = data;
	size_t i;

	h ^= 0xcbf29ce484222325ULL;
	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* The back-off doubles up to this many times the route's fail-timeout. */
#define BAL_BACKOFF_CAP 32

/* Could a try go to u now?  2: yes; 1: only as a last resort, it is in
 * its back-off; 0: no (tried already, probed down, or no address). */
static int
usable(const struct px_upstream *u, uint32_t tried, int i, uint64_t now)
{
	if ((tried & (1U << i)) != 0 || u->probe_down || bal_addrs(u) == 0)
		return 0;
	return u->down_until <= now ? 2 : 1;
}

/* Smooth weighted round robin (as nginx does): every usable member
 * gains its weight, the one ahead is chosen and pays the total back. */
static int
pick_roundrobin(struct px_route *r, uint32_t tried, uint64_t now)
{
	int64_t total = 0;
	int i, best = -1;

	for (i = 0; i < r->nupstream; i++) {
		struct px_upstream *u = &r->upstream[i];

		if (usable(u, tried, i, now) != 2)
			continue;
		u->rr_current += u->weight;
		total += u->weight;
		if (best < 0 || u->rr_current > r->upstream[best].rr_current)
			best = i;
	}
	if (best >= 0)
		r->upstream[best].rr_current -= total;
	return best;
}

/* The fewest open pairs per unit of weight; ties rotate. */
static int
pick_leastconn(struct px_route *r, uint32_t tried, uint64_t now)
{
	int i, k, best = -1;

	for (k = 0; k < r->nupstream; k++) {
		const struct px_upstream *u, *b;

		i = (int)((r->rr + (uint32_t)k) % (uint32_t)r->nupstream);
		u = &r->upstream[i];
		if (usable(u, tried, i, now) != 2)
			continue;
		b = best >= 0 ? &r->upstream[best] : NULL;
		if (b == NULL || (uint64_t)u->open * b->weight <
		    (uint64_t)b->open * u->weight)
			best = i;
	}
	r->rr++;
	return best;
}

/* A member's score for a key: the best of its weight's draws, so that
 * it wins a share of keys in proportion to its weight (rendezvous
 * hashing), and adding a member takes keys only to itself. */
static uint64_t
score(const struct px_upstream *u, uint64_t key)
{
	uint64_t best = 0, h;
	unsigned k;

	for (k = 0; k < u->weight; k++) {
		h = key ^ (u->seed + k * 0x9e3779b97f4a7c15ULL);
		h ^= h >> 31;
		h *= 0x7fb5d329728ea185ULL;
		h ^= h >> 27;
		h *= 0x81dadef4bc2dd44dULL;
		h ^= h >> 33;
		if (h > best)
			best = h;
	}
	return best;
}

/*
 * Consistent hashing with bounded loads: the members in the key's own
 * order, the first whose open pairs stay within hash-factor times its
 * weighted share of the pool's (open + 1).  Some member always fits,
 * as the bounds add up to more than the pairs.
 */
static int
pick_hash(struct px_route *r, uint32_t tried, uint64_t key, uint64_t now)
{
	uint64_t open = 0, weight = 0, s, best_s = 0;
	int i, best = -1;

	for (i = 0; i < r->nupstream; i++)
		if (usable(&r->upstream[i], tried, i, now) == 2) {
			open += r->upstream[i].open;
			weight += r->upstream[i].weight;
		}
	if (weight == 0)
		return -1;
	for (i = 0; i < r->nupstream; i++) {
		const struct px_upstream *u = &r->upstream[i];
		uint64_t cap;

		if (usable(u, tried, i, now) != 2)
			continue;
		/* ceil(factor * (open + 1) * w / W), factor in percent */
		cap = (r->hash_factor * (open + 1) * u->weight + 100 * weight -
		    1) / (100 * weight);
		if (u->open >= cap)
			continue;
		s = score(u, key);
		if (best < 0 || s > best_s) {
			best = i;
			best_s = s;
		}
	}
	return best;
}

int
bal_pick(struct px_route *r, uint32_t tried, int have_key, uint64_t key,
    uint64_t now)
{
	uint64_t soonest = UINT64_MAX;
	int i, best = -1;

	if (r->nupstream == 1)
		return usable(&r->upstream[0], tried, 0, now) ? 0 : -1;
	if (r->balance == BAL_LEASTCONN)
		best = pick_leastconn(r, tried, now);
	else if (r->balance == BAL_HASH && have_key)
		best = pick_hash(r, tried, key, now);
	else
		best = pick_roundrobin(r, tried, now);
	if (best >= 0)
		return best;
	/* Every member left is in its back-off: the one that comes back
	 * first gets a try, rather than no member at all. */
	for (i = 0; i < r->nupstream; i++)
		if (usable(&r->upstream[i], tried, i, now) == 1 &&
		    r->upstream[i].down_until < soonest) {
			soonest = r->upstream[i].down_until;
			best = i;
		}
	return best;
}

void
bal_failed(struct px_upstream *u, const char *why, uint64_t now)
{
	const struct px_route *r = u->route;

	u->fail_why = why;
	if (r->fail_timeout == 0 || r->nupstream < 2)
		return;
	if (u->backoff == 0)
		u->backoff = r->fail_timeout;
	u->down_until = now + u->backoff;
	if (u->backoff < r->fail_timeout * BAL_BACKOFF_CAP)
		u->backoff *= 2;
}

void
bal_succeeded(struct px_upstream *u)
{
	u->backoff = 0;
	u->down_until = 0;
}
