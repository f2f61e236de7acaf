/*
 * admin.h - the --admin listener (admin.c): /healthz, /readyz and
 * /metrics over plain HTTP/1.1 on the loop, wsproxy(1) ADMIN.
 */
#ifndef WSPROXY_ADMIN_H
#define WSPROXY_ADMIN_H

#include <stdint.h>

/* Poller data: the admin listener, and its connection slots (slot i is
 * ADMIN_TAG_CONN + i), beside proxy.c's listener bit. */
#define ADMIN_TAG_LISTENER 0xfffc
#define ADMIN_TAG_CONN 0xff00

/* Start-up, after the listeners are open: watch --admin if given, its
 * events tagged listener_data, its connections' conn_data + slot.  0,
 * or -1 with errno. */
int admin_init(uint64_t listener_data, uint64_t conn_data);

/* The admin listener is readable. */
void admin_accept(void);

/* An event on admin connection slot. */
void admin_event(unsigned slot);

/* The earliest deadline (ms): a timeout, or now when accepts wait. */
uint64_t admin_next(void);

/* After each turn: accepts left over, timeouts. */
void admin_tick(void);

/* Stop accepting: a restart's new process has the listener now, or the
 * drain is over.  Connections being answered finish. */
void admin_close(void);

/* Admin connections still open (each ends within its timeout). */
int admin_open(void);

/* In a worker after fork(): close the supervisor's admin listener and
 * connections (theirs, not the worker's to answer). */
void admin_forget(void);

#endif /* WSPROXY_ADMIN_H */
