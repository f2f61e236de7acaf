/*
 * ev_epoll.c - the Linux poller backend (see ev.h for the contract).
 *
 * Each fd is registered once with EPOLLIN | EPOLLOUT | EPOLLET |
 * EPOLLRDHUP, so no epoll_ctl is ever needed after registration.
 * Signals come through one signalfd, blocked for normal delivery, so
 * that they are read in the loop like any other input.
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"

static int epfd = -1;
static int sigfd = -1;
static sigset_t sigmask;

int
ev_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&sigmask);
	return epfd < 0 ? -1 : 0;
}

int
ev_fd(void)
{
	return epfd;
}

static int
ev_ctl(int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = events;
	e.data.u64 = data;
	return epoll_ctl(epfd, op, fd, &e);
}

int
ev_add(int fd, uint64_t data)
{
	return ev_ctl(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT | EPOLLET |
	    EPOLLRDHUP, data);
}

int
ev_add_listener(int fd, uint64_t data)
{
	return ev_ctl(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, data);
}

int
ev_add_shared_listener(int fd, uint64_t data)
{
#ifdef EPOLLEXCLUSIVE
	if (ev_ctl(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET | EPOLLEXCLUSIVE,
	    data) == 0)
		return 0;
	if (errno != EINVAL)	/* EINVAL: a kernel before 4.5 */
		return -1;
#endif
	return ev_add_listener(fd, data);
}

void
ev_forget(void)
{
	if (epfd >= 0)
		close(epfd);
	if (sigfd >= 0)
		close(sigfd);
	epfd = sigfd = -1;
	sigemptyset(&sigmask);
}

int
ev_del(int fd)
{
	return ev_ctl(EPOLL_CTL_DEL, fd, 0, 0);
}

int
ev_signal(int signo, uint64_t data)
{
	int fd;

	sigaddset(&sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &sigmask, NULL) < 0)
		return -1;
	/* The same signalfd takes the grown mask; registered once. */
	fd = signalfd(sigfd, &sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (sigfd < 0) {
		sigfd = fd;
		if (ev_ctl(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, data) < 0)
			return -1;
	}
	return 0;
}

int
ev_signal_next(void)
{
	struct signalfd_siginfo si;

	if (sigfd < 0 || read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

int
ev_wait(struct ev_event *out, int max, int timeout_ms)
{
	struct epoll_event ev[EV_BATCH];
	int i, n;

	if (max > EV_BATCH)
		max = EV_BATCH;
	n = epoll_wait(epfd, ev, max, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
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
