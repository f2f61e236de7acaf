/*
 * echo.c - WebSocket echo upstream for the wsproxy bench.
 *
 *   echo -l 127.0.0.1:PORT [-q]
 *
 * One thread, epoll edge-triggered, each socket registered once.  Does the
 * server side of the RFC 6455 handshake and echoes every data frame back
 * unmasked with the same opcode and FIN bit, frame by frame as the bytes
 * arrive (a 1 MiB frame is never held whole: its header goes out as soon
 * as it is parsed and its payload is unmasked and written chunk by chunk).
 * Ping is answered with pong, pong is dropped, close is answered with the
 * same close payload after which the server closes the TCP connection
 * (server closes first, as RFC 6455 section 7.1.1 asks).
 *
 * Backpressure: when a write comes up short the rest is kept in a
 * per-connection buffer and the connection is not read again until it
 * has drained, so memory stays bounded.  An idle connection holds no
 * buffer (about 200 bytes of state), so 10k+ connections are cheap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <unistd.h>

#include "wsutil.h"

static void die(const char *m) { perror(m); exit(1); }

#define RSZ (256 * 1024)
#define MAX_HEAD 8192

enum { ST_HEAD, ST_OPEN, ST_CLOSING, ST_DEAD };

struct conn {
	int fd;
	uint8_t st;
	uint8_t rd;		/* may have unread bytes */
	uint8_t rdhup;		/* peer half-closed: keep reading until 0 */
	uint8_t wr;		/* socket writable as far as we know */
	/* request head (only during the handshake) */
	char *head;
	uint32_t head_len;
	/* frame parser */
	uint8_t hdr[14];
	uint8_t hdr_have;
	uint8_t in_payload;
	uint8_t opcode;		/* of the current frame */
	uint8_t key[4];
	uint64_t remain;	/* payload bytes left in the current frame */
	uint64_t ppos;		/* payload bytes seen in the current frame */
	uint8_t ctl[125];	/* control frame payload being collected */
	/* pending output */
	uint8_t *obuf;
	size_t olen, ooff;
	struct conn *next_dead;
};

static int quiet;
static uint8_t rbuf[RSZ];
static uint8_t sbuf[RSZ + 256];	/* staging for one read's worth of output */
static size_t slen;
static struct conn *dead;
static long nconns, maxconns;

static void conn_close(struct conn *c)
{
	if (c->st == ST_DEAD)
		return;
	close(c->fd);
	c->st = ST_DEAD;
	free(c->head);
	c->head = NULL;
	free(c->obuf);
	c->obuf = NULL;
	c->next_dead = dead;
	dead = c;
	nconns--;
}

/* Send sbuf[0..slen); keep what does not fit.  -1: connection closed. */
static int flush_staging(struct conn *c)
{
	size_t off = 0;

	while (off < slen && c->wr) {
		ssize_t n = write(c->fd, sbuf + off, slen - off);
		if (n > 0) {
			off += (size_t)n;
			if (off < slen)
				c->wr = 0;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			c->wr = 0;
		} else {
			conn_close(c);
			slen = 0;
			return -1;
		}
	}
	if (off < slen) {
		c->obuf = malloc(slen - off);
		if (!c->obuf)
			die("malloc");
		memcpy(c->obuf, sbuf + off, slen - off);
		c->olen = slen - off;
		c->ooff = 0;
	}
	slen = 0;
	return 0;
}

/* Write pending output.  Returns 1 when fully drained. */
static int flush_pending(struct conn *c)
{
	while (c->obuf && c->wr) {
		ssize_t n = write(c->fd, c->obuf + c->ooff, c->olen - c->ooff);
		if (n > 0) {
			c->ooff += (size_t)n;
			if (c->ooff == c->olen) {
				free(c->obuf);
				c->obuf = NULL;
				c->olen = c->ooff = 0;
			} else {
				c->wr = 0;
			}
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			c->wr = 0;
		} else {
			conn_close(c);
			return 0;
		}
	}
	return c->obuf == NULL;
}

static void put_header(int fin, int opcode, uint64_t len)
{
	uint8_t *h = sbuf + slen;

	h[0] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		h[1] = (uint8_t)len;
		slen += 2;
	} else if (len < 65536) {
		h[1] = 126;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		slen += 4;
	} else {
		int i;
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		slen += 10;
	}
}

/* Consume n frame bytes from p, appending the echo to sbuf. -1: protocol error */
static int frames(struct conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (c->st != ST_OPEN)
			return 0;	/* after a close: discard */
		if (!c->in_payload) {
			size_t need = 2;
			uint64_t len;
			int fin, op;

			while (n > 0 && c->hdr_have < need) {
				c->hdr[c->hdr_have++] = *p++;
				n--;
				if (c->hdr_have == 2) {
					uint8_t l = c->hdr[1] & 0x7f;
					need = 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) +
					       ((c->hdr[1] & 0x80) ? 4 : 0);
				}
			}
			if (c->hdr_have >= 2) {
				uint8_t l = c->hdr[1] & 0x7f;
				need = 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) +
				       ((c->hdr[1] & 0x80) ? 4 : 0);
			}
			if (c->hdr_have < need)
				return 0;
			fin = c->hdr[0] & 0x80;
			op = c->hdr[0] & 0x0f;
			len = c->hdr[1] & 0x7f;
			if (len == 126) {
				len = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
			} else if (len == 127) {
				int i;
				len = 0;
				for (i = 0; i < 8; i++)
					len = len << 8 | c->hdr[2 + i];
			}
			if (!(c->hdr[1] & 0x80))
				return -1;	/* client frames must be masked */
			memcpy(c->key, c->hdr + need - 4, 4);
			c->hdr_have = 0;
			c->opcode = (uint8_t)op;
			c->remain = len;
			c->ppos = 0;
			c->in_payload = 1;
			if (op >= 8) {
				if (len > 125 || !fin)
					return -1;
			} else {
				put_header(fin, op, len);
			}
		}
		if (c->in_payload) {
			size_t take = n < c->remain ? n : (size_t)c->remain;
			if (c->opcode >= 8) {
				ws_mask_copy(c->ctl + c->ppos, p, take, c->key, c->ppos);
			} else {
				ws_mask_copy(sbuf + slen, p, take, c->key, c->ppos);
				slen += take;
			}
			c->ppos += take;
			c->remain -= take;
			p += take;
			n -= take;
			if (c->remain == 0) {
				c->in_payload = 0;
				if (c->opcode == 8) {		/* close: answer, then close */
					put_header(1, 8, c->ppos);
					memcpy(sbuf + slen, c->ctl, c->ppos);
					slen += c->ppos;
					c->st = ST_CLOSING;
				} else if (c->opcode == 9) {	/* ping -> pong */
					put_header(1, 10, c->ppos);
					memcpy(sbuf + slen, c->ctl, c->ppos);
					slen += c->ppos;
				}
			}
		}
	}
	return 0;
}

static int handshake(struct conn *c, const uint8_t *p, size_t n, size_t *used)
{
	size_t hl, klen, take = n;
	const char *key;
	char acc[29];

	if (!c->head && !(c->head = malloc(MAX_HEAD)))
		die("malloc");
	if (take > MAX_HEAD - c->head_len)
		take = MAX_HEAD - c->head_len;
	memcpy(c->head + c->head_len, p, take);
	hl = http_head_len(c->head, c->head_len + take);
	if (!hl) {
		c->head_len += (uint32_t)take;
		*used = take;
		if (c->head_len == MAX_HEAD)
			return -1;
		return 0;
	}
	*used = hl - c->head_len;
	key = http_find_header(c->head, hl, "sec-websocket-key", &klen);
	if (!key || klen == 0 || klen > 64) {
		static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
					  "Connection: close\r\n\r\n";
		memcpy(sbuf, bad, sizeof bad - 1);
		slen = sizeof bad - 1;
		c->st = ST_CLOSING;
	} else {
		ws_accept(key, klen, acc);
		slen = (size_t)sprintf((char *)sbuf,
				       "HTTP/1.1 101 Switching Protocols\r\n"
				       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
				       "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
		c->st = ST_OPEN;
	}
	free(c->head);
	c->head = NULL;
	c->head_len = 0;
	return 0;
}

static void on_readable(struct conn *c)
{
	while (c->rd && c->st != ST_DEAD && !c->obuf) {
		ssize_t n = read(c->fd, rbuf, RSZ);
		if (n > 0) {
			size_t off = 0;
			if ((size_t)n < RSZ && !c->rdhup)
				c->rd = 0;	/* short read: drained (edge-triggered) */
			if (c->st == ST_HEAD) {
				size_t used;
				if (handshake(c, rbuf, (size_t)n, &used) < 0) {
					conn_close(c);
					return;
				}
				off = used;
			}
			if (c->st == ST_OPEN && frames(c, rbuf + off, (size_t)n - off) < 0) {
				/* protocol error: close 1002 and hang up */
				static const uint8_t cl[] = { 0x88, 2, 0x03, 0xea };
				memcpy(sbuf + slen, cl, sizeof cl);
				slen += sizeof cl;
				c->st = ST_CLOSING;
			}
			if (slen && flush_staging(c) < 0)
				return;
			if (c->st == ST_CLOSING && !c->obuf) {
				conn_close(c);
				return;
			}
		} else if (n == 0) {
			conn_close(c);
			return;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN) {
			c->rd = 0;
		} else {
			conn_close(c);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	const char *listen_addr = "127.0.0.1:9001";
	int lfd, ep, one = 1, i;
	struct epoll_event ev, evs[512];
	struct rlimit rl;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l") && i + 1 < argc)
			listen_addr = argv[++i];
		else if (!strcmp(argv[i], "-q"))
			quiet = 1;
		else {
			fprintf(stderr, "usage: echo -l HOST:PORT [-q]\n");
			return 64;
		}
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	if (parse_addr(listen_addr, &sa, "0.0.0.0") < 0) {
		fprintf(stderr, "echo: bad address %s\n", listen_addr);
		return 64;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("echo: bind");
	if (listen(lfd, 65535) < 0)
		die("listen");
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN | EPOLLET;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	if (!quiet)
		fprintf(stderr, "echo: listening on %s\n", listen_addr);

	for (;;) {
		int n = epoll_wait(ep, evs, 512, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			uint32_t e = evs[i].events;

			if (!c) {
				for (;;) {
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd < 0) {
						if (errno == EINTR || errno == ECONNABORTED)
							continue;
						if (errno == EMFILE || errno == ENFILE)
							fprintf(stderr, "echo: accept: %s (conns=%ld)\n",
								strerror(errno), nconns);
						break;
					}
					c = calloc(1, sizeof *c);
					if (!c)
						die("calloc");
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
					if (++nconns > maxconns)
						maxconns = nconns;
				}
				continue;
			}
			if (c->st == ST_DEAD)
				continue;
			if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				c->rd = 1;
			if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				c->rdhup = 1;
			if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				c->wr = 1;
			if (c->obuf) {
				if (!flush_pending(c))
					continue;
				if (c->st == ST_CLOSING) {
					conn_close(c);
					continue;
				}
			}
			on_readable(c);
		}
		while (dead) {
			struct conn *d = dead;
			dead = d->next_dead;
			free(d);
		}
	}
}
