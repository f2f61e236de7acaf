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
 * Check that l's address is [V6]:PORT, HOST:PORT, :PORT or unix:PATH
 * (absolute, fits a sockaddr_un): NULL, or why not (for exit 64 naming
 * --listen).
 */
const char *listen_check(const struct px_listener *l);

/* --listen-mode's octal text ("0660") as a mode up to 0777, or -1. */
int listen_mode_parse(const char *s);

/*
 * Remove the unix socket files this process bound or took over, each
 * only if it is still the same file; then forget them.  Registered with
 * atexit() once there is one, so every way out removes them.
 */
void listen_unlink(void);

/* A restart's new process holds the listeners now: their files are its
 * to remove, not this process's. */
void listen_handed_over(void);

/* Were listening sockets handed to this process (a restart, systemd)? */
int listen_inherited(void);

/*
 * Open every listener of px_cfg: a handed-over socket bound to the same
 * address, else a new one.  With no --listen, every handed-over socket
 * is a listener.  Handed-over sockets nothing uses are closed.  A
 * listener that cannot be bound is a message and exit 71, or 64 when
 * check is set (--check binds and closes each listener again, removing
 * the unix socket files it made).
 */
void listen_open(int check);

#endif /* WSPROXY_LISTEN_H */
