/*
 * ev_kqueue.c - the BSD and macOS poller backend (see ev.h).
 *
 * Each fd is registered once with EV_CLEAR (kqueue's edge trigger) for
 * reading and writing; EV_EOF reports the peer's FIN so the caller reads
 * until it sees the end.  Signals are EVFILT_SIGNAL events, their normal
 * delivery ignored; the numbers that arrived wait in a small queue for
 * ev_signal_next().
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "ev.h"

static int kq = -1;
static uint64_t sig_data;
static int sig_queue[16];		/* signal numbers not yet taken */
static unsigned sig_head, sig_tail;

int
ev_init(void)
{
	kq = kqueue();
	return kq < 0 ? -1 : 0;
}

int
ev_fd(void)
{
	return kq;
}

static int
ev_register(int fd, uint64_t data, int want_write)
{
	struct kevent kev[2];
	int n = 0;

	EV_SET(&kev[n++], (uintptr_t)fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0,
	    (void *)(uintptr_t)data);
	if (want_write)
		EV_SET(&kev[n++], (uintptr_t)fd, EVFILT_WRITE, EV_ADD | EV_CLEAR,
		    0, 0, (void *)(uintptr_t)data);
	return kevent(kq, kev, n, NULL, 0, NULL);
}

int
ev_add(int fd, uint64_t data)
{
	return ev_register(fd, data, 1);
}

int
ev_add_listener(int fd, uint64_t data)
{
	return ev_register(fd, data, 0);
}

/* kqueue has no exclusive wake-up: every worker hears of a connection
 * and the ones that find none in accept() go back to waiting. */
int
ev_add_shared_listener(int fd, uint64_t data)
{
	return ev_add_listener(fd, data);
}

void
ev_forget(void)
{
	/* A kqueue is not inherited: the fd is closed in the child already
	 * (kqshim's epoll one is inherited, and closed here). */
	if (kq >= 0)
		(void)close(kq);
	kq = -1;
	sig_head = sig_tail = 0;
}

int
ev_del(int fd)
{
	struct kevent kev[2];

	/* A listener has no write filter: delete each filter on its own,
	 * and take ENOENT as done. */
	EV_SET(&kev[0], (uintptr_t)fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	EV_SET(&kev[1], (uintptr_t)fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
	if (kevent(kq, &kev[0], 1, NULL, 0, NULL) < 0 && errno != ENOENT)
		return -1;
	if (kevent(kq, &kev[1], 1, NULL, 0, NULL) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int
ev_signal(int signo, uint64_t data)
{
	struct kevent kev;

	/*
	 * EVFILT_SIGNAL sees the signal even when it is ignored, so the
	 * normal delivery is turned off.  Not SIGCHLD's: ignoring it
	 * explicitly makes the kernel reap the children itself (waitpid()
	 * then finds none) and send no SIGCHLD, which kqueue then does not
	 * record either.  Its default action already ignores it.
	 */
	if (signo != SIGCHLD && signal(signo, SIG_IGN) == SIG_ERR)
		return -1;
	sig_data = data;
	EV_SET(&kev, (uintptr_t)signo, EVFILT_SIGNAL, EV_ADD | EV_CLEAR, 0, 0,
	    (void *)(uintptr_t)data);
	return kevent(kq, &kev, 1, NULL, 0, NULL);
}

int
ev_signal_next(void)
{
	if (sig_head == sig_tail)
		return 0;
	return sig_queue[sig_head++ % 16];
}

/* Where fd's event already is among out[0..m), or m. */
static int
ev_slot(const uintptr_t *ident, int m, uintptr_t fd)
{
	int j;

	for (j = 0; j < m && ident[j] != fd; j++)
		continue;
	return j;
}

/*
 * kqueue reports an fd's read and write filters as two events, often in
 * the same batch.  They are merged into one, as epoll returns one event
 * per fd: a handler may close its fd and open another that takes the
 * same number and data (a connect to the next upstream), and a second
 * event would then speak for the closed socket ("connected").  The
 * search is linear in the batch (at most EV_BATCH squared halved
 * comparisons for a full one).  All signals are one event too.
 */
int
ev_wait(struct ev_event *out, int max, int timeout_ms)
{
	struct kevent ev[EV_BATCH];
	uintptr_t ident[EV_BATCH];	/* out[j]'s fd; UINTPTR_MAX: signals */
	struct timespec ts, *tsp = NULL;
	int i, j, m, n;

	if (max > EV_BATCH)
		max = EV_BATCH;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	n = kevent(kq, NULL, 0, ev, max, tsp);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (i = m = 0; i < n; i++) {
		unsigned f = 0;
		uintptr_t id = ev[i].ident;

		if (ev[i].filter == EVFILT_SIGNAL) {
			/* One queue entry per arrival batch: kqueue counts
			 * repeats in ev[i].data; one is enough to act on. */
			if (sig_tail - sig_head < 16)
				sig_queue[sig_tail++ % 16] = (int)ev[i].ident;
			id = UINTPTR_MAX;
			f = EV_READ;
		} else {
			if (ev[i].filter == EVFILT_READ)
				f |= EV_READ;
			if (ev[i].filter == EVFILT_WRITE)
				f |= EV_WRITE;
			if (ev[i].flags & (EV_EOF | EV_ERROR))
				f |= EV_READ | EV_HUP;
		}
		if ((j = ev_slot(ident, m, id)) == m) {
			ident[m] = id;
			out[m].data = id == UINTPTR_MAX ? sig_data :
			    (uint64_t)(uintptr_t)ev[i].udata;
			out[m++].flags = f;
		} else
			out[j].flags |= f;
	}
	return m;
}
