/*
 * kqshim.c - kqueue(2) and kevent(2) on Linux, over epoll and a
 * signalfd.  Test-only: make check links it with ev_kqueue.c into
 * build/wsproxy-kqueue so that the kqueue backend runs the integration
 * suite (wsproxy(1) DESCRIPTION).  Never part of a binary that ships.
 *
 * What it keeps of FreeBSD's kqueue(2), as ev_kqueue.c relies on it:
 *  - A knote is (ident, filter).  EVFILT_READ and EVFILT_WRITE on one fd
 *    are two knotes, each with its own udata, EV_CLEAR and edge, and one
 *    kevent() may return both as two events.  Each filter has an epoll
 *    set of its own: one epoll entry for both directions would report
 *    its whole mask on any edge, so a read edge would also say
 *    "writable".  The kqueue's fd is an epoll set holding those two and
 *    the signalfd.
 *  - EV_ADD adds a knote or modifies the one there; EV_DELETE of a knote
 *    that is not there is ENOENT.  A change that fails goes into the
 *    event list with EV_ERROR and its errno in data when there is room,
 *    and kevent() then returns those without waiting; with no room it
 *    returns -1 with that errno.
 *  - EV_EOF on the read filter once the peer sends no more (EPOLLRDHUP,
 *    EPOLLHUP), on the write filter once the connection is gone
 *    (EPOLLHUP).  A pending error alone (EPOLLERR: a UDP socket's ICMP
 *    error) fires both filters without EV_EOF.
 *  - data: bytes waiting (FIONREAD) for EVFILT_READ; for EVFILT_WRITE on
 *    a socket, SO_SNDBUF less the bytes queued (SIOCOUTQ), which is
 *    roughly kqueue's room in the send buffer; deliveries since the last
 *    report for EVFILT_SIGNAL.
 *  - EVFILT_SIGNAL records a signal whatever its disposition, SIG_IGN
 *    included, and is always EV_CLEAR.  SIGCHLD set to SIG_IGN is not
 *    recorded, on a BSD as here: Linux then sends no SIGCHLD at all and
 *    reaps the children itself.
 *  - Closing an fd removes its knotes, even while the file stays open
 *    through another descriptor (close() below).
 *  - The timeout: NULL waits for ever, zero polls; it is rounded up to
 *    milliseconds, so the wait is never shorter than asked.
 *  - A child after fork(2) has no kqueue (EBADF).
 *
 * What it does not do:
 *  - fflags is always 0, where kqueue puts the socket's pending error
 *    with EV_EOF: Linux cannot read that error without clearing it
 *    (SO_ERROR), which would take it from the program's own getsockopt()
 *    or read().  ev_kqueue.c does not read fflags.
 *  - data is 0 where FIONREAD or SIOCOUTQ have no answer: a listening
 *    socket (kqueue: the accept queue's length), a pipe's write end.
 *  - A watched signal is blocked, so that the signalfd takes it: a
 *    handler would not run, where a BSD runs it and records the signal
 *    too (ev_kqueue.c ignores its signals).  Linux keeps one pending
 *    instance of a standard signal, so deliveries between two kevent()
 *    calls may count as one.  A signal is recorded by one kqueue only.
 *  - EV_ONESHOT, EV_DISPATCH, EV_RECEIPT, EV_ENABLE, EV_DISABLE, other
 *    filters, and regular files (epoll refuses them) are EINVAL or
 *    EPERM; EV_EOF on the write filter after a local shutdown(SHUT_WR)
 *    is not seen (epoll says nothing there).
 */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/sockios.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sys/event.h"

#define KQ_MAX		8	/* kqueues open at once */
#define KQ_SYSFLAGS	0xf000	/* EV_EOF, EV_ERROR: ignored in a change */
#define KQ_BATCH	64	/* epoll events read at a time */

struct knote {
	void		*udata;
	unsigned short	 flags;		/* as registered: EV_CLEAR */
	unsigned char	 on;		/* registered, as far as we know */
};

struct kq {
	int		 used;
	int		 fd;		/* epoll of set[] and sigfd: the kqueue */
	int		 set[2];	/* epoll per filter: [0] read, [1] write */
	int		 sigfd;		/* -1 until a signal is watched */
	pid_t		 pid;		/* the process that opened it */
	unsigned	 turn;		/* whose set is read first: fairness */
	struct knote	*note[2];	/* per filter, indexed by fd */
	size_t		 nnote[2];
	sigset_t	 sigs;		/* the signals watched */
	void		*sig_udata[NSIG];
	int64_t		 sig_count[NSIG];	/* deliveries not yet reported */
};

static struct kq kqs[KQ_MAX];

/* The system call itself: close() is taken over below. */
static int
sys_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static int
kq_ctl(int epfd, int op, int fd, uint32_t events)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = events;
	e.data.fd = fd;
	return epoll_ctl(epfd, op, fd, &e);
}

static struct kq *
kq_find(int fd)
{
	pid_t pid = getpid();
	int i;

	for (i = 0; i < KQ_MAX; i++)
		if (kqs[i].used && kqs[i].fd == fd && kqs[i].pid == pid)
			return &kqs[i];
	return NULL;
}

static int
kq_free(struct kq *k)
{
	int i;

	for (i = 0; i < 2; i++) {
		(void)sys_close(k->set[i]);
		free(k->note[i]);
	}
	if (k->sigfd >= 0) {
		(void)sys_close(k->sigfd);
		(void)sigprocmask(SIG_UNBLOCK, &k->sigs, NULL);
	}
	k->used = 0;
	return sys_close(k->fd);
}

int
kqueue(void)
{
	struct kq *k = NULL;
	int i;

	for (i = 0; i < KQ_MAX && k == NULL; i++)
		if (!kqs[i].used)
			k = &kqs[i];
	if (k == NULL) {
		errno = EMFILE;
		return -1;
	}
	memset(k, 0, sizeof(*k));
	k->sigfd = -1;
	sigemptyset(&k->sigs);
	/* The kqueue's fd is opened last, so that it is the highest of the
	 * three, as the one fd of a real kqueue would be. */
	k->set[0] = epoll_create1(EPOLL_CLOEXEC);
	k->set[1] = epoll_create1(EPOLL_CLOEXEC);
	k->fd = epoll_create1(EPOLL_CLOEXEC);
	if (k->set[0] < 0 || k->set[1] < 0 || k->fd < 0 ||
	    kq_ctl(k->fd, EPOLL_CTL_ADD, k->set[0], EPOLLIN) < 0 ||
	    kq_ctl(k->fd, EPOLL_CTL_ADD, k->set[1], EPOLLIN) < 0) {
		int e = errno;

		for (i = 0; i < 2; i++)
			if (k->set[i] >= 0)
				(void)sys_close(k->set[i]);
		if (k->fd >= 0)
			(void)sys_close(k->fd);
		errno = e;
		return -1;
	}
	k->pid = getpid();
	k->used = 1;
	return k->fd;
}

/* fd's knote for filter i, the table grown to hold it; NULL: ENOMEM. */
static struct knote *
knote_get(struct kq *k, int i, int fd)
{
	size_t n = k->nnote[i], m = n ? n : 64;
	struct knote *p;

	if ((size_t)fd < n)
		return &k->note[i][fd];
	while (m <= (size_t)fd)
		m *= 2;
	if ((p = realloc(k->note[i], m * sizeof(*p))) == NULL)
		return NULL;
	memset(p + n, 0, (m - n) * sizeof(*p));
	k->note[i] = p;
	k->nnote[i] = m;
	return &p[fd];
}

/* EVFILT_READ (i 0) or EVFILT_WRITE (i 1): 0 or an errno. */
static int
change_fd(struct kq *k, int i, const struct kevent *c)
{
	struct knote *kn;
	uint32_t events;
	int fd;

	if (c->ident > INT_MAX)
		return EBADF;
	fd = (int)c->ident;
	if (c->flags & EV_DELETE) {
		if (kq_ctl(k->set[i], EPOLL_CTL_DEL, fd, 0) < 0)
			return errno;
		if ((size_t)fd < k->nnote[i])
			k->note[i][fd].on = 0;
		return 0;
	}
	if ((kn = knote_get(k, i, fd)) == NULL)
		return ENOMEM;
	events = i ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
	if (c->flags & EV_CLEAR)
		events |= EPOLLET;
	/* EV_ADD on a knote that is there modifies it. */
	if (kq_ctl(k->set[i], EPOLL_CTL_ADD, fd, events) < 0 &&
	    (errno != EEXIST ||
	    kq_ctl(k->set[i], EPOLL_CTL_MOD, fd, events) < 0))
		return errno;
	kn->udata = c->udata;
	kn->flags = c->flags & EV_CLEAR;
	kn->on = 1;
	return 0;
}

/* EVFILT_SIGNAL: the signal blocked and taken by the signalfd. */
static int
change_signal(struct kq *k, const struct kevent *c)
{
	sigset_t one;
	int sig, fd;

	if (c->ident == 0 || c->ident >= NSIG || c->ident == SIGKILL ||
	    c->ident == SIGSTOP)
		return EINVAL;	/* the last two cannot be blocked */
	sig = (int)c->ident;
	sigemptyset(&one);
	sigaddset(&one, sig);
	if (c->flags & EV_DELETE) {
		if (!sigismember(&k->sigs, sig))
			return ENOENT;
		sigdelset(&k->sigs, sig);
		k->sig_count[sig] = 0;
		if (signalfd(k->sigfd, &k->sigs, 0) < 0)
			return errno;
		/* Delivered as its disposition says again, as on a BSD. */
		return sigprocmask(SIG_UNBLOCK, &one, NULL) < 0 ? errno : 0;
	}
	if (sigprocmask(SIG_BLOCK, &one, NULL) < 0)
		return errno;
	if (!sigismember(&k->sigs, sig))
		k->sig_count[sig] = 0;
	sigaddset(&k->sigs, sig);
	fd = signalfd(k->sigfd, &k->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return errno;
	if (k->sigfd < 0) {
		k->sigfd = fd;
		if (kq_ctl(k->fd, EPOLL_CTL_ADD, fd, EPOLLIN) < 0)
			return errno;
	}
	k->sig_udata[sig] = c->udata;
	return 0;
}

static int
change(struct kq *k, const struct kevent *c)
{
	unsigned flags = (unsigned)c->flags & ~(unsigned)KQ_SYSFLAGS;
	unsigned act = flags & (EV_ADD | EV_DELETE);

	if ((flags & ~(unsigned)(EV_ADD | EV_DELETE | EV_CLEAR)) != 0 ||
	    (act != EV_ADD && act != EV_DELETE))
		return EINVAL;
	switch (c->filter) {
	case EVFILT_READ:
		return change_fd(k, 0, c);
	case EVFILT_WRITE:
		return change_fd(k, 1, c);
	case EVFILT_SIGNAL:
		return change_signal(k, c);
	default:
		return EINVAL;
	}
}

/* One epoll event of filter i's set, as kqueue reports it. */
static void
fd_event(const struct kq *k, int i, int fd, uint32_t ev, struct kevent *out)
{
	const struct knote *kn = (size_t)fd < k->nnote[i] ?
	    &k->note[i][fd] : NULL;
	unsigned short flags = kn != NULL ? kn->flags : 0;
	socklen_t sl = sizeof(int);
	int64_t data = 0;
	int n, room;

	if (i == 0) {
		if (ioctl(fd, FIONREAD, &n) == 0)
			data = n;
		if (ev & (EPOLLRDHUP | EPOLLHUP))
			flags |= EV_EOF;
	} else {
		if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &room, &sl) == 0 &&
		    ioctl(fd, SIOCOUTQ, &n) == 0 && room > n)
			data = room - n;
		if (ev & EPOLLHUP)
			flags |= EV_EOF;
	}
	EV_SET(out, (uintptr_t)fd, (short)(i ? EVFILT_WRITE : EVFILT_READ),
	    flags, 0, data, kn != NULL ? kn->udata : NULL);
}

/* Filter i's events that are ready, at most max. */
static int
fd_events(struct kq *k, int i, struct kevent *out, int max)
{
	struct epoll_event e[KQ_BATCH];
	int got = 0, want, n, j;

	while (got < max) {
		want = max - got < KQ_BATCH ? max - got : KQ_BATCH;
		if ((n = epoll_wait(k->set[i], e, want, 0)) <= 0)
			break;
		for (j = 0; j < n; j++)
			fd_event(k, i, e[j].data.fd, e[j].events, &out[got++]);
		if (n < want)
			break;
	}
	return got;
}

/* The signals that arrived, one event per signal with its count. */
static int
signal_events(struct kq *k, struct kevent *out, int max)
{
	struct signalfd_siginfo si;
	int sig, got = 0;

	if (k->sigfd < 0)
		return 0;
	while (read(k->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo < NSIG &&
		    sigismember(&k->sigs, (int)si.ssi_signo))
			k->sig_count[si.ssi_signo]++;
	for (sig = 1; sig < NSIG && got < max; sig++)
		if (k->sig_count[sig] > 0) {
			EV_SET(&out[got], (uintptr_t)sig, EVFILT_SIGNAL,
			    EV_CLEAR, 0, k->sig_count[sig],
			    k->sig_udata[sig]);
			k->sig_count[sig] = 0;
			got++;
		}
	return got;
}

/* Everything ready now, without waiting.  The two filters' sets take
 * turns at going first, so that neither can starve the other. */
static int
harvest(struct kq *k, struct kevent *out, int max)
{
	int got = signal_events(k, out, max);
	int first = (int)(k->turn++ & 1);

	got += fd_events(k, first, out + got, max - got);
	got += fd_events(k, !first, out + got, max - got);
	return got;
}

/* Milliseconds from now to end, rounded up; 0 once it has passed. */
static int
ms_until(const struct timespec *end)
{
	struct timespec now;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (int64_t)(end->tv_sec - now.tv_sec) * 1000000000 +
	    (end->tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return 0;
	if (ns / 1000000 >= INT_MAX)
		return INT_MAX;
	return (int)((ns + 999999) / 1000000);
}

static int
scan(struct kq *k, struct kevent *out, int max, const struct timespec *ts)
{
	struct epoll_event e;
	struct timespec end;
	int got, ms;

	if (ts != NULL) {
		if (ts->tv_sec < 0 || ts->tv_nsec < 0 ||
		    ts->tv_nsec >= 1000000000L) {
			errno = EINVAL;
			return -1;
		}
		if (ts->tv_sec > (time_t)INT_MAX)
			ts = NULL;	/* decades: for ever */
	}
	if (ts != NULL) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += ts->tv_sec;
		end.tv_nsec += ts->tv_nsec;
		if (end.tv_nsec >= 1000000000L) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000L;
		}
	}
	for (;;) {
		if ((got = harvest(k, out, max)) > 0)
			return got;
		ms = ts != NULL ? ms_until(&end) : -1;
		if (ms == 0)
			return 0;
		/* Something is ready, or it is time: look again. */
		if (epoll_wait(k->fd, &e, 1, ms) < 0)
			return -1;
	}
}

int
kevent(int kqfd, const struct kevent *changelist, int nchanges,
    struct kevent *eventlist, int nevents, const struct timespec *timeout)
{
	struct kq *k = kq_find(kqfd);
	struct kevent c;
	int i, err, nerr = 0;

	if (k == NULL) {
		errno = EBADF;
		return -1;
	}
	if (nchanges < 0 || nevents < 0) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < nchanges; i++) {
		c = changelist[i];	/* the two lists may be one array */
		if ((err = change(k, &c)) == 0)
			continue;
		if (nevents == 0) {
			errno = err;
			return -1;
		}
		c.flags = EV_ERROR;
		c.data = err;
		eventlist[nerr++] = c;
		nevents--;
	}
	if (nerr > 0 || nevents == 0)
		return nerr;
	return scan(k, eventlist, nevents, timeout);
}

/*
 * kqueue drops an fd's knotes when that fd is closed.  epoll drops a
 * registration only when the file's last descriptor goes, so a file
 * still open through a dup, or in a child after fork(2), would go on
 * reporting under a number that may be reused.  close() is therefore
 * this one wherever the shim is linked in.
 */
int
close(int fd)
{
	pid_t pid = getpid();
	int i, j;

	for (i = 0; i < KQ_MAX; i++) {
		struct kq *k = &kqs[i];

		if (!k->used || k->pid != pid)
			continue;
		if (fd == k->fd)
			return kq_free(k);
		for (j = 0; j < 2; j++)
			if ((size_t)fd < k->nnote[j] && k->note[j][fd].on) {
				(void)kq_ctl(k->set[j], EPOLL_CTL_DEL, fd, 0);
				k->note[j][fd].on = 0;
			}
	}
	return sys_close(fd);
}
