/*
 * handshake.c - the HTTP side of the WebSocket handshake (wsproxy(1)
 * HANDSHAKE).
 *
 * Pure functions over parsed heads (ws.c's parser): which status a
 * request gets, the upgrade request sent upstream, the check of the
 * upstream's 101, and the heads wsproxy sends the client.  Nothing here
 * does I/O or knows about pairs, so all of it is unit-tested and fuzzed
 * without sockets.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "handshake.h"
#include "target.h"
#include "ws.h"

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

/*
 * Header names compared as CGI-style servers read them: case-insensitive,
 * with '-' and '_' alike ("X_Forwarded_For" is HTTP_X_FORWARDED_FOR too).
 */
static int
name_folds(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;
	unsigned char x, y;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++) {
		x = (unsigned char)(a[i] == '_' ? '-' : a[i]);
		y = (unsigned char)(b[i] == '_' ? '-' : b[i]);
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return 0;
	}
	return 1;
}

/*
 * Is h one of names (folded as above)?  A name that ends in '-' is a
 * prefix: "Proxy-" stands for every Proxy-* header.
 */
static int
name_listed(const struct http_header *h, const char *const *names, size_t n)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		if (names[i][len - 1] == '-' ? h->name_len >= len &&
		    name_folds(h->name, len, names[i], len) :
		    name_folds(h->name, h->name_len, names[i], len))
			return 1;
	}
	return 0;
}

/*
 * Client headers that claim who the client is or how it came: wsproxy
 * writes its own (wsproxy(1) SECURITY), so a client cannot pose as
 * another address, scheme or host to the upstream.
 */
static int
identity_header(const struct http_header *h)
{
	static const char *const names[] = {
		"Forwarded", "X-Forwarded-", "X-Real-IP", "X-Client-IP",
		"True-Client-IP",
	};

	return name_listed(h, names, sizeof(names) / sizeof(names[0]));
}

/* Headers never copied from one leg to the other (RFC 9110 7.6.1), and
 * the handshake's own, which wsproxy writes itself. */
static int
hop_by_hop(const struct http_header *h)
{
	static const char *const names[] = {
		"Connection", "Keep-Alive", "TE", "Trailer",
		"Transfer-Encoding", "Upgrade", "Host", "Content-Length",
		"Proxy-", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
		"Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions",
		"Sec-WebSocket-Accept",
	};

	return name_listed(h, names, sizeof(names) / sizeof(names[0]));
}

/*
 * Is h named in a Connection header of head (a per-hop header)?  The
 * tokens are compared in place, so a name of any length is found.
 */
static int
named_by_connection(const struct http_head *head, const struct http_header *h)
{
	size_t i = 0, off = 0, elen;
	const char *elem;

	while (next_element(head, "Connection", &i, &off, &elem, &elen))
		if (elen == h->name_len &&
		    strncasecmp(elem, h->name, elen) == 0)
			return 1;
	return 0;
}

/* Is there a --header called name?  Then wsproxy does not write its own. */
static int
operator_header(const struct hs_policy *pol, const char *name)
{
	int j;

	for (j = 0; j < pol->nheader; j++)
		if (strcasecmp(pol->header[j].name, name) == 0)
			return 1;
	return 0;
}

/* Does a --header replace the client's header h ('-'/'_' twins too)? */
static int
replaced_by_operator(const struct hs_policy *pol, const struct http_header *h)
{
	int j;

	for (j = 0; j < pol->nheader; j++)
		if (name_folds(h->name, h->name_len, pol->header[j].name,
		    pol->header[j].name_len))
			return 1;
	return 0;
}

static int
protocol_allowed(const struct hs_policy *pol, const char *name, size_t len)
{
	int i;

	if (pol->nprotocol == 0)
		return 1;
	for (i = 0; i < pol->nprotocol; i++)
		if (strlen(pol->protocol[i]) == len &&
		    memcmp(pol->protocol[i], name, len) == 0)
			return 1;
	return 0;
}

/* Was 'name' among the subprotocols offered upstream for this request? */
static int
protocol_offered(const struct hs_policy *pol, const struct http_head *req,
    const char *name, size_t len)
{
	size_t i = 0, off = 0, elen;
	const char *elem;

	while (next_element(req, "Sec-WebSocket-Protocol", &i, &off, &elem,
	    &elen))
		if (elen == len && memcmp(elem, name, len) == 0)
			return protocol_allowed(pol, elem, elen);
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

/*
 * The request line's target for the upstream (wsproxy(1) ROUTING AND
 * REWRITING): the normalised path with the route's prefix replaced by
 * the URI's path (nginx proxy_pass), then the composed query.
 */
static void
out_target(struct out *o, const struct hs_request *rq)
{
	const struct px_route *route = rq->route;
	const struct px_upstream *r = hs_member(rq);
	const struct target *t = &rq->target;
	size_t n;

	if (r->path == NULL) {
		out_add(o, t->path, t->path_len);
	} else {
		const char *rest = t->path + route->prefix_len;
		size_t rlen = t->path_len - route->prefix_len;
		size_t ulen = strlen(r->path);

		/* a trailing '/' of the URI path is not doubled */
		if (rlen > 0 && ulen > 0 && r->path[ulen - 1] == '/')
			ulen--;
		out_add(o, r->path, ulen);
		out_add(o, rest, rlen);
		if (ulen == 0 && rlen == 0)
			out_str(o, "/");
	}
	if (t->query == NULL && r->query == NULL)
		return;
	out_str(o, "?");
	if (o->overflow)
		return;
	n = target_query_compose(r->query, r->query ? strlen(r->query) : 0,
	    t->query, t->query_len, o->buf + o->len, o->cap - o->len);
	if (n == SIZE_MAX)
		o->overflow = 1;
	else
		o->len += n;
}

/*
 * A trusted client's own name[] lines (spelt exactly, '_' twins stay
 * dropped), each value followed by ", ": the hops before it, to which
 * wsproxy adds the client.
 */
static void
out_chain(struct out *o, const struct http_head *h, const char *name)
{
	size_t i, n = strlen(name);
	const struct http_header *x;

	for (i = 0; i < h->num_headers; i++) {
		x = &h->headers[i];
		if (x->value_len == 0 || x->name_len != n ||
		    memchr(x->name, '_', n) != NULL ||
		    !name_folds(x->name, n, name, n))
			continue;
		out_add(o, x->value, x->value_len);
		out_str(o, ", ");
	}
}

/*
 * X-Forwarded-For, -Proto, -Host and RFC 7239 Forwarded, each unless a
 * --header of that name replaces it.  The client's own were dropped:
 * without a trusted proxy in front, they are the client's word only.
 * From a trusted one (--trust-proxy), its X-Forwarded-For and Forwarded
 * are kept, the client appended (wsproxy(1) CLIENT IDENTITY).
 */
static void
out_forwarded(struct out *o, const struct hs_policy *pol,
    const struct hs_request *rq, const char *client_ip, int client_tls,
    int trusted)
{
	const char *proto = client_tls ? "wss" : "ws";
	/* A unix-socket client (wsproxy(1) UNIX SOCKETS) is "unix:" in
	 * X-Forwarded-For, as nginx says, and RFC 7239's obfuscated
	 * identifier "_unix" in Forwarded, which only takes IPs and those. */
	int unix_peer = strcmp(client_ip, "unix:") == 0;
	int v6 = !unix_peer && strchr(client_ip, ':') != NULL;

	if (!operator_header(pol, "X-Forwarded-For")) {
		out_str(o, "X-Forwarded-For: ");
		if (trusted)
			out_chain(o, rq->head, "X-Forwarded-For");
		out_str(o, client_ip);
		out_str(o, "\r\n");
	}
	if (!operator_header(pol, "X-Forwarded-Proto"))
		out_header(o, "X-Forwarded-Proto", 17, proto, strlen(proto));
	if (rq->host != NULL && !operator_header(pol, "X-Forwarded-Host"))
		out_header(o, "X-Forwarded-Host", 16, rq->host, rq->host_len);
	if (operator_header(pol, "Forwarded"))
		return;
	/* node = IPv4 / "[" IPv6 "]" quoted; a host with ':' is quoted */
	out_str(o, "Forwarded: ");
	if (trusted)
		out_chain(o, rq->head, "Forwarded");
	out_str(o, v6 ? "for=\"[" : "for=");
	out_str(o, unix_peer ? "_unix" : client_ip);
	out_str(o, v6 ? "]\";proto=" : ";proto=");
	out_str(o, proto);
	if (rq->host != NULL) {
		out_str(o, ";host=\"");
		out_add(o, rq->host, rq->host_len);	/* no '"' or '\\' in it */
		out_str(o, "\"");
	}
	out_str(o, "\r\n");
}

/*
 * The upgrade request for the upstream (wsproxy(1) HANDSHAKE).  The
 * client's key goes upstream unchanged, so the upstream's
 * Sec-WebSocket-Accept is the one the client expects and is checked once.
 */
size_t
hs_upstream_request(const struct hs_policy *pol, const struct hs_request *rq,
    const char *client_ip, int client_tls, int trusted, char *buf, size_t cap)
{
	const struct px_upstream *up = hs_member(rq);
	const struct http_head *h = rq->head;
	struct out o = { buf, 0, cap, 0 };
	const struct http_header *x;
	const char *elem;
	size_t i, off, elen;
	int first, j;

	out_str(&o, "GET ");
	out_target(&o, rq);
	out_str(&o, " HTTP/1.1\r\n");
	if (!operator_header(pol, "Host"))
		out_header(&o, "Host", 4, up->host_header,
		    strlen(up->host_header));
	out_str(&o, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\n");
	x = http_find(h, "Sec-WebSocket-Key");
	out_header(&o, "Sec-WebSocket-Key", 17, x->value, x->value_len);

	/* Subprotocols: the client's offer narrowed to --protocol. */
	first = 1;
	i = off = 0;
	while (next_element(h, "Sec-WebSocket-Protocol", &i, &off, &elem,
	    &elen)) {
		if (!protocol_allowed(pol, elem, elen))
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

	/* The client's end-to-end headers, less per-hop ones, identity
	 * claims and those --header replaces. */
	for (i = 0; i < h->num_headers; i++) {
		x = &h->headers[i];
		if (hop_by_hop(x) || identity_header(x) ||
		    name_folds(x->name, x->name_len, "X-Request-Id", 12) ||
		    named_by_connection(h, x) || replaced_by_operator(pol, x))
			continue;
		out_header(&o, x->name, x->name_len, x->value, x->value_len);
	}
	out_forwarded(&o, pol, rq, client_ip, client_tls, trusted);
	if (rq->id != NULL && !operator_header(pol, "X-Request-Id"))
		out_header(&o, "X-Request-Id", 12, rq->id, rq->id_len);
	for (j = 0; j < pol->nheader; j++)
		out_header(&o, pol->header[j].name, pol->header[j].name_len,
		    pol->header[j].value, pol->header[j].value_len);
	out_str(&o, "\r\n");
	return o.overflow ? 0 : o.len;
}

/*
 * The request's host as routes compare it: no port, no trailing dot.
 * An IPv6 literal never matches a route host (they are names or IPv4).
 */
static size_t
route_host_of(const char *h, size_t n)
{
	const char *colon;

	if (h == NULL || (n > 0 && h[0] == '['))
		return 0;
	colon = memchr(h, ':', n);
	if (colon != NULL)
		n = (size_t)(colon - h);
	if (n > 0 && h[n - 1] == '.')
		n--;
	return n;
}

/* 2 for an exact host match, 1 for a wildcard one, 0 for none. */
static int
route_host_match(const struct px_route *r, const char *h, size_t n)
{
	const char *dot;

	if (n == r->host_len && strncasecmp(h, r->host, n) == 0)
		return r->host_wild ? 0 : 2;
	if (!r->host_wild || n <= r->host_len + 1)
		return 0;
	/* "*.example.com": exactly one label before ".example.com". */
	dot = memchr(h, '.', n);
	if (dot == NULL || (size_t)(dot - h) != n - r->host_len - 1 ||
	    dot == h)
		return 0;
	return strncasecmp(dot + 1, r->host, r->host_len) == 0 ? 1 : 0;
}

/* Does a line of header c's name carry exactly c's value? */
static int
route_cond_match(const struct http_head *h, const struct px_cond *c)
{
	size_t i;

	for (i = 0; i < h->num_headers; i++) {
		const struct http_header *x = &h->headers[i];

		if (x->name_len == c->name_len &&
		    strncasecmp(x->name, c->name, c->name_len) == 0 &&
		    x->value_len == c->value_len &&
		    memcmp(x->value, c->value, c->value_len) == 0)
			return 1;
	}
	return 0;
}

const struct px_route *
hs_route_match(const struct hs_policy *pol, const struct hs_request *rq,
    const char *path, size_t len)
{
	const struct px_route *best = NULL;
	size_t hn = route_host_of(rq->host, rq->host_len);
	int i, j, host, best_host = 0;

	for (i = 0; i < pol->nroute; i++) {
		const struct px_route *r = &pol->route[i];

		if (len < r->prefix_len ||
		    memcmp(path, r->prefix, r->prefix_len) != 0)
			continue;
		/* PATH matches PATH and PATH/..., never PATHX. */
		if (len > r->prefix_len && path[r->prefix_len] != '/')
			continue;
		host = 0;
		if (r->host != NULL &&
		    (host = route_host_match(r, rq->host, hn)) == 0)
			continue;
		for (j = 0; j < r->ncond; j++)
			if (rq->head == NULL ||
			    !route_cond_match(rq->head, &r->cond[j]))
				break;
		if (j < r->ncond)
			continue;
		/* The most specific wins (wsproxy(1) ROUTING): the host,
		 * then the conditions, then the path; ties keep the order
		 * of the command line. */
		if (best == NULL || host > best_host ||
		    (host == best_host && (r->ncond > best->ncond ||
		    (r->ncond == best->ncond &&
		    r->prefix_len > best->prefix_len)))) {
			best = r;
			best_host = host;
		}
	}
	return best;
}

/* A ';' or "%3B" in p?  By hand: memmem() is 1.2 KiB of the static
 * binary for this one three-byte needle. */
static int
has_params(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == ';' || (p[i] == '%' && n - i >= 3 &&
		    p[i + 1] == '3' && p[i + 2] == 'B'))
			return 1;
	return 0;
}

/*
 * The target's route: matched on the normalised path, and refused when
 * a servlet container, which cuts ';params' from each segment, would
 * see a path that another route matches ("/chat;x" beside "/chat").
 */
static unsigned
route_target(const struct hs_policy *pol, struct hs_request *rq,
    char *scratch, const char **why)
{
	const struct target *t = &rq->target;
	const struct px_route *route;
	size_t slen;

	route = hs_route_match(pol, rq, t->path, t->path_len);
	if (has_params(t->path, t->path_len)) {
		slen = target_strip_params(t->path, t->path_len, scratch);
		if (hs_route_match(pol, rq, scratch, slen) != route)
			return *why = "';' in the path changes the route", 400;
	}
	if (route == NULL)
		return *why = "no route", 404;
	rq->route = route;
	return 0;
}

/*
 * The client's X-Request-Id, kept when it is one safe token: 1 to
 * HS_MAX_ID letters, digits and "-_.:+/=@", nothing a log or a header
 * could misread.
 */
static void
request_id(const struct http_head *h, struct hs_request *rq)
{
	const struct http_header *x = http_find(h, "X-Request-Id");
	size_t i;

	if (x == NULL || x->value_len == 0 || x->value_len > HS_MAX_ID ||
	    http_count(h, "X-Request-Id") != 1)
		return;
	for (i = 0; i < x->value_len; i++) {
		char c = x->value[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-_.:+/=@", c) != NULL))
			return;
	}
	rq->id = x->value;
	rq->id_len = x->value_len;
}

int
hs_origin_parse(const char *s, size_t n, struct px_origin *o, int wild_ok)
{
	const char *end = s + n, *p = s, *h;
	size_t k;

	memset(o, 0, sizeof(*o));
	/* [SCHEME "://"] */
	for (k = 0; k < n && (isalnum((unsigned char)s[k]) || s[k] == '+' ||
	    s[k] == '-' || s[k] == '.'); k++)
		;
	if (n - k >= 3 && memcmp(s + k, "://", 3) == 0) {
		if (k == 0 || !isalpha((unsigned char)*s))
			return -1;
		o->scheme = s;
		o->scheme_len = k;
		p = s + k + 3;
	}
	if (wild_ok && end - p >= 2 && p[0] == '*' && p[1] == '.') {
		o->wild = 1;
		p += 2;
	}
	h = p;
	if (p < end && *p == '[' && !o->wild) {
		while (p < end && *p != ']')
			if (!isxdigit((unsigned char)*p++) && p[-1] != ':' &&
			    p[-1] != '.' && p[-1] != '[')
				return -1;
		if (p == end)
			return -1;
		p++;
	} else
		while (p < end && (isalnum((unsigned char)*p) || *p == '-' ||
		    *p == '.'))
			p++;
	if (p == h)
		return -1;
	o->host = h;
	o->host_len = (size_t)(p - h);
	if (p < end && *p == ':') {
		unsigned long port = 0;

		o->port = ++p;
		/* (s is not NUL-terminated: no strtoul) */
		while (p < end && isdigit((unsigned char)*p) && port <= 65535)
			port = port * 10 + (unsigned long)(*p++ - '0');
		o->port_len = (size_t)(p - o->port);
		if (o->port_len == 0 || o->port_len > 5 || port > 65535)
			return -1;
	}
	return p == end ? 0 : -1;
}

/* Does the request's Origin (one line, parsed) match entry e? */
static int
origin_match(const struct px_origin *e, const struct px_origin *o)
{
	if (e->scheme != NULL ? (o->scheme_len != e->scheme_len ||
	    strncasecmp(o->scheme, e->scheme, e->scheme_len) != 0) :
	    !((o->scheme_len == 4 && strncasecmp(o->scheme, "http", 4) == 0) ||
	    (o->scheme_len == 5 && strncasecmp(o->scheme, "https", 5) == 0)))
		return 0;
	if (o->port_len != e->port_len ||
	    (e->port_len && memcmp(o->port, e->port, e->port_len) != 0))
		return 0;
	if (!e->wild)
		return o->host_len == e->host_len &&
		    strncasecmp(o->host, e->host, e->host_len) == 0;
	/* "*.example.com": one label, then ".example.com" */
	return o->host_len > e->host_len + 1 &&
	    strncasecmp(o->host + o->host_len - e->host_len, e->host,
	    e->host_len) == 0 && o->host[o->host_len - e->host_len - 1] == '.' &&
	    memchr(o->host, '.', o->host_len - e->host_len - 1) == NULL;
}

/* With --allow-origin: exactly one Origin, and one the list allows. */
static int
origin_allowed(const struct hs_policy *pol, const struct http_head *h)
{
	const struct http_header *x = http_find(h, "Origin");
	struct px_origin o;
	int i;

	if (x == NULL || http_count(h, "Origin") != 1 ||
	    hs_origin_parse(x->value, x->value_len, &o, 0) < 0 ||
	    o.scheme == NULL)
		return 0;
	for (i = 0; i < pol->norigin; i++)
		if (origin_match(&pol->origin[i], &o))
			return 1;
	return 0;
}

/* Check the parsed request in the order of wsproxy(1) HANDSHAKE; 0 or a
 * status.  scratch holds the normalised target. */
unsigned
hs_check_request(const struct hs_policy *pol, const struct http_head *h,
    char *scratch, size_t cap, struct hs_request *rq, int *version,
    const char **why)
{
	const struct http_header *x, *host;
	unsigned status;

	memset(rq, 0, sizeof(*rq));
	rq->head = h;
	request_id(h, rq);
	*version = 0;
	if (http_find(h, "Content-Length") || http_find(h, "Transfer-Encoding"))
		return *why = "body on an upgrade request", 400;
	host = http_find(h, "Host");
	if (h->minor_version >= 1 && http_count(h, "Host") != 1)
		return *why = "Host missing or repeated", 400;
	if (host != NULL && !target_host_valid(host->value, host->value_len))
		return *why = "bad Host", 400;
	if (cap / 2 < h->target_len + 1)
		return *why = "request target too long", 400;
	*why = target_normalise(h->target, h->target_len, scratch, cap / 2,
	    &rq->target);
	if (*why != NULL)
		return 400;
	/* RFC 9112 3.2.2: an absolute-form target's authority is the host. */
	if (rq->target.authority != NULL) {
		rq->host = rq->target.authority;
		rq->host_len = rq->target.authority_len;
	} else if (host != NULL) {
		rq->host = host->value;
		rq->host_len = host->value_len;
	}
	status = route_target(pol, rq, scratch + cap / 2, why);
	if (status != 0)
		return status;
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
	if (pol->norigin > 0 && !origin_allowed(pol, h))
		return *why = "Origin not allowed", 403;
	return 0;
}


/* Check the upstream's 101 against what was asked (wsproxy(1)
 * HANDSHAKE); NULL if it
 * is good, else why not.  Sets *deflate. */
const char *
hs_check_response(const struct hs_policy *pol, const struct http_head *req,
    const struct http_head *res, int *deflate)
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
	    !protocol_offered(pol, req, proto->value, proto->value_len)))
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
 * retry_after (seconds, 0: none) adds Retry-After, as a drain's 503 has.
 */
size_t
hs_error(char *out, size_t len, unsigned status, int version,
    unsigned retry_after)
{
	const char *reason = status_reason(status);
	char retry[40];
	int n;

	retry[0] = '\0';
	if (retry_after > 0)
		snprintf(retry, sizeof(retry), "Retry-After: %u\r\n",
		    retry_after);
	n = snprintf(out, len,
	    "HTTP/1.1 %u %s\r\n"
	    "%s%s%s"
	    "Connection: %s\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n"
	    "\r\n"
	    "%u %s\n",
	    status, reason,
	    status == 426 ? "Upgrade: websocket\r\n" : "",
	    status == 426 && version ? "Sec-WebSocket-Version: 13\r\n" : "",
	    retry,
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
 * How many body bytes follow a non-101 answer (RFC 9112 6.3): none for
 * 1xx, 204 and 304; the Content-Length when every one of them (lists
 * too) says the same number; else everything until the upstream closes
 * (Transfer-Encoding passes as it is).  Returns NULL, or why the
 * framing is ambiguous: then the answer is a 502, never passed on, so
 * that the client and wsproxy cannot disagree on where it ends.
 */
static const char *
response_body(const struct http_head *res, uint64_t *body, int *has_length)
{
	size_t i = 0, off = 0, elen, k;
	const char *elem;
	uint64_t v;

	*has_length = 0;
	*body = UINT64_MAX;
	while (next_element(res, "Content-Length", &i, &off, &elem, &elen)) {
		if (elen > 18)
			return "upstream Content-Length too large";
		for (v = 0, k = 0; k < elen; k++) {
			if (elem[k] < '0' || elem[k] > '9')
				return "bad upstream Content-Length";
			v = v * 10 + (uint64_t)(elem[k] - '0');
		}
		if (*has_length && v != *body)
			return "conflicting upstream Content-Length values";
		*has_length = 1;
		*body = v;
	}
	if (http_count(res, "Content-Length") > 0 && !*has_length)
		return "bad upstream Content-Length";
	if (*has_length && http_find(res, "Transfer-Encoding") != NULL)
		return "upstream Content-Length with Transfer-Encoding";
	if (res->status == 204 || res->status == 304 || res->status < 200)
		*body = 0;
	return NULL;
}

/* Is a[0..n) the same as the C string b, ASCII case aside? */
static int
same_text(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

/* Length of an "http://", "https://", "ws://" or "wss://" at v, or 0. */
static size_t
location_scheme(const char *v, size_t n, int *secure)
{
	static const char *const schemes[] = {
		"http://", "https://", "ws://", "wss://"
	};
	size_t i, len;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		len = strlen(schemes[i]);
		if (n >= len && strncasecmp(v, schemes[i], len) == 0) {
			*secure = (i & 1) != 0;
			return len;
		}
	}
	return 0;
}

/*
 * A Location that points at the upstream itself would send the client
 * to an address it cannot reach, and tell it the upstream's name: it is
 * rewritten to a path on the client's own origin, the URI's path
 * replaced by the route's prefix where it starts with it (like nginx's
 * "proxy_redirect default").  Any other Location passes unchanged.
 */
static void
out_location(struct out *o, const struct http_header *x,
    const struct px_route *route, const struct px_upstream *r)
{
	const char *v = x->value, *end = x->value + x->value_len, *a, *host,
	    *port = NULL, *rest;
	size_t slen, hlen, plen = 0, ulen;
	int secure;

	slen = location_scheme(v, x->value_len, &secure);
	if (slen == 0)
		goto as_is;
	a = v + slen;
	for (rest = a; rest < end && *rest != '/' && *rest != '?' &&
	    *rest != '#'; rest++)
		;
	host = a;
	if (a < rest && *a == '[') {
		const char *close = memchr(a, ']', (size_t)(rest - a));

		if (close == NULL)
			goto as_is;
		host = a + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < rest) {
			if (close[1] != ':')
				goto as_is;
			port = close + 2;
		}
	} else {
		const char *colon = memchr(a, ':', (size_t)(rest - a));

		hlen = (size_t)((colon ? colon : rest) - a);
		if (colon != NULL)
			port = colon + 1;
	}
	if (port != NULL)
		plen = (size_t)(rest - port);
	if (!same_text(host, hlen, r->host) ||
	    !(port == NULL ? strcmp(r->port, secure ? "443" : "80") == 0 :
	    same_text(port, plen, r->port)))
		goto as_is;
	out_str(o, "Location: ");
	ulen = r->path ? strlen(r->path) : 0;
	if (ulen > 0 && r->path[ulen - 1] == '/')
		ulen--;
	if (r->path != NULL && (size_t)(end - rest) >= ulen &&
	    memcmp(rest, r->path, ulen) == 0 && (rest + ulen == end ||
	    strchr("/?#", rest[ulen]) != NULL)) {
		out_add(o, route->prefix, route->prefix_len);
		rest += ulen;
		if (route->prefix_len == 0 && (rest == end || *rest != '/'))
			out_str(o, "/");
	} else if (rest == end || *rest != '/')
		out_str(o, "/");
	out_add(o, rest, (size_t)(end - rest));
	out_str(o, "\r\n");
	return;
as_is:
	out_header(o, x->name, x->name_len, x->value, x->value_len);
}

/*
 * A non-101 upstream answer for the client: its status line, its
 * end-to-end headers (a Location at the upstream rewritten), one
 * Content-Length when it had any, and Connection: close.  *body gets
 * how many body bytes follow (UINT64_MAX: until the upstream closes).
 * Returns NULL with *len set (0 if it does not fit in cap), or why the
 * answer cannot be passed on.
 */
const char *
hs_passthrough(const struct http_head *res, const struct px_route *r,
    const struct px_upstream *up, char *buf, size_t cap, size_t *len, uint64_t *body)
{
	struct out o = { buf, 0, cap, 0 };
	const struct http_header *x;
	char num[24];
	const char *why;
	uint64_t length;
	size_t i;
	int has_length;

	why = response_body(res, &length, &has_length);
	if (why != NULL)
		return why;
	*body = length;
	snprintf(num, sizeof(num), "%03d", res->status);
	out_str(&o, "HTTP/1.1 ");
	out_str(&o, num);
	out_str(&o, " ");
	out_add(&o, res->reason, res->reason_len);
	out_str(&o, "\r\n");
	for (i = 0; i < res->num_headers; i++) {
		x = &res->headers[i];
		if ((hop_by_hop(x) && !name_is(x, "Transfer-Encoding")) ||
		    named_by_connection(res, x))
			continue;
		if (name_is(x, "Location"))
			out_location(&o, x, r, up);
		else
			out_header(&o, x->name, x->name_len, x->value,
			    x->value_len);
	}
	if (has_length) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)length);
		out_header(&o, "Content-Length", 14, num, strlen(num));
	}
	out_str(&o, "Connection: close\r\n\r\n");
	*len = o.overflow ? 0 : o.len;
	return NULL;
}
