/*
 * dns.c - the stub resolver on the loop, wsproxy(1) UPSTREAMS, Name
 * resolution.
 *
 * Each upstream whose host is a name is a watch: looked up (the hosts
 * file, then A and AAAA side by side over UDP, TCP when an answer is
 * truncated), its addresses replaced when an answer comes, and looked
 * up again when the TTL, clamped to --dns-min-ttl..--dns-max-ttl, runs
 * out.  A lookup that fails keeps the last good addresses and is tried
 * again after --dns-min-ttl.  Nothing here blocks the loop: the hosts
 * file and resolv.conf are small local files, read at a lookup's start
 * and at start-up or SIGHUP.
 *
 * Spoofing: every query has its own socket (a port the kernel picks at
 * random), connected to its nameserver, and a random id from the
 * kernel; an answer counts only from that server's address and port,
 * with that id and the question echoed (dnsmsg.c).  Anything else is
 * ignored and the query goes on waiting.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#ifdef __linux__
#include <sys/random.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "ev.h"
#include "log.h"
#include "pair.h"
#include "sock.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0		/* SIGPIPE is ignored anyway (main) */
#endif

#define SERVERS_MAX 3		/* as glibc's MAXNS */
#define SEARCH_MAX 6		/* as glibc's MAXDNSRCH */
#define UDP_MAX 4096

struct server {
	struct sockaddr_storage sa;
	socklen_t	 len;
};

/* resolv.conf */
static struct server server[SERVERS_MAX];
static int nserver;
static int no_server;		/* none listed: 127.0.0.1, as glibc */
static int no_server_logged;
static char search[SEARCH_MAX][DNS_NAME_MAX + 1];
static int nsearch;
static unsigned ndots, timeout_s, attempts;

enum query_state { Q_IDLE, Q_WAIT, Q_FOUND, Q_NONE, Q_FAIL };

/* One question (A or AAAA) of a watch's current name. */
struct query {
	enum query_state state;
	int		 fd;		/* -1: none */
	int		 tcp;		/* asked again over TCP (TC) */
	int		 tries;		/* sends, to attempts x nameservers */
	int		 server;	/* asked last */
	uint16_t	 id;
	uint64_t	 deadline;	/* ms: this try's answer */
	uint8_t		 msg[2 + DNS_QUERY_MAX];	/* TCP length, query */
	size_t		 len;		/* of the query alone */
	size_t		 sent;		/* TCP: of msg */
	uint8_t		*tcp_buf;	/* TCP: length and answer */
	size_t		 tcp_have;
	const char	*err;		/* the last try's failure */
	struct dns_answer ans;
};

struct watch {
	struct px_upstream *up;
	int		 busy;		/* a lookup under way */
	int		 failing;	/* lookups failed in a row */
	int		 cand;		/* which search candidate */
	char		 name[DNS_NAME_MAX + 1];	/* the candidate */
	const char	*err_fail;	/* a failure seen (timeout, ...) */
	const char	*err_none;	/* a "no such name" seen */
	uint64_t	 refresh;	/* ms: look up again */
	struct query	 q[2];		/* A, AAAA */
};

static struct watch *watch;	/* one per name, from dns_init() */
static int nwatch;
static uint64_t ev_data;
static int on_loop;		/* dns_start() called: ev_add the fds */
static uint64_t now;

static void candidate_start(struct watch *);

static uint64_t
clock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A query id an off-path attacker cannot guess: from the kernel. */
static uint16_t
random_id(void)
{
	uint16_t id = 0;

#ifdef __linux__
	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
		id = (uint16_t)(clock_now() * 2654435761U);	/* never seen */
#else
	arc4random_buf(&id, sizeof(id));
#endif
	return id;
}

static const char *
resolv_path(void)
{
	return px_cfg.resolv_conf ? px_cfg.resolv_conf : "/etc/resolv.conf";
}

/* ------------------------------------------------------------------ */
/* resolv.conf and the hosts file                                      */
/* ------------------------------------------------------------------ */

/* ADDR, or the extension [V6]:PORT, V4:PORT, into s: 0 or -1. */
static int
server_parse(const char *tok, struct server *s)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *end = tok + strlen(tok), *port = NULL;
	struct sockaddr_in *in = (struct sockaddr_in *)&s->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&s->sa;
	unsigned long p = 53;
	char *stop;

	if (*tok == '[') {
		tok++;
		if ((end = strchr(tok, ']')) == NULL)
			return -1;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
	} else if (strchr(tok, ':') == strrchr(tok, ':') &&
	    strchr(tok, ':') != NULL) {
		end = strchr(tok, ':');
		port = end + 1;
	}
	if ((size_t)(end - tok) >= sizeof(host))
		return -1;
	memcpy(host, tok, (size_t)(end - tok));
	host[end - tok] = '\0';
	if (port != NULL) {
		p = strtoul(port, &stop, 10);
		if (*port < '0' || *port > '9' || *stop != '\0' || p == 0 ||
		    p > 65535)
			return -1;
	}
	memset(s, 0, sizeof(*s));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		s->len = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		s->len = sizeof(*in6);
	} else
		return -1;
	return 0;
}

/* options NAME:N, capped as glibc caps it. */
static void
option(const char *tok, const char *name, unsigned *v, unsigned lo,
    unsigned hi)
{
	size_t n = strlen(name);
	unsigned long x;

	if (strncmp(tok, name, n) != 0 || tok[n] < '0' || tok[n] > '9')
		return;
	x = strtoul(tok + n, NULL, 10);
	*v = x < lo ? lo : x > hi ? hi : (unsigned)x;
}

/*
 * Read resolv.conf (glibc's keywords and defaults): 0, or -1 when it
 * cannot be opened.  A missing default file means no nameserver and no
 * search list (a scratch container); a --resolv-conf that cannot be
 * read leaves what was read before.
 */
static int
resolv_read(void)
{
	char line[1024], *tok, *save;
	FILE *f = fopen(resolv_path(), "r");
	size_t n;

	if (f == NULL && px_cfg.resolv_conf != NULL)
		return -1;
	nserver = nsearch = 0;
	ndots = 1;
	timeout_s = 5;
	attempts = 2;
	no_server_logged = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "#;")] = '\0';
		if ((tok = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		if (strcmp(tok, "nameserver") == 0) {
			tok = strtok_r(NULL, " \t\r\n", &save);
			if (tok != NULL && nserver < SERVERS_MAX &&
			    server_parse(tok, &server[nserver]) == 0)
				nserver++;
		} else if (strcmp(tok, "search") == 0 ||
		    strcmp(tok, "domain") == 0) {
			nsearch = 0;	/* the last of them wins */
			while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL &&
			    nsearch < SEARCH_MAX) {
				n = strlen(tok);
				if (n > 0 && tok[n - 1] == '.')
					tok[--n] = '\0';
				if (n > 0 && n <= DNS_NAME_MAX)
					memcpy(search[nsearch++], tok, n + 1);
			}
		} else if (strcmp(tok, "options") == 0) {
			while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
				option(tok, "ndots:", &ndots, 0, 15);
				option(tok, "timeout:", &timeout_s, 1, 30);
				option(tok, "attempts:", &attempts, 1, 5);
			}
		}
	}
	no_server = nserver == 0;
	if (no_server)
		(void)server_parse("127.0.0.1", &server[nserver++]);
	if (f == NULL)
		return -1;
	fclose(f);
	return 0;
}

/* name's addresses in the hosts file, in file order, into a. */
static void
hosts_lookup(const char *name, struct dns_answer *a)
{
	char line[1024], *tok, *save;
	FILE *f = fopen(px_cfg.hosts_file ? px_cfg.hosts_file : "/etc/hosts",
	    "r");
	uint8_t bin[16];
	size_t n;
	int family, c;

	memset(a, 0, sizeof(*a));
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strchr(line, '\n') == NULL)	/* too long: skip the rest */
			while ((c = getc(f)) != EOF && c != '\n')
				;
		line[strcspn(line, "#")] = '\0';
		if ((tok = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		if (inet_pton(AF_INET, tok, bin) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, tok, bin) == 1)
			family = AF_INET6;
		else
			continue;
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			n = strlen(tok);
			if (n > 0 && tok[n - 1] == '.')
				tok[--n] = '\0';
			if (strcasecmp(tok, name) != 0 ||
			    a->naddr == DNS_ANSWER_ADDRS)
				continue;
			a->family[a->naddr] = family;
			memcpy(a->addr[a->naddr++], bin, 16);
			break;
		}
	}
	if (f != NULL)
		fclose(f);
}

/* ------------------------------------------------------------------ */
/* A lookup's end: the upstream's addresses, or the failure            */
/* ------------------------------------------------------------------ */

/*
 * The answers' addresses become the upstream's: IPv4 first, then IPv6,
 * each in answer order (wsproxy(1) says why).  Pairs already open are
 * not touched; a connect under way goes on from its index.
 */
static void
lookup_ok(struct watch *w, const struct dns_answer *a, int na, uint32_t ttl)
{
	struct px_upstream *up = w->up;
	struct sockaddr_storage addr[PX_MAX_ADDRS];
	socklen_t len[PX_MAX_ADDRS];
	uint16_t port = htons((uint16_t)strtoul(up->port, NULL, 10));
	int n = 0, pass, k, i, changed;

	memset(addr, 0, sizeof(addr));
	memset(len, 0, sizeof(len));
	for (pass = 0; pass < 2; pass++)
		for (k = 0; k < na; k++)
			for (i = 0; i < a[k].naddr && n < PX_MAX_ADDRS; i++) {
				if (a[k].family[i] != (pass ? AF_INET6 : AF_INET))
					continue;
				if (pass) {
					struct sockaddr_in6 *s6 =
					    (struct sockaddr_in6 *)&addr[n];

					s6->sin6_family = AF_INET6;
					s6->sin6_port = port;
					memcpy(&s6->sin6_addr, a[k].addr[i], 16);
					len[n++] = sizeof(*s6);
				} else {
					struct sockaddr_in *s4 =
					    (struct sockaddr_in *)&addr[n];

					s4->sin_family = AF_INET;
					s4->sin_port = port;
					memcpy(&s4->sin_addr, a[k].addr[i], 4);
					len[n++] = sizeof(*s4);
				}
			}
	if (ttl < px_cfg.dns_min_ttl)
		ttl = px_cfg.dns_min_ttl;
	if (ttl > px_cfg.dns_max_ttl)
		ttl = px_cfg.dns_max_ttl;
	changed = n != up->naddr;
	for (i = 0; i < n && !changed; i++)
		changed = len[i] != up->addr_len[i] ||
		    memcmp(&addr[i], &up->addr[i], len[i]) != 0;
	if (changed) {
		memcpy(up->addr, addr, sizeof(addr));
		memcpy(up->addr_len, len, sizeof(len));
		up->naddr = n;
	}
	px_log(changed ? PX_LOG_INFO : PX_LOG_DEBUG, "event=dns_update"
	    " upstream=%s addrs=%d ttl=%u%s", up->uri, n, ttl,
	    changed ? "" : " changed=no");
	w->busy = 0;
	w->failing = 0;
	w->refresh = now + (uint64_t)ttl * 1000;
}

/* No address: the last good ones stay; try again after --dns-min-ttl.
 * Only the first failure in a row is a warning. */
static void
lookup_failed(struct watch *w, const char *why)
{
	px_log(w->failing++ ? PX_LOG_DEBUG : PX_LOG_WARN, "event=dns_failed"
	    " upstream=%s error=\"%s\"", w->up->uri, why);
	w->busy = 0;
	w->refresh = now + (uint64_t)px_cfg.dns_min_ttl * 1000;
}

/* Both questions of the candidate are done. */
static void
candidate_done(struct watch *w)
{
	struct query *a = &w->q[0], *b = &w->q[1];
	struct dns_answer ans[2];
	uint32_t ttl = UINT32_MAX;
	int k, n = 0;

	for (k = 0; k < 2; k++) {
		if (w->q[k].state == Q_FOUND) {
			ans[n++] = w->q[k].ans;
			if (w->q[k].ans.ttl < ttl)
				ttl = w->q[k].ans.ttl;
		} else if (w->q[k].state == Q_FAIL)
			w->err_fail = w->q[k].err;
		else if (w->err_none == NULL || w->q[k].ans.rcode != 0)
			w->err_none = w->q[k].err;
	}
	a->state = b->state = Q_IDLE;
	if (n > 0) {
		lookup_ok(w, ans, n, ttl);
		return;
	}
	w->cand++;
	candidate_start(w);
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

static void
query_close(struct query *q)
{
	if (q->fd >= 0)
		px_fd_close(q->fd);
	q->fd = -1;
	free(q->tcp_buf);
	q->tcp_buf = NULL;
}

static void
query_end(struct watch *w, int k, enum query_state state, const char *err)
{
	struct query *q = &w->q[k];

	query_close(q);
	q->state = state;
	q->err = err;
	if (w->q[!k].state != Q_WAIT)
		candidate_done(w);
}

/* A non-blocking socket connected (or connecting) to s, watched as
 * slot: the fd, or -1. */
static int
query_socket(int type, const struct server *s, unsigned slot)
{
	int fd = socket(s->sa.ss_family, type, 0), fl;

	if (fd < 0)
		return -1;
	px_fd_opened();
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    (connect(fd, (const struct sockaddr *)&s->sa, s->len) < 0 &&
	    errno != EINPROGRESS) ||
	    (on_loop && ev_add(fd, ev_data | slot) < 0)) {
		px_fd_close(fd);
		return -1;
	}
	return fd;
}

/* The next try over UDP, to the next nameserver; the query fails when
 * every try was made. */
static void
query_send(struct watch *w, int k)
{
	struct query *q = &w->q[k];
	unsigned slot = (unsigned)((w - watch) * 2 + k);

	query_close(q);
	q->tcp = 0;
	while (q->tries < (int)attempts * nserver) {
		q->server = q->tries++ % nserver;
		q->deadline = now + (uint64_t)timeout_s * 1000;
		q->fd = query_socket(SOCK_DGRAM, &server[q->server], slot);
		if (q->fd >= 0 &&
		    send(q->fd, q->msg + 2, q->len, 0) == (ssize_t)q->len)
			return;
		q->err = strerror(errno);
		query_close(q);
	}
	query_end(w, k, Q_FAIL, q->err != NULL ? q->err : "timeout");
}

/* TC: the same question to the same server over TCP. */
static void tcp_run(struct watch *, int);

static void
tcp_start(struct watch *w, int k)
{
	struct query *q = &w->q[k];
	unsigned slot = (unsigned)((w - watch) * 2 + k);

	query_close(q);
	q->tcp = 1;
	q->sent = q->tcp_have = 0;
	q->deadline = now + (uint64_t)timeout_s * 1000;
	if ((q->tcp_buf = malloc(2 + 65535)) == NULL ||
	    (q->fd = query_socket(SOCK_STREAM, &server[q->server], slot)) < 0) {
		q->err = "cannot ask over TCP";
		query_send(w, k);
		return;
	}
	tcp_run(w, k);
}

/*
 * A message from the query's server: 1 when it answered the query (the
 * query moved on), 0 when it is not an answer to it (ignored).
 */
static int
query_answer(struct watch *w, int k, const uint8_t *m, size_t len)
{
	static const char *const why[] = { "ok", "malformed", "not an answer",
	    "id mismatch", "question mismatch" };
	struct query *q = &w->q[k];
	enum dns_msg r;

	r = dns_answer_parse(m, len, q->id, w->name,
	    k ? DNS_TYPE_AAAA : DNS_TYPE_A, &q->ans);
	if (r != DNS_MSG_OK) {
		px_log(PX_LOG_DEBUG, "event=dns_ignored upstream=%s"
		    " error=\"%s\"", w->up->uri, why[r]);
		return 0;
	}
	if (q->ans.tc && !q->tcp)
		tcp_start(w, k);
	else if (q->ans.tc) {
		q->err = "truncated over TCP";
		query_send(w, k);
	} else if (q->ans.rcode == 0)
		query_end(w, k, q->ans.naddr ? Q_FOUND : Q_NONE, "no address");
	else if (q->ans.rcode == DNS_RCODE_NXDOMAIN)
		query_end(w, k, Q_NONE, "NXDOMAIN");
	else {
		/* SERVFAIL, REFUSED...: the next server may do better. */
		q->err = q->ans.rcode == DNS_RCODE_SERVFAIL ? "SERVFAIL" :
		    q->ans.rcode == 5 ? "REFUSED" : "server error";
		query_send(w, k);
	}
	return 1;
}

/* Is from, as recvfrom() filled it, the server s: address and port? */
static int
from_server(const struct sockaddr_storage *from, socklen_t len,
    const struct server *s)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)from;
	const struct sockaddr_in *b = (const struct sockaddr_in *)&s->sa;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)from;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&s->sa;

	if (len != s->len || from->ss_family != s->sa.ss_family)
		return 0;
	if (from->ss_family == AF_INET)
		return a->sin_port == b->sin_port &&
		    a->sin_addr.s_addr == b->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

static void
udp_read(struct watch *w, int k)
{
	static uint8_t buf[UDP_MAX];
	struct query *q = &w->q[k];
	const struct server *s = &server[q->server];
	struct sockaddr_storage from;
	socklen_t flen;
	ssize_t n;

	for (;;) {
		memset(&from, 0, sizeof(from));
		flen = sizeof(from);
		n = recvfrom(q->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			q->err = strerror(errno);	/* ICMP: refused */
			query_send(w, k);
			return;
		}
		/* connect() already filters; checked again all the same. */
		if (!from_server(&from, flen, s)) {
			px_log(PX_LOG_DEBUG, "event=dns_ignored upstream=%s"
			    " error=\"another source\"", w->up->uri);
			continue;
		}
		if (query_answer(w, k, buf, (size_t)n))
			return;
	}
}

/* TCP: write the length-prefixed query, read the length, then the
 * answer, as far as the socket allows; resumes at the next event. */
static void
tcp_run(struct watch *w, int k)
{
	struct query *q = &w->q[k];
	size_t need;
	ssize_t n;

	while (q->sent < 2 + q->len) {
		n = send(q->fd, q->msg + q->sent, 2 + q->len - q->sent,
		    MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOTCONN || errno == EINTR))
			return;		/* still connecting */
		if (n < 0)
			goto fail;
		q->sent += (size_t)n;
	}
	for (;;) {
		need = q->tcp_have < 2 ? 2 :
		    2 + ((size_t)q->tcp_buf[0] << 8 | q->tcp_buf[1]);
		if (q->tcp_have == need) {
			if (need > 2 && query_answer(w, k, q->tcp_buf + 2,
			    need - 2))
				return;
			q->err = "bad answer over TCP";
			query_send(w, k);
			return;
		}
		n = recv(q->fd, q->tcp_buf + q->tcp_have, need - q->tcp_have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0)
			errno = ECONNRESET;
		if (n <= 0)
			goto fail;
		q->tcp_have += (size_t)n;
	}
fail:
	q->err = strerror(errno);
	query_send(w, k);
}

/* Queries whose try ran out of time: the next try. */
static void
timeouts(void)
{
	struct watch *w;
	int k;

	for (w = watch; w < watch + nwatch; w++)
		for (k = 0; k < 2; k++)
			if (w->q[k].state == Q_WAIT && w->q[k].deadline <= now) {
				w->q[k].err = "timeout";
				query_send(w, k);
			}
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */
/* ------------------------------------------------------------------ */

/* Does name (no trailing dot) end in label (RFC 6761 special names)? */
static int
under(const char *name, const char *label)
{
	size_t n = strlen(name), l = strlen(label);

	return n >= l && strcasecmp(name + n - l, label) == 0 &&
	    (n == l || name[n - l - 1] == '.');
}

/*
 * The next name to ask from w->cand on, as glibc's search rules have
 * it: a name with a trailing dot alone; one with at least ndots dots
 * as given, then with each search domain; one with fewer, with each
 * domain first.  Both questions asked; the lookup ends when none is
 * left.
 */
static void
candidate_start(struct watch *w)
{
	const char *h = w->up->host, *dom, *p;
	size_t hl = strlen(h), len;
	unsigned dots = 0;
	int k, first, n;

	if (hl > 0 && h[hl - 1] == '.')
		hl--, n = 1, first = 1;
	else {
		for (p = h; *p != '\0'; p++)
			dots += *p == '.';
		n = nsearch + 1;
		first = dots >= ndots;
	}
	for (; w->cand < n; w->cand++) {
		dom = NULL;
		if (first && w->cand > 0)
			dom = search[w->cand - 1];
		else if (!first && w->cand < nsearch)
			dom = search[w->cand];
		len = hl + (dom != NULL ? 1 + strlen(dom) : 0);
		if (hl == 0 || len > DNS_NAME_MAX)
			continue;
		memcpy(w->name, h, hl);
		if (dom != NULL)
			snprintf(w->name + hl, sizeof(w->name) - hl, ".%s", dom);
		else
			w->name[hl] = '\0';
		for (k = 0; k < 2; k++) {
			struct query *q = &w->q[k];
			int ql = dns_query_build(q->msg + 2, DNS_QUERY_MAX,
			    q->id = random_id(), w->name,
			    k ? DNS_TYPE_AAAA : DNS_TYPE_A);

			if (ql < 0)
				break;
			q->len = (size_t)ql;
			q->msg[0] = (uint8_t)(ql >> 8);
			q->msg[1] = (uint8_t)ql;
			q->tries = 0;
			q->err = "timeout";
			q->state = Q_WAIT;
		}
		if (k < 2) {
			w->q[0].state = w->q[1].state = Q_IDLE;
			continue;
		}
		if (no_server && !no_server_logged++)
			px_log(PX_LOG_WARN, "event=dns_no_nameserver"
			    " resolv_conf=%s msg=\"asking 127.0.0.1\"",
			    resolv_path());
		query_send(w, 0);
		if (w->q[1].state == Q_WAIT)
			query_send(w, 1);
		return;
	}
	lookup_failed(w, w->err_fail ? w->err_fail :
	    w->err_none ? w->err_none : "not a name");
}

/* The answers that need no nameserver: 1 when w's lookup ended here. */
static int
local_answer(struct watch *w)
{
	char name[DNS_NAME_MAX + 2];
	struct dns_answer a;

	snprintf(name, sizeof(name), "%s", w->up->host);
	if (name[0] != '\0' && name[strlen(name) - 1] == '.')
		name[strlen(name) - 1] = '\0';
	hosts_lookup(name, &a);
	if (a.naddr == 0 && under(name, "localhost")) {
		/* RFC 6761 6.3: loopback, even without a hosts file. */
		a.naddr = 2;
		a.family[0] = AF_INET;
		memcpy(a.addr[0], "\177\0\0\1", 4);
		a.family[1] = AF_INET6;
		memcpy(a.addr[1], "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	}
	if (a.naddr > 0)
		lookup_ok(w, &a, 1, px_cfg.dns_max_ttl);
	else if (under(name, "invalid"))
		lookup_failed(w, "NXDOMAIN");	/* RFC 6761 6.4 */
	else
		return 0;
	return 1;
}

static void
watch_start(struct watch *w)
{
	w->busy = 1;
	w->cand = 0;
	w->err_fail = w->err_none = NULL;
	if (!local_answer(w))
		candidate_start(w);
}

/* ------------------------------------------------------------------ */
/* The loop's side                                                     */
/* ------------------------------------------------------------------ */

void
dns_start(uint64_t data)
{
	ev_data = data;
	on_loop = 1;
}

void
dns_event(unsigned slot)
{
	struct watch *w;
	int k = (int)(slot % 2);

	if (slot / 2 >= (unsigned)nwatch)
		return;
	w = &watch[slot / 2];
	if (w->q[k].state != Q_WAIT || w->q[k].fd < 0)
		return;
	now = clock_now();
	if (w->q[k].tcp)
		tcp_run(w, k);
	else
		udp_read(w, k);
}

uint64_t
dns_next(void)
{
	uint64_t first = UINT64_MAX;
	int i, k;

	for (i = 0; i < nwatch; i++) {
		if (!watch[i].busy && watch[i].refresh < first)
			first = watch[i].refresh;
		for (k = 0; k < 2; k++)
			if (watch[i].q[k].state == Q_WAIT &&
			    watch[i].q[k].deadline < first)
				first = watch[i].q[k].deadline;
	}
	return first;
}

void
dns_tick(void)
{
	struct watch *w;

	now = clock_now();
	timeouts();
	for (w = watch; w < watch + nwatch; w++)
		if (!w->busy && w->refresh <= now)
			watch_start(w);
}

int
dns_reload(void)
{
	int i, err = 0;

	if (resolv_read() < 0 && px_cfg.resolv_conf != NULL) {
		px_log(PX_LOG_ERROR, "event=reload_failed what=dns"
		    " error=\"--resolv-conf: %s: %s\"", px_cfg.resolv_conf,
		    strerror(errno));
		err = -1;
	}
	for (i = 0; i < nwatch; i++) {
		watch[i].failing = 0;
		if (!watch[i].busy)
			watch[i].refresh = 0;
	}
	return err;
}

/* --check: every name looked up now, on a loop of its own. */
static void
check_names(void)
{
	struct pollfd pfd[2 * PX_MAX_UPSTREAMS];
	unsigned slot[2 * PX_MAX_UPSTREAMS];
	int i, k, n, busy;
	uint64_t next;

	now = clock_now();
	for (i = 0; i < nwatch; i++)
		watch_start(&watch[i]);
	for (;;) {
		for (i = busy = n = 0; i < nwatch; i++) {
			busy |= watch[i].busy;
			for (k = 0; k < 2; k++)
				if (watch[i].q[k].state == Q_WAIT &&
				    watch[i].q[k].fd >= 0) {
					pfd[n].fd = watch[i].q[k].fd;
					pfd[n].events = POLLIN | POLLOUT;
					slot[n++] = (unsigned)(2 * i + k);
				}
		}
		if (!busy)
			break;
		next = dns_next();
		now = clock_now();
		(void)poll(pfd, (nfds_t)n, next <= now ? 0 :
		    (int)(next - now > 60000 ? 60000 : next - now));
		for (i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				dns_event(slot[i]);
		/* Time-outs only: a name that failed is not asked again. */
		now = clock_now();
		timeouts();
	}
	for (i = 0; i < nwatch; i++)
		if (watch[i].up->naddr == 0)
			usage_error("--upstream: '%s': host '%s' does not"
			    " resolve", watch[i].up->uri, watch[i].up->host);
}

/* A literal address: its one address now, and no watch.  0, or -1 for
 * a name. */
static int
literal(struct px_upstream *up)
{
	socklen_t len = sock_literal(up->host, up->port, &up->addr[0]);

	if (len == 0)
		return -1;
	up->addr_len[0] = len;
	up->naddr = 1;
	return 0;
}

int
dns_host_addr(const char *host, const char *port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct dns_answer a;
	char text[INET6_ADDRSTRLEN];

	if ((*len = sock_literal(host, port, ss)) != 0)
		return 0;
	hosts_lookup(host, &a);
	if (a.naddr == 0 && under(host, "localhost")) {
		a.naddr = 1;		/* RFC 6761 6.3 */
		a.family[0] = AF_INET;
		memcpy(a.addr[0], "\177\0\0\1", 4);
	}
	if (a.naddr == 0 || inet_ntop(a.family[0], a.addr[0], text,
	    sizeof(text)) == NULL)
		return -1;
	*len = sock_literal(text, port, ss);
	return *len != 0 ? 0 : -1;
}

void
dns_init(void)
{
	FILE *f;
	int i, k;

	if (resolv_read() < 0 && px_cfg.resolv_conf != NULL)
		usage_error("--resolv-conf: %s: %s", px_cfg.resolv_conf,
		    strerror(errno));
	if (px_cfg.hosts_file != NULL) {
		if ((f = fopen(px_cfg.hosts_file, "r")) == NULL)
			usage_error("--hosts-file: %s: %s", px_cfg.hosts_file,
			    strerror(errno));
		fclose(f);
	}
	watch = calloc((size_t)px_cfg.nupstream + 1, sizeof(*watch));
	if (watch == NULL) {
		fputs("wsproxy: out of memory\n", stderr);
		exit(71);
	}
	nwatch = 0;
	for (i = 0; i < px_cfg.nupstream; i++) {
		/* A unix socket's one address is its path: never looked up. */
		if (px_cfg.upstream[i].is_unix ||
		    literal(&px_cfg.upstream[i]) == 0)
			continue;
		watch[nwatch].up = &px_cfg.upstream[i];
		for (k = 0; k < 2; k++)
			watch[nwatch].q[k].fd = -1;
		nwatch++;
	}
	if (px_cfg.check) {
		check_names();
		return;
	}
	/* The hosts file now, so its names have addresses before the first
	 * client (a scratch container's only way); DNS once the loop runs. */
	now = clock_now();
	for (i = 0; i < nwatch; i++)
		(void)local_answer(&watch[i]);
}
