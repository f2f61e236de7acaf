/*
 * test_balance.c - balance.c at scale, without sockets: what the
 * integration tests cannot afford to count.
 *   - the consistent hash: adding a member to a pool of N moves about
 *     1/(N+1) of 20,000 keys, every one of them to the new member;
 *   - weights share keys in proportion;
 *   - bounded loads: open pairs never exceed ceil(factor * mean), for
 *     random keys and for one hot key;
 *   - smooth weighted round robin, and the tried mask and back-offs.
 * Prints the measured move fractions (the closing note quotes them).
 */
#include <stdio.h>
#include <string.h>

#include "../../balance.h"
#include "../../config.h"

#define KEYS 20000

static int failed, passed;

static void
check(int ok, const char *what)
{
	if (ok)
		passed++;
	else {
		failed++;
		printf("FAIL %s\n", what);
	}
}

static struct px_upstream ups[PX_MAX_POOL];
static struct px_route route;

static void
pool(int n, const unsigned *weights)
{
	char uri[32];
	int i;

	memset(ups, 0, sizeof(ups));
	memset(&route, 0, sizeof(route));
	route.upstream = ups;
	route.nupstream = n;
	route.balance = BAL_HASH;
	route.hash_factor = 125;
	route.fail_timeout = 10000;
	for (i = 0; i < n; i++) {
		snprintf(uri, sizeof(uri), "ws://member-%d:4000", i);
		ups[i].seed = bal_hash(uri, strlen(uri), 0);
		ups[i].weight = weights ? weights[i] : 1;
		ups[i].naddr = 1;
		ups[i].route = &route;
	}
}

static uint64_t
key(int i)
{
	char k[32];

	snprintf(k, sizeof(k), "user-%d", i);
	return bal_hash(k, strlen(k), 0);
}

static void
test_moves(void)
{
	static int before[KEYS];
	int n, i, moved, elsewhere;
	char what[128];

	for (n = 2; n <= 8; n++) {
		pool(n, NULL);
		for (i = 0; i < KEYS; i++)
			before[i] = bal_pick(&route, 0, 1, key(i), 0);
		pool(n + 1, NULL);
		moved = elsewhere = 0;
		for (i = 0; i < KEYS; i++) {
			int now = bal_pick(&route, 0, 1, key(i), 0);

			if (now != before[i]) {
				moved++;
				elsewhere += now != n;
			}
		}
		printf("hash: %d -> %d members: %d of %d keys moved (%.4f,"
		    " ideal %.4f)\n", n, n + 1, moved, KEYS,
		    (double)moved / KEYS, 1.0 / (n + 1));
		snprintf(what, sizeof(what), "%d -> %d: moved fraction", n,
		    n + 1);
		check(moved > KEYS * 0.85 / (n + 1) &&
		    moved < KEYS * 1.15 / (n + 1), what);
		snprintf(what, sizeof(what), "%d -> %d: only to the new one",
		    n, n + 1);
		check(elsewhere == 0, what);
	}
}

static void
test_weights(void)
{
	static const unsigned w[] = { 1, 2, 5 };
	int got[3] = { 0, 0, 0 }, i;

	pool(3, w);
	for (i = 0; i < 2 * KEYS; i++)
		got[bal_pick(&route, 0, 1, key(i), 0)]++;
	printf("hash: weights 1:2:5 got %d:%d:%d of %d keys\n", got[0], got[1],
	    got[2], 2 * KEYS);
	for (i = 0; i < 3; i++)
		check(got[i] > 2 * KEYS * w[i] / 8 * 0.93 &&
		    got[i] < 2 * KEYS * w[i] / 8 * 1.07, "weights share keys");
}

/* Open pairs one by one, never closing: after each, no member may hold
 * more than ceil(1.25 * total / n). */
static void
test_bounded(int hot)
{
	int i, m, total = 0, bad = 0;

	pool(5, NULL);
	for (i = 0; i < 1000; i++) {
		m = bal_pick(&route, 0, 1, key(hot ? 7 : i), 0);
		ups[m].open++;
		total++;
		if (ups[m].open > (125 * (unsigned)total + 499) / 500)
			bad++;
	}
	printf("bounded (%s key): 1000 pairs as %u/%u/%u/%u/%u\n",
	    hot ? "one hot" : "random", ups[0].open, ups[1].open, ups[2].open,
	    ups[3].open, ups[4].open);
	check(bad == 0, hot ? "bounded load, hot key" : "bounded load");
}

static void
test_roundrobin(void)
{
	static const unsigned w[] = { 5, 1, 1 };
	int seq[14], i, run = 1, longest = 1, count[3] = { 0, 0, 0 };

	pool(3, w);
	route.balance = BAL_ROUNDROBIN;
	for (i = 0; i < 14; i++) {
		seq[i] = bal_pick(&route, 0, 0, 0, 0);
		count[seq[i]]++;
		run = i > 0 && seq[i] == seq[i - 1] ? run + 1 : 1;
		if (run > longest)
			longest = run;
	}
	check(count[0] == 10 && count[1] == 2 && count[2] == 2,
	    "weighted round robin shares");
	check(longest <= 4, "weighted round robin is smooth");
	/* The tried mask and back-offs. */
	pool(3, NULL);
	route.balance = BAL_ROUNDROBIN;
	check(bal_pick(&route, 7, 0, 0, 0) == -1, "all tried: none");
	check(bal_pick(&route, 3, 0, 0, 0) == 2, "two tried: the third");
	bal_failed(&ups[0], "x", 1000);
	bal_failed(&ups[1], "x", 1000);
	for (i = 0; i < 6; i++)
		check(bal_pick(&route, 0, 0, 0, 1000) == 2, "down ones skipped");
	check(ups[0].down_until == 11000, "back-off is fail-timeout");
	bal_failed(&ups[0], "x", 11000);
	check(ups[0].down_until == 31000, "back-off doubles");
	bal_failed(&ups[2], "x", 1000);
	/* 1 and 2 are back at 11000, 0 at 31000: the first of those. */
	check(bal_pick(&route, 0, 0, 0, 2000) == 1,
	    "all down: the one back first");
	bal_succeeded(&ups[0]);
	check(bal_pick(&route, 0, 0, 0, 2000) == 0, "a success resets it");
	ups[0].probe_down = 1;
	check(bal_pick(&route, 6, 0, 0, 50000) == -1, "probed down: never");
}

int
main(void)
{
	test_moves();
	test_weights();
	test_bounded(0);
	test_bounded(1);
	test_roundrobin();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
