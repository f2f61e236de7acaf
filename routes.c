/*
 * routes.c - routes and upstream URIs as the command line gives them
 * (wsproxy(1) REWRITING): prefixes and URI paths normalised
 * as request targets are (host names are dns.c's).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "balance.h"
#include "config.h"
#include "io.h"
#include "log.h"
#include "target.h"

/*
 * A route prefix as routing compares it: "/socket/" -> "/socket",
 * "socket" -> "/socket", "/" -> "", "/%61pi" -> "/api".  It goes through
 * the same normaliser as request paths (wsproxy(1) ROUTING AND
 * REWRITING), so a prefix and the paths it matches are spelled alike;
 * a ';', a query or a form a request would get 400 for is exit 64.
 */
static const char *
normalise_prefix(const char *flag, const char *path, size_t len, size_t *out)
{
	struct target t;
	const char *why;
	char *in, *d;
	size_t n = 0;

	in = malloc(len + 2);
	d = malloc(len + 2);
	if (in == NULL || d == NULL)
		usage_error("out of memory");
	if (len == 0 || path[0] != '/')
		in[n++] = '/';
	memcpy(in + n, path, len);
	n += len;
	while (n > 1 && in[n - 1] == '/')
		n--;
	why = target_normalise(in, n, d, len + 2, &t);
	if (why == NULL && (t.query != NULL || memchr(d, ';', t.path_len)))
		why = "';' and '?' are not allowed in a route path";
	if (why != NULL)
		usage_error("%s: path '%.*s': %s", flag, (int)len, path, why);
	free(in);
	n = t.path_len;
	if (n == 1)
		n = 0;			/* "/" matches everything */
	d[n] = '\0';
	*out = n;
	return d;
}

/*
 * The path and query of an upstream URI, normalised like a request's,
 * so what wsproxy sends upstream is spelled one way.  rest starts at
 * the '/' or '?' after the authority.
 */
static void
normalise_uri_target(const char *flag, const char *uri, const char *rest,
    struct px_upstream *r)
{
	size_t len = strlen(rest);
	struct target t;
	const char *why;
	char *in, *d;

	in = malloc(len + 2);
	d = malloc(len + 2);
	if (in == NULL || d == NULL)
		usage_error("out of memory");
	in[0] = '/';
	memcpy(in + (rest[0] == '?'), rest, len + 1);
	why = target_normalise(in, len + (rest[0] == '?'), d, len + 2, &t);
	if (why != NULL)
		usage_error("%s: '%s': %s", flag, uri, why);
	if (rest[0] == '/')
		r->path = xstrndup(t.path, t.path_len);
	if (t.query != NULL)
		r->query = xstrndup(t.query, t.query_len);
	free(in);
	free(d);
}

/*
 * ws+unix:PATH[:TARGET] into r (wsproxy(1) UNIX SOCKETS); p is just
 * after the scheme.  The socket path runs to the first ':', so a path
 * holding one cannot be named; TARGET is a path and query as in ws://.
 * The one address is the socket itself: nothing is ever resolved, and
 * the Host header and the name TLS verifies are "localhost".
 */
static void
parse_unix_uri(const char *flag, const char *uri, const char *p,
    struct px_upstream *r)
{
	struct sockaddr_un sun;
	size_t i, n = strcspn(p, ":");
	const char *rest = p + n;

	if (p[0] != '/')
		usage_error("%s: '%s': the socket path must be absolute", flag,
		    uri);
	if (n >= sizeof(sun.sun_path))
		usage_error("%s: '%s': socket path longer than %zu bytes", flag,
		    uri, sizeof(sun.sun_path) - 1);
	/* It goes into log lines unquoted (upstream_addr=unix:PATH). */
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < ' ' || p[i] == 0x7f || p[i] == '"' ||
		    p[i] == '\\')
			usage_error("%s: '%s': the socket path may not hold"
			    " control characters, '\"' or '\\'", flag, uri);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, p, n);
	memcpy(&r->addr[0], &sun, sizeof(sun));
	r->addr_len[0] = (socklen_t)sizeof(sun);
	r->naddr = 1;
	r->host = xstrndup("localhost", 9);
	r->host_header = xstrndup("localhost", 9);
	if (*rest == ':' && *++rest != '\0') {
		if (*rest != '/' && *rest != '?')
			usage_error("%s: '%s': the socket path must be followed"
			    " by ':/PATH' or ':?QUERY'", flag, uri);
		normalise_uri_target(flag, uri, rest, r);
	}
}

/* ws://host[:port][/path][?query] (or ws+unix:) into r. */
static void
parse_uri(const char *flag, const char *uri, struct px_upstream *r)
{
	const char *p = uri, *host, *host_end, *port = NULL, *rest;
	size_t port_len = 0;
	char portbuf[8];
	unsigned long portnum;

	r->uri = uri;
	if (strncasecmp(p, "ws://", 5) == 0) {
		p += 5;
	} else if (strncasecmp(p, "wss://", 6) == 0) {
		r->tls = 1;
		p += 6;
	} else if (strncasecmp(p, "ws+unix:", 8) == 0) {
		r->is_unix = 1;
		p += 8;
	} else if (strncasecmp(p, "wss+unix:", 9) == 0) {
		r->is_unix = r->tls = 1;
		p += 9;
	} else
		usage_error("%s: '%s' is not a ws://, wss://, ws+unix: or"
		    " wss+unix: URI", flag, uri);
	if (r->tls && !tls_built_in())
		usage_error("%s: '%s': this binary was built without TLS",
		    flag, uri);
	if (strpbrk(uri, "# \t\r\n") != NULL)
		usage_error("%s: '%s' may not contain a fragment or blanks",
		    flag, uri);
	if (r->is_unix) {
		parse_unix_uri(flag, uri, p, r);
		return;
	}
	if (*p == '[') {
		host = p + 1;
		host_end = strchr(host, ']');
		if (host_end == NULL)
			usage_error("%s: '%s': unclosed '['", flag, uri);
		rest = host_end + 1;
	} else {
		host = p;
		host_end = p + strcspn(p, ":/?");
		rest = host_end;
	}
	if (host_end == host)
		usage_error("%s: '%s' has no host", flag, uri);
	if (memchr(host, '@', (size_t)(host_end - host)) != NULL)
		usage_error("%s: '%s': user information is not supported",
		    flag, uri);
	r->host = xstrndup(host, (size_t)(host_end - host));
	if (*rest == ':') {
		port = rest + 1;
		port_len = strcspn(port, "/?");
		rest = port + port_len;
		if (port_len == 0 || port_len > 5 ||
		    strspn(port, "0123456789") < port_len)
			usage_error("%s: '%s': bad port", flag, uri);
	} else if (*rest != '\0' && *rest != '/' && *rest != '?')
		usage_error("%s: '%s': bad host", flag, uri);
	if (port != NULL) {
		memcpy(portbuf, port, port_len);
		portbuf[port_len] = '\0';
		portnum = strtoul(portbuf, NULL, 10);
		if (portnum == 0 || portnum > 65535)
			usage_error("%s: '%s': bad port", flag, uri);
	} else
		snprintf(portbuf, sizeof(portbuf), "%s", r->tls ? "443" : "80");
	memcpy(r->port, portbuf, sizeof(r->port));
	/* Host header: as written in the URI, port only if given. */
	r->host_header = xstrndup(p, (size_t)(rest - p));
	if (*rest == '/' || *rest == '?')
		normalise_uri_target(flag, uri, rest, r);
}

/* ------------------------------------------------------------------ */
/* The route grammar (wsproxy(1) ROUTING)                               */
/* ------------------------------------------------------------------ */

/* An RFC 9110 token character (header and cookie names). */
static int
route_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The route being parsed, for messages: "--route 'TEXT'". */
static const char *cur_flag, *cur_text;

static void route_error(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
route_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	/* The analyzer loses va_start when a caller's path ends in this
	 * noreturn function; ap is started just above. */
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* NOLINT(clang-analyzer-valist.Uninitialized) */
	va_end(ap);
	usage_error("%s: '%s': %s", cur_flag, cur_text, msg);
}

/* HOST: a name or an IPv4 address, lower-cased; "*.rest" is wild. */
static void
route_host(struct px_route *r, const char *h, size_t n)
{
	char *d;
	size_t i;

	if (n > 2 && h[0] == '*' && h[1] == '.') {
		r->host_wild = 1;
		h += 2;
		n -= 2;
	}
	if (n == 0 || n > 253)
		route_error("host '%.*s' is empty or too long", (int)n, h);
	/* Kept in the route at once: an error below leaks nothing. */
	r->host = d = xstrndup(h, n);
	for (i = 0; i < n; i++) {
		if (d[i] >= 'A' && d[i] <= 'Z')
			d[i] = (char)(d[i] - 'A' + 'a');
		if (d[i] == ':')
			route_error("host '%.*s': no port (the Host is"
			    " matched without its port)", (int)n, h);
		if (!((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= '0' && d[i] <= '9') || d[i] == '-' ||
		    (d[i] == '.' && i > 0 && i + 1 < n && d[i + 1] != '.')))
			route_error("host '%.*s': only letters, digits, '-'"
			    " and single dots (a leading '*.' for one label)",
			    (int)n, h);
	}
	r->host_len = n;
}

/* The [NAME=VALUE]... conditions in s[0..n). */
static void
route_conds(struct px_route *r, const char *s, size_t n)
{
	const char *end = s + n, *close, *eq;
	size_t i;

	while (s < end) {
		struct px_cond *c = &r->cond[r->ncond];

		close = memchr(s, ']', (size_t)(end - s));
		if (*s != '[' || close == NULL)
			route_error("header condition '%.*s': expected"
			    " [NAME=VALUE]", (int)(end - s), s);
		eq = memchr(s, '=', (size_t)(close - s));
		if (eq == NULL || eq == s + 1)
			route_error("header condition '%.*s': expected"
			    " [NAME=VALUE]", (int)(close + 1 - s), s);
		if (r->ncond == PX_MAX_CONDS)
			route_error("more than %d header conditions",
			    PX_MAX_CONDS);
		c->name = s + 1;
		c->name_len = (size_t)(eq - c->name);
		c->value = eq + 1;
		c->value_len = (size_t)(close - c->value);
		for (i = 0; i < c->name_len; i++)
			if (!route_tchar((unsigned char)c->name[i]))
				route_error("header condition '%.*s': bad"
				    " header name", (int)(close + 1 - s), s);
		for (i = 0; i < c->value_len; i++)
			if ((unsigned char)c->value[i] <= ' ' ||
			    c->value[i] == 0x7f || c->value[i] == '"' ||
			    c->value[i] == '\\' || c->value[i] == '[')
				route_error("header condition '%.*s': the value"
				    " may not hold blanks, controls, '\"', '\\'"
				    " or '['", (int)(close + 1 - s), s);
		r->ncond++;
		s = close + 1;
	}
}

/* "ws://a:4000 weight=3": one pool member. */
static void
route_member(struct px_route *r, const char *s, size_t n)
{
	struct px_upstream *u;
	char *uri, *sp;

	while (n > 0 && *s == ' ') {
		s++;
		n--;
	}
	if (n == 0)
		route_error("an empty upstream in the list");
	if (px_cfg.nupstream == PX_MAX_UPSTREAMS)
		route_error("more than %d upstreams in all", PX_MAX_UPSTREAMS);
	if (r->nupstream == PX_MAX_POOL)
		route_error("more than %d upstreams in one pool", PX_MAX_POOL);
	u = &px_cfg.upstream[px_cfg.nupstream++];
	r->nupstream++;
	u->weight = 1;
	/* The member alone, as a string: "URI" or "URI weight=N", kept in
	 * the member at once so that an error leaks nothing. */
	u->uri = uri = xstrndup(s, n);
	sp = strchr(uri, ' ');
	if (sp != NULL) {
		const char *w = sp + strspn(sp, " ");
		char wflag[300];

		*sp = '\0';
		if (strncmp(w, "weight=", 7) != 0)
			route_error("after upstream '%s': expected ' weight=N'",
			    uri);
		snprintf(wflag, sizeof(wflag), "%s: '%s': weight", cur_flag,
		    uri);
		u->weight = (unsigned)cfg_number(wflag, w + 7, 1, 100);
	}
	parse_uri(cur_flag, uri, u);
	u->route = r;
	u->seed = bal_hash(uri, strlen(uri), 0);
}

/* hash(header:NAME), hash(cookie:NAME), hash(ip). */
static void
route_balance(struct px_route *r, const char *v)
{
	size_t n = strlen(v);

	if (strcmp(v, "roundrobin") == 0)
		r->balance = BAL_ROUNDROBIN;
	else if (strcmp(v, "leastconn") == 0)
		r->balance = BAL_LEASTCONN;
	else if (strcmp(v, "hash(ip)") == 0) {
		r->balance = BAL_HASH;
		r->hash_key = KEY_IP;
	} else if (n > 13 && strncmp(v, "hash(", 5) == 0 && v[n - 1] == ')' &&
	    (strncmp(v + 5, "header:", 7) == 0 ||
	    strncmp(v + 5, "cookie:", 7) == 0)) {
		size_t i;

		r->balance = BAL_HASH;
		r->hash_key = v[5] == 'h' ? KEY_HEADER : KEY_COOKIE;
		r->hash_name = v + 12;
		r->hash_name_len = n - 13;
		for (i = 0; i < r->hash_name_len; i++)
			if (!route_tchar((unsigned char)r->hash_name[i]))
				route_error("balance=%s: bad name", v);
	} else
		route_error("balance=%s: expected roundrobin, leastconn,"
		    " hash(header:NAME), hash(cookie:NAME) or hash(ip)", v);
}

/* "1.25" (one or two decimals) in percent, 100 to 1000. */
static unsigned
route_factor(const char *v)
{
	unsigned whole = 0, frac = 0, digits = 0;
	const char *p = v;

	while (*p >= '0' && *p <= '9' && whole < 100)
		whole = whole * 10 + (unsigned)(*p++ - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && digits < 2; digits++)
			frac = frac * 10 + (unsigned)(*p++ - '0');
	if (digits == 1)
		frac *= 10;
	if (*p != '\0' || p == v || whole * 100 + frac < 100 ||
	    whole * 100 + frac > 1000)
		route_error("hash-factor=%s: expected a number from 1 to 10"
		    " with at most two decimals", v);
	return whole * 100 + frac;
}

/* "--route: 'TEXT': NAME" for a value's own message. */
static const char *
opt_flag(const char *name)
{
	static char f[600];

	snprintf(f, sizeof(f), "%s: '%s': %s", cur_flag, cur_text, name);
	return f;
}

/* One OPTION=VALUE after a ';'. */
static void
route_option(struct px_route *r, char *opt)
{
	char *v = strchr(opt, '=');

	if (v == NULL)
		route_error("option '%s': expected NAME=VALUE", opt);
	*v++ = '\0';
	if (strcmp(opt, "balance") == 0)
		route_balance(r, v);
	else if (strcmp(opt, "hash-factor") == 0)
		r->hash_factor = route_factor(v);
	else if (strcmp(opt, "fail-timeout") == 0)
		r->fail_timeout = cfg_duration(opt_flag(opt), v, 0,
		    3600000);
	else if (strcmp(opt, "health") == 0) {
		if (strcmp(v, "tcp") == 0)
			r->health = HEALTH_TCP;
		else if (strncmp(v, "ws:/", 4) == 0 &&
		    strpbrk(v, " \t\r\n") == NULL) {
			r->health = HEALTH_WS;
			r->health_path = v + 3;
		} else
			route_error("health=%s: expected tcp or ws:/PATH", v);
	} else if (strcmp(opt, "health-interval") == 0)
		r->health_interval = cfg_duration(opt_flag(opt), v, 100,
		    3600000);
	else if (strcmp(opt, "on-down") == 0) {
		if (strcmp(v, "close") != 0 && strcmp(v, "keep") != 0)
			route_error("on-down=%s: expected close or keep", v);
		r->on_down_close = v[0] == 'c';
	} else if (strcmp(opt, "send-proxy") == 0) {
		if (strcmp(v, "v2") != 0)
			route_error("send-proxy=%s: only v2 is sent", v);
		r->send_proxy = 1;
	} else
		route_error("unknown option '%s' (balance, hash-factor,"
		    " fail-timeout, health, health-interval, on-down,"
		    " send-proxy)", opt);
}

/* Two routes with the same host, conditions and path: the second could
 * never match. */
static int
route_same(const struct px_route *a, const struct px_route *b)
{
	int i;

	if (a->prefix_len != b->prefix_len ||
	    strcmp(a->prefix, b->prefix) != 0 ||
	    (a->host == NULL) != (b->host == NULL) ||
	    a->ncond != b->ncond)
		return 0;
	if (a->host != NULL && (a->host_wild != b->host_wild ||
	    strcmp(a->host, b->host) != 0))
		return 0;
	for (i = 0; i < a->ncond; i++)
		if (a->cond[i].name_len != b->cond[i].name_len ||
		    a->cond[i].value_len != b->cond[i].value_len ||
		    strncasecmp(a->cond[i].name, b->cond[i].name,
		    a->cond[i].name_len) != 0 ||
		    memcmp(a->cond[i].value, b->cond[i].value,
		    a->cond[i].value_len) != 0)
			return 0;
	return 1;
}

/* The checks once a route is whole, and its label. */
static void
route_finish(struct px_route *r)
{
	char label[1024];
	size_t n;
	int i, j;

	for (i = 0; i < r->nupstream; i++)
		for (j = 0; j < i; j++)
			if (strcmp(r->upstream[i].uri, r->upstream[j].uri) == 0)
				route_error("upstream '%s' is in the pool twice",
				    r->upstream[i].uri);
	if (r->health == HEALTH_WS)
		for (i = 0; i < r->nupstream; i++)
			if (r->upstream[i].tls)
				route_error("health=ws: probes ws:// upstreams"
				    " only; use health=tcp for wss://");
	for (i = 0; i < px_cfg.nroute; i++)
		if (route_same(&px_cfg.route[i], r))
			route_error("this host, path and conditions are routed"
			    " twice");
	n = (size_t)snprintf(label, sizeof(label), "%s%.*s%s",
	    r->host_wild ? "*." : "", (int)r->host_len,
	    r->host ? r->host : "", r->prefix_len ? r->prefix : "/");
	for (i = 0; i < r->ncond && n < sizeof(label); i++)
		n += (size_t)snprintf(label + n, sizeof(label) - n,
		    "[%.*s=%.*s]", (int)r->cond[i].name_len, r->cond[i].name,
		    (int)r->cond[i].value_len, r->cond[i].value);
	r->label = xstrndup(label, strlen(label));
}

static struct px_route *
route_new(void)
{
	struct px_route *r;

	if (px_cfg.nroute == PX_MAX_ROUTES)
		route_error("more than %d routes", PX_MAX_ROUTES);
	r = &px_cfg.route[px_cfg.nroute];
	r->upstream = &px_cfg.upstream[px_cfg.nupstream];
	r->hash_factor = 125;
	r->fail_timeout = 10000;
	r->health_interval = 5000;
	return r;
}

void
route_parse(const char *flag, const char *text)
{
	const char *eq, *cond, *path, *list, *p, *opts;
	struct px_route *r;
	size_t mlen;
	char *o, *next;

	cur_flag = flag;
	cur_text = text;
	r = route_new();
	/* The '=' that ends the match: the first outside [...]. */
	for (eq = text; *eq != '\0' && *eq != '='; eq++)
		if (*eq == '[' && (eq = strchr(eq, ']')) == NULL)
			route_error("unclosed '['");
	if (*eq != '=')
		route_error("expected [HOST]PATH[[HEADER=VALUE]...]=UPSTREAM");
	mlen = (size_t)(eq - text);
	cond = memchr(text, '[', mlen);
	if (cond == NULL)
		cond = eq;
	path = text;
	if (text[0] != '/' && memchr(text, '/', (size_t)(cond - text))) {
		path = memchr(text, '/', (size_t)(cond - text));
		route_host(r, text, (size_t)(path - text));
	}
	r->prefix = normalise_prefix(flag, path, (size_t)(cond - path),
	    &r->prefix_len);
	route_conds(r, cond, (size_t)(eq - cond));
	/* UPSTREAM[,UPSTREAM...] up to the first ';'. */
	list = eq + 1;
	opts = strchr(list, ';');
	if (opts == NULL)
		opts = list + strlen(list);
	for (p = list; p <= opts; ) {
		const char *c = memchr(p, ',', (size_t)(opts - p));

		if (c == NULL)
			c = opts;
		route_member(r, p, (size_t)(c - p));
		p = c + 1;
	}
	if (*opts == ';') {
		/* Kept for good: hash_name and health_path point into it. */
		o = r->options = xstrndup(opts + 1, strlen(opts + 1));
		for (; o != NULL; o = next) {
			next = strchr(o, ';');
			if (next != NULL)
				*next++ = '\0';
			route_option(r, o);
		}
	}
	route_finish(r);
	px_cfg.nroute++;
}

void
add_route(const char *flag, const char *path_flag, const char *prefix,
    size_t prefix_len, const char *uri)
{
	struct px_route *r;

	cur_flag = flag;
	cur_text = uri;
	r = route_new();
	r->prefix = normalise_prefix(path_flag, prefix, prefix_len,
	    &r->prefix_len);
	route_member(r, uri, strlen(uri));
	route_finish(r);
	px_cfg.nroute++;
}
