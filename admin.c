/*
 * admin.c - the --admin listener: health, readiness and metrics over
 * plain HTTP/1.1 on the same loop (wsproxy(1) ADMIN).
 *
 * It never competes with the relay for more than a sliver of a turn:
 * ADMIN_CONNS connections at once (when all are taken, one still sending
 * its head after ADMIN_GRACE_MS gives its slot to the newcomer; else the
 * newcomer is answered 503 at once and closed), ADMIN_ACCEPTS accepts
 * per turn, a head of at most ADMIN_HEAD
 * bytes read with the client parser, ADMIN_TIMEOUT_MS for the whole
 * exchange, and one answer per connection, then Connection: close.
 * /metrics is rendered into a buffer mapped for that answer; when
 * ADMIN_BODIES are being written to slow readers the answer is 503.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "ev.h"
#include "io.h"
#include "log.h"
#include "metrics.h"
#include "pair.h"
#include "sock.h"
#include "workers.h"
#include "ws.h"

#define ADMIN_CONNS 8		/* connections served at once */
#define ADMIN_ACCEPTS 16	/* accepts per turn of the loop */
#define ADMIN_HEAD 4096		/* longest request head */
#define ADMIN_TIMEOUT_MS 2000	/* the whole exchange */
#define ADMIN_GRACE_MS 250	/* a head's time before it can be evicted */
#define ADMIN_BODIES 2		/* /metrics answers in flight */
#define ADMIN_BODY (1024 * 1024)	/* longest /metrics text */

struct admin_conn {
	int		 fd;		/* -1: the slot is free */
	uint64_t	 deadline;	/* ms */
	size_t		 in_len;
	size_t		 scan;		/* http_head_end()'s position */
	char		*body;		/* a body buffer, or NULL */
	size_t		 head_len;	/* the answer: head[], then body */
	size_t		 body_len;
	size_t		 off;		/* bytes of the answer written */
	int		 answered;
	unsigned	 status;
	char		 head[256];
	char		 in[ADMIN_HEAD];
};

static struct admin_conn conns[ADMIN_CONNS];
static uint64_t tag_base;		/* poller data of slot 0 */
static int accept_more;			/* the last turn left some */
static int nopen;			/* connections in conns[] */
static int busy_logged;
static uint64_t start_ms;		/* since the epoch */
static int nbodies;			/* bodies out now */
/* The body most scrapes fit in, always there, so /metrics still answers
 * when the address space is exhausted; a longer text, or a second answer
 * at once, gets a body mapped for it. */
static char small_body[64 * 1024];
static int small_used;

int
admin_init(uint64_t listener_data, uint64_t conn_data)
{
	struct timespec ts;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* The gauge shows milliseconds: round to the nearest one. */
	start_ms = (uint64_t)ts.tv_sec * 1000 +
	    ((uint64_t)ts.tv_nsec + 500000) / 1000000;
	for (i = 0; i < ADMIN_CONNS; i++)
		conns[i].fd = -1;
	if (px_cfg.admin.text == NULL || px_cfg.admin.fd < 0)
		return 0;
	tag_base = conn_data;
	return ev_add_listener(px_cfg.admin.fd, listener_data);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static void
conn_close(struct admin_conn *c)
{
	if (c->body == small_body)
		small_used = 0;
	else if (c->body != NULL)
		munmap(c->body, ADMIN_BODY);
	if (c->body != NULL) {
		nbodies--;
		c->body = NULL;
	}
	sock_drain(c->fd);
	(void)ev_del(c->fd);
	px_fd_close(c->fd);
	c->fd = -1;
	nopen--;
	if (busy_logged) {
		px_log(PX_LOG_INFO, "event=admin_resumed");
		busy_logged = 0;
	}
}

/* Write what is left of the answer: 1 when all of it is out. */
static int
conn_write(struct admin_conn *c)
{
	size_t total = c->head_len + c->body_len;
	const char *from;
	size_t len;
	ssize_t n;

	while (c->off < total) {
		if (c->off < c->head_len) {
			from = c->head + c->off;
			len = c->head_len - c->off;
		} else {
			from = c->body + (c->off - c->head_len);
			len = total - c->off;
		}
		n = send(c->fd, from, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? 0 : -1;
		c->off += (size_t)n;
	}
	return 1;
}

static const char *
reason(unsigned status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	default: return "Service Unavailable";
	}
}

/* The answer's head (and, for a short text, its body) into c->head. */
static void
answer(struct admin_conn *c, unsigned status, const char *type,
    const char *text, size_t body_len, int head_only)
{
	int n;

	if (text != NULL)
		body_len = strlen(text);
	n = snprintf(c->head, sizeof(c->head), "HTTP/1.1 %u %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s"
	    "Cache-Control: no-store\r\nConnection: close\r\n\r\n%s", status,
	    reason(status), type, body_len, status == 405 ?
	    "Allow: GET, HEAD\r\n" : "", status == 503 ?
	    "Retry-After: 1\r\n" : "", text != NULL && !head_only ? text : "");
	c->head_len = n > 0 && (size_t)n < sizeof(c->head) ? (size_t)n : 0;
	c->body_len = head_only || text != NULL ? 0 : body_len;
	c->off = 0;
	c->answered = 1;
	c->status = status;
}

/*
 * A process's address space in bytes (pid 0: this one's): the sum of
 * /proc/PID/maps' ranges, 0 when it cannot be read.  Those lines come
 * from the kernel (or from qemu-user, which writes the emulated
 * program's own), not from a peer.  Read per scrape, with one fd for
 * the moment; a supervisor reads each worker's.
 */
static uint64_t
address_space(pid_t pid)
{
	char buf[1024];
	uint64_t lo = 0, hi = 0, sum = 0;
	ssize_t n, i;
	int fd, field = 0;

	snprintf(buf, sizeof(buf), "/proc/%ld/maps", (long)pid);
	if ((fd = open(pid == 0 ? "/proc/self/maps" : buf, O_RDONLY |
	    O_CLOEXEC)) < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++) {
			unsigned c = (unsigned char)buf[i];
			unsigned d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

			if (c == '\n') {
				field = 0;
				lo = hi = 0;
			} else if (field == 0 && c == '-') {
				field = 1;
			} else if (field == 1 && c == ' ') {
				sum += hi - lo;
				field = 2;
			} else if (field == 0) {
				lo = lo << 4 | d;
			} else if (field == 1) {
				hi = hi << 4 | d;
			}
		}
	close(fd);
	return sum;
}

/* Accepting clients: this process, or a supervisor with a worker up. */
static int
ready(void)
{
	return px_run == RUN_ACCEPTING &&
	    (!workers_supervising() || workers_alive() > 0);
}

/* The Prometheus text, with a supervisor's per-worker series. */
static size_t
metrics_text(const struct met_gauges *g, char *out, size_t cap)
{
	size_t len = metrics_render(g, out, cap);

	return len > 0 && workers_supervising() ?
	    workers_render(out, len, cap) : len;
}

/* /metrics into small_body, or else into a body mapped for this answer
 * only, so that an admin port holds little address space between
 * scrapes (wsproxy(1) SMALL SYSTEMS): its length, or 0 when ADMIN_BODIES
 * are out, none can be mapped, or the text does not fit. */
static size_t
render(struct admin_conn *c)
{
	struct met_gauges g;
	size_t len;
	char *body;

	if (nbodies == ADMIN_BODIES)
		return 0;
	memset(&g, 0, sizeof(g));
	g.address_space = address_space(0);
	if (workers_supervising()) {	/* wsproxy(1) WORKERS: the sums */
		unsigned i;

		workers_gauges(&g);
		for (i = 0; i < px_cfg.workers; i++)
			if (workers_pid(i) > 0)
				g.address_space += address_space(
				    workers_pid(i));
	} else {
		g.buffer_bytes = buffers_bytes();
		g.tls_bytes = tls_pool_bytes();
		g.pairs_max = px_cfg.max_conns;
		g.buffers_in_use = buffers_in_use();
		g.buffers_max = 2 * (uint64_t)px_slab_size();
		g.tls_in_use = tls_in_use();
	}
	g.start_ms = start_ms;
	g.ready = ready();
	g.tls = tls_built_in();
	if (!small_used && (len = metrics_text(&g, small_body,
	    sizeof(small_body))) > 0) {
		small_used = 1;
		body = small_body;
	} else {
		body = mmap(NULL, ADMIN_BODY, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (body == MAP_FAILED)
			return 0;
		len = metrics_text(&g, body, ADMIN_BODY);
		if (len == 0) {
			munmap(body, ADMIN_BODY);
			return 0;
		}
	}
	nbodies++;
	c->body = body;
	return len;
}

/* Is the request's path (query cut) p? */
static int
path_is(const struct http_head *h, const char *p)
{
	size_t n = strlen(p);

	return h->target_len >= n && memcmp(h->target, p, n) == 0 &&
	    (h->target_len == n || h->target[n] == '?');
}

/* A whole head is in: decide the answer. */
static void
serve(struct admin_conn *c)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct http_head h;
	size_t len;
	int head_only;
	char path[128], method[48];

	if (http_parse_request(c->in, c->in_len, &h) < 0) {
		answer(c, 400, text, "bad request\n", 0, 0);
		px_log(PX_LOG_INFO, "event=admin status=400"
		    " error=\"malformed request head\"");
		return;
	}
	head_only = h.method_len == 4 && memcmp(h.method, "HEAD", 4) == 0;
	if (!head_only && !(h.method_len == 3 &&
	    memcmp(h.method, "GET", 3) == 0))
		answer(c, 405, text, "method not allowed\n", 0, 0);
	else if (path_is(&h, "/healthz"))
		answer(c, 200, text, "ok\n", 0, head_only);
	else if (path_is(&h, "/readyz"))
		answer(c, ready() ? 200 : 503, text,
		    ready() ? "ready\n" : px_run ==
		    RUN_DRAINING ? "draining\n" : "starting\n", 0, head_only);
	else if (path_is(&h, "/metrics")) {
		if ((len = render(c)) == 0)
			answer(c, 503, text, "busy\n", 0, head_only);
		else
			answer(c, 200, "text/plain; version=0.0.4;"
			    " charset=utf-8", NULL, len, head_only);
	} else
		answer(c, 404, text, "not found\n", 0, 0);
	/* Probes are not logged; what went wrong is, at info. */
	if (c->status != 200)
		px_log(PX_LOG_INFO, "event=admin method=%s path=%s status=%u"
		    " error=\"%s\"", log_value(method, sizeof(method), h.method,
		    h.method_len), log_value(path, sizeof(path), h.target,
		    h.target_len), c->status, reason(c->status));
}

/* Read the request head; answer once it is whole or cannot be. */
static int
conn_read(struct admin_conn *c)
{
	ssize_t n;

	while (!c->answered) {
		if (c->in_len == sizeof(c->in)) {
			answer(c, 431, "text/plain; charset=utf-8",
			    "request head too large\n", 0, 0);
			px_log(PX_LOG_INFO, "event=admin status=431"
			    " error=\"request head too large\"");
			break;
		}
		n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
		    MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR ? 0 : -1;
		c->in_len += (size_t)n;
		if (http_head_end(c->in, c->in_len, &c->scan))
			serve(c);
	}
	return 1;
}

static void
conn_run(struct admin_conn *c)
{
	int r = conn_read(c);

	if (r < 0) {
		conn_close(c);
		return;
	}
	if (r == 0)
		return;
	r = conn_write(c);
	if (r != 0) {
		if (r > 0)
			(void)shutdown(c->fd, SHUT_WR);
		conn_close(c);
	}
}

void
admin_event(unsigned slot)
{
	if (slot < ADMIN_CONNS && conns[slot].fd >= 0)
		conn_run(&conns[slot]);
}

/* ------------------------------------------------------------------ */
/* Accepting                                                           */
/* ------------------------------------------------------------------ */

/* Every slot is taken: say so at once and close. */
static void
refuse(int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n"
	    "Retry-After: 1\r\nConnection: close\r\n\r\nbusy\n";

	if (!busy_logged)
		px_log(PX_LOG_WARN, "event=admin_busy error=\"all %d admin"
		    " connections in use\"", ADMIN_CONNS);
	busy_logged = 1;
	sock_answer(fd, busy, sizeof(busy) - 1);
	px_fd_close(fd);
}

/*
 * Every slot is taken: the one that has been sending its head longest
 * gives its slot up (408) if it has had ADMIN_GRACE_MS, so that slow
 * or stalled clients cannot keep a probe out; the free slot, or -1.
 */
static int
evict(void)
{
	uint64_t oldest = UINT64_MAX;
	int i, pick = -1;

	for (i = 0; i < ADMIN_CONNS; i++)
		if (!conns[i].answered && conns[i].deadline < oldest) {
			oldest = conns[i].deadline;
			pick = i;
		}
	if (pick < 0 || oldest - ADMIN_TIMEOUT_MS + ADMIN_GRACE_MS > px_now())
		return -1;
	answer(&conns[pick], 408, "text/plain; charset=utf-8",
	    "request timeout\n", 0, 0);
	(void)conn_write(&conns[pick]);
	px_log(PX_LOG_INFO, "event=admin status=408 error=\"head unfinished"
	    " while every connection was taken\"");
	conn_close(&conns[pick]);
	return pick;
}

void
admin_accept(void)
{
	struct admin_conn *c;
	int fd, i, n;

	accept_more = 0;
	for (n = 0; px_cfg.admin.fd >= 0; n++) {
		if (n == ADMIN_ACCEPTS) {
			accept_more = 1;	/* the rest next turn */
			return;
		}
		fd = sock_accept(px_cfg.admin.fd, NULL, NULL);
		if (fd < 0)
			return;		/* EAGAIN, or fds are short: later */
		px_fd_opened();
		for (i = 0; i < ADMIN_CONNS && conns[i].fd >= 0; i++)
			;
		if (i == ADMIN_CONNS && (i = evict()) < 0) {
			refuse(fd);
			continue;
		}
		c = &conns[i];
		memset(c, 0, offsetof(struct admin_conn, head));
		c->fd = fd;
		c->deadline = px_now() + ADMIN_TIMEOUT_MS;
		if (ev_add(fd, tag_base + (uint64_t)i) < 0) {
			px_fd_close(fd);
			c->fd = -1;
		} else
			nopen++;
	}
}

uint64_t
admin_next(void)
{
	uint64_t first = accept_more ? px_now() : UINT64_MAX;
	int i;

	if (nopen == 0)
		return first;		/* the relay's loop pays one test */
	for (i = 0; i < ADMIN_CONNS; i++)
		if (conns[i].fd >= 0 && conns[i].deadline < first)
			first = conns[i].deadline;
	return first;
}

void
admin_tick(void)
{
	struct admin_conn *c;
	int i;

	if (accept_more)
		admin_accept();
	for (i = 0; i < ADMIN_CONNS && nopen > 0; i++) {
		c = &conns[i];
		if (c->fd < 0 || c->deadline > px_now())
			continue;
		if (!c->answered) {
			/* Too slow to ask: 408, if it can take it now. */
			answer(c, 408, "text/plain; charset=utf-8",
			    "request timeout\n", 0, 0);
			(void)conn_write(c);
			px_log(PX_LOG_INFO, "event=admin status=408"
			    " error=\"request timeout\"");
		}
		conn_close(c);
	}
}

int
admin_open(void)
{
	return nopen;
}

void
admin_forget(void)
{
	int i;

	for (i = 0; i < ADMIN_CONNS; i++)
		if (conns[i].fd >= 0) {
			if (conns[i].body != NULL &&
			    conns[i].body != small_body)
				munmap(conns[i].body, ADMIN_BODY);
			conns[i].body = NULL;
			close(conns[i].fd);
			conns[i].fd = -1;
		}
	nbodies = small_used = 0;
	if (px_cfg.admin.fd >= 0)
		close(px_cfg.admin.fd);
	px_cfg.admin.fd = -1;
	nopen = 0;
}

void
admin_close(void)
{
	/* Connections being answered finish; no new ones are taken. */
	if (px_cfg.admin.fd >= 0) {
		(void)ev_del(px_cfg.admin.fd);
		close(px_cfg.admin.fd);
		px_cfg.admin.fd = -1;
	}
	accept_more = 0;
}
