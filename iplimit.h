/*
 * iplimit.h - connections per client address (iplimit.c),
 * --max-conns-per-ip, wsproxy(1) LIMITS.
 */
#ifndef WSPROXY_IPLIMIT_H
#define WSPROXY_IPLIMIT_H

#include <stdint.h>
#include <netinet/in.h>

/* Start-up: room for 'slots' addresses at once (the slab's size);
 * nothing when --max-conns-per-ip is not given.  -1: no memory. */
int iplimit_init(uint32_t slots);

/* One more connection from a (a pair's peer: AF_INET6, or AF_INET
 * kept in the same storage): 0, or -1 when a already has the limit
 * (then nothing is counted). */
int iplimit_take(const struct sockaddr_in6 *a);

/* A connection counted by iplimit_take() ended. */
void iplimit_give(const struct sockaddr_in6 *a);

#endif /* WSPROXY_IPLIMIT_H */
