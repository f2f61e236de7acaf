/*
 * routes.c - routes and upstream URIs as the command line gives them
 * (wsproxy(1) ROUTING AND REWRITING): prefixes and URI paths normalised
 * as request targets are, and upstream host names resolved.
 */
#include <sys/types.h>
#include <sys/socket.h>
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

/* ws://host[:port][/path][?query] into r. */
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
		if (!tls_built_in())
			usage_error("%s: '%s': this binary was built without TLS",
			    flag, uri);
	} else
		usage_error("%s: '%s' is not a ws:// or wss:// URI", flag, uri);
	if (strpbrk(uri, "# \t\r\n") != NULL)
		usage_error("%s: '%s' may not contain a fragment or blanks",
		    flag, uri);
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

/*
 * A route's ";OPTION" after its URI, cut off uri: only "send-proxy=v2"
 * so far (wsproxy(1) CLIENT IDENTITY).  The URI without them, which
 * the route keeps.
 */
static const char *
route_options(const char *flag, const char *uri, struct px_route *r)
{
	const char *semi = strchr(uri, ';');

	if (semi == NULL)
		return uri;
	if (strcmp(semi + 1, "send-proxy=v2") != 0)
		usage_error("%s: '%s': unknown route option '%s'", flag, uri,
		    semi + 1);
	r->send_proxy = 1;
	return xstrndup(uri, (size_t)(semi - uri));
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
	uri = route_options(flag, uri, r);
	parse_uri(flag, uri, r->upstream);
	px_cfg.nroute++;
}
