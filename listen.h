/*
 * listen.h - the client listeners (listen.c): bound at start-up, or
 * taken over from the process before (a restart, wsproxy(1) SIGNALS)
 * or from systemd (socket activation, wsproxy(1) CONTAINERS).
 */
#ifndef WSPROXY_LISTEN_H
#define WSPROXY_LISTEN_H

#include <stddef.h>

struct px_listener;

/*
 * Check that l's address is [V6]:PORT, HOST:PORT or :PORT: NULL, or
 * why not (for exit 64 naming --listen).
 */
const char *listen_check(const struct px_listener *l);

/* Were listening sockets handed to this process (a restart, systemd)? */
int listen_inherited(void);

/*
 * Open every listener of px_cfg: a handed-over socket bound to the same
 * address, else a new one.  With no --listen, every handed-over socket
 * is a listener.  Handed-over sockets nothing uses are closed.  A
 * listener that cannot be bound is a message and exit 71, or 64 when
 * check is set (--check binds and closes each listener again).
 */
void listen_open(int check);

#endif /* WSPROXY_LISTEN_H */
