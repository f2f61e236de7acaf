/*
 * ev_epoll.c - the Linux poller backend, included by proxy.c.
 *
 * Edge-triggered, each fd registered once for both directions (nginx's
 * discipline): the caller keeps "readable"/"writable" flags and reads or
 * writes until the kernel says EAGAIN, so no epoll_ctl is ever needed
 * after registration.  ev_kqueue.c defines the same functions.
 */
#include <sys/epoll.h>

static int ev_fd = -1;

static int
ev_init(void)
{
	ev_fd = epoll_create1(EPOLL_CLOEXEC);
	return ev_fd < 0 ? -1 : 0;
}

static int
ev_add(int fd, uint64_t data)
{
	struct epoll_event e;

	e.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
	e.data.u64 = data;
	return epoll_ctl(ev_fd, EPOLL_CTL_ADD, fd, &e);
}

static int
ev_add_listener(int fd, uint64_t data)
{
	struct epoll_event e;

	e.events = EPOLLIN | EPOLLET;
	e.data.u64 = data;
	return epoll_ctl(ev_fd, EPOLL_CTL_ADD, fd, &e);
}

/*
 * Wait up to timeout_ms (-1: forever) and fill out[] with at most max
 * events.  Returns the count; 0 on timeout or EINTR.
 */
static int
ev_wait(struct ev_event *out, int max, int timeout_ms)
{
	struct epoll_event ev[EV_BATCH];
	int i, n;

	if (max > EV_BATCH)
		max = EV_BATCH;
	n = epoll_wait(ev_fd, ev, max, timeout_ms);
	if (n < 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned f = 0;

		if (ev[i].events & EPOLLIN)
			f |= EV_READ;
		if (ev[i].events & EPOLLOUT)
			f |= EV_WRITE;
		/* ERR and HUP wake both directions so the error is seen. */
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			f |= EV_READ | EV_WRITE | EV_HUP;
		if (ev[i].events & EPOLLRDHUP)
			f |= EV_READ | EV_HUP;
		out[i].data = ev[i].data.u64;
		out[i].flags = f;
	}
	return n;
}
