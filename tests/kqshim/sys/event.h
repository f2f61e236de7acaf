/*
 * sys/event.h - the kqueue(2) interface as FreeBSD declares it, for the
 * test-only shim in tests/kqshim/kqshim.c that runs ev_kqueue.c on Linux
 * (make check's kqueue suite; wsproxy(1) DESCRIPTION).  The values are
 * FreeBSD's; only what the shim implements is declared, so that code
 * using anything else fails to compile here rather than at run time.
 */
#ifndef KQSHIM_SYS_EVENT_H
#define KQSHIM_SYS_EVENT_H

#include <stdint.h>
#include <time.h>

#define EVFILT_READ	(-1)
#define EVFILT_WRITE	(-2)
#define EVFILT_SIGNAL	(-6)

/* Actions and options (EV_ONESHOT and the like are refused: EINVAL). */
#define EV_ADD		0x0001	/* add, or modify an existing knote */
#define EV_DELETE	0x0002	/* remove; ENOENT when there is none */
#define EV_CLEAR	0x0020	/* reset the state once reported: edges */

/* Returned. */
#define EV_ERROR	0x4000	/* a change failed: its errno in data */
#define EV_EOF		0x8000	/* no more to read (or write) */

struct kevent {
	uintptr_t	 ident;		/* the fd, or the signal number */
	short		 filter;	/* EVFILT_* */
	unsigned short	 flags;		/* EV_* */
	unsigned int	 fflags;	/* filter flags (always 0 here) */
	int64_t		 data;		/* bytes, room, deliveries, errno */
	void		*udata;		/* the caller's, returned as given */
	uint64_t	 ext[4];
};

#define EV_SET(kevp_, a, b, c, d, e, f) do {	\
	struct kevent *kevp = (kevp_);		\
	kevp->ident = (a);			\
	kevp->filter = (b);			\
	kevp->flags = (c);			\
	kevp->fflags = (d);			\
	kevp->data = (e);			\
	kevp->udata = (f);			\
	kevp->ext[0] = kevp->ext[1] = 0;	\
	kevp->ext[2] = kevp->ext[3] = 0;	\
} while (0)

int kqueue(void);
int kevent(int kq, const struct kevent *changelist, int nchanges,
    struct kevent *eventlist, int nevents, const struct timespec *timeout);

#endif /* KQSHIM_SYS_EVENT_H */
