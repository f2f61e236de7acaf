/*
 * balance.h - choosing a pool member for a new pair, and the passive
 * health of members (balance.c, wsproxy(1) UPSTREAMS).
 */
#ifndef WSPROXY_BALANCE_H
#define WSPROXY_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Has u any address to connect to (resolved, or a literal)? */
static inline int
bal_addrs(const struct px_upstream *u)
{
	return u->naddr;
}

/* A stable 64-bit hash of data[0..len), chained through h: the same on
 * every wsproxy (hash(...) keys, members' identities). */
uint64_t bal_hash(const void *data, size_t len, uint64_t h);

/*
 * The member of r's pool for the next try of a pair: its index, or -1
 * when every member is tried (bit i of tried), probed down or without
 * an address.  key is the hash(...) key when have_key.  A member in its
 * back-off is chosen only when no other is left.
 */
int bal_pick(struct px_route *r, uint32_t tried, int have_key, uint64_t key,
    uint64_t now);

/* A try at u failed before any HTTP answer (refused, timed out, TLS):
 * why is kept for the 502, and u sits out a back-off that doubles. */
void bal_failed(struct px_upstream *u, const char *why, uint64_t now);

/* u answered: its back-off starts over. */
void bal_succeeded(struct px_upstream *u);

#endif /* WSPROXY_BALANCE_H */
