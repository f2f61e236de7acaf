/*
 * ev.h - the poller contract (Redis ae's split): ev_epoll.c on Linux,
 * ev_kqueue.c on the BSDs and macOS, one of them linked in.
 *
 * Edge-triggered, each fd registered once for both directions (nginx's
 * discipline): the caller keeps "readable"/"writable" flags and reads or
 * writes until the kernel says EAGAIN, so nothing is ever re-armed.
 * ERR and HUP wake both directions so that the error is seen.  Signals
 * reach the loop as events too (signalfd, EVFILT_SIGNAL): nothing is
 * done in a signal handler.
 */
#ifndef WSPROXY_EV_H
#define WSPROXY_EV_H

#include <stdint.h>

#define EV_READ 0x1
#define EV_WRITE 0x2
#define EV_HUP 0x4
#define EV_BATCH 512		/* most events one ev_wait() returns */

struct ev_event {
	uint64_t	 data;		/* what the fd was registered with */
	unsigned	 flags;		/* EV_READ | EV_WRITE | EV_HUP */
};

/* Open the poller: 0, or -1 with errno. */
int ev_init(void);

/* The poller's own fd (the last one start-up opened). */
int ev_fd(void);

/* Watch a connection for reading and writing, edge-triggered. */
int ev_add(int fd, uint64_t data);

/* Watch a listening socket for reading, edge-triggered. */
int ev_add_listener(int fd, uint64_t data);

/* Watch a listening socket that other processes watch too (--workers):
 * one connection wakes one of them (EPOLLEXCLUSIVE where there is
 * one, else like ev_add_listener()). */
int ev_add_shared_listener(int fd, uint64_t data);

/* In a child after fork(): let go of the parent's poller and signal
 * source, for ev_init() to open its own. */
void ev_forget(void);

/* Stop watching fd (before closing it while others share it, or to hand
 * a listener over); 0, or -1 with errno. */
int ev_del(int fd);

/*
 * Deliver signo as an event with data (flags EV_READ) instead of to a
 * handler: the signal is blocked (signalfd) or ignored (kqueue) and
 * queued for ev_signal_next().  0, or -1 with errno.
 */
int ev_signal(int signo, uint64_t data);

/* The next signal that arrived, or 0 when none is pending. */
int ev_signal_next(void);

/*
 * Wait up to timeout_ms (-1: forever) and fill out[] with at most max
 * events, at most one per fd (kqueue's read and write events for an fd
 * are merged): a handler may close its fd and open another with the
 * same number and data, and must not be told about the old one after.
 * Returns the count (0 on timeout or EINTR), or -1 when the poller
 * itself failed (errno set): the caller cannot go on.
 */
int ev_wait(struct ev_event *out, int max, int timeout_ms);

#endif /* WSPROXY_EV_H */
