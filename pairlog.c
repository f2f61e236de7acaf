/*
 * pairlog.c - the one log line of each pair (wsproxy(1) LOGGING): what
 * the client asked for, which upstream address served it, how it ended.
 *
 * What the line needs of the request (its id, Host and path) is kept in
 * a note per slab slot from the request on, because the head itself is
 * given back at the 101.  Notes are bounded (values are cut, and say
 * so) and allocated with the slab; a slot's note is touched only once a
 * request uses it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handshake.h"
#include "log.h"
#include "pair.h"
#include "pairlog.h"
#include "sock.h"

#define NOTE_HOST 64
#define NOTE_PATH 96

struct note {
	uint8_t		 id_len;
	uint8_t		 host_len;	/* > NOTE_HOST: cut */
	uint8_t		 path_len;	/* > NOTE_PATH: cut */
	uint8_t		 has_up;	/* 'up' holds the upstream address */
	char		 id[HS_MAX_ID];
	char		 host[NOTE_HOST];
	char		 path[NOTE_PATH];
	struct sockaddr_in6 up;		/* room for either family, as given */
};

static struct note *notes;
static uint64_t closes_seen;		/* for --log-sample */

int
pairlog_init(uint32_t n)
{
	notes = calloc(n, sizeof(*notes));
	return notes == NULL ? -1 : 0;
}

/* Copy s[0..len) into a note field of cap bytes; the length kept says
 * when it was cut (cap + 1). */
static uint8_t
note_copy(char *dst, size_t cap, const char *s, size_t len)
{
	if (len > cap) {
		memcpy(dst, s, cap);
		return (uint8_t)(cap + 1);
	}
	memcpy(dst, s, len);
	return (uint8_t)len;
}

void
pairlog_request(struct pair *p, const struct http_head *h,
    struct hs_request *rq)
{
	static const char hex[] = "0123456789abcdef";
	struct note *n = &notes[pair_index(p)];
	const struct http_header *x = http_find(h, "Host");
	const char *q = memchr(h->target, '?', h->target_len);
	uint64_t r;
	int i;

	n->has_up = 0;
	n->host_len = x ? note_copy(n->host, NOTE_HOST, x->value,
	    x->value_len) : 0;
	n->path_len = note_copy(n->path, NOTE_PATH, h->target,
	    q ? (size_t)(q - h->target) : h->target_len);
	if (rq->id != NULL) {
		n->id_len = note_copy(n->id, HS_MAX_ID, rq->id, rq->id_len);
		return;
	}
	/* No usable id from the client: a fresh one, 16 hex digits. */
	r = relay_random();
	for (i = 0; i < 16; i++)
		n->id[i] = hex[(r >> (60 - 4 * i)) & 15];
	n->id_len = 16;
	rq->id = n->id;
	rq->id_len = 16;
}

void
pairlog_id(const struct pair *p, struct hs_request *rq)
{
	const struct note *n = &notes[pair_index(p)];

	rq->id = n->id;
	rq->id_len = n->id_len;
}

void
pairlog_upstream(struct pair *p, const struct sockaddr *sa, size_t len)
{
	struct note *n = &notes[pair_index(p)];

	memset(&n->up, 0, sizeof(n->up));
	/* A unix socket's path does not fit: upstream_keys() takes it from
	 * the upstream, which has exactly one. */
	if (sa->sa_family == AF_UNIX)
		n->up.sin6_family = AF_UNIX;
	else
		memcpy(&n->up, sa, len < sizeof(n->up) ? len : sizeof(n->up));
	n->has_up = 1;
}

/* A note field as a quoted, escaped log value; a cut one ends in "...". */
static const char *
note_value(char *out, size_t cap, const char *s, uint8_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return log_value(out, cap, s, len);
	(void)log_value(out, cap - 3, s, max);
	n = strlen(out);
	memcpy(out + n - 1, "...\"", 5);
	return out;
}

/* ' id="..." host="..." path="..."' for a pair that had a request.  The
 * id is quoted like the others, so that one of digits only is still a
 * string in JSON. */
static void
request_keys(const struct pair *p, char *out, size_t cap)
{
	const struct note *n = &notes[pair_index(p)];
	char host[NOTE_HOST * 4 + 8], path[NOTE_PATH * 4 + 8], id[HS_MAX_ID + 8];

	out[0] = '\0';
	if (p->state == PAIR_REQUEST || n->path_len == 0)
		return;
	(void)note_value(host, sizeof(host), n->host, n->host_len, NOTE_HOST);
	(void)note_value(path, sizeof(path), n->path, n->path_len, NOTE_PATH);
	(void)log_value(id, sizeof(id), n->id, n->id_len);
	snprintf(out, cap, " id=%s host=%s path=%s", id,
	    n->host_len ? host : "-", path);
}

/* ' route=... upstream=... upstream_addr=...' once a route was chosen. */
static void
upstream_keys(const struct pair *p, char *out, size_t cap)
{
	const struct note *n = &notes[pair_index(p)];
	const struct px_route *r = &px_cfg.route[p->route];
	char addr[128];		/* "unix:" and a socket path */

	out[0] = '\0';
	if (!p->routed)
		return;
	if (n->has_up)
		(void)sock_addr_text(r->upstream->is_unix ?
		    (const struct sockaddr *)&r->upstream->addr[0] :
		    (const struct sockaddr *)&n->up, addr, sizeof(addr));
	snprintf(out, cap, " route=%s upstream=%s upstream_addr=%s",
	    r->label, r->upstream[p->member < r->nupstream ? p->member : 0].uri,
	    n->has_up ? addr : "-");
}

static void
end_line(struct pair *p, const char *why, uint64_t now_ms)
{
	static const char *const who[] = {
		[CLOSED_BY_NONE] = "none", [CLOSED_BY_CLIENT] = "client",
		[CLOSED_BY_UPSTREAM] = "upstream", [CLOSED_BY_PROXY] = "proxy"
	};
	char addr[64], req[1024], up[512], err[300];
	const char *e = why != NULL ? why : p->why;
	int open = p->state == PAIR_OPEN || p->state == PAIR_CLOSING;
	enum px_log_level level;

	if (open)
		level = e != NULL ? PX_LOG_WARN : PX_LOG_INFO;
	else
		level = p->status >= 500 ? PX_LOG_WARN : PX_LOG_INFO;
	/* Formatting costs more than the rest of a handshake's user time:
	 * only when the line will be printed. */
	if (px_cfg.log_level < (int)level)
		return;
	if (open && e == NULL && px_cfg.log_sample > 1 &&
	    closes_seen++ % px_cfg.log_sample != 0)
		return;
	sock_addr_text((const struct sockaddr *)&p->peer, addr, sizeof(addr));
	request_keys(p, req, sizeof(req));
	upstream_keys(p, up, sizeof(up));
	err[0] = '\0';
	if (open && e != NULL) {
		char v[256];

		snprintf(err, sizeof(err), " error=%s%s", log_value(v,
		    sizeof(v), e, strlen(e)), p->why_side == 0 ? "" :
		    p->why_side == 1 ? " side=client" : " side=upstream");
	}
	if (open)
		px_log(level, "event=close client=%s%s%s status=101"
		    " duration_ms=%llu c2u_bytes=%llu c2u_msgs=%llu"
		    " u2c_bytes=%llu u2c_msgs=%llu close_code=%u closed_by=%s%s",
		    addr, req, up, (unsigned long long)(now_ms - p->started),
		    (unsigned long long)p->client.in.bytes,
		    (unsigned long long)p->client.in.messages,
		    (unsigned long long)p->upstream.in.bytes,
		    (unsigned long long)p->upstream.in.messages,
		    p->close_code, who[p->closed_by], err);
	else {
		char v[256], full[200];

		if (e == NULL)
			e = "closed";
		if (p->upstream.err != 0) {
			/* The system's word on the upstream's last failure. */
			snprintf(full, sizeof(full), "%s: %s", e,
			    strerror(p->upstream.err));
			e = full;
		}
		px_log(level, "event=%s client=%s%s%s state=%s status=%u"
		    " duration_ms=%llu error=%s", p->status ? "reject" :
		    "abort", addr, req, up, pair_state_name(p->status ?
		    p->failed_in : p->state), p->status,
		    (unsigned long long)(now_ms - p->started),
		    log_value(v, sizeof(v), e, strlen(e)));
	}
}

void
pairlog_end(struct pair *p, const char *why, uint64_t now_ms)
{
	struct note *n = &notes[pair_index(p)];

	end_line(p, why, now_ms);
	/* The slot's next pair starts without a request of its own yet: a
	 * head that fails to parse must not log this one's id and path. */
	n->id_len = n->host_len = n->path_len = n->has_up = 0;
}
