/*
 * fuzz_pair.c - libFuzzer target for the whole connection-pair state
 * machine: the real proxy.c (included, its main renamed), config.c,
 * handshake.c, ws.c and tls.c, driven over real loopback sockets.
 *
 * Start-up is proxy.c's main(): px_configure() with a listener on
 * 127.0.0.1:0 and an upstream that is a listening socket this harness
 * owns, then px_start() (timers, RNG, slab, poller).  Each input is
 * a script of operations, one loop_once(0) after each:
 *
 *   op byte: low nibble = operation, bits 4-5 = which client/upstream
 *   (0..3), bits 6-7 = a variant.  Arguments follow as bytes.
 *
 *   0 CONNECT       a client connects to the proxy
 *   1 C_HANDSHAKE   v: a canned request (good, bad, with frames after)
 *   2 C_RAW         n, bytes[n]: raw bytes from the client
 *   3 C_FRAME       b0, b1, [len16|len64], [mask4], payload: a frame
 *                   (payload from the input up to 255 bytes, a pattern
 *                   beyond, capped); variant: all at once, in halves,
 *                   first bytes one by one, header only
 *   4 U_ACCEPT      the upstream accepts a proxy connection
 *   5 U_READ        the upstream reads (and remembers the request key)
 *   6 U_RESPONSE    v: 101 (good, wrong accept, protocol, deflate,
 *                   with frames), 403 with/without length, malformed
 *   7 U_RAW         n, bytes[n]
 *   8 U_FRAME       as C_FRAME, from the upstream
 *   9 C_READ        the client reads
 *   A C_END         variant: shutdown(WR), RST, close, shutdown(RD)
 *   B U_END         same for the upstream
 *   C TIME          t: move the clock on (virtual time, see below)
 *   D LOOP          variant+1 more loop_once(0)
 *   E OPEN          connect + good request + accept + 101: an open pair
 *   F nothing
 *
 * Time: proxy.c reads the clock only through clock_gettime(), which
 * this file redirects (before including proxy.c) to real time plus an
 * offset that TIME moves on, so every timer fires without waiting.
 *
 * After the script every socket of the harness is reset, loop_once()
 * runs (with the clock moved past every timeout) until the slab is
 * empty; then it must hold: every slot free, no pair counted, every
 * pool buffer back, no timer queued, no leg on a ping list (pings are on:
 * the TIME operation makes them fire and time out), accept not paused, the process
 * has exactly the fds it had before the input, and proxy.c's own fd
 * count (its accept budget) is back to its start-up value.  Anything else
 * is a leak or a stuck pair and aborts.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fz_clock_gettime(clockid_t, struct timespec *);

#define clock_gettime fz_clock_gettime
#define main wsproxy_main
/* NOLINTNEXTLINE(bugprone-suspicious-include): the real code, on purpose */
#include "../../proxy.c"
#undef main
#undef clock_gettime

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz_pair: invariant failed: %s (%s:%d)\n", \
		    #c, __FILE__, __LINE__);				\
		fz_dump();						\
		abort();						\
	}								\
} while (0)

#define FZ_SLOTS 4		/* clients and upstream connections */
#define FZ_MAX_OPS 256
#define FZ_BULK_MAX (192 * 1024)	/* generated payloads: past the 64 KiB buffer */

static uint64_t fz_clock_offset;	/* ms added to the real clock */
static int fz_ulfd = -1;		/* the "upstream" listener */
static uint16_t fz_proxy_port;
static int fz_client[FZ_SLOTS];
static int fz_up[FZ_SLOTS];
static char fz_uhead[FZ_SLOTS][4096];	/* request head the upstream got */
static size_t fz_uhead_len[FZ_SLOTS];
static uint8_t fz_rbuf[256 * 1024];
static uint8_t fz_sbuf[FZ_BULK_MAX + 64];
static uint64_t fz_fds_open;		/* proxy.c's own fd count after start-up */

static int
fz_clock_gettime(clockid_t id, struct timespec *ts)
{
	int r = clock_gettime(id, ts);
	uint64_t ns;

	ns = (uint64_t)ts->tv_nsec + (fz_clock_offset % 1000) * 1000000ULL;
	ts->tv_sec += (time_t)(fz_clock_offset / 1000 + ns / 1000000000ULL);
	ts->tv_nsec = (long)(ns % 1000000000ULL);
	return r;
}

static void
fz_dump(void)
{
	uint32_t i;

	fprintf(stderr, "fuzz_pair: slab %u/%u free, pool %u/%u free,"
	    " counted %u, accept_paused %d\n", slab_nfree, slab_size,
	    2 * slab_size - buffers_in_use(), 2 * slab_size, pairs_counted,
	    accept_paused);
	for (i = 0; i < slab_size; i++)
		if (slab[i].state != PAIR_FREE)
			fprintf(stderr, "  slot %u state=%s timer=%u client.fd=%d"
			    " upstream.fd=%d c.dead=%d u.dead=%d c.rd=%d"
			    " u.rd=%d\n", i, state_name[slab[i].state],
			    slab[i].timer, slab[i].client.fd,
			    slab[i].upstream.fd, slab[i].client.dead,
			    slab[i].upstream.dead, slab[i].client.rd,
			    slab[i].upstream.rd);
}

static int
fz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;		/* the directory's own fd */
}

/*
 * What must hold between any two turns of the loop: every pool buffer
 * is either free or held by exactly one flow of a live pair, every
 * slot is free xor in use, the counted pairs are the ones marked so,
 * and each timer list holds exactly the pairs whose timer is its kind,
 * in deadline order.
 */
static void
fz_invariants(void)
{
	uint32_t i, used = 0, bufs = 0, counted = 0, on[TIMER_KINDS], idx;
	uint64_t last;
	int k;

	memset(on, 0, sizeof(on));
	for (i = 0; i < slab_size; i++) {
		const struct pair *p = &slab[i];

		if (p->state == PAIR_FREE) {
			FZ_CHECK(p->client.fd < 0 && p->upstream.fd < 0);
			FZ_CHECK(p->client.in.buf == NULL &&
			    p->upstream.in.buf == NULL);
			FZ_CHECK(p->client.out.buf == NULL &&
			    p->upstream.out.buf == NULL);
			FZ_CHECK(p->timer == TIMER_NONE);
			FZ_CHECK(p->client.leg_list == LEG_NONE &&
			    p->upstream.leg_list == LEG_NONE);
			continue;
		}
		used++;
		/* only open pairs are watched by pings, both legs */
		if (p->state == PAIR_OPEN)
			FZ_CHECK(p->client.leg_list != LEG_NONE &&
			    p->upstream.leg_list != LEG_NONE);
		else
			FZ_CHECK(p->client.leg_list == LEG_NONE &&
			    p->upstream.leg_list == LEG_NONE);
		bufs += (p->client.in.buf != NULL) + (p->upstream.in.buf != NULL) +
		    (p->client.out.buf != NULL) + (p->upstream.out.buf != NULL);
		/* two buffers at most per pair: the pool has two per slot */
		FZ_CHECK((p->client.in.buf != NULL) + (p->upstream.in.buf != NULL) +
		    (p->client.out.buf != NULL) + (p->upstream.out.buf != NULL) <= 2);
		counted += p->counted;
		on[p->timer]++;
	}
	FZ_CHECK(used + slab_nfree == slab_size);
	/* the per-state gauge moves with every state change and close */
	{
		uint64_t in_state[PAIR_STATES], sum = 0;

		memset(in_state, 0, sizeof(in_state));
		for (i = 0; i < slab_size; i++)
			in_state[slab[i].state]++;
		for (k = 0; k < PAIR_STATES; k++) {
			FZ_CHECK(px_count.pairs[k] == in_state[k]);
			sum += px_count.pairs[k];
		}
		FZ_CHECK(sum == slab_size);
		FZ_CHECK(px_count.accepted == px_count.closed + used);
	}
	FZ_CHECK(bufs == buffers_in_use());
	FZ_CHECK(used > 0 || ping_next() == UINT64_MAX);
	FZ_CHECK(counted == pairs_counted);
	for (k = 1; k < TIMER_KINDS; k++) {
		uint32_t n = 0;

		last = 0;
		for (idx = timer_head[k]; idx != NIL; idx = slab[idx].timer_next) {
			FZ_CHECK(idx < slab_size && slab[idx].timer == k);
			FZ_CHECK(slab[idx].deadline >= last);
			last = slab[idx].deadline;
			FZ_CHECK(++n <= slab_size);
		}
		FZ_CHECK(n == on[k]);
	}
}

/* ------------------------------------------------------------------ */
/* Start-up: what proxy.c's main() does, with our listener as upstream  */
/* ------------------------------------------------------------------ */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	static char upstream[128];
	char *args[] = {
		"wsproxy", "-q", "--listen", "127.0.0.1:0", "--route",
		upstream, "--max-conns", "2",
		"--max-message", "100000", "--ping-interval", "1000",
		"--ping-timeout", "1000", NULL
	};
	int i, one = 1;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < FZ_SLOTS; i++)
		fz_client[i] = fz_up[i] = -1;
	fz_ulfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fz_ulfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fz_ulfd < 0 || bind(fz_ulfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fz_ulfd, 64) < 0 ||
	    getsockname(fz_ulfd, (struct sockaddr *)&sa, &sl) < 0) {
		perror("fuzz_pair: upstream listener");
		exit(1);
	}
	/* A pool whose first member refuses and is never taken out
	 * (fail-timeout=0): every other handshake fails over to the
	 * harness's upstream, so the failover path is fuzzed too. */
	snprintf(upstream, sizeof(upstream), "/ws=ws://127.0.0.1:1/up,"
	    "ws://127.0.0.1:%u/up;fail-timeout=0", (unsigned)ntohs(sa.sin_port));

	/* proxy.c main(): configure, then the same start-up function */
	optind = 1;
	px_configure((int)(sizeof(args) / sizeof(args[0])) - 1, args);
	/* Silence (every level is above -1), unless FUZZ_PAIR_LOG is set
	 * to see what an input does: then everything is logged. */
	px_cfg.log_level = getenv("FUZZ_PAIR_LOG") != NULL ? PX_LOG_DEBUG : -1;
	px_start();
	fz_fds_open = fds_open;

	sl = sizeof(sa);
	if (getsockname(px_cfg.listen[0].fd, (struct sockaddr *)&sa, &sl) < 0) {
		perror("fuzz_pair: getsockname");
		exit(1);
	}
	fz_proxy_port = ntohs(sa.sin_port);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Input reading                                                       */
/* ------------------------------------------------------------------ */

struct fz_in {
	const uint8_t	*p;
	size_t		 left;
};

static unsigned
fz_byte(struct fz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/* Up to n bytes of input into out (zeros past its end); how many. */
static size_t
fz_bytes(struct fz_in *in, uint8_t *out, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	memcpy(out, in->p, k);
	memset(out + k, 0, n - k);
	in->p += k;
	in->left -= k;
	return n;
}

/* ------------------------------------------------------------------ */
/* Socket helpers of the harness                                       */
/* ------------------------------------------------------------------ */

/* Send everything, letting the proxy run while the socket is full;
 * give up after a bounded number of turns (the peer may be stuck). */
static void
fz_send(int fd, const uint8_t *buf, size_t len)
{
	int turns = 0;
	ssize_t n;

	if (fd < 0)
		return;
	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    turns++ < 64) {
			loop_once(0);
			continue;
		}
		return;
	}
}

/* Read and drop what is there; returns bytes read into fz_rbuf (the
 * last chunk) for callers that look at it. */
static size_t
fz_drain(int fd)
{
	ssize_t n;
	size_t last = 0;
	int rounds = 0;

	if (fd < 0)
		return 0;
	while (rounds++ < 64) {
		n = recv(fd, fz_rbuf, sizeof(fz_rbuf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		last = (size_t)n;
	}
	return last;
}

static void
fz_close(int *fd, int how)
{
	struct linger lg = { 1, 0 };

	if (*fd < 0)
		return;
	switch (how) {
	case 0:
		shutdown(*fd, SHUT_WR);
		return;
	case 3:
		shutdown(*fd, SHUT_RD);
		return;
	case 1:
		(void)setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	default:
		break;
	}
	close(*fd);
	*fd = -1;
}

static void
fz_connect(int i)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	if (fz_client[i] >= 0)
		return;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(fz_proxy_port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fz_client[i] = fd;
}

static void
fz_accept(int i)
{
	int fd, one = 1;

	if (fz_up[i] >= 0)
		return;
	fd = accept4(fz_ulfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fz_up[i] = fd;
	fz_uhead_len[i] = 0;
}

/* The upstream reads; while no head is complete it keeps the bytes. */
static void
fz_up_read(int i)
{
	ssize_t n;
	size_t room;

	if (fz_up[i] < 0)
		return;
	for (;;) {
		room = sizeof(fz_uhead[i]) - 1 - fz_uhead_len[i];
		if (room == 0 || memmem(fz_uhead[i], fz_uhead_len[i],
		    "\r\n\r\n", 4) != NULL) {
			fz_drain(fz_up[i]);
			return;
		}
		n = recv(fz_up[i], fz_uhead[i] + fz_uhead_len[i], room,
		    MSG_DONTWAIT);
		if (n <= 0)
			return;
		fz_uhead_len[i] += (size_t)n;
	}
}

/* Value of header name in the head the upstream got, or "". */
static size_t
fz_header(int i, const char *name, char *out, size_t cap)
{
	char *h = fz_uhead[i], *end = h + fz_uhead_len[i], *line, *eol;
	size_t nl = strlen(name), n;

	out[0] = '\0';
	for (line = h; line < end; line = eol + 2) {
		eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (eol == NULL || eol == line)
			break;
		if ((size_t)(eol - line) > nl + 1 &&
		    strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			line += nl + 1;
			while (line < eol && *line == ' ')
				line++;
			n = (size_t)(eol - line);
			if (n >= cap)
				n = cap - 1;
			memcpy(out, line, n);
			out[n] = '\0';
			return n;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Canned heads                                                        */
/* ------------------------------------------------------------------ */

#define FZ_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define FZ_REQ(path, ver, extra) "GET " path " HTTP/1.1\r\nHost: fz\r\n" \
	"Upgrade: websocket\r\nConnection: Upgrade\r\n"			\
	"Sec-WebSocket-Key: " FZ_KEY "\r\n"				\
	"Sec-WebSocket-Version: " ver "\r\n" extra "\r\n"

static const char *const fz_requests[] = {
	FZ_REQ("/ws", "13", ""),
	FZ_REQ("/ws/room?x=1", "13", "Sec-WebSocket-Protocol: chat, super\r\n"),
	FZ_REQ("/ws", "13",
	    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"),
	FZ_REQ("/other", "13", ""),			/* 404 */
	FZ_REQ("/ws", "8", ""),				/* 426 */
	"POST /ws HTTP/1.1\r\nHost: fz\r\n\r\n",	/* 426 */
	"GET /ws HTTP/1.1\r\nHost: fz\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", /* 400 */
	FZ_REQ("/ws", "13", "Content-Length: 3\r\n"),	/* 400 */
	FZ_REQ("http://fz/ws", "13", "Origin: http://fz\r\n"),
	"GET /ws HTTP/1.0\r\n\r\n",			/* 426 */
	"GET /ws HTTP/1.1\nHost: fz\n\n",		/* 400 */
	FZ_REQ("/ws", "13", "X-Fold: a\r\n b\r\n"),	/* 400 */
	/* a head and a masked text frame "hi" in one segment */
	FZ_REQ("/ws", "13", "") "\x81\x82\x01\x02\x03\x04\x69\x6b",
	/* a head and a second request pipelined after it */
	FZ_REQ("/ws", "13", "") "GET / HTTP/1.1\r\n\r\n",
	"GET /ws HTTP/1.1\r\nHost: fz\r\nUpgrade: websocket\r\n",	/* partial */
	"",
};
#define FZ_NREQ (sizeof(fz_requests) / sizeof(fz_requests[0]))

/* The upstream's answer, variant v, for the request it read. */
static void
fz_response(int i, unsigned v)
{
	char key[64], proto[128], ext[256], acc[WS_ACCEPT_LEN + 1], out[1024];
	const char *extra = "";
	int n;

	if (fz_up[i] < 0)
		return;
	fz_up_read(i);
	fz_header(i, "Sec-WebSocket-Key", key, sizeof(key));
	fz_header(i, "Sec-WebSocket-Protocol", proto, sizeof(proto));
	fz_header(i, "Sec-WebSocket-Extensions", ext, sizeof(ext));
	memset(acc, 0, sizeof(acc));
	if (strlen(key) == WS_KEY_LEN)
		ws_accept(key, acc);
	else
		memcpy(acc, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", WS_ACCEPT_LEN);
	if (proto[0] != '\0') {
		char *comma = strchr(proto, ',');

		if (comma != NULL)
			*comma = '\0';
	}
	switch (v % 10) {
	case 1:		/* wrong accept: 502 */
		acc[3] ^= 1;
		break;
	case 2:		/* the offered protocol, or one never offered */
		snprintf(ext, sizeof(ext), "Sec-WebSocket-Protocol: %s\r\n",
		    proto[0] ? proto : "bogus");
		extra = ext;
		break;
	case 3:
		extra = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
		break;
	case 4:		/* 101 and an unmasked "hey" in one segment */
		extra = "\r\n\x81\x03hey";
		break;
	case 5:
		n = snprintf(out, sizeof(out), "HTTP/1.1 403 Forbidden\r\n"
		    "Content-Length: 5\r\n\r\nnope!");
		fz_send(fz_up[i], (const uint8_t *)out, (size_t)n);
		return;
	case 6:
		n = snprintf(out, sizeof(out), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Type: text/plain\r\n\r\nbody until close");
		fz_send(fz_up[i], (const uint8_t *)out, (size_t)n);
		return;
	case 7:
		n = snprintf(out, sizeof(out), "HTTP/1.1 101\r\nUpgrade"
		    " websocket\r\n\r\n");
		fz_send(fz_up[i], (const uint8_t *)out, (size_t)n);
		return;
	case 8:		/* the head in two parts */
		n = snprintf(out, sizeof(out), "HTTP/1.1 101 Switching"
		    " Protocols\r\nUpgrade: websocket\r\n");
		fz_send(fz_up[i], (const uint8_t *)out, (size_t)n);
		loop_once(0);
		n = snprintf(out, sizeof(out), "Connection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
		fz_send(fz_up[i], (const uint8_t *)out, (size_t)n);
		return;
	default:
		break;
	}
	if (v % 10 == 4)
		n = snprintf(out, sizeof(out), "HTTP/1.1 101 Switching Protocols"
		    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n%s", acc, extra);
	else
		n = snprintf(out, sizeof(out), "HTTP/1.1 101 Switching Protocols"
		    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n%s\r\n", acc, extra);
	if (n > 0 && (size_t)n < sizeof(out))
		fz_send(fz_up[i], (const uint8_t *)out, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

/* Build and send a frame whose header fields come from the input. */
static void
fz_frame(int fd, struct fz_in *in, unsigned variant)
{
	uint8_t *b = fz_sbuf, mask[4];
	unsigned b0 = fz_byte(in), b1 = fz_byte(in), i;
	uint64_t len = b1 & 0x7f;
	size_t hl = 2, plen, total;

	b[0] = (uint8_t)b0;
	b[1] = (uint8_t)b1;
	if (len == 126) {
		b[2] = (uint8_t)fz_byte(in);
		b[3] = (uint8_t)fz_byte(in);
		len = (uint64_t)b[2] << 8 | b[3];
		hl = 4;
	} else if (len == 127) {
		len = 0;
		for (i = 0; i < 8; i++) {
			b[2 + i] = (uint8_t)fz_byte(in);
			len = len << 8 | b[2 + i];
		}
		hl = 10;
	}
	if (b1 & 0x80) {
		fz_bytes(in, mask, 4);
		memcpy(b + hl, mask, 4);
		hl += 4;
	}
	if (len <= 255) {
		plen = (size_t)len;
		fz_bytes(in, b + hl, plen);
	} else {
		/* A large payload: a pattern, capped (a huge declared length
		 * is sent only in part). */
		plen = len > FZ_BULK_MAX ? FZ_BULK_MAX : (size_t)len;
		for (i = 0; i < plen; i++)
			b[hl + i] = (uint8_t)(i * 7 + (i >> 8));
	}
	if (b1 & 0x80)
		for (i = 0; i < plen; i++)
			b[hl + i] ^= mask[i & 3];
	total = hl + plen;
	switch (variant) {
	case 1:		/* two halves */
		fz_send(fd, b, total / 2);
		loop_once(0);
		fz_send(fd, b + total / 2, total - total / 2);
		break;
	case 2:		/* the first bytes one at a time */
		for (i = 0; i < total && i < 24; i++) {
			fz_send(fd, b + i, 1);
			loop_once(0);
		}
		if (total > i)
			fz_send(fd, b + i, total - i);
		break;
	case 3:		/* the header alone */
		fz_send(fd, b, hl);
		break;
	default:
		fz_send(fd, b, total);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* One input                                                           */
/* ------------------------------------------------------------------ */

static const uint64_t fz_steps[8] = {
	1, 10, 100, 999, 1001, 5001, 10001, 60000
};

static void
fz_run(struct fz_in *in)
{
	unsigned op, idx, var, v, n, ops = 0;
	uint8_t raw[256];

	while (in->left > 0 && ops++ < FZ_MAX_OPS) {
		op = fz_byte(in);
		idx = (op >> 4) & 3;
		var = op >> 6;
		switch (op & 0xf) {
		case 0x0:
			fz_connect((int)idx);
			break;
		case 0x1:
			v = fz_byte(in) % FZ_NREQ;
			fz_send(fz_client[idx], (const uint8_t *)fz_requests[v],
			    strlen(fz_requests[v]));
			break;
		case 0x2:
			n = fz_byte(in);
			fz_bytes(in, raw, n);
			fz_send(fz_client[idx], raw, n);
			break;
		case 0x3:
			if (fz_client[idx] >= 0)
				fz_frame(fz_client[idx], in, var);
			else
				(void)fz_byte(in);
			break;
		case 0x4:
			fz_accept((int)idx);
			break;
		case 0x5:
			fz_up_read((int)idx);
			break;
		case 0x6:
			fz_response((int)idx, fz_byte(in));
			break;
		case 0x7:
			n = fz_byte(in);
			fz_bytes(in, raw, n);
			fz_send(fz_up[idx], raw, n);
			break;
		case 0x8:
			if (fz_up[idx] >= 0)
				fz_frame(fz_up[idx], in, var);
			else
				(void)fz_byte(in);
			break;
		case 0x9:
			fz_drain(fz_client[idx]);
			break;
		case 0xa:
			fz_close(&fz_client[idx], (int)var);
			break;
		case 0xb:
			fz_close(&fz_up[idx], (int)var);
			break;
		case 0xc:
			fz_clock_offset += fz_steps[fz_byte(in) & 7];
			break;
		case 0xd:
			for (v = 0; v < var; v++)
				loop_once(0);
			break;
		case 0xe:
			fz_connect((int)idx);
			fz_send(fz_client[idx], (const uint8_t *)fz_requests[var],
			    strlen(fz_requests[var]));
			loop_once(0);	/* request read, upstream connect */
			loop_once(0);	/* connected, request written */
			fz_accept((int)idx);
			fz_response((int)idx, 0);
			break;
		default:
			break;
		}
		loop_once(0);
		fz_invariants();
	}
}

/* Reset every harness socket and run the proxy until the slab is empty. */
static void
fz_teardown(void)
{
	int i, round, fd;

	for (i = 0; i < FZ_SLOTS; i++) {
		fz_close(&fz_client[i], 1);
		fz_close(&fz_up[i], 1);
	}
	for (round = 0; round < 40; round++) {
		/* upstream connections the script never accepted */
		while ((fd = accept4(fz_ulfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			fz_close(&fd, 1);
		loop_once(0);
		if (slab_nfree == slab_size)
			break;
		/* past every timeout: request, connect, upgrade, close, linger */
		if (round >= 2)
			fz_clock_offset += 61000;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	int fds = fz_count_fds(), k;

	fz_run(&in);
	fz_teardown();
	fz_invariants();
	FZ_CHECK(slab_nfree == slab_size);
	FZ_CHECK(pairs_counted == 0);
	for (k = 0; k < px_cfg.nupstream; k++)	/* every member's pairs */
		FZ_CHECK(px_cfg.upstream[k].open == 0 &&
		    px_count.member_open[k] == 0);
	FZ_CHECK(buffers_in_use() == 0);
	FZ_CHECK(!accept_paused);
	for (k = 1; k < TIMER_KINDS; k++)
		FZ_CHECK(timer_head[k] == NIL && timer_tail[k] == NIL);
	FZ_CHECK(fz_count_fds() == fds);
	FZ_CHECK(fds_open == fz_fds_open);	/* the accept fd budget */
	return 0;
}
