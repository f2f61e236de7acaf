/*
 * floor.c - the "floor relay": the least a relay can do with read/write.
 *
 *   floor -l 127.0.0.1:PORT -u 127.0.0.1:UPORT [-b BUFSIZE]
 *
 * For each accepted client it connects to the upstream and copies bytes
 * both ways.  One thread, epoll edge-triggered; every fd is registered
 * exactly once with EPOLLIN|EPOLLOUT|EPOLLET|EPOLLRDHUP (no epoll_ctl
 * afterwards); one buffer per direction; no parsing, no timers; a read
 * that returns less than asked means the socket is drained, so there is
 * no extra read bound to return EAGAIN (a pending FIN was announced by
 * EPOLLRDHUP, which keeps the side readable until read returns 0).
 * A short write likewise means the socket is full.
 *
 * It is not a proxy (no HTTP, no WebSocket): it shows the cost floor that
 * any user-space relay pays, so the bench can tell how much of a proxy's
 * CPU is its own work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wsutil.h"

static void die(const char *m) { perror(m); exit(1); }

struct side {
	int fd;
	uint8_t rd, wr, rdhup, eof, shut;
};

struct pair {
	struct side s[2];	/* 0 client, 1 upstream */
	char *buf[2];		/* buf[d]: bytes read from s[d], to be written to s[!d] */
	uint32_t off[2], len[2];
	uint8_t connecting, dead;
	struct pair *next_dead;
};

/*
 * 32 KiB per direction: measured here, it relays 1 MiB streams for the
 * least CPU.  Not 64 KiB: a 65536-byte write on loopback (MTU 65536, MSS
 * 65483) leaves a 53-byte second segment each time and costs twice as much.
 */
static size_t bufsz = 32 * 1024;
static struct pair *dead;

static void pair_close(struct pair *p)
{
	if (p->dead)
		return;
	p->dead = 1;
	close(p->s[0].fd);
	if (p->s[1].fd >= 0)
		close(p->s[1].fd);
	p->next_dead = dead;
	dead = p;
}

/* Move bytes from s[d] to s[!d] until blocked.  -1: pair closed. */
static int pump(struct pair *p, int d)
{
	struct side *src = &p->s[d], *dst = &p->s[!d];

	for (;;) {
		if (p->len[d]) {
			ssize_t n;
			if (!dst->wr)
				return 0;
			n = write(dst->fd, p->buf[d] + p->off[d], p->len[d]);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN) {
					dst->wr = 0;
					return 0;
				}
				pair_close(p);
				return -1;
			}
			p->off[d] += (uint32_t)n;
			p->len[d] -= (uint32_t)n;
			if (p->len[d]) {	/* short write: socket buffer full */
				dst->wr = 0;
				return 0;
			}
			p->off[d] = 0;
		}
		if (src->eof) {
			if (!dst->shut) {
				shutdown(dst->fd, SHUT_WR);
				dst->shut = 1;
			}
			return 0;
		}
		if (!src->rd)
			return 0;
		{
			ssize_t n = read(src->fd, p->buf[d], bufsz);
			if (n > 0) {
				p->len[d] = (uint32_t)n;
				if ((size_t)n < bufsz && !src->rdhup)
					src->rd = 0;	/* short read: drained */
			} else if (n == 0) {
				src->eof = 1;
			} else if (errno == EINTR) {
				continue;
			} else if (errno == EAGAIN) {
				src->rd = 0;
				return 0;
			} else {
				pair_close(p);
				return -1;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in lsa, usa;
	const char *la = NULL, *ua = NULL;
	int lfd, ep, one = 1, i;
	struct epoll_event ev, evs[512];
	struct rlimit rl;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l") && i + 1 < argc)
			la = argv[++i];
		else if (!strcmp(argv[i], "-u") && i + 1 < argc)
			ua = argv[++i];
		else if (!strcmp(argv[i], "-b") && i + 1 < argc)
			bufsz = (size_t)strtoul(argv[++i], NULL, 0);
		else
			la = NULL, i = argc;
	}
	if (!la || !ua || parse_addr(la, &lsa, "0.0.0.0") < 0 || parse_addr(ua, &usa, "0.0.0.0") < 0 ||
	    bufsz < 512 || bufsz > (1u << 30)) {
		fprintf(stderr, "usage: floor -l HOST:PORT -u HOST:PORT [-b BUFSIZE]\n");
		return 64;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&lsa, sizeof lsa) < 0)
		die("floor: bind");
	if (listen(lfd, 65535) < 0)
		die("listen");
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 0;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

	for (;;) {
		int n = epoll_wait(ep, evs, 512, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			uintptr_t tag = (uintptr_t)evs[i].data.u64;
			uint32_t e = evs[i].events;
			struct pair *p;
			int k;

			if (!tag) {
				for (;;) {
					int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					int ufd, r;
					if (cfd < 0) {
						if (errno == EINTR || errno == ECONNABORTED)
							continue;
						if (errno != EAGAIN)
							perror("floor: accept");
						break;
					}
					ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
					if (ufd < 0) {
						perror("floor: socket");
						close(cfd);
						continue;
					}
					setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					r = connect(ufd, (struct sockaddr *)&usa, sizeof usa);
					if (r < 0 && errno != EINPROGRESS) {
						perror("floor: connect");
						close(cfd);
						close(ufd);
						continue;
					}
					p = calloc(1, sizeof *p);
					if (!p || !(p->buf[0] = malloc(bufsz)) ||
					    !(p->buf[1] = malloc(bufsz)))
						die("malloc");
					p->s[0].fd = cfd;
					p->s[1].fd = ufd;
					p->connecting = r < 0;
					for (k = 0; k < 2; k++) {
						ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
						ev.data.u64 = (uintptr_t)p | (uintptr_t)k | 2u;
						epoll_ctl(ep, EPOLL_CTL_ADD, p->s[k].fd, &ev);
					}
				}
				continue;
			}
			p = (struct pair *)(tag & ~(uintptr_t)3);
			k = (int)(tag & 1);
			if (p->dead)
				continue;
			if (k == 1 && p->connecting) {
				int err = 0;
				socklen_t el = sizeof err;
				if (!(e & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
					continue;
				getsockopt(p->s[1].fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err) {
					pair_close(p);
					continue;
				}
				p->connecting = 0;
			}
			if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				p->s[k].rd = 1;
			if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				p->s[k].rdhup = 1;
			if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				p->s[k].wr = 1;
			if (p->connecting)
				continue;	/* client bytes wait until the upstream is up */
			if (pump(p, 0) < 0 || pump(p, 1) < 0)
				continue;
			if (p->s[0].eof && p->s[1].eof && !p->len[0] && !p->len[1])
				pair_close(p);
		}
		while (dead) {
			struct pair *d = dead;
			dead = d->next_dead;
			free(d->buf[0]);
			free(d->buf[1]);
			free(d);
		}
	}
}
