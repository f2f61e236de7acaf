/*
 * health.h - active health checks of pool members (health.c,
 * wsproxy(1) UPSTREAMS).
 */
#ifndef WSPROXY_HEALTH_H
#define WSPROXY_HEALTH_H

#include <stdint.h>

/* Poller data of member i's probe: HEALTH_TAG | i, under the loop's
 * listener bit. */
#define HEALTH_TAG 0xf000

/* Start-up: probes are registered with data + member index; the first
 * ones are due now. */
void health_init(uint64_t data, uint64_t now);

/* Probes due or overdue at now start or fail. */
void health_tick(uint64_t now);

/* When health_tick() next has work (ms), UINT64_MAX if never. */
uint64_t health_next(void);

/* An edge on member i's probe socket. */
void health_event(unsigned i, unsigned flags, uint64_t now);

#endif /* WSPROXY_HEALTH_H */
