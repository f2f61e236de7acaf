/*
 * probe.h - one WebSocket round trip to a target (probe.c).
 */
#ifndef BENCH_PROBE_H
#define BENCH_PROBE_H

#include <netinet/in.h>
#include <stdint.h>

/* connect, TLS handshake when use_tls, upgrade with the Host header
 * target_str, a 16 B message echoed and checked, a close frame; 1 when it
 * all worked.  seed picks the Sec-WebSocket-Key and the masking key. */
int probe_once(const struct sockaddr_in *target, const char *target_str, const char *path,
	       int use_tls, int verbose, uint64_t seed);

#endif
