/*
 * loadgen.c - WebSocket load generator for the wsproxy bench.
 *
 *   loadgen --mode MODE --target HOST:PORT [options]
 *
 * One thread, epoll edge-triggered, many connections.  It does the client
 * handshake itself (random Sec-WebSocket-Key, Sec-WebSocket-Accept checked),
 * masks every frame it sends with a fresh random key (RFC 6455 5.3), and
 * verifies every byte echoed back: each message carries its sequence number
 * and a pattern derived from (connection, sequence), so loss, reordering,
 * truncation or corruption are all caught and counted as errors.
 *
 * Modes:
 *   pingpong   each of --conns connections sends one --size message, waits
 *              for its echo, sends the next; latency = send to echo.
 *   rate       open loop: --rate messages/s in total, round-robin over the
 *              connections, whether or not earlier echoes came back;
 *              latency is measured from the *scheduled* send time, so a
 *              stalled proxy is not hidden (no coordinated omission).
 *   stream     each connection streams --size messages (e.g. 1 MiB) back to
 *              back, at most --window in flight; reports throughput.
 *   idle       open --conns connections, report when all are established,
 *              hold them until --duration seconds pass or SIGUSR1/SIGTERM,
 *              then send one message on each and check the echoes.  With
 *              --pids, RSS of those processes is sampled before connecting
 *              and while holding: KiB per idle connection.
 *   handshake  --conns concurrent loops of: connect, upgrade, one --size
 *              message, close handshake (server closes TCP first).
 *   probe      one blocking connect/upgrade/echo/close, retried until it
 *              works or --timeout passes; exit status 0 when it worked.
 *
 * The first --warmup seconds of traffic are not measured; then a window of
 * --duration seconds is.  With --pids PID,PID,... the utime+stime of those
 * processes (from /proc/PID/stat) is read at both ends of the window.
 * noise_pct is the CPU used during the window by everything but those,
 * loadgen itself, --other-pids (the echo) and kernel threads, in % of one
 * CPU (interrupt time left out): a figure taken while it is high is not
 * worth much.
 *
 * --tls speaks wss:// to the target (loadgen-tls only, see tlsclient.h):
 * TLS 1.2, a full handshake on every connection; the suite and group of the
 * first session are part of the output.  --settle S (idle): after the
 * echoes, hold the pairs S seconds more and sample RSS again (the proxy's
 * memory per pair after traffic); the first sample is also taken S seconds
 * after the last connection is established.
 *
 * --go-file PATH (pingpong, rate, stream): once every connection is settled,
 * write --ready-file and wait until PATH exists before sending, so that
 * several loadgens start their traffic together (bench/multi.sh).
 * connect_s in the output is the time from start to the last connection
 * settled.  --source ADDR binds each connection to that local address
 * (e.g. 127.0.0.N: each loadgen its own ephemeral ports).  --stall S: when
 * no connection has been established for S seconds while connecting, the
 * rest are given up (counted as errors): a proxy at its limit (HAProxy's
 * maxconn) leaves them waiting, and the bench reports how many it reached.
 *
 * Output: one line of key=value pairs on stdout; diagnostics on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "measure.h"
#include "probe.h"
#include "tlsclient.h"
#include "wsutil.h"

#define RSZ (256 * 1024)
#define PATSPAN 8192
#define STREAM_OBUF (256 * 1024)
#define MAX_OBUF (64u << 20)
#define SEC 1000000000ull

enum { M_PINGPONG, M_RATE, M_STREAM, M_IDLE, M_HANDSHAKE, M_PROBE };
static const char *mode_names[] = { "pingpong", "rate", "stream", "idle", "handshake", "probe" };

enum { ST_NONE, ST_CONNECTING, ST_TLSHS, ST_UPGRADING, ST_OPEN, ST_CLOSING, ST_WAITEOF,
       ST_DONE, ST_FAILED };

enum { PH_CONNECT, PH_RUN, PH_HOLD, PH_VERIFY, PH_SETTLE, PH_DRAIN, PH_EXIT };

struct conn {
	int fd;
	struct tlsc *tls;	/* --tls: the TLS session on fd */
	uint32_t id, gen;
	uint8_t st, rd, wr, rdhup;
	uint8_t hdr_have, in_payload, ropcode, sending;
	uint8_t skey[4];
	uint8_t hdr[14];
	char key[25];
	uint16_t head_len;
	char *head;
	uint64_t t_conn;	/* connect() time */
	uint64_t t_state;	/* when the current state began */
	uint64_t retry_at;
	/* output */
	uint8_t *obuf;
	size_t ocap, ooff, olen;
	/* send side */
	uint64_t sseq, spos;
	/* in-flight messages: send (or scheduled) times, FIFO */
	uint64_t *ts;
	uint32_t tcap, thead, tcount;
	/* receive side */
	uint64_t rseq, rremain, rpos;
	uint8_t ctl[125];
	uint8_t verified, dirty;
};

/* options */
static int mode = -1;
static struct sockaddr_in target;
static struct sockaddr_in source;	/* --source ADDR: bound before connect */
static char target_str[80] = "127.0.0.1:9000";
static const char *path = "/";
static long nconns = 50;
static uint64_t msize = 64;
static double duration = 10, warmup = 1, rate = 20000, timeout_s = 10;
static long window = 2;
static long max_pending = 256;
static int pids[64], npids;
static int opids[64], nopids;	/* other bench processes (echo): for the noise figure */
static const char *ready_file;
static const char *go_file;		/* --go-file: wait for it before the traffic */
static uint64_t t_connected;		/* when the last connection was settled */
static double stall_s;			/* --stall S: give up connecting after S s
					 * without a connection established */
static uint64_t t_progress;		/* the last connection established */
static int ready_done;			/* --ready-file written */
static int verbose;
static int use_tls;			/* --tls: wss:// to the target */
static char tls_desc[160];		/* suite and group, from the first session */
static double settle = -1;		/* idle: --settle S after the traffic */

/* state */
static struct conn *C;
static int ep;
static uint8_t rbuf[RSZ];
static uint8_t *pat;
static int phase = PH_CONNECT;
static uint64_t t_start, t_run, t_ws, t_we, t_deadline, t_hold_end;
static uint64_t w_start, w_end;		/* actual window ends */
static int in_window;
static long next_start;			/* next connection to open */
static long pending;			/* connecting or upgrading */
static long established, n_open, n_verified;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static volatile sig_atomic_t got_signal;
static int *dirty_list;
static long ndirty;
static uint64_t rate_t0, rate_k;

/* results */
static uint64_t r_msgs, r_bytes, r_hs, r_errors, r_missed, r_close_to;
static uint64_t cpu0, cpu1;
static long rss0 = -1, rss1 = -1, rss2 = -1;

/* ---------------------------------------------------------------- misc */

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void die(const char *m) { perror(m); exit(2); }

static void err(struct conn *c, const char *fmt, const char *detail)
{
	r_errors++;
	if (r_errors <= 10 || verbose) {
		fprintf(stderr, "loadgen: conn %ld: ", c ? (long)c->id : -1L);
		fprintf(stderr, fmt, detail ? detail : "");
		fputc('\n', stderr);
	}
}

static uint64_t read_cpu_ticks(void) { return read_cpu_ticks_of(pids, npids); }

/* CPU ticks used by processes other than the bench's during the window */
static uint64_t noise0, noise1;
static uint64_t noise_sample(void)
{
	int self = getpid();
	return read_machine_busy() - read_cpu_ticks() - read_cpu_ticks_of(opids, nopids) -
	       read_cpu_ticks_of(&self, 1) - read_kthread_ticks();
}

static long read_rss_kib(void) { return read_rss_kib_of(pids, npids); }

/* --------------------------------------------------------- the payload */

static uint32_t pat_off(uint32_t id, uint64_t seq)
{
	return (uint32_t)((id * 2654435761u) ^ (uint32_t)(seq * 40503u)) % PATSPAN;
}

/* payload bytes [pos, pos+n) of message seq on conn id, masked with key */
static void gen_masked(uint8_t *dst, uint32_t id, uint64_t seq, uint64_t pos, size_t n,
		       const uint8_t key[4])
{
	ws_mask_copy(dst, pat + pat_off(id, seq) + pos, n, key, pos);
	if (msize >= 8 && pos < 8) {
		uint64_t i;
		for (i = pos; i < 8 && i < pos + n; i++)
			dst[i - pos] = (uint8_t)(seq >> (8 * i)) ^ key[i & 3];
	}
}

static int check_payload(const uint8_t *src, uint32_t id, uint64_t seq, uint64_t pos, size_t n)
{
	size_t skip = 0;

	if (msize >= 8 && pos < 8) {
		uint64_t i;
		for (i = pos; i < 8 && i < pos + n; i++, skip++)
			if (src[skip] != (uint8_t)(seq >> (8 * i)))
				return -1;
	}
	return memcmp(src + skip, pat + pat_off(id, seq) + pos + skip, n - skip) ? -1 : 0;
}

/* --------------------------------------------------------------- output */

static int obuf_reserve(struct conn *c, size_t need)
{
	if (c->ocap - c->ooff - c->olen >= need)
		return 0;
	if (c->ooff) {
		memmove(c->obuf, c->obuf + c->ooff, c->olen);
		c->ooff = 0;
		if (c->ocap - c->olen >= need)
			return 0;
	}
	{
		size_t ncap = c->ocap ? c->ocap : 4096;
		uint8_t *nb;
		while (ncap - c->olen < need)
			ncap *= 2;
		if (ncap > MAX_OBUF)
			return -1;
		if (!(nb = realloc(c->obuf, ncap)))
			die("realloc");
		c->obuf = nb;
		c->ocap = ncap;
	}
	return 0;
}

static size_t put_header(uint8_t *h, int opcode, uint64_t len, const uint8_t key[4])
{
	size_t n;

	h[0] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		h[1] = (uint8_t)(0x80 | len);
		n = 2;
	} else if (len < 65536) {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		n = 4;
	} else {
		int i;
		h[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	memcpy(h + n, key, 4);
	return n + 4;
}

static void new_key(uint8_t key[4])
{
	uint32_t k = (uint32_t)rnd();
	memcpy(key, &k, 4);
}

/* Queue one whole message (small sizes); ts = its send or scheduled time. */
static int queue_msg(struct conn *c, uint64_t ts)
{
	uint8_t key[4], *p;

	if (c->tcount == c->tcap) {
		r_missed++;
		return -1;
	}
	if (obuf_reserve(c, msize + 14) < 0) {
		r_missed++;
		return -1;
	}
	new_key(key);
	p = c->obuf + c->ooff + c->olen;
	p += put_header(p, 2, msize, key);
	gen_masked(p, c->id, c->sseq, 0, msize, key);
	c->olen = (size_t)(p + msize - (c->obuf + c->ooff));
	c->ts[(c->thead + c->tcount) % c->tcap] = ts;
	c->tcount++;
	c->sseq++;
	return 0;
}

static void queue_close(struct conn *c)
{
	uint8_t key[4], *p, code[2] = { 0x03, 0xe8 };	/* 1000 */

	if (obuf_reserve(c, 8) < 0)
		return;
	new_key(key);
	p = c->obuf + c->ooff + c->olen;
	p += put_header(p, 8, 2, key);
	ws_mask_copy(p, code, 2, key, 0);
	c->olen += 8;
	c->st = ST_CLOSING;
	c->t_state = now_ns();
}

/* stream mode: fill the output buffer with message bytes */
static void produce_stream(struct conn *c)
{
	if (c->st != ST_OPEN || (phase != PH_RUN && !c->sending))
		return;
	for (;;) {
		size_t room, take;
		uint8_t *p;

		if (c->ooff && c->olen < c->ocap / 2) {
			memmove(c->obuf, c->obuf + c->ooff, c->olen);
			c->ooff = 0;
		}
		room = c->ocap - c->ooff - c->olen;
		if (!c->sending) {
			if (phase != PH_RUN || c->tcount >= (uint32_t)window || room < 14)
				return;
			new_key(c->skey);
			c->olen += put_header(c->obuf + c->ooff + c->olen, 2, msize, c->skey);
			room = c->ocap - c->ooff - c->olen;
			c->ts[(c->thead + c->tcount) % c->tcap] = now_ns();
			c->tcount++;
			c->sending = 1;
			c->spos = 0;
		}
		take = room < msize - c->spos ? room : (size_t)(msize - c->spos);
		if (!take)
			return;
		p = c->obuf + c->ooff + c->olen;
		gen_masked(p, c->id, c->sseq, c->spos, take, c->skey);
		c->olen += take;
		c->spos += take;
		if (c->spos == msize) {
			c->sending = 0;
			c->sseq++;
		}
	}
}

static void conn_fail(struct conn *c, const char *why, const char *detail);

/* read(2) and write(2) on the connection, through TLS with --tls */
static ssize_t conn_read(struct conn *c, void *buf, size_t n)
{
	return c->tls ? tlsc_read(c->tls, buf, n) : read(c->fd, buf, n);
}

static ssize_t conn_write(struct conn *c, const void *buf, size_t n)
{
	return c->tls ? tlsc_write(c->tls, buf, n) : write(c->fd, buf, n);
}

/* write what is queued (producing more in stream mode) */
static void flush(struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (mode == M_STREAM)
			produce_stream(c);
		if (!c->olen || !c->wr)
			return;
		n = conn_write(c, c->obuf + c->ooff, c->olen);
		if (n > 0) {
			c->ooff += (size_t)n;
			c->olen -= (size_t)n;
			if (!c->olen) {
				c->ooff = 0;
			} else if (!c->tls) {	/* TLS writes stop at a record's end */
				c->wr = 0;	/* short write: the socket buffer is full */
				if (mode != M_STREAM)
					return;
			}
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			c->wr = 0;
			return;
		} else {
			conn_fail(c, "write: %s", strerror(errno));
			return;
		}
	}
}

/* -------------------------------------------------------- connections */

static void conn_release(struct conn *c)
{
	tlsc_free(c->tls);
	c->tls = NULL;
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->st == ST_CONNECTING || c->st == ST_TLSHS || c->st == ST_UPGRADING)
		pending--;
	if (c->st == ST_OPEN || c->st == ST_CLOSING || c->st == ST_WAITEOF)
		n_open--;
	free(c->head);
	c->head = NULL;
	c->head_len = 0;
	c->olen = c->ooff = 0;
	c->tcount = c->thead = 0;
	c->hdr_have = c->in_payload = c->sending = 0;
	c->rd = c->wr = c->rdhup = 0;
	c->gen++;
}

static void conn_fail(struct conn *c, const char *why, const char *detail)
{
	if (c->st == ST_FAILED || c->st == ST_DONE || c->st == ST_NONE)
		return;
	err(c, why, detail);
	conn_release(c);
	c->st = ST_FAILED;
	c->retry_at = now_ns() + SEC / 10;
}

static void conn_start(struct conn *c)
{
	int one = 1, r;
	struct epoll_event ev;
	uint8_t kb[16];
	uint64_t a = rnd(), b = rnd();

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->st = ST_FAILED;
		c->retry_at = now_ns() + SEC / 10;
		err(c, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (source.sin_family) {	/* --source: the port is picked at connect */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(c->fd, (struct sockaddr *)&source, sizeof source) < 0) {
			c->t_conn = c->t_state = now_ns();
			c->st = ST_CONNECTING;
			pending++;
			conn_fail(c, "bind: %s", strerror(errno));
			return;
		}
	}
	c->t_conn = c->t_state = now_ns();
	c->st = ST_CONNECTING;
	pending++;
	memcpy(kb, &a, 8);
	memcpy(kb + 8, &b, 8);
	base64_encode(kb, 16, c->key);
	c->rseq = c->sseq = 0;
	c->verified = 0;
	r = connect(c->fd, (struct sockaddr *)&target, sizeof target);
	if (r < 0 && errno != EINPROGRESS) {
		conn_fail(c, "connect: %s", strerror(errno));
		return;
	}
	/* a completed connect still reports EPOLLOUT: the edge is the add */
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
	ev.data.u64 = (uint64_t)c->id | (uint64_t)c->gen << 32;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void send_request(struct conn *c)
{
	int n;

	obuf_reserve(c, 512);
	n = snprintf((char *)c->obuf + c->ooff + c->olen, 512,
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\nUser-Agent: wsproxy-bench\r\n\r\n",
		     path, target_str, c->key);
	c->olen += (size_t)n;
	c->st = ST_UPGRADING;
	c->t_state = now_ns();
	flush(c);
}

static void conn_opened(struct conn *c)
{
	uint64_t now = now_ns();

	pending--;
	n_open++;
	c->st = ST_OPEN;
	c->t_state = now;
	if (mode == M_HANDSHAKE) {
		if (in_window)
			hist_add(now - c->t_conn);
		queue_msg(c, now);
	} else {
		established++;
		t_progress = now;
		if (mode == M_PINGPONG && phase == PH_RUN)
			queue_msg(c, now);
	}
}

/* a complete echoed data message */
static void msg_done(struct conn *c)
{
	uint64_t now = now_ns(), ts = c->ts[c->thead];

	c->thead = (c->thead + 1) % c->tcap;
	c->tcount--;
	c->rseq++;
	if (in_window && mode != M_HANDSHAKE) {
		r_msgs++;
		hist_add(now - ts);
	} else if (in_window) {
		r_msgs++;
	}
	switch (mode) {
	case M_PINGPONG:
		if (phase == PH_RUN)
			queue_msg(c, now);
		else if (phase == PH_DRAIN)
			queue_close(c);
		break;
	case M_RATE:
	case M_STREAM:
		if (phase == PH_DRAIN && !c->tcount && !c->sending)
			queue_close(c);
		break;
	case M_HANDSHAKE:
		queue_close(c);
		break;
	case M_IDLE:
		c->verified = 1;
		n_verified++;
		if (phase == PH_DRAIN)
			queue_close(c);
		break;
	}
}

static void closed_cleanly(struct conn *c)
{
	conn_release(c);
	c->st = ST_DONE;
	if (mode == M_HANDSHAKE) {
		if (in_window)
			r_hs++;
		if (phase == PH_RUN)
			conn_start(c);
	}
}

/* parse frames from the server */
static void frames(struct conn *c, const uint8_t *p, size_t n)
{
	while (n > 0 && c->st >= ST_OPEN && c->st <= ST_WAITEOF) {
		if (!c->in_payload) {
			size_t need = 2;
			uint64_t len;
			int op;

			while (n > 0) {
				if (c->hdr_have >= 2) {
					uint8_t l = c->hdr[1] & 0x7f;
					need = 2 + (l == 126 ? 2u : l == 127 ? 8u : 0u);
					if (c->hdr[1] & 0x80)
						need += 4;
				}
				if (c->hdr_have >= need)
					break;
				c->hdr[c->hdr_have++] = *p++;
				n--;
			}
			if (c->hdr_have >= 2) {
				uint8_t l = c->hdr[1] & 0x7f;
				need = 2 + (l == 126 ? 2u : l == 127 ? 8u : 0u);
				if (c->hdr[1] & 0x80)
					need += 4;
			}
			if (c->hdr_have < need)
				return;
			c->hdr_have = 0;
			if (c->hdr[1] & 0x80) {
				conn_fail(c, "masked frame from server%s", NULL);
				return;
			}
			if (c->hdr[0] & 0x70) {
				conn_fail(c, "RSV bits set%s", NULL);
				return;
			}
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
			c->ropcode = (uint8_t)op;
			if (op >= 8) {
				if (len > 125 || !(c->hdr[0] & 0x80)) {
					conn_fail(c, "bad control frame%s", NULL);
					return;
				}
			} else {
				if (op != 2 || !(c->hdr[0] & 0x80)) {
					conn_fail(c, "unexpected data frame (opcode/fin)%s", NULL);
					return;
				}
				if (len != msize) {
					conn_fail(c, "echoed message has the wrong length%s", NULL);
					return;
				}
				if (!c->tcount) {
					conn_fail(c, "echo of a message never sent%s", NULL);
					return;
				}
			}
			c->rremain = len;
			c->rpos = 0;
			c->in_payload = 1;
		}
		{
			size_t take = n < c->rremain ? n : (size_t)c->rremain;
			if (c->ropcode >= 8) {
				memcpy(c->ctl + c->rpos, p, take);
			} else {
				if (check_payload(p, c->id, c->rseq, c->rpos, take) < 0) {
					conn_fail(c, "echoed payload differs from what was sent%s", NULL);
					return;
				}
				if (in_window)
					r_bytes += take;
			}
			c->rpos += take;
			c->rremain -= take;
			p += take;
			n -= take;
			if (c->rremain)
				return;
			c->in_payload = 0;
			if (c->ropcode == 8) {
				if (c->st == ST_CLOSING) {
					c->st = ST_WAITEOF;
					c->t_state = now_ns();
				} else {
					char code[16];
					snprintf(code, sizeof code, "%d", c->rpos >= 2 ?
						 c->ctl[0] << 8 | c->ctl[1] : 1005);
					conn_fail(c, "unexpected close frame from server, code %s", code);
					return;
				}
			} else if (c->ropcode < 8) {
				msg_done(c);
			}
		}
	}
}

static void upgrade_response(struct conn *c, const uint8_t *p, size_t n)
{
	size_t take = n, hl, vl;
	const char *v;
	char acc[29];

	if (!c->head && !(c->head = malloc(4096)))
		die("malloc");
	if (take > 4096u - c->head_len)
		take = 4096u - c->head_len;
	memcpy(c->head + c->head_len, p, take);
	hl = http_head_len(c->head, c->head_len + take);
	if (!hl) {
		c->head_len = (uint16_t)(c->head_len + take);
		if (c->head_len == 4096)
			conn_fail(c, "response head too large%s", NULL);
		return;
	}
	if (hl < 12 || memcmp(c->head, "HTTP/1.1 101", 12)) {
		char line[64];
		size_t i;
		for (i = 0; i < sizeof line - 1 && i < hl && c->head[i] != '\r'; i++)
			line[i] = c->head[i];
		line[i] = 0;
		conn_fail(c, "upgrade refused: %s", line);
		return;
	}
	ws_accept(c->key, 24, acc);
	v = http_find_header(c->head, hl, "sec-websocket-accept", &vl);
	if (!v || vl != 28 || memcmp(v, acc, 28)) {
		conn_fail(c, "bad Sec-WebSocket-Accept%s", NULL);
		return;
	}
	{
		size_t used = hl - c->head_len;
		free(c->head);
		c->head = NULL;
		c->head_len = 0;
		conn_opened(c);
		if (used < n)
			frames(c, p + used, n - used);
	}
}

static void on_event(struct conn *c, uint32_t e)
{
	if (c->st == ST_CONNECTING) {
		int er = 0;
		socklen_t el = sizeof er;
		if (!(e & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &er, &el);
		if (er) {
			conn_fail(c, "connect: %s", strerror(er));
			return;
		}
		c->wr = 1;
		if (!use_tls) {
			send_request(c);
		} else if (!(c->tls = tlsc_new(c->fd))) {
			conn_fail(c, "TLS: %s", tlsc_error());
			return;
		} else {
			c->st = ST_TLSHS;
		}
	}
	if (c->st == ST_TLSHS) {
		int r = tlsc_handshake(c->tls);
		if (r < 0) {
			conn_fail(c, "TLS handshake: %s", tlsc_error());
			return;
		}
		if (r == 0)
			return;
		if (!tls_desc[0])
			tlsc_describe(c->tls, tls_desc, sizeof tls_desc);
		c->wr = 1;
		send_request(c);
	}
	if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rd = 1;
	if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->rdhup = 1;
	if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->wr = 1;
	while (c->rd && c->fd >= 0) {
		ssize_t n = conn_read(c, rbuf, RSZ);
		if (n > 0) {
			/* a short read drained the socket; TLS returns a record at a time */
			if ((size_t)n < RSZ && !c->rdhup && !c->tls)
				c->rd = 0;
			if (c->st == ST_UPGRADING)
				upgrade_response(c, rbuf, (size_t)n);
			else
				frames(c, rbuf, (size_t)n);
		} else if (n == 0) {
			if (c->st == ST_WAITEOF)
				closed_cleanly(c);
			else if (c->st == ST_UPGRADING)
				conn_fail(c, "connection closed during the upgrade%s", NULL);
			else if (c->st == ST_CLOSING)
				conn_fail(c, "connection closed without a close frame%s", NULL);
			else
				conn_fail(c, "connection closed by the server%s", NULL);
			return;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN) {
			c->rd = 0;
		} else {
			conn_fail(c, "read: %s", strerror(errno));
			return;
		}
	}
	if (c->fd >= 0)
		flush(c);
}

/* ------------------------------------------------------------ phases */

static void start_more(void)
{
	while (next_start < nconns && pending < max_pending)
		conn_start(&C[next_start++]);
}

static void open_window(uint64_t now)
{
	cpu0 = read_cpu_ticks();
	noise0 = noise_sample();
	w_start = now;
	in_window = 1;
}

static void close_window(uint64_t now)
{
	in_window = 0;
	w_end = now;
	cpu1 = read_cpu_ticks();
	noise1 = noise_sample();
	if (npids)
		rss1 = read_rss_kib();
}

static void begin_drain(uint64_t now)
{
	long i;

	phase = PH_DRAIN;
	t_deadline = now + (uint64_t)(timeout_s * SEC);
	for (i = 0; i < nconns; i++) {
		struct conn *c = &C[i];
		if (c->st == ST_OPEN && !c->tcount && !c->sending) {
			queue_close(c);
			flush(c);
		}
	}
}

static int all_finished(void)
{
	long i;

	for (i = 0; i < nconns; i++)
		if (C[i].st != ST_DONE && C[i].st != ST_FAILED && C[i].st != ST_NONE)
			return 0;
	return 1;
}

static void rate_tick(uint64_t now)
{
	long i;

	while (rate_t0 + (uint64_t)((double)rate_k * 1e9 / rate) <= now) {
		uint64_t sched = rate_t0 + (uint64_t)((double)rate_k * 1e9 / rate);
		struct conn *c = &C[rate_k % (uint64_t)nconns];
		rate_k++;
		if (c->st != ST_OPEN) {
			r_missed++;
			continue;
		}
		if (queue_msg(c, sched) == 0 && !c->dirty) {
			c->dirty = 1;
			dirty_list[ndirty++] = (int)c->id;
		}
	}
	for (i = 0; i < ndirty; i++) {
		struct conn *c = &C[dirty_list[i]];
		c->dirty = 0;
		if (c->fd >= 0)
			flush(c);
	}
	ndirty = 0;
}

static void scan_timeouts(uint64_t now)
{
	long i;

	for (i = 0; i < nconns; i++) {
		struct conn *c = &C[i];
		uint64_t age = now - c->t_state;
		switch (c->st) {
		case ST_CONNECTING:
		case ST_TLSHS:
		case ST_UPGRADING:
			if (age > (uint64_t)(timeout_s * SEC))
				conn_fail(c, "handshake timed out%s", NULL);
			break;
		case ST_CLOSING:
		case ST_WAITEOF:
			if (age > (uint64_t)(timeout_s * SEC)) {
				r_close_to++;
				conn_fail(c, c->st == ST_CLOSING ? "no close frame back%s" :
					  "server did not close the TCP connection%s", NULL);
			}
			break;
		case ST_FAILED:
			if (mode == M_HANDSHAKE && phase == PH_RUN && now >= c->retry_at)
				conn_start(c);
			break;
		}
	}
}

static void on_signal(int s) { got_signal = s; }

/* --ready-file: the number of connections established, once all are settled */
static void write_ready(void)
{
	FILE *f;

	if (!ready_file || !(f = fopen(ready_file, "w")))
		return;
	fprintf(f, "%ld\n", established);
	fclose(f);
}

/* -------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen --mode pingpong|rate|stream|idle|handshake|probe --target HOST:PORT\n"
		"  [--path /] [--conns N] [--size BYTES] [--duration S] [--warmup S]\n"
		"  [--rate MSGS_PER_S] [--window MSGS] [--max-pending N] [--timeout S]\n"
		"  [--pids PID,PID,...] [--other-pids PID,...] [--ready-file PATH] [-v]\n"
		"  [--tls] [--settle S] [--go-file PATH] [--source ADDR]\n"
		"  [--stall S]\n");
	exit(64);
}

int main(int argc, char **argv)
{
	struct epoll_event evs[1024];
	struct rlimit rl;
	uint64_t next_scan = 0, hard_end;
	int i;
	double wsec;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-v") || !strcmp(a, "--tls")) {
			*(a[1] == 'v' ? &verbose : &use_tls) = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--mode")) {
			int m;
			for (m = 0; m < 6; m++)
				if (!strcmp(v, mode_names[m]))
					mode = m;
		} else if (!strcmp(a, "--target")) {
			snprintf(target_str, sizeof target_str, "%s", v);
			if (parse_addr(v, &target, "127.0.0.1") < 0)
				usage();
		} else if (!strcmp(a, "--source")) {
			source.sin_family = AF_INET;
			if (inet_pton(AF_INET, v, &source.sin_addr) != 1)
				usage();
		} else if (!strcmp(a, "--path")) {
			path = v;
		} else if (!strcmp(a, "--conns")) {
			nconns = atol(v);
		} else if (!strcmp(a, "--size")) {
			msize = strtoull(v, NULL, 0);
		} else if (!strcmp(a, "--duration")) {
			duration = atof(v);
		} else if (!strcmp(a, "--warmup")) {
			warmup = atof(v);
		} else if (!strcmp(a, "--rate")) {
			rate = atof(v);
		} else if (!strcmp(a, "--window")) {
			window = atol(v);
		} else if (!strcmp(a, "--max-pending")) {
			max_pending = atol(v);
		} else if (!strcmp(a, "--timeout")) {
			timeout_s = atof(v);
		} else if (!strcmp(a, "--stall")) {
			stall_s = atof(v);
		} else if (!strcmp(a, "--settle")) {
			settle = atof(v);
		} else if (!strcmp(a, "--ready-file")) {
			ready_file = v;
		} else if (!strcmp(a, "--go-file")) {
			go_file = v;
		} else if (!strcmp(a, "--pids") || !strcmp(a, "--other-pids")) {
			char *s = strdup(v), *tok, *save = NULL;
			int *arr = a[2] == 'p' ? pids : opids, *cnt = a[2] == 'p' ? &npids : &nopids;
			for (tok = strtok_r(s, ", ", &save); tok && *cnt < 64;
			     tok = strtok_r(NULL, ", ", &save))
				if (atoi(tok) > 0)
					arr[(*cnt)++] = atoi(tok);
			free(s);
		} else {
			usage();
		}
	}
	if (mode < 0 || nconns < 1 || msize < 1 || msize > (1ull << 31) || window < 1 ||
	    rate <= 0 || duration < 0 || warmup < 0 || max_pending < 1)
		usage();
	if (!target.sin_port && parse_addr(target_str, &target, "127.0.0.1") < 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	if (use_tls && tlsc_init() < 0) {
		fprintf(stderr, "loadgen: --tls: %s\n", tlsc_error());
		return 64;
	}
	rng_state ^= now_ns() * 0x2545F4914F6CDD1Dull ^ (uint64_t)getpid() << 32;
	if (!rng_state)
		rng_state = 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	if (mode == M_PROBE) {
		uint64_t end = now_ns() + (uint64_t)(timeout_s * SEC);
		do {
			if (probe_once(&target, target_str, path, use_tls, verbose, rnd()))
				return 0;
			usleep(50000);
		} while (now_ns() < end);
		fprintf(stderr, "loadgen: probe of %s failed for %.1f s\n", target_str, timeout_s);
		return 1;
	}

	if ((long)rl.rlim_cur > 0 && nconns > (long)rl.rlim_cur - 32) {
		fprintf(stderr, "loadgen: %ld connections need more than the fd limit %ld\n",
			nconns, (long)rl.rlim_cur);
		return 64;
	}
	pat = malloc(msize + PATSPAN + 8);
	C = calloc((size_t)nconns, sizeof *C);
	dirty_list = calloc((size_t)nconns, sizeof *dirty_list);
	if (!pat || !C || !dirty_list)
		die("malloc");
	for (i = 0; i < (int)(msize + PATSPAN + 8); i++)
		pat[i] = (uint8_t)(rnd() >> 24);
	for (i = 0; i < nconns; i++) {
		struct conn *c = &C[i];
		c->id = (uint32_t)i;
		c->fd = -1;
		if (mode == M_RATE) {
			double per = rate / (double)nconns;
			c->tcap = (uint32_t)(64 + 4 * per);
			if (c->tcap > 8192)
				c->tcap = 8192;
		} else {
			c->tcap = mode == M_STREAM ? (uint32_t)window + 1 : 4;
		}
		c->ts = malloc(c->tcap * sizeof *c->ts);
		if (!c->ts)
			die("malloc");
		if (mode == M_STREAM) {
			c->obuf = malloc(STREAM_OBUF);
			c->ocap = STREAM_OBUF;
			if (!c->obuf)
				die("malloc");
		}
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	if (npids)
		rss0 = read_rss_kib();

	t_start = now_ns();
	hard_end = t_start + (uint64_t)((warmup + duration + 4 * timeout_s + 60) * SEC);
	if (mode == M_HANDSHAKE) {
		phase = PH_RUN;
		t_run = t_start;
		t_ws = t_run + (uint64_t)(warmup * SEC);
		t_we = t_ws + (uint64_t)(duration * SEC);
	}
	start_more();

	for (;;) {
		uint64_t now = now_ns(), wake;
		struct timespec tsp;
		int n;

		if (got_signal && phase != PH_DRAIN && phase != PH_VERIFY) {
			if (phase == PH_HOLD) {
				t_hold_end = now;
			} else {
				fprintf(stderr, "loadgen: signal %d, stopping early\n", (int)got_signal);
				if (in_window)
					close_window(now);
				r_errors++;
				begin_drain(now);
			}
			got_signal = 0;
		}
		if (now > hard_end) {
			fprintf(stderr, "loadgen: hard time limit reached\n");
			if (in_window)
				close_window(now);
			r_errors++;
			break;
		}
		if (now >= next_scan) {
			scan_timeouts(now);
			next_scan = now + SEC / 10;
		}
		if (phase == PH_CONNECT && stall_s > 0 && next_start < nconns &&
		    now - (t_progress ? t_progress : t_start) > (uint64_t)(stall_s * SEC)) {
			long k, left = nconns - next_start;
			/* a proxy at its limit leaves the rest waiting: stop there */
			fprintf(stderr, "loadgen: no connection established for %.0f s:"
				" giving up on the %ld not yet started and those pending\n",
				stall_s, left);
			r_errors += (uint64_t)left;
			next_start = nconns;
			t_connected = t_progress ? t_progress : now;	/* not the wait */
			for (k = 0; k < nconns; k++)
				if (C[k].st == ST_CONNECTING || C[k].st == ST_TLSHS ||
				    C[k].st == ST_UPGRADING)
					conn_fail(&C[k], "given up%s", NULL);
		}
		if (phase == PH_CONNECT) {
			start_more();
			if (next_start == nconns && pending == 0) {
				if (mode == M_IDLE) {
					fprintf(stderr, "loadgen: established %ld of %ld connections, holding\n",
						established, nconns);
					t_connected = now;
					write_ready();
					phase = PH_HOLD;
					/* RSS sample after settling (--settle S, as after the traffic) */
					t_ws = now + (settle > 0 ? (uint64_t)(settle * SEC) : SEC);
					t_hold_end = now + (uint64_t)(duration * SEC);
					if (t_hold_end < t_ws + SEC / 10)
						t_hold_end = t_ws + SEC / 10;
				} else if (go_file && access(go_file, F_OK) != 0) {
					/* hold until the bench creates --go-file (checked
					 * every 100 ms): many loadgens start the traffic
					 * together, after their connections are counted */
					if (!ready_done) {
						if (!t_connected)
							t_connected = now;
						write_ready();
						ready_done = 1;
					}
				} else {
					long k;
					if (!t_connected)
						t_connected = now;
					/* the time limit counts from the traffic on */
					if (hard_end < now + (uint64_t)((warmup + duration +
					    4 * timeout_s + 60) * SEC))
						hard_end = now + (uint64_t)((warmup + duration +
						    4 * timeout_s + 60) * SEC);
					phase = PH_RUN;
					t_run = now;
					t_ws = now + (uint64_t)(warmup * SEC);
					t_we = t_ws + (uint64_t)(duration * SEC);
					rate_t0 = now;
					for (k = 0; k < nconns; k++) {
						struct conn *c = &C[k];
						if (c->st != ST_OPEN)
							continue;
						if (mode == M_PINGPONG)
							queue_msg(c, now_ns());
						flush(c);
					}
				}
			}
		}
		if (phase == PH_RUN) {
			if (!in_window && !w_start && now >= t_ws)
				open_window(now);
			if (now >= t_we) {
				close_window(now);
				begin_drain(now);
			} else if (mode == M_RATE) {
				rate_tick(now);
			}
		}
		if (phase == PH_HOLD) {
			if (rss1 < 0 && now >= t_ws) {
				rss1 = npids ? read_rss_kib() : -1;
				if (rss1 < 0)
					rss1 = 0;
			}
			if (now >= t_hold_end && rss1 >= 0) {
				long k;
				phase = PH_VERIFY;
				t_deadline = now + (uint64_t)(timeout_s * SEC);
				for (k = 0; k < nconns; k++) {
					struct conn *c = &C[k];
					if (c->st != ST_OPEN)
						continue;
					queue_msg(c, now);
					flush(c);
				}
			}
		}
		if (phase == PH_VERIFY && (n_verified >= n_open || now >= t_deadline)) {
			if (settle >= 0) {	/* hold the pairs after traffic, then RSS */
				phase = PH_SETTLE;
				t_hold_end = now + (uint64_t)(settle * SEC);
			} else {
				begin_drain(now);
			}
		}
		if (phase == PH_SETTLE && now >= t_hold_end) {
			rss2 = npids ? read_rss_kib() : 0;
			begin_drain(now);
		}
		if (phase == PH_DRAIN) {
			if (all_finished())
				break;
			if (now >= t_deadline) {
				long k, left = 0;
				for (k = 0; k < nconns; k++)
					if (C[k].st != ST_DONE && C[k].st != ST_FAILED && C[k].st != ST_NONE) {
						left++;
						conn_release(&C[k]);
						C[k].st = ST_DONE;
					}
				fprintf(stderr, "loadgen: %ld connections did not finish closing\n", left);
				r_close_to += (uint64_t)left;
				r_errors += (uint64_t)left;
				break;
			}
		}

		wake = next_scan;
		if (phase == PH_RUN) {
			if (!w_start && t_ws < wake)
				wake = t_ws;
			if (t_we < wake)
				wake = t_we;
			if (mode == M_RATE) {
				uint64_t nx = rate_t0 + (uint64_t)((double)rate_k * 1e9 / rate);
				if (nx < wake)
					wake = nx;
			}
		} else if (phase == PH_HOLD || phase == PH_SETTLE) {
			if (phase == PH_HOLD && rss1 < 0 && t_ws < wake)
				wake = t_ws;
			if (t_hold_end < wake)
				wake = t_hold_end;
		}
		now = now_ns();
		wake = wake > now ? wake - now : 0;
		tsp.tv_sec = (time_t)(wake / SEC);
		tsp.tv_nsec = (long)(wake % SEC);
		n = epoll_pwait2(ep, evs, 1024, &tsp, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_pwait2");
		}
		for (i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			struct conn *c = &C[(uint32_t)d];
			if ((uint32_t)(d >> 32) != c->gen || c->fd < 0)
				continue;
			on_event(c, evs[i].events);
		}
		if (mode == M_IDLE && phase == PH_CONNECT)
			start_more();
	}

	wsec = w_end > w_start ? (double)(w_end - w_start) / 1e9 : 0;
	{
		long hz = sysconf(_SC_CLK_TCK);
		double cpu_us = npids ? (double)(cpu1 - cpu0) * 1e6 / (double)hz : 0;
		double per = 0;

		printf("mode=%s target=%s conns=%ld size=%llu", mode_names[mode], target_str, nconns,
		       (unsigned long long)msize);
		if (mode == M_RATE)
			printf(" rate=%.0f", rate);
		if (mode == M_IDLE) {
			printf(" established=%ld verified=%ld", established, n_verified);
			if (npids) {
				printf(" rss_before_kib=%ld rss_hold_kib=%ld", rss0, rss1);
				if (established > 0)
					printf(" kib_per_conn=%.2f",
					       (double)(rss1 - rss0) / (double)established);
				if (rss2 >= 0 && n_verified > 0)
					printf(" rss_after_kib=%ld kib_per_conn_after=%.2f", rss2,
					       (double)(rss2 - rss0) / (double)n_verified);
			}
		} else {
			if (mode != M_HANDSHAKE)
				printf(" established=%ld", established);
			printf(" window_s=%.3f msgs=%llu bytes=%llu msgs_s=%.1f MB_s=%.2f",
			       wsec, (unsigned long long)r_msgs, (unsigned long long)r_bytes,
			       wsec > 0 ? (double)r_msgs / wsec : 0,
			       wsec > 0 ? (double)r_bytes / wsec / 1e6 : 0);
			printf(" p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f",
			       hist_pct(0.50) / 1e3, hist_pct(0.99) / 1e3, hist_pct(0.999) / 1e3,
			       (double)hist_max / 1e3);
			if (mode == M_HANDSHAKE)
				printf(" handshakes=%llu hs_s=%.1f", (unsigned long long)r_hs,
				       wsec > 0 ? (double)r_hs / wsec : 0);
			if (npids) {
				printf(" rss_before_kib=%ld rss_end_kib=%ld", rss0, rss1);
				if (mode != M_HANDSHAKE && established > 0)
					printf(" kib_per_conn=%.2f",
					       (double)(rss1 - rss0) / (double)established);
				printf(" cpu_us=%.0f cpu_pct=%.1f", cpu_us,
				       wsec > 0 ? cpu_us / wsec / 1e4 : 0);
				if (mode == M_HANDSHAKE)
					per = r_hs ? cpu_us / (double)r_hs : 0, printf(" cpu_us_hs=%.2f", per);
				else if (mode == M_STREAM)
					per = r_bytes ? cpu_us / ((double)r_bytes / 1048576.0) : 0,
					printf(" cpu_us_MiB=%.1f", per);
				printf(" cpu_us_msg=%.3f", r_msgs ? cpu_us / (double)r_msgs : 0);
			}
		}
		if (mode == M_RATE)
			printf(" missed=%llu", (unsigned long long)r_missed);
		if (t_connected)	/* start to the last connection settled */
			printf(" connect_s=%.3f", (double)(t_connected - t_start) / 1e9);
		if (tls_desc[0])
			printf(" %s", tls_desc);
		if (wsec > 0) {
			/* other processes' CPU during the window, in % of one CPU */
			double nz = (double)(int64_t)(noise1 - noise0) * 1e6 / (double)hz / wsec / 1e4;
			printf(" noise_pct=%.0f", nz < 0 ? 0 : nz);
		}
		printf(" close_timeouts=%llu errors=%llu\n", (unsigned long long)r_close_to,
		       (unsigned long long)r_errors);
	}
	return r_errors ? 1 : 0;
}
