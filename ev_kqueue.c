/*
 * ev_kqueue.c - the BSD/macOS poller backend, included by proxy.c.
 *
 * Same contract as ev_epoll.c: each fd is registered once with EV_CLEAR
 * (kqueue's edge trigger) for reading and writing; EV_EOF reports the
 * peer's FIN so the caller reads until it sees the end.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>

static int ev_fd = -1;

static int
ev_init(void)
{
	ev_fd = kqueue();
	return ev_fd < 0 ? -1 : 0;
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
	return kevent(ev_fd, kev, n, NULL, 0, NULL);
}

static int
ev_add(int fd, uint64_t data)
{
	return ev_register(fd, data, 1);
}

static int
ev_add_listener(int fd, uint64_t data)
{
	return ev_register(fd, data, 0);
}

static int
ev_wait(struct ev_event *out, int max, int timeout_ms)
{
	struct kevent ev[EV_BATCH];
	struct timespec ts, *tsp = NULL;
	int i, n;

	if (max > EV_BATCH)
		max = EV_BATCH;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	n = kevent(ev_fd, NULL, 0, ev, max, tsp);
	if (n < 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned f = 0;

		if (ev[i].filter == EVFILT_READ)
			f |= EV_READ;
		if (ev[i].filter == EVFILT_WRITE)
			f |= EV_WRITE;
		if (ev[i].flags & (EV_EOF | EV_ERROR))
			f |= EV_READ | EV_HUP;
		out[i].data = (uint64_t)(uintptr_t)ev[i].udata;
		out[i].flags = f;
	}
	return n;
}
