/*
 * handshake.c - the HTTP side of the WebSocket handshake (SPEC 2 and 3).
 *
 * Pure functions over parsed heads (ws.c's parser): which status a
 * request gets, the upgrade request sent upstream, the check of the
 * upstream's 101, and the heads wsproxy sends the client.  Nothing here
 * does I/O or knows about pairs, so all of it is unit-tested and fuzzed
 * without sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy.h"

/* A bounded appender: overflow is sticky and checked once at the end. */
struct out {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 overflow;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

static void
out_header(struct out *o, const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	out_add(o, name, nlen);
	out_add(o, ": ", 2);
	out_add(o, value, vlen);
	out_add(o, "\r\n", 2);
}

static int
name_is(const struct http_header *h, const char *name)
{
	return h->name_len == strlen(name) &&
	    strncasecmp(h->name, name, h->name_len) == 0;
}

/* Does any header called name list token tok? */
static int
header_has_token(const struct http_head *h, const char *name, const char *tok)
{
	size_t i;

	for (i = 0; i < h->num_headers; i++)
		if (name_is(&h->headers[i], name) &&
		    http_list_has(h->headers[i].value, h->headers[i].value_len,
		    tok))
			return 1;
	return 0;
}

/* Headers never copied from one leg to the other (RFC 7230 6.1), and the
 * ones wsproxy writes itself. */
static int
hop_by_hop(const struct http_header *h)
{
	static const char *const names[] = {
		"Connection", "Keep-Alive", "TE", "Trailer",
		"Transfer-Encoding", "Upgrade", "Host", "Content-Length",
		"Sec-WebSocket-Key", "Sec-WebSocket-Version",
		"Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
		"Sec-WebSocket-Accept", "X-Forwarded-For", "X-Forwarded-Proto",
		"X-Forwarded-Host",
	};
	size_t i;

	if (h->name_len >= 6 && strncasecmp(h->name, "Proxy-", 6) == 0)
		return 1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (name_is(h, names[i]))
			return 1;
	return 0;
}

/* Is h named in a Connection header of head (a per-hop header)? */
static int
named_by_connection(const struct http_head *head, const struct http_header *h)
{
	char name[64];

	if (h->name_len >= sizeof(name))
		return 0;
	memcpy(name, h->name, h->name_len);
	name[h->name_len] = '\0';
	return header_has_token(head, "Connection", name);
}

/*
 * Iterate the comma-separated elements of every header called name:
 * *i and *off keep the position.  Returns the next element (blanks
 * trimmed) in *elem and *elen, or 0 when there are no more.
 */
static int
next_element(const struct http_head *h, const char *name, size_t *i,
    size_t *off, const char **elem, size_t *elen)
{
	for (; *i < h->num_headers; (*i)++, *off = 0) {
		const struct http_header *x = &h->headers[*i];
		const char *v = x->value, *s, *e;

		if (!name_is(x, name))
			continue;
		while (*off < x->value_len) {
			s = v + *off;
			e = memchr(s, ',', x->value_len - *off);
			if (e == NULL)
				e = v + x->value_len;
			*off = (size_t)(e - v) + 1;
			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
			while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (s < e) {
				*elem = s;
				*elen = (size_t)(e - s);
				return 1;
			}
		}
	}
	return 0;
}

static int
protocol_allowed(const char *name, size_t len)
{
	int i;

	if (px_cfg.nprotocol == 0)
		return 1;
	for (i = 0; i < px_cfg.nprotocol; i++)
		if (strlen(px_cfg.protocol[i]) == len &&
		    memcmp(px_cfg.protocol[i], name, len) == 0)
			return 1;
	return 0;
}

/* Was 'name' among the subprotocols offered upstream for this request? */
static int
protocol_offered(const struct http_head *req, const char *name, size_t len)
{
	size_t i = 0, off = 0, elen;
	const char *elem;

	while (next_element(req, "Sec-WebSocket-Protocol", &i, &off, &elem,
	    &elen))
		if (elen == len && memcmp(elem, name, len) == 0)
			return protocol_allowed(elem, elen);
	return 0;
}

/* Is this extension element (name then ;params) permessage-deflate? */
static int
is_deflate(const char *elem, size_t len)
{
	size_t n = 0;

	while (n < len && elem[n] != ';' && elem[n] != ' ' && elem[n] != '\t')
		n++;
	return n == 18 && strncasecmp(elem, "permessage-deflate", 18) == 0;
}

/* Split the request target into path and query (absolute-form too). */
static int
split_target(const struct http_head *h, const char **path, size_t *plen,
    const char **query, size_t *qlen)
{
	const char *t = h->target, *end = h->target + h->target_len, *q;

	if (t < end && *t != '/') {
		/* absolute-form (RFC 7230 5.3.2): skip scheme://authority */
		const char *s = memchr(t, ':', (size_t)(end - t));

		if (s == NULL || end - s < 3 || s[1] != '/' || s[2] != '/')
			return -1;
		t = s + 3;
		while (t < end && *t != '/' && *t != '?')
			t++;
		if (t == end || *t != '/')
			return -1;
	}
	q = memchr(t, '?', (size_t)(end - t));
	*path = t;
	*plen = (size_t)((q ? q : end) - t);
	*query = q ? q + 1 : NULL;
	*qlen = q ? (size_t)(end - q - 1) : 0;
	return *plen > 0 ? 0 : -1;
}

/* Any "." or ".." segment: refused, so a prefix match cannot be escaped
 * by an upstream that normalises paths after wsproxy routed them. */
static int
has_dot_segment(const char *p, size_t len)
{
	size_t i = 0, s;

	while (i < len) {
		s = ++i;	/* p[i-1] is '/' */
		while (i < len && p[i] != '/')
			i++;
		if ((i - s == 1 && p[s] == '.') ||
		    (i - s == 2 && p[s] == '.' && p[s + 1] == '.'))
			return 1;
	}
	return 0;
}

/*
 * The upgrade request for the upstream (SPEC 3).  The client's key goes
 * upstream unchanged, so the upstream's Sec-WebSocket-Accept is the one
 * the client expects and is checked once.
 */
size_t
hs_upstream_request(const struct http_head *h, int route,
    const char *client_ip, int client_tls, char *buf, size_t cap)
{
	const struct px_route *r = &px_cfg.route[route];
	struct out o = { buf, 0, cap, 0 };
	const char *path, *query, *elem;
	size_t plen, qlen, i, off, elen;
	const struct http_header *x;
	int first, j;

	(void)split_target(h, &path, &plen, &query, &qlen);
	out_str(&o, "GET ");
	if (r->path == NULL) {
		out_add(&o, path, plen);
	} else {
		const char *rest = path + r->prefix_len;
		size_t rlen = plen - r->prefix_len;
		size_t ulen = strlen(r->path);

		/* nginx proxy_pass: the prefix is replaced by the URI path. */
		if (rlen > 0 && ulen > 0 && r->path[ulen - 1] == '/')
			ulen--;
		out_add(&o, r->path, ulen);
		out_add(&o, rest, rlen);
		if (ulen == 0 && rlen == 0)
			out_str(&o, "/");
	}
	if (query != NULL || r->query != NULL)
		out_str(&o, "?");
	if (query != NULL)
		out_add(&o, query, qlen);
	if (query != NULL && qlen > 0 && r->query != NULL && r->query[0])
		out_str(&o, "&");
	if (r->query != NULL)
		out_str(&o, r->query);
	out_str(&o, " HTTP/1.1\r\nHost: ");
	out_str(&o, r->host_header);
	out_str(&o, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\n");
	x = http_find(h, "Sec-WebSocket-Key");
	out_header(&o, "Sec-WebSocket-Key", 17, x->value, x->value_len);

	/* Subprotocols: the client's offer narrowed to --protocol. */
	first = 1;
	i = off = 0;
	while (next_element(h, "Sec-WebSocket-Protocol", &i, &off, &elem,
	    &elen)) {
		if (!protocol_allowed(elem, elen))
			continue;
		out_str(&o, first ? "Sec-WebSocket-Protocol: " : ", ");
		out_add(&o, elem, elen);
		first = 0;
	}
	if (!first)
		out_str(&o, "\r\n");

	/* Extensions: permessage-deflate offers only, unchanged. */
	first = 1;
	i = off = 0;
	while (next_element(h, "Sec-WebSocket-Extensions", &i, &off, &elem,
	    &elen)) {
		if (!is_deflate(elem, elen))
			continue;
		out_str(&o, first ? "Sec-WebSocket-Extensions: " : ", ");
		out_add(&o, elem, elen);
		first = 0;
	}
	if (!first)
		out_str(&o, "\r\n");

	/* The client's end-to-end headers, less those --header replaces. */
	for (i = 0; i < h->num_headers; i++) {
		x = &h->headers[i];
		if (hop_by_hop(x) || named_by_connection(h, x))
			continue;
		for (j = 0; j < px_cfg.nheader; j++)
			if (x->name_len == px_cfg.header[j].name_len &&
			    strncasecmp(x->name, px_cfg.header[j].name,
			    x->name_len) == 0)
				break;
		if (j < px_cfg.nheader)
			continue;
		out_header(&o, x->name, x->name_len, x->value, x->value_len);
	}

	/* X-Forwarded-For: earlier hops, then this client. */
	out_str(&o, "X-Forwarded-For: ");
	for (i = 0; i < h->num_headers; i++) {
		x = &h->headers[i];
		if (name_is(x, "X-Forwarded-For") && x->value_len > 0) {
			out_add(&o, x->value, x->value_len);
			out_str(&o, ", ");
		}
	}
	out_str(&o, client_ip);
	out_str(&o, client_tls ?
	    "\r\nX-Forwarded-Proto: wss\r\n" : "\r\nX-Forwarded-Proto: ws\r\n");
	x = http_find(h, "Host");
	if (x != NULL)
		out_header(&o, "X-Forwarded-Host", 16, x->value, x->value_len);
	for (j = 0; j < px_cfg.nheader; j++)
		out_header(&o, px_cfg.header[j].name, px_cfg.header[j].name_len,
		    px_cfg.header[j].value, px_cfg.header[j].value_len);
	out_str(&o, "\r\n");
	return o.overflow ? 0 : o.len;
}


/* Check the parsed request in the order of SPEC 2; 0 or a status. */
unsigned
hs_check_request(const struct http_head *h, int *route_out, int *version,
    const char **why)
{
	const struct http_header *x;
	const char *path, *query;
	size_t plen, qlen;
	int route;

	*version = 0;
	if (http_find(h, "Content-Length") || http_find(h, "Transfer-Encoding"))
		return *why = "body on an upgrade request", 400;
	if (h->minor_version >= 1 && http_count(h, "Host") != 1)
		return *why = "Host missing or repeated", 400;
	if (split_target(h, &path, &plen, &query, &qlen) < 0)
		return *why = "bad request target", 400;
	if (has_dot_segment(path, plen))
		return *why = "dot segment in path", 400;
	route = px_route_match(path, plen);
	if (route < 0)
		return *why = "no route", 404;
	*route_out = route;
	if (h->method_len != 3 || memcmp(h->method, "GET", 3) != 0)
		return *why = "not GET", 426;
	if (h->minor_version < 1)
		return *why = "HTTP/1.0 cannot upgrade", 426;
	if (!header_has_token(h, "Upgrade", "websocket") ||
	    !header_has_token(h, "Connection", "upgrade"))
		return *why = "not a WebSocket upgrade", 426;
	x = http_find(h, "Sec-WebSocket-Version");
	if (x == NULL || http_count(h, "Sec-WebSocket-Version") != 1 ||
	    x->value_len != 2 || memcmp(x->value, "13", 2) != 0) {
		*version = 1;
		return *why = "Sec-WebSocket-Version is not 13", 426;
	}
	x = http_find(h, "Sec-WebSocket-Key");
	if (x == NULL || http_count(h, "Sec-WebSocket-Key") != 1 ||
	    !ws_key_valid(x->value, x->value_len))
		return *why = "bad Sec-WebSocket-Key", 400;
	return 0;
}


/* Check the upstream's 101 against what was asked (SPEC 3); NULL if it
 * is good, else why not.  Sets *deflate. */
const char *
hs_check_response(const struct http_head *req, const struct http_head *res,
    int *deflate)
{
	const struct http_header *key, *acc, *proto;
	char want[WS_ACCEPT_LEN];
	size_t i = 0, off = 0, elen;
	const char *elem;
	int offered = 0;

	if (!header_has_token(res, "Upgrade", "websocket") ||
	    !header_has_token(res, "Connection", "upgrade"))
		return "101 without Upgrade: websocket";
	key = http_find(req, "Sec-WebSocket-Key");
	acc = http_find(res, "Sec-WebSocket-Accept");
	ws_accept(key->value, want);
	if (acc == NULL || http_count(res, "Sec-WebSocket-Accept") != 1 ||
	    acc->value_len != WS_ACCEPT_LEN ||
	    memcmp(acc->value, want, WS_ACCEPT_LEN) != 0)
		return "bad Sec-WebSocket-Accept";
	proto = http_find(res, "Sec-WebSocket-Protocol");
	if (proto != NULL && (http_count(res, "Sec-WebSocket-Protocol") != 1 ||
	    !protocol_offered(req, proto->value, proto->value_len)))
		return "subprotocol not offered";
	*deflate = 0;
	while (next_element(req, "Sec-WebSocket-Extensions", &i, &off, &elem,
	    &elen))
		offered |= is_deflate(elem, elen);
	i = off = 0;
	while (next_element(res, "Sec-WebSocket-Extensions", &i, &off, &elem,
	    &elen)) {
		if (!offered || !is_deflate(elem, elen) || *deflate)
			return "extension not offered";
		*deflate = 1;
	}
	return NULL;
}


static const char *
status_reason(unsigned status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

/*
 * Build the error response for status into out: short text/plain with
 * Connection: close.  426 also names what the client must send: the
 * upgrade tokens (so its Connection header carries both "Upgrade" and
 * "close"), and Sec-WebSocket-Version: 13 when the version was wrong.
 */
size_t
hs_error(char *out, size_t len, unsigned status, int version)
{
	const char *reason = status_reason(status);
	int n;

	n = snprintf(out, len,
	    "HTTP/1.1 %u %s\r\n"
	    "%s%s"
	    "Connection: %s\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n"
	    "\r\n"
	    "%u %s\n",
	    status, reason,
	    status == 426 ? "Upgrade: websocket\r\n" : "",
	    status == 426 && version ? "Sec-WebSocket-Version: 13\r\n" : "",
	    status == 426 ? "Upgrade, close" : "close",
	    strlen(reason) + 5, status, reason);
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}


/* The client's 101: the upstream's answer less its hop-by-hop headers. */
size_t
hs_client_101(const struct http_head *res, char *buf, size_t cap)
{
	struct out o = { buf, 0, cap, 0 };
	const struct http_header *x;
	size_t i;

	out_str(&o, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n");
	for (i = 0; i < res->num_headers; i++) {
		x = &res->headers[i];
		if (name_is(x, "Sec-WebSocket-Accept") ||
		    name_is(x, "Sec-WebSocket-Protocol") ||
		    name_is(x, "Sec-WebSocket-Extensions") ||
		    (!hop_by_hop(x) && !named_by_connection(res, x)))
			out_header(&o, x->name, x->name_len, x->value,
			    x->value_len);
	}
	out_str(&o, "\r\n");
	return o.overflow ? 0 : o.len;
}

/*
 * A non-101 upstream answer for the client: its status line and
 * end-to-end headers with Connection: close.  *body gets how many body
 * bytes follow: Content-Length, 0 for bodiless statuses, else
 * UINT64_MAX (until the upstream closes; chunked passes as it is).
 */
size_t
hs_passthrough(const struct http_head *res, char *buf, size_t cap,
    uint64_t *body)
{
	struct out o = { buf, 0, cap, 0 };
	const struct http_header *x;
	char status[8];
	size_t i;
	int chunked;

	snprintf(status, sizeof(status), "%03d", res->status);
	out_str(&o, "HTTP/1.1 ");
	out_str(&o, status);
	out_str(&o, " ");
	out_add(&o, res->reason, res->reason_len);
	out_str(&o, "\r\n");
	for (i = 0; i < res->num_headers; i++) {
		x = &res->headers[i];
		if ((hop_by_hop(x) && !name_is(x, "Content-Length") &&
		    !name_is(x, "Transfer-Encoding")) ||
		    named_by_connection(res, x))
			continue;
		out_header(&o, x->name, x->name_len, x->value, x->value_len);
	}
	out_str(&o, "Connection: close\r\n\r\n");
	x = http_find(res, "Content-Length");
	chunked = header_has_token(res, "Transfer-Encoding", "chunked");
	if (res->status == 204 || res->status == 304 || res->status < 200)
		*body = 0;
	else if (x != NULL && !chunked && x->value_len > 0 &&
	    x->value_len <= 18 && strspn(x->value, "0123456789") >= x->value_len)
		*body = strtoull(x->value, NULL, 10);
	else
		*body = UINT64_MAX;
	return o.overflow ? 0 : o.len;
}
