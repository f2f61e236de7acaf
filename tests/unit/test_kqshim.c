/*
 * test_kqshim.c - the kqueue shim (tests/kqshim/) against the FreeBSD
 * kqueue(2) behaviour ev_kqueue.c relies on, then ev_kqueue.c itself
 * through ev.h on top of it:
 *  - EVFILT_READ and EVFILT_WRITE are separate knotes with their own
 *    edges and udata, and one kevent() can return both;
 *  - EV_CLEAR reports an edge once, without it the state repeats;
 *  - EV_EOF with the bytes still waiting in data; a reset leaves the
 *    socket's error for the program to read;
 *  - EV_DELETE, ENOENT, EV_ERROR in the event list, EBADF, EINVAL;
 *  - closing an fd removes its knotes even while a dup keeps the file;
 *  - EVFILT_SIGNAL with SIG_IGN, counts, SIGCHLD's exception;
 *  - timeouts, and no kqueue in a child after fork(2);
 *  - ev_kqueue.c: SIGCHLD still reaches the loop and waitpid() still
 *    finds the child (SIG_IGN would have had it reaped by the kernel);
 *    an fd's two filters come out as one event.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../ev.h"
#include "check.h"

static int tag_r, tag_w, tag_sig;

static int
wait_kq(int kq, struct kevent *ev, int max, long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	return kevent(kq, NULL, 0, ev, max, &ts);
}

static int
change(int kq, uintptr_t ident, short filter, unsigned short flags,
    void *udata)
{
	struct kevent c;

	EV_SET(&c, ident, filter, flags, 0, 0, udata);
	return kevent(kq, &c, 1, NULL, 0, NULL);
}

/* The event for (ident, filter) among n, or NULL. */
static struct kevent *
find(struct kevent *ev, int n, int ident, short filter)
{
	int i;

	for (i = 0; i < n; i++)
		if (ev[i].ident == (uintptr_t)ident && ev[i].filter == filter)
			return &ev[i];
	return NULL;
}

static void
pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0) {
		perror("socketpair");
		_exit(2);
	}
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
filters(int kq)
{
	struct kevent ev[8], *r, *w;
	int a[2], b[2], n;

	pair(a);
	CHECK(change(kq, (uintptr_t)a[0], EVFILT_READ, EV_ADD | EV_CLEAR,
	    &tag_r) == 0, "EV_ADD read: %s", strerror(errno));
	CHECK(change(kq, (uintptr_t)a[0], EVFILT_WRITE, EV_ADD | EV_CLEAR,
	    &tag_w) == 0, "EV_ADD write: %s", strerror(errno));
	n = wait_kq(kq, ev, 8, 0);
	CHECK(n == 1 && ev[0].filter == EVFILT_WRITE &&
	    ev[0].ident == (uintptr_t)a[0] && ev[0].udata == &tag_w &&
	    ev[0].data > 0 && (ev[0].flags & EV_CLEAR) &&
	    !(ev[0].flags & EV_EOF), "a new socket: writable only (n %d)", n);
	n = wait_kq(kq, ev, 8, 0);
	CHECK(n == 0, "EV_CLEAR: the write edge once (n %d)", n);

	CHECK(write(a[1], "hello", 5) == 5, "write");
	n = wait_kq(kq, ev, 8, 1000);
	CHECK(n == 1 && ev[0].filter == EVFILT_READ && ev[0].data == 5 &&
	    ev[0].udata == &tag_r, "data in: one read event, data 5, and no"
	    " write event (n %d, filter %d)", n, n > 0 ? ev[0].filter : 0);
	n = wait_kq(kq, ev, 8, 0);
	CHECK(n == 0, "EV_CLEAR: not again while 5 bytes wait (n %d)", n);
	CHECK(write(a[1], "world", 5) == 5, "write");
	n = wait_kq(kq, ev, 8, 1000);
	CHECK(n == 1 && ev[0].filter == EVFILT_READ && ev[0].data == 10,
	    "more data: a new edge, data 10 (n %d)", n);

	/* The peer goes with 10 bytes unread: both filters, EV_EOF. */
	close(a[1]);
	n = wait_kq(kq, ev, 8, 1000);
	r = find(ev, n, a[0], EVFILT_READ);
	w = find(ev, n, a[0], EVFILT_WRITE);
	CHECK(n == 2 && r != NULL && w != NULL, "peer closed: two events"
	    " in one call (n %d)", n);
	CHECK(r != NULL && (r->flags & EV_EOF) && r->data == 10 &&
	    r->fflags == 0 && r->udata == &tag_r,
	    "read: EV_EOF with the 10 bytes still waiting");
	CHECK(w != NULL && (w->flags & EV_EOF) && w->udata == &tag_w,
	    "write: EV_EOF");
	close(a[0]);

	/* Without EV_CLEAR the state is reported on every call. */
	pair(b);
	CHECK(write(b[1], "abc", 3) == 3, "write");
	CHECK(change(kq, (uintptr_t)b[0], EVFILT_READ, EV_ADD, NULL) == 0,
	    "EV_ADD level");
	n = wait_kq(kq, ev, 8, 0);
	CHECK(n == 1 && ev[0].data == 3 && !(ev[0].flags & EV_CLEAR),
	    "level: reported (n %d)", n);
	n = wait_kq(kq, ev, 8, 0);
	CHECK(n == 1 && ev[0].data == 3, "level: reported again (n %d)", n);

	/* EV_ADD on a knote that is there modifies it: now EV_CLEAR. */
	CHECK(change(kq, (uintptr_t)b[0], EVFILT_READ, EV_ADD | EV_CLEAR,
	    &tag_r) == 0, "EV_ADD again");
	n = wait_kq(kq, ev, 8, 0);
	CHECK(n == 1 && ev[0].udata == &tag_r && (ev[0].flags & EV_CLEAR),
	    "modified: new udata and EV_CLEAR (n %d)", n);
	n = wait_kq(kq, ev, 8, 0);
	CHECK(n == 0, "modified: now an edge (n %d)", n);
	close(b[0]);
	close(b[1]);
}

static void
changes(int kq)
{
	struct kevent ch[2], ev[4];
	int a[2], n;

	pair(a);
	CHECK(write(a[1], "x", 1) == 1, "write");
	/* Both filters true when added: both in one call. */
	EV_SET(&ch[0], (uintptr_t)a[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0,
	    &tag_r);
	EV_SET(&ch[1], (uintptr_t)a[0], EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0,
	    &tag_w);
	n = kevent(kq, ch, 2, ev, 4, NULL);
	CHECK(n == 2 && find(ev, n, a[0], EVFILT_READ) != NULL &&
	    find(ev, n, a[0], EVFILT_WRITE) != NULL,
	    "two changes and a wait in one call: both events (n %d)", n);

	CHECK(change(kq, (uintptr_t)a[0], EVFILT_READ, EV_DELETE, NULL) == 0,
	    "EV_DELETE read");
	errno = 0;
	CHECK(change(kq, (uintptr_t)a[0], EVFILT_READ, EV_DELETE, NULL) < 0 &&
	    errno == ENOENT, "EV_DELETE again: ENOENT (%s)", strerror(errno));
	CHECK(write(a[1], "y", 1) == 1, "write");
	n = wait_kq(kq, ev, 4, 100);
	CHECK(n == 0, "deleted: no read event (n %d)", n);
	CHECK(change(kq, (uintptr_t)a[0], EVFILT_WRITE, EV_DELETE, NULL) == 0,
	    "the write knote outlived the read one's deletion");

	/* A failed change goes into the event list, the next is done. */
	EV_SET(&ch[0], (uintptr_t)a[0], EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
	EV_SET(&ch[1], (uintptr_t)a[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0,
	    &tag_r);
	n = kevent(kq, ch, 2, ev, 4, NULL);
	CHECK(n == 1 && ev[0].flags == EV_ERROR && ev[0].data == ENOENT &&
	    ev[0].filter == EVFILT_WRITE && ev[0].ident == (uintptr_t)a[0],
	    "EV_ERROR and ENOENT in the list, without waiting (n %d)", n);
	n = wait_kq(kq, ev, 4, 0);
	CHECK(n == 1 && ev[0].filter == EVFILT_READ && ev[0].data == 2,
	    "the change after the failed one was made (n %d)", n);

	errno = 0;
	CHECK(change(kq, 9999, EVFILT_READ, EV_ADD, NULL) < 0 &&
	    errno == EBADF, "an fd not open: EBADF (%s)", strerror(errno));
	errno = 0;
	CHECK(change(kq, (uintptr_t)a[0], EVFILT_READ, EV_ADD | 0x10, NULL) <
	    0 && errno == EINVAL, "EV_ONESHOT: EINVAL (%s)", strerror(errno));
	errno = 0;
	CHECK(change(kq, (uintptr_t)a[0], -7, EV_ADD, NULL) < 0 &&
	    errno == EINVAL, "EVFILT_TIMER: EINVAL (%s)", strerror(errno));
	close(a[0]);
	close(a[1]);
}

static void
closing(int kq)
{
	struct kevent ev[4];
	int a[2], d, n;

	/* close() drops the knotes even while a dup holds the file open
	 * (epoll alone would go on reporting it). */
	pair(a);
	d = dup(a[0]);
	CHECK(change(kq, (uintptr_t)a[0], EVFILT_READ, EV_ADD | EV_CLEAR,
	    NULL) == 0, "EV_ADD");
	close(a[0]);
	CHECK(write(a[1], "z", 1) == 1, "write");
	n = wait_kq(kq, ev, 4, 100);
	CHECK(n == 0, "closed fd: no event (n %d)", n);
	errno = 0;
	CHECK(change(kq, (uintptr_t)a[0], EVFILT_READ, EV_DELETE, NULL) < 0 &&
	    errno == EBADF, "closed fd: EBADF (%s)", strerror(errno));
	close(d);
	close(a[1]);
}

/* A reset over TCP: EV_EOF on both filters, and the error is still
 * there for the program to take. */
static void
reset(int kq)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct linger lg = { 1, 0 };
	struct kevent ev[4], *r, *w;
	int l, c, s, n, err = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sin, sl) < 0 ||
	    listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&sin, &sl) < 0) {
		perror("listen");
		_exit(2);
	}
	CHECK(change(kq, (uintptr_t)l, EVFILT_READ, EV_ADD | EV_CLEAR,
	    NULL) == 0, "EV_ADD listener");
	(void)connect(c, (struct sockaddr *)&sin, sl);
	n = wait_kq(kq, ev, 4, 1000);
	CHECK(n == 1 && ev[0].ident == (uintptr_t)l &&
	    ev[0].filter == EVFILT_READ, "listener: a read event (n %d)", n);
	s = accept(l, NULL, NULL);
	CHECK(change(kq, (uintptr_t)c, EVFILT_READ, EV_ADD | EV_CLEAR,
	    NULL) == 0, "EV_ADD read");
	CHECK(change(kq, (uintptr_t)c, EVFILT_WRITE, EV_ADD | EV_CLEAR,
	    NULL) == 0, "EV_ADD write");
	n = wait_kq(kq, ev, 4, 1000);
	CHECK(n == 1 && ev[0].filter == EVFILT_WRITE && ev[0].data > 0,
	    "connected: writable (n %d)", n);
	(void)setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	n = wait_kq(kq, ev, 4, 1000);
	r = find(ev, n, c, EVFILT_READ);
	w = find(ev, n, c, EVFILT_WRITE);
	CHECK(r != NULL && (r->flags & EV_EOF) && w != NULL &&
	    (w->flags & EV_EOF), "reset: EV_EOF on both filters (n %d)", n);
	sl = sizeof(err);
	(void)getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &sl);
	CHECK(err == ECONNRESET, "the error stays for the program: %s",
	    strerror(err));
	close(c);
	close(l);
}

static void
timeouts(int kq)
{
	struct timespec t0, bad = { 0, 1000000000L };
	struct kevent ev[2];
	long ms;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = wait_kq(kq, ev, 2, 150);
	ms = ms_since(&t0);
	CHECK(n == 0 && ms >= 150 && ms < 10000,
	    "nothing ready: 0 after 150 ms or more (n %d, %ld ms)", n, ms);
	n = kevent(kq, NULL, 0, NULL, 0, NULL);
	CHECK(n == 0, "no room for events: 0 at once, even with no timeout");
	errno = 0;
	n = kevent(kq, NULL, 0, ev, 2, &bad);
	CHECK(n < 0 && errno == EINVAL, "tv_nsec 1e9: EINVAL (%s)",
	    strerror(errno));
	errno = 0;
	n = kevent(12345, NULL, 0, ev, 2, &bad);
	CHECK(n < 0 && errno == EBADF, "not a kqueue: EBADF (%s)",
	    strerror(errno));
}

static void
signals(int kq)
{
	struct kevent ev[4], *e;
	pid_t pid;
	int i, n, status = 0;

	signal(SIGUSR1, SIG_IGN);
	CHECK(change(kq, SIGUSR1, EVFILT_SIGNAL, EV_ADD, &tag_sig) == 0,
	    "EV_ADD SIGUSR1: %s", strerror(errno));
	raise(SIGUSR1);
	n = wait_kq(kq, ev, 4, 1000);
	CHECK(n == 1 && ev[0].filter == EVFILT_SIGNAL &&
	    ev[0].ident == SIGUSR1 && ev[0].data == 1 &&
	    ev[0].udata == &tag_sig && (ev[0].flags & EV_CLEAR),
	    "SIG_IGN: recorded all the same, once, EV_CLEAR (n %d)", n);
	n = wait_kq(kq, ev, 4, 0);
	CHECK(n == 0, "signal: reported once (n %d)", n);
	/* A real-time signal is queued each time: data counts them. */
	signal(SIGRTMIN, SIG_IGN);
	CHECK(change(kq, (uintptr_t)SIGRTMIN, EVFILT_SIGNAL, EV_ADD, NULL) ==
	    0, "EV_ADD SIGRTMIN");
	for (i = 0; i < 3; i++)
		raise(SIGRTMIN);
	raise(SIGUSR1);
	n = wait_kq(kq, ev, 4, 1000);
	e = find(ev, n, SIGRTMIN, EVFILT_SIGNAL);
	CHECK(n == 2 && e != NULL && e->data == 3,
	    "three deliveries: data 3 (n %d)", n);
	CHECK(change(kq, SIGUSR1, EVFILT_SIGNAL, EV_DELETE, NULL) == 0,
	    "EV_DELETE SIGUSR1");
	errno = 0;
	CHECK(change(kq, SIGUSR1, EVFILT_SIGNAL, EV_DELETE, NULL) < 0 &&
	    errno == ENOENT, "EV_DELETE again: ENOENT (%s)", strerror(errno));
	raise(SIGUSR1);		/* ignored again, and nobody records it */
	n = wait_kq(kq, ev, 4, 50);
	CHECK(n == 0, "deleted: no event (n %d)", n);

	/* SIGCHLD at SIG_DFL is recorded and the child waits to be
	 * reaped; a child after fork has no kqueue. */
	signal(SIGCHLD, SIG_DFL);
	CHECK(change(kq, SIGCHLD, EVFILT_SIGNAL, EV_ADD, NULL) == 0,
	    "EV_ADD SIGCHLD");
	if ((pid = fork()) == 0)
		_exit(wait_kq(kq, ev, 4, 0) < 0 && errno == EBADF ? 7 : 1);
	n = wait_kq(kq, ev, 4, 5000);
	CHECK(n == 1 && ev[0].ident == SIGCHLD, "SIGCHLD: recorded (n %d)", n);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 7, "the child is there to reap, and it"
	    " found no kqueue (status %d)", status);
	/* SIGCHLD at SIG_IGN: the kernel reaps, and nothing is recorded. */
	signal(SIGCHLD, SIG_IGN);
	if ((pid = fork()) == 0)
		_exit(0);
	n = wait_kq(kq, ev, 4, 300);
	CHECK(n == 0, "SIGCHLD ignored: not recorded (n %d)", n);
	errno = 0;
	CHECK(waitpid(pid, &status, 0) < 0 && errno == ECHILD,
	    "SIGCHLD ignored: no child left to reap (%s)", strerror(errno));
	signal(SIGCHLD, SIG_DFL);
}

/* ev_kqueue.c on the shim: the contract of ev.h. */
static void
backend(void)
{
	struct ev_event ev[8];
	struct sigaction sa;
	unsigned got;
	pid_t pid;
	int a[2], i, n, status = 0;

	CHECK(ev_init() == 0 && ev_fd() >= 0, "ev_init");
	CHECK(ev_signal(SIGCHLD, 5) == 0 && ev_signal(SIGUSR2, 5) == 0,
	    "ev_signal");
	CHECK(sigaction(SIGUSR2, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN,
	    "SIGUSR2 ignored for normal delivery");
	CHECK(sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL,
	    "SIGCHLD left at SIG_DFL, so children are not reaped by the"
	    " kernel");
	if ((pid = fork()) == 0)
		_exit(3);
	n = ev_wait(ev, 8, 5000);
	CHECK(n == 1 && ev[0].data == 5 && ev[0].flags == EV_READ &&
	    ev_signal_next() == SIGCHLD && ev_signal_next() == 0,
	    "SIGCHLD reaches the loop (n %d)", n);
	CHECK(waitpid(pid, &status, WNOHANG) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 3, "waitpid() finds the child's status");
	raise(SIGUSR2);
	n = ev_wait(ev, 8, 1000);
	CHECK(n == 1 && ev[0].data == 5 && ev_signal_next() == SIGUSR2,
	    "SIGUSR2 reaches the loop (n %d)", n);

	pair(a);
	CHECK(ev_add(a[0], 77) == 0, "ev_add");
	n = ev_wait(ev, 8, 1000);
	CHECK(n == 1 && ev[0].data == 77 && ev[0].flags == EV_WRITE,
	    "new connection: EV_WRITE (n %d flags %u)", n, n ? ev[0].flags : 0);
	CHECK(write(a[1], "q", 1) == 1, "write");
	n = ev_wait(ev, 8, 1000);
	CHECK(n == 1 && ev[0].data == 77 && ev[0].flags == EV_READ,
	    "data: EV_READ (n %d flags %u)", n, n ? ev[0].flags : 0);
	/* Both filters fire: one event, as epoll gives, so that a handler
	 * that closes the fd and reuses its number and data (a connect
	 * retry) gets no second event about the old socket. */
	close(a[1]);
	n = ev_wait(ev, 8, 1000);
	for (got = 0, i = 0; i < n; i++)
		got |= ev[i].data == 77 ? ev[i].flags : 0;
	CHECK(n == 1 && got == (EV_READ | EV_WRITE | EV_HUP), "peer gone:"
	    " one event, EV_READ, EV_WRITE and EV_HUP (n %d flags %u)", n,
	    got);
	CHECK(ev_del(a[0]) == 0, "ev_del");
	CHECK(ev_del(a[0]) == 0, "ev_del of an fd not watched: ENOENT is"
	    " done");
	close(a[0]);
}

int
main(void)
{
	int kq = kqueue();

	if (kq < 0) {
		perror("kqueue");
		return 2;
	}
	filters(kq);
	changes(kq);
	closing(kq);
	reset(kq);
	timeouts(kq);
	signals(kq);
	close(kq);		/* its signals are unblocked again */
	backend();
	printf("test_kqshim: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
