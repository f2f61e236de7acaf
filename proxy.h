/*
 * proxy.h - the map of wsproxy: what each file does, and the headers
 * that are the seams between them.  Each .c file includes the headers
 * of the seams it uses; everything not declared in one is static.
 *
 * wsproxy is one process with one thread: an edge-triggered readiness
 * loop drives a fixed slab of connection pairs, each a client end and
 * an upstream end (wsproxy(1) DESCRIPTION).
 *
 *   proxy.c       the loop, the slab of pairs, timers, the run queue,
 *                 accepting clients, start-up and main
 *   upgrade.c     a pair's states up to PAIR_OPEN: the client's request,
 *                 the upstream connect and upgrade, wsproxy's own answers
 *   relay.c       frames between the two open ends of a pair
 *   flow.c        reading into and writing out of a pair's flows and
 *                 wsproxy's own output
 *   pool.c        fixed-size items reserved at start-up (buffers, TLS)
 *   sock.c        sockets: creation, options, addresses as text
 *   handshake.c   the HTTP heads of the handshake: pure, no I/O
 *   target.c      request targets: the one normalised path and query
 *   ws.c          pure parsers: HTTP/1.1 heads, SHA-1/base64, frames
 *   config.c      the command line, --check
 *   routes.c      routes and upstream URIs
 *   dns.c         the stub resolver: upstream names followed on the loop
 *   dnsmsg.c      DNS queries built and answers read: pure
 *   listen.c      the listeners: bound, or taken over (restart, systemd)
 *   life.c        signals, drain, reload, restart, --user, readiness
 *   log.c         log lines (key=value or JSON), --log-file
 *   pairlog.c     each pair's one line: id, host, path, upstream address
 *   metrics.c     counters in a shared mapping, the /metrics text
 *   admin.c       the --admin listener: /healthz, /readyz, /metrics
 *   ping.c        wsproxy's own pings, dead legs
 *   iplimit.c     connections per client address
 *   tls.c         the transport seam: plain TCP, or BearSSL's engine
 *   tls_load.c    TLS material read at start-up and on reload
 *   tls_x509.c    upstream certificate checks
 *   ev_epoll.c    the poller on Linux (ev_kqueue.c on the BSDs)
 *
 * The seams, one header each:
 */
#ifndef WSPROXY_PROXY_H
#define WSPROXY_PROXY_H

#include "ws.h"		/* HTTP heads, accept keys, frames (ws.c) */
#include "target.h"	/* request targets (target.c) */
#include "config.h"	/* px_cfg: routes, upstreams, limits (config.c) */
#include "handshake.h"	/* handshake heads (handshake.c) */
#include "io.h"		/* io_read/io_write, TLS (tls.c) */
#include "ev.h"		/* the poller (ev_epoll.c, ev_kqueue.c) */
#include "pair.h"	/* pairs, ends, flows, states (proxy.c, relay.c) */
#include "log.h"	/* px_log (log.c) */
#include "life.h"	/* signals, drain, restart (life.c) */
#include "listen.h"	/* listeners (listen.c) */
#include "pool.h"	/* fixed-size items (pool.c) */
#include "sock.h"	/* sockets (sock.c) */
#include "metrics.h"	/* counters, /metrics (metrics.c) */
#include "pairlog.h"	/* the pair's log line (pairlog.c) */
#include "admin.h"	/* the admin listener (admin.c) */
#include "iplimit.h"	/* --max-conns-per-ip (iplimit.c) */
#include "dns.h"	/* the resolver (dns.c), DNS messages (dnsmsg.c) */

#endif /* WSPROXY_PROXY_H */
