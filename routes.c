/*
 * routes.c - routes and upstream URIs as the command line gives them
 * (wsproxy(1) ROUTING AND REWRITING): prefixes and URI paths normalised
 * as request targets are, and upstream host names resolved.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

int
px_resolve(struct px_upstream *r)
{
	struct addrinfo hints, *res, *ai;
	int err, n = 0;

	if (r->is_unix)
		return 0;	/* its one address is the socket path */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(r->host, r->port, &hints, &res);
	if (err != 0) {
		/* Not fatal: the route answers 502 and the last good
		 * addresses stay, as wsproxy(1) HANDSHAKE says. */
		px_log(PX_LOG_WARN, "event=resolve_failed upstream=%s"
		    " error=\"%s\"", r->uri, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL && n < PX_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(r->addr[0]))
			continue;
		memcpy(&r->addr[n], ai->ai_addr, ai->ai_addrlen);
		r->addr_len[n] = ai->ai_addrlen;
		n++;
	}
	freeaddrinfo(res);
	r->naddr = n;
	return 0;
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

void
add_route(const char *flag, const char *path_flag, const char *prefix,
    size_t prefix_len, const char *uri)
{
	struct px_route *r;
	int i;

	if (px_cfg.nroute == PX_MAX_ROUTES)
		usage_error("%s: more than %d routes", flag, PX_MAX_ROUTES);
	r = &px_cfg.route[px_cfg.nroute];
	r->prefix = normalise_prefix(path_flag, prefix, prefix_len,
	    &r->prefix_len);
	for (i = 0; i < px_cfg.nroute; i++)
		if (strcmp(px_cfg.route[i].prefix, r->prefix) == 0)
			usage_error("%s: path '%s' is routed twice", flag,
			    r->prefix_len ? r->prefix : "/");
	r->upstream = &px_cfg.upstream[px_cfg.nupstream++];
	parse_uri(flag, uri, r->upstream);
	px_cfg.nroute++;
}
