/*
 * config.c - the command line: flags, upstream URIs, routes, listeners.
 *
 * Everything here runs once at start-up, so it may allocate and block
 * (getaddrinfo).  Every mistake is one message on stderr naming the
 * flag and exit 64, before any socket is opened; a listen address that
 * cannot be bound is exit 71.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "io.h"
#include "log.h"
#include "sock.h"
#include "target.h"

/* Zero-initialised (in .bss, not in the binary); defaults are set at the
 * top of px_configure(). */
struct px_config px_cfg;

static const char usage_text[] =
"usage: wsproxy [options]\n"
"  -l, --listen [tls:]ADDR     client address: HOST:PORT, [V6]:PORT or :PORT\n"
"                              (repeatable; default 0.0.0.0:8080)\n"
"  -u, --upstream URI          ws://host[:port][/path][?query] or wss://...\n"
"  -p, --path PATH             path prefix proxied to --upstream (default /)\n"
"  -r, --route PATH=URI        one more route (repeatable, longest match wins)\n"
"  -H, --header 'Name: value'  header sent upstream, ${VAR} from the environment\n"
"  -P, --protocol NAME[,NAME]  allowed subprotocols (default: all)\n"
"      --connect-timeout MS    TCP connect and TLS handshake (default 5000)\n"
"      --upgrade-timeout MS    upstream connected to its 101 (default 5000)\n"
"      --request-timeout MS    client request head complete (default 10000)\n"
"      --idle-timeout MS       no frame either way for this long (0 = never)\n"
"      --close-timeout MS      close handshake to finish (default 5000)\n"
"      --max-conns N           connection-pair slab size (default from\n"
"                              RLIMIT_NOFILE)\n"
"      --max-message BYTES     largest message relayed (0 = no limit)\n"
"      --max-header-bytes N    largest request head (default 8192)\n"
"      --tcp-keepalive SECS    probe a silent peer after SECS (default 60,\n"
"                              0 = off)\n"
"      --tls-ca FILE           CA bundle for wss:// upstreams\n"
"      --tls-cert FILE         client certificate for mutual TLS\n"
"      --tls-key FILE          its private key\n"
"      --tls-servername NAME   SNI and verified name for wss:// upstreams\n"
"      --tls-insecure          do not verify upstream certificates\n"
"      --listen-cert FILE      certificate chain for tls: listeners\n"
"      --listen-key FILE       its private key\n"
"  -v, --verbose               more logging (debug)\n"
"  -q, --quiet                 less logging (warnings and errors)\n"
"  -h, --help                  this text\n"
"  -V, --version               the version\n";

static void usage_error(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("wsproxy: ", stderr);
	va_start(ap, fmt);
	/* va_start is right above; the analyzer loses it (false positive). */
	vfprintf(stderr, fmt, ap);	/* NOLINT(clang-analyzer-valist.Uninitialized) */
	va_end(ap);
	fputs("\nTry 'wsproxy --help'.\n", stderr);
	exit(64);
}

static char *
xstrndup(const char *s, size_t n)
{
	/* n is a length within a C string, so n + 1 is never 0. */
	char *d = malloc(n + 1);	/* NOLINT(clang-analyzer-optin.portability.UnixAPI) */

	if (d == NULL) {
		fputs("wsproxy: out of memory\n", stderr);
		exit(71);
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* A whole decimal number in [min, max], else exit 64 naming the flag. */
static uint64_t
number(const char *flag, const char *arg, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *endp;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		usage_error("%s: '%s' is not a number", flag, arg);
	v = strtoull(arg, &endp, 10);
	if (errno != 0 || *endp != '\0')
		usage_error("%s: '%s' is not a number", flag, arg);
	if (v < min || v > max)
		usage_error("%s: %llu is out of range (%llu to %llu)", flag, v,
		    (unsigned long long)min, (unsigned long long)max);
	return (uint64_t)v;
}

/* ------------------------------------------------------------------ */
/* Routes and upstream URIs                                            */
/* ------------------------------------------------------------------ */

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

static void
resolve(struct px_upstream *r)
{
	const char *port = r->port;
	struct addrinfo hints, *res, *ai;
	int err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(r->host, port, &hints, &res);
	if (err != 0) {
		/* Not fatal: the route answers 502 until restarted, as the
		 * contract says for a name that cannot be resolved. */
		px_log(PX_LOG_WARN, "event=resolve_failed upstream=%s error=\"%s\"",
		    r->uri, gai_strerror(err));
		return;
	}
	for (ai = res; ai != NULL && r->naddr < PX_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(r->addr[0]))
			continue;
		memcpy(&r->addr[r->naddr], ai->ai_addr, ai->ai_addrlen);
		r->addr_len[r->naddr] = ai->ai_addrlen;
		r->naddr++;
	}
	freeaddrinfo(res);
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

static void
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

/* ------------------------------------------------------------------ */
/* Headers and subprotocols                                            */
/* ------------------------------------------------------------------ */

static int
is_tchar(int c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * Header names that make the upgrade itself (per-hop and Sec-WebSocket-*,
 * '-' and '_' alike): a --header of one would break the handshake or
 * smuggle a second framing, so it is refused (wsproxy(1) HANDSHAKE).
 */
static int
handshake_header(const char *name, size_t len)
{
	static const char *const names[] = {
		"Connection", "Upgrade", "Keep-Alive", "TE", "Trailer",
		"Transfer-Encoding", "Content-Length", "Proxy-",
		"Sec-WebSocket-",
	};
	size_t i, k, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		if (names[i][n - 1] == '-' ? len < n : len != n)
			continue;
		for (k = 0; k < n; k++)
			if (tolower((unsigned char)(name[k] == '_' ? '-' :
			    name[k])) != tolower((unsigned char)names[i][k]))
				break;
		if (k == n)
			return 1;
	}
	return 0;
}

/* Expand ${VAR} from the environment; an unset VAR is an error. */
static char *
expand_env(const char *flag, const char *v)
{
	size_t cap = strlen(v) + 1, len = 0;
	char *out = malloc(cap);

	if (out == NULL)
		usage_error("out of memory");
	while (*v != '\0') {
		if (v[0] == '$' && v[1] == '{') {
			const char *close = strchr(v + 2, '}');
			const char *val;
			char *name;
			size_t vl;

			if (close == NULL)
				usage_error("%s: unclosed '${' in header value",
				    flag);
			name = xstrndup(v + 2, (size_t)(close - v - 2));
			val = getenv(name);
			if (val == NULL)
				usage_error("%s: environment variable %s is not"
				    " set", flag, name);
			free(name);
			vl = strlen(val);
			cap += vl;
			out = realloc(out, cap);
			if (out == NULL)
				usage_error("out of memory");
			memcpy(out + len, val, vl);
			len += vl;
			v = close + 1;
			continue;
		}
		out[len++] = *v++;
	}
	out[len] = '\0';
	return out;
}

static void
add_header(const char *flag, const char *arg)
{
	const char *colon = strchr(arg, ':');
	struct px_header *h;
	const char *v, *c;
	size_t n;

	if (px_cfg.nheader == PX_MAX_EXTRA_HEADERS)
		usage_error("%s: more than %d headers", flag,
		    PX_MAX_EXTRA_HEADERS);
	if (colon == NULL || colon == arg)
		usage_error("%s: '%s' is not 'Name: value'", flag, arg);
	for (c = arg; c < colon; c++)
		if (!is_tchar((unsigned char)*c))
			usage_error("%s: '%s': bad header name", flag, arg);
	if (handshake_header(arg, (size_t)(colon - arg)))
		usage_error("%s: '%.*s' belongs to the WebSocket handshake and"
		    " cannot be set", flag, (int)(colon - arg), arg);
	h = &px_cfg.header[px_cfg.nheader++];
	h->name = xstrndup(arg, (size_t)(colon - arg));
	h->name_len = (size_t)(colon - arg);
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	h->value = expand_env(flag, v);
	n = strlen(h->value);
	while (n > 0 && (h->value[n - 1] == ' ' || h->value[n - 1] == '\t'))
		h->value[--n] = '\0';
	for (c = h->value; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			usage_error("%s: header %s: control character in value",
			    flag, h->name);
	h->value_len = n;
	px_cfg.header_bytes += h->name_len + n + 4;
}

static void
add_protocols(const char *flag, const char *arg)
{
	const char *p = arg;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		const char *s = p, *e = p + n;
		const char *c;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (s == e)
			usage_error("%s: empty protocol name in '%s'", flag, arg);
		for (c = s; c < e; c++)
			if (!is_tchar((unsigned char)*c))
				usage_error("%s: '%.*s' is not a token", flag,
				    (int)(e - s), s);
		if (px_cfg.nprotocol == PX_MAX_PROTOCOLS)
			usage_error("%s: more than %d protocols", flag,
			    PX_MAX_PROTOCOLS);
		px_cfg.protocol[px_cfg.nprotocol++] =
		    xstrndup(s, (size_t)(e - s));
		p += n;
		if (*p == ',')
			p++;
	}
}

/* ------------------------------------------------------------------ */
/* Listeners                                                           */
/* ------------------------------------------------------------------ */

static void
add_listen(const char *flag, const char *arg)
{
	struct px_listener *l;

	if (px_cfg.nlisten == PX_MAX_LISTENERS)
		usage_error("%s: more than %d listeners", flag,
		    PX_MAX_LISTENERS);
	l = &px_cfg.listen[px_cfg.nlisten++];
	l->fd = -1;
	l->text = (char *)arg;
	if (strncmp(arg, "tls:", 4) == 0) {
		l->tls = 1;
		if (!tls_built_in())
			usage_error("%s: '%s': this binary was built without TLS",
			    flag, arg);
	}
}

/* Split [tls:]HOST:PORT; host "" means every address. */
static void
split_listen(const struct px_listener *l, char *host, size_t hostlen,
    char *port, size_t portlen)
{
	const char *a = l->text + (l->tls ? 4 : 0);
	const char *colon;
	size_t n;

	if (a[0] == '[') {
		const char *close = strchr(a, ']');

		if (close == NULL || close[1] != ':')
			usage_error("--listen: '%s' is not [V6]:PORT", l->text);
		n = (size_t)(close - a - 1);
		colon = close + 1;
		a++;
	} else {
		colon = strrchr(a, ':');
		if (colon == NULL)
			usage_error("--listen: '%s' is not HOST:PORT", l->text);
		n = (size_t)(colon - a);
	}
	if (n >= hostlen || strlen(colon + 1) >= portlen ||
	    colon[1] == '\0' || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1) || strtoul(colon + 1, NULL, 10) > 65535)
		usage_error("--listen: '%s': bad address or port", l->text);
	memcpy(host, a, n);
	host[n] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);	/* length checked above */
}

static int
bind_one(const struct sockaddr *sa, socklen_t len, int v6only)
{
	int fd, one = 1;

	fd = socket(sa->sa_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit TCP_NODELAY from the listener on Linux,
	 * which saves a setsockopt() per client (proxy.c). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sock_keepalive(fd, px_cfg.tcp_keepalive);
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
	if (bind(fd, sa, len) < 0 || listen(fd, 1024) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void
bind_listener(struct px_listener *l)
{
	char host[256], port[8];
	struct addrinfo hints, *res;
	int err;

	split_listen(l, host, sizeof(host), port, sizeof(port));
	if (host[0] == '\0') {
		/* ":PORT": every address, IPv6 and IPv4 on one socket when
		 * the host has IPv6, else IPv4 only. */
		struct sockaddr_in6 s6;
		struct sockaddr_in s4;

		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons((uint16_t)strtoul(port, NULL, 10));
		s6.sin6_addr = in6addr_any;
		l->fd = bind_one((struct sockaddr *)&s6, sizeof(s6), 0);
		if (l->fd >= 0 || errno != EAFNOSUPPORT)
			goto done;
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_port = s6.sin6_port;
		s4.sin_addr.s_addr = htonl(INADDR_ANY);
		l->fd = bind_one((struct sockaddr *)&s4, sizeof(s4), 0);
		goto done;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	err = getaddrinfo(host, port, &hints, &res);
	if (err != 0) {
		fprintf(stderr, "wsproxy: --listen %s: %s\n", l->text,
		    gai_strerror(err));
		exit(71);
	}
	/* An explicit [::] is IPv6 only, so 0.0.0.0 can be bound beside it. */
	l->fd = bind_one(res->ai_addr, res->ai_addrlen, 1);
	freeaddrinfo(res);
done:
	if (l->fd < 0) {
		fprintf(stderr, "wsproxy: --listen %s: cannot bind: %s\n",
		    l->text, strerror(errno));
		exit(71);
	}
}

/* ------------------------------------------------------------------ */
/* The command line                                                    */
/* ------------------------------------------------------------------ */

enum {
	OPT_CONNECT_TIMEOUT = 256,
	OPT_UPGRADE_TIMEOUT,
	OPT_REQUEST_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_CLOSE_TIMEOUT,
	OPT_MAX_CONNS,
	OPT_MAX_MESSAGE,
	OPT_MAX_HEADER_BYTES,
	OPT_TLS_CA,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_SERVERNAME,
	OPT_TLS_INSECURE,
	OPT_LISTEN_CERT,
	OPT_LISTEN_KEY,
	OPT_TCP_KEEPALIVE
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "upstream", required_argument, NULL, 'u' },
	{ "path", required_argument, NULL, 'p' },
	{ "route", required_argument, NULL, 'r' },
	{ "header", required_argument, NULL, 'H' },
	{ "protocol", required_argument, NULL, 'P' },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "upgrade-timeout", required_argument, NULL, OPT_UPGRADE_TIMEOUT },
	{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "close-timeout", required_argument, NULL, OPT_CLOSE_TIMEOUT },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "max-message", required_argument, NULL, OPT_MAX_MESSAGE },
	{ "max-header-bytes", required_argument, NULL, OPT_MAX_HEADER_BYTES },
	{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-servername", required_argument, NULL, OPT_TLS_SERVERNAME },
	{ "tls-insecure", no_argument, NULL, OPT_TLS_INSECURE },
	{ "listen-cert", required_argument, NULL, OPT_LISTEN_CERT },
	{ "listen-key", required_argument, NULL, OPT_LISTEN_KEY },
	{ "tcp-keepalive", required_argument, NULL, OPT_TCP_KEEPALIVE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* The flag as the user wrote it, for messages. */
static const char *
flag_name(int c, int index)
{
	static char shortname[3] = "-?";

	if (index >= 0)
		return long_options[index].name;
	shortname[1] = (char)c;
	return shortname;
}

/* ------------------------------------------------------------------ */
/* TLS flags (wsproxy(1) TLS)                                         */
/* ------------------------------------------------------------------ */

static void
tls_path(const char *flag, const char **dst, const char *arg)
{
	if (*dst != NULL)
		usage_error("--%s: given twice", flag);
	if (arg[0] == '\0')
		usage_error("--%s: empty file name", flag);
	*dst = arg;
}

static void
tls_flag(int c, const char *flag, const char *arg)
{
	switch (c) {
	case OPT_TLS_CA:
		tls_path(flag, &px_cfg.tls_ca, arg);
		break;
	case OPT_TLS_CERT:
		tls_path(flag, &px_cfg.tls_cert, arg);
		break;
	case OPT_TLS_KEY:
		tls_path(flag, &px_cfg.tls_key, arg);
		break;
	case OPT_TLS_SERVERNAME:
		if (px_cfg.tls_servername != NULL)
			usage_error("--%s: given twice", flag);
		/* A DNS name or an IP literal (':' for IPv6): no blanks, no
		 * URI syntax, and it fits BearSSL's 255-byte SNI buffer. */
		if (arg[0] == '\0' || strlen(arg) > 255 ||
		    strpbrk(arg, " \t\r\n/@[]?#") != NULL)
			usage_error("--%s: '%s' is not a host name", flag, arg);
		px_cfg.tls_servername = arg;
		break;
	case OPT_TLS_INSECURE:
		px_cfg.tls_insecure = 1;
		break;
	case OPT_LISTEN_CERT:
		tls_path(flag, &px_cfg.listen_cert, arg);
		break;
	case OPT_LISTEN_KEY:
		tls_path(flag, &px_cfg.listen_key, arg);
		break;
	default:
		break;
	}
}

/* Contradictions between TLS flags, then the files themselves. */
static void
tls_check(void)
{
	char err[512];
	int i, wss = 0, tls_listen = -1;

	for (i = 0; i < px_cfg.nupstream; i++)
		wss |= px_cfg.upstream[i].tls;
	for (i = 0; i < px_cfg.nlisten; i++)
		if (px_cfg.listen[i].tls && tls_listen < 0)
			tls_listen = i;
	if ((px_cfg.tls_cert == NULL) != (px_cfg.tls_key == NULL))
		usage_error("%s: needs %s too", px_cfg.tls_cert ? "--tls-cert" :
		    "--tls-key", px_cfg.tls_cert ? "--tls-key" : "--tls-cert");
	if ((px_cfg.listen_cert == NULL) != (px_cfg.listen_key == NULL))
		usage_error("%s: needs %s too", px_cfg.listen_cert ?
		    "--listen-cert" : "--listen-key", px_cfg.listen_cert ?
		    "--listen-key" : "--listen-cert");
	if (tls_listen >= 0 && px_cfg.listen_cert == NULL)
		usage_error("--listen %s: a tls: listener needs --listen-cert"
		    " and --listen-key", px_cfg.listen[tls_listen].text);
	if (tls_listen < 0 && px_cfg.listen_cert != NULL)
		usage_error("--listen-cert: no --listen tls:ADDR to serve it on");
	if (!wss && (px_cfg.tls_cert || px_cfg.tls_servername ||
	    px_cfg.tls_insecure))
		usage_error("--%s: no wss:// upstream to use it for",
		    px_cfg.tls_cert ? "tls-cert" : px_cfg.tls_servername ?
		    "tls-servername" : "tls-insecure");
	if (px_cfg.tls_insecure && px_cfg.tls_ca != NULL)
		usage_error("--tls-insecure and --tls-ca contradict each other");
	if (tls_setup(err, sizeof(err)) < 0)
		usage_error("%s", err);
	if (px_cfg.tls_insecure)
		px_log(PX_LOG_WARN, "event=tls_insecure msg=\"upstream"
		    " certificates are NOT verified (--tls-insecure)\"");
}

/* Default slab size: two fds per pair, a few kept for listeners and logs. */
static uint32_t
default_max_conns(void)
{
	struct rlimit rl;
	uint64_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1024;
	n = (uint64_t)rl.rlim_cur;
	n = n > 32 ? (n - 32) / 2 : 1;
	return n > 1000000 ? 1000000 : (uint32_t)n;
}

void
px_configure(int argc, char **argv)
{
	const char *upstream = NULL, *path = NULL;
	int c, index, i, verbose = 0, quiet = 0;

	px_cfg.max_header_bytes = 8192;
	px_cfg.connect_timeout = 5000;
	px_cfg.upgrade_timeout = 5000;
	px_cfg.request_timeout = 10000;
	px_cfg.idle_timeout = 0;
	px_cfg.close_timeout = 5000;
	px_cfg.tcp_keepalive = 60;
	px_cfg.log_level = PX_LOG_INFO;
	opterr = 0;
	for (;;) {
		index = -1;
		c = getopt_long(argc, argv, ":l:u:p:r:H:P:vqhV", long_options,
		    &index);
		if (c == -1)
			break;
		switch (c) {
		case 'l':
			add_listen("--listen", optarg);
			break;
		case 'u':
			if (upstream != NULL)
				usage_error("--upstream: given twice (use --route"
				    " for more upstreams)");
			upstream = optarg;
			break;
		case 'p':
			if (path != NULL)
				usage_error("--path: given twice (use --route for"
				    " more paths)");
			path = optarg;
			break;
		case 'r': {
			const char *eq = strchr(optarg, '=');

			if (eq == NULL)
				usage_error("--route: '%s' is not PATH=URI",
				    optarg);
			add_route("--route", "--route", optarg,
			    (size_t)(eq - optarg),
			    eq + 1);
			break;
		}
		case 'H':
			add_header("--header", optarg);
			break;
		case 'P':
			add_protocols("--protocol", optarg);
			break;
		case OPT_CONNECT_TIMEOUT:
			px_cfg.connect_timeout = number("--connect-timeout",
			    optarg, 1, 86400000);
			break;
		case OPT_UPGRADE_TIMEOUT:
			px_cfg.upgrade_timeout = number("--upgrade-timeout",
			    optarg, 1, 86400000);
			break;
		case OPT_REQUEST_TIMEOUT:
			px_cfg.request_timeout = number("--request-timeout",
			    optarg, 1, 86400000);
			break;
		case OPT_IDLE_TIMEOUT:
			px_cfg.idle_timeout = number("--idle-timeout", optarg,
			    0, 86400000ULL * 365);
			break;
		case OPT_CLOSE_TIMEOUT:
			px_cfg.close_timeout = number("--close-timeout", optarg,
			    1, 86400000);
			break;
		case OPT_MAX_CONNS:
			px_cfg.max_conns = (uint32_t)number("--max-conns",
			    optarg, 1, 1000000);
			break;
		case OPT_MAX_MESSAGE:
			px_cfg.max_message = number("--max-message", optarg, 0,
			    UINT64_MAX >> 1);
			break;
		case OPT_TCP_KEEPALIVE:
			px_cfg.tcp_keepalive = (unsigned)number("--tcp-keepalive",
			    optarg, 0, 86400);
			break;
		case OPT_MAX_HEADER_BYTES:
			px_cfg.max_header_bytes = (size_t)number(
			    "--max-header-bytes", optarg, 256, 1048576);
			break;
		case OPT_TLS_CA: case OPT_TLS_CERT: case OPT_TLS_KEY:
		case OPT_TLS_SERVERNAME: case OPT_TLS_INSECURE:
		case OPT_LISTEN_CERT: case OPT_LISTEN_KEY:
			if (!tls_built_in())
				usage_error("--%s: this binary was built without"
				    " TLS", flag_name(c, index));
			tls_flag(c, flag_name(c, index), optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf("wsproxy %s%s\n", WSPROXY_VERSION,
			    tls_built_in() ? " (TLS: BearSSL)" : " (no TLS)");
			exit(0);
		case ':':
			usage_error("%s: missing value", argv[optind - 1]);
			break;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (verbose && quiet)
		usage_error("--verbose and --quiet contradict each other");
	px_cfg.log_level = verbose ? PX_LOG_DEBUG : quiet ? PX_LOG_WARN :
	    PX_LOG_INFO;
	if (path != NULL && upstream == NULL)
		usage_error("--path: needs --upstream");
	if (upstream != NULL)
		add_route("--upstream", "--path", path ? path : "/",
		    strlen(path ? path : "/"), upstream);
	if (px_cfg.nroute == 0)
		usage_error("--upstream: required (or give --route)");
	if (px_cfg.max_conns == 0)
		px_cfg.max_conns = default_max_conns();
	/* Each pool buffer holds a whole request head plus what wsproxy
	 * adds to it on the way upstream. */
	px_cfg.buf_size = px_cfg.max_header_bytes + px_cfg.header_bytes + 4096;
	if (px_cfg.buf_size < PX_BUF_MIN)
		px_cfg.buf_size = PX_BUF_MIN;
	px_cfg.buf_size = (px_cfg.buf_size + 4095) & ~(size_t)4095;

	if (px_cfg.nlisten == 0)
		add_listen("--listen", "0.0.0.0:8080");
	for (i = 0; i < px_cfg.nlisten; i++) {
		char h[256], p[8];

		split_listen(&px_cfg.listen[i], h, sizeof(h), p, sizeof(p));
	}
	tls_check();
	/* Sockets only once every flag is known to be good. */
	for (i = 0; i < px_cfg.nlisten; i++)
		bind_listener(&px_cfg.listen[i]);
	for (i = 0; i < px_cfg.nupstream; i++)
		resolve(&px_cfg.upstream[i]);
}
