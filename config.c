/*
 * config.c - the command line: flags, upstream URIs, routes, listeners.
 *
 * Everything here runs once at start-up, so it may allocate and block
 * (--user's lookup, --check's names).  Every mistake is one message on stderr naming the
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

#include "cmdline.h"
#include "config.h"
#include "dns.h"
#include "handshake.h"
#include "io.h"
#include "listen.h"
#include "log.h"
#include "sock.h"
#include "target.h"
#include "workers.h"

/* Zero-initialised (in .bss, not in the binary); defaults are set at the
 * top of px_configure(). */
struct px_config px_cfg;

/* A tab stands for the spaces up to column 30, where the explanations
 * start (usage_print()): the text is a third shorter in the binary. */
static const char usage_text[] =
"usage: wsproxy [options]\n"
"  -l, --listen [tls:][proxy:]ADDR\n"
"\tclient address: HOST:PORT, [V6]:PORT, :PORT\n"
"\tor unix:PATH (repeatable; default 0.0.0.0:8080);\n"
"\tproxy: a PROXY header (v1 or v2) comes first\n"
"      --listen-mode MODE\toctal mode of unix:PATH sockets (e.g. 0660)\n"
"  -u, --upstream URI\tws://host[:port][/path][?query] or wss://...,\n"
"\tws+unix:/SOCKET[:/path] or wss+unix:...\n"
"  -p, --path PATH\tpath prefix proxied to --upstream (default /)\n"
"  -r, --route ROUTE\t[HOST]PATH[[HEADER=VALUE]...]=URI[,URI...][;OPT...]\n"
"\t(repeatable; the most specific wins; pools,\n"
"\tbalance=, health=: see wsproxy(1) ROUTING)\n"
"  -H, --header 'Name: value'\theader sent upstream, ${VAR} from the environment\n"
"  -P, --protocol NAME[,NAME]\tallowed subprotocols (default: all)\n"
"      --allow-origin ORIGIN\tonly these Origins, else 403 (repeatable;\n"
"\thttps://a.example, *.example.com)\n"
"      --connect-timeout MS\tTCP connect and TLS handshake (default 5000)\n"
"      --upgrade-timeout MS\tupstream connected to its 101 (default 5000)\n"
"      --request-timeout MS\tclient request head complete (default 10000)\n"
"      --idle-timeout MS\tno frame either way for this long (0 = never)\n"
"      --close-timeout MS\tclose handshake to finish (default 5000)\n"
"      --max-conns N\tconnection-pair slab size (default from\n"
"\tRLIMIT_NOFILE)\n"
"      --workers N|auto\tprocesses, auto: one per CPU (default 1)\n"
"      --max-conns-per-ip N\tconnections from one address, handshakes\n"
"\tincluded (default: no limit)\n"
"      --trust-proxy CIDR\tpeers whose PROXY header and X-Forwarded-For\n"
"\tare believed (repeatable; ADDR or ADDR/BITS)\n"
"      --max-message BYTES\tlargest message relayed (0 = no limit)\n"
"      --max-header-bytes N\tlargest request head (default 8192)\n"
"      --tcp-keepalive SECS\tprobe a silent peer after SECS (default 60,\n"
"\t0 = off)\n"
"      --tls-ca FILE\tCA bundle for wss:// upstreams\n"
"      --tls-cert FILE\tclient certificate for mutual TLS\n"
"      --tls-key FILE\tits private key\n"
"      --tls-servername NAME\tSNI and verified name for wss:// upstreams\n"
"      --tls-insecure\tdo not verify upstream certificates\n"
"      --listen-cert FILE\tcertificate chain for tls: listeners\n"
"      --listen-key FILE\tits private key\n"
"      --drain-timeout MS\tSIGTERM: close handshakes finish within (10s)\n"
"      --drain-spread MS\tSIGTERM: spread the closes over (default 0)\n"
"      --log-file PATH\tlog there instead of stderr (SIGUSR1 reopens)\n"
"      --log-format text|json\tkey=value lines (default) or JSON objects\n"
"      --log-timestamps on|off ts= on every line (default on)\n"
"      --log-sample N\tlog one clean close in N (default 1: all)\n"
"      --admin ADDR\thealth, readiness and metrics over HTTP\n"
"      --ping-interval MS\tping a leg silent for this long (default off)\n"
"      --ping-timeout MS\tno answer to a ping: the leg is dead\n"
"\t(default 3 x --ping-interval)\n"
"      --resolv-conf FILE\tnameservers, search list (default\n"
"\t/etc/resolv.conf)\n"
"      --hosts-file FILE\tnames looked up first (default /etc/hosts)\n"
"      --dns-min-ttl SECS\tshortest time an answer is used (default 5)\n"
"      --dns-max-ttl SECS\tlongest time an answer is used (default 300)\n"
"      --user NAME\tdrop to this user after binding, loading keys\n"
"      --restart-args-file F\tSIGUSR2 restarts with the flags in F\n"
"      --check\tcheck everything, print the configuration\n"
"  -v, --verbose\tmore logging (debug)\n"
"  -q, --quiet\tless logging (warnings and errors)\n"
"  -h, --help\tthis text\n"
"  -V, --version\tthe version\n"
"Durations (MS) are milliseconds, or take a unit: 250ms, 5s, 2m, 1h.\n";

static void
usage_print(void)
{
	const char *s;
	int col = 0;

	for (s = usage_text; *s != '\0'; s++) {
		if (*s == '\t') {
			do
				putchar(' ');
			while (++col < 30);
			continue;
		}
		putchar(*s);
		col = *s == '\n' ? 0 : col + 1;
	}
}

void
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

char *
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

/*
 * A duration (wsproxy(1) DESCRIPTION): a whole number of milliseconds,
 * or one with a unit, "250ms", "5s", "2m", "1h".  In [min, max]
 * milliseconds, else exit 64 naming the flag.
 */
uint64_t
cfg_duration(const char *flag, const char *arg, uint64_t min, uint64_t max)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 },
	};
	unsigned long long v;
	char *endp;
	size_t i;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		usage_error("%s: '%s' is not a duration (milliseconds, or like"
		    " 250ms, 5s, 2m, 1h)", flag, arg);
	v = strtoull(arg, &endp, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(endp, units[i].unit) == 0)
			break;
	if (errno != 0 || i == sizeof(units) / sizeof(units[0]))
		usage_error("%s: '%s' is not a duration (milliseconds, or like"
		    " 250ms, 5s, 2m, 1h)", flag, arg);
	if (v > max / units[i].ms || v * units[i].ms < min)
		usage_error("%s: %s is out of range (%llu to %llu ms)", flag,
		    arg, (unsigned long long)min, (unsigned long long)max);
	return (uint64_t)v * units[i].ms;
}

/* A whole decimal number in [min, max], else exit 64 naming the flag. */
uint64_t
cfg_number(const char *flag, const char *arg, uint64_t min, uint64_t max)
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
	/* tls: and proxy: in either order, each at most once. */
	for (;;) {
		if (!l->tls && strncmp(arg, "tls:", 4) == 0) {
			l->tls = 1;
			arg += 4;
		} else if (!l->proxy && strncmp(arg, "proxy:", 6) == 0) {
			l->proxy = 1;
			arg += 6;
		} else
			break;
	}
	if (l->tls && !tls_built_in())
		usage_error("%s: '%s': this binary was built without TLS",
		    flag, l->text);
}

/* --trust-proxy CIDR: one more block of trusted peers. */
static void
add_trust(const char *flag, const char *arg)
{
	if (px_cfg.ntrust == PX_MAX_TRUST)
		usage_error("%s: more than %d", flag, PX_MAX_TRUST);
	if (pp_cidr_parse(arg, &px_cfg.trust[px_cfg.ntrust]) < 0)
		usage_error("%s: '%s' is not ADDR or ADDR/BITS", flag, arg);
	px_cfg.ntrust++;
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
	OPT_TCP_KEEPALIVE,
	OPT_DRAIN_TIMEOUT,
	OPT_DRAIN_SPREAD,
	OPT_LOG_FILE,
	OPT_USER,
	OPT_RESTART_ARGS_FILE,
	OPT_CHECK,
	OPT_LOG_FORMAT,
	OPT_LOG_TIMESTAMPS,
	OPT_LOG_SAMPLE,
	OPT_ADMIN,
	OPT_PING_INTERVAL,
	OPT_PING_TIMEOUT,
	OPT_ALLOW_ORIGIN,
	OPT_MAX_CONNS_PER_IP,
	OPT_TRUST_PROXY,
	OPT_LISTEN_MODE,
	OPT_RESOLV_CONF,
	OPT_HOSTS_FILE,
	OPT_DNS_MIN_TTL,
	OPT_DNS_MAX_TTL,
	OPT_WORKERS
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
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT },
	{ "drain-spread", required_argument, NULL, OPT_DRAIN_SPREAD },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "restart-args-file", required_argument, NULL, OPT_RESTART_ARGS_FILE },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "log-timestamps", required_argument, NULL, OPT_LOG_TIMESTAMPS },
	{ "log-sample", required_argument, NULL, OPT_LOG_SAMPLE },
	{ "admin", required_argument, NULL, OPT_ADMIN },
	{ "ping-interval", required_argument, NULL, OPT_PING_INTERVAL },
	{ "ping-timeout", required_argument, NULL, OPT_PING_TIMEOUT },
	{ "allow-origin", required_argument, NULL, OPT_ALLOW_ORIGIN },
	{ "max-conns-per-ip", required_argument, NULL, OPT_MAX_CONNS_PER_IP },
	{ "trust-proxy", required_argument, NULL, OPT_TRUST_PROXY },
	{ "listen-mode", required_argument, NULL, OPT_LISTEN_MODE },
	{ "resolv-conf", required_argument, NULL, OPT_RESOLV_CONF },
	{ "hosts-file", required_argument, NULL, OPT_HOSTS_FILE },
	{ "dns-min-ttl", required_argument, NULL, OPT_DNS_MIN_TTL },
	{ "dns-max-ttl", required_argument, NULL, OPT_DNS_MAX_TTL },
	{ "workers", required_argument, NULL, OPT_WORKERS },
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

/* A flag given at most once with a non-empty value (a file, a name). */
static void
one_path(const char *flag, const char **dst, const char *arg)
{
	if (*dst != NULL)
		usage_error("%s: given twice", flag);
	if (arg[0] == '\0')
		usage_error("%s: empty value", flag);
	*dst = arg;
}

static void
tls_path(const char *flag, const char **dst, const char *arg)
{
	char dashed[64];

	snprintf(dashed, sizeof(dashed), "--%s", flag);
	one_path(dashed, dst, arg);
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

/* ------------------------------------------------------------------ */
/* --user and --check                                                  */
/* ------------------------------------------------------------------ */

/* A user name, or UID[:GID]: 0, or -1 when there is no such user. */
static int
user_lookup(const char *name, unsigned *uid, unsigned *gid)
{
	unsigned long u, g;
	char *end;

	if (name[0] >= '0' && name[0] <= '9') {
		u = strtoul(name, &end, 10);
		g = u;
		if (*end == ':')
			g = strtoul(end + 1, &end, 10);
		if (*end != '\0' || u > 0xfffffffeUL || g > 0xfffffffeUL)
			return -1;
		*uid = (unsigned)u;
		*gid = (unsigned)g;
		return 0;
	}
	return cmd_user("/etc/passwd", name, uid, gid);
}

/* A duration as --check prints it. */
static void
print_ms(const char *key, uint64_t ms)
{
	printf("%s=%llums\n", key, (unsigned long long)ms);
}

static void
print_opt(const char *key, const char *value)
{
	printf("%s=%s\n", key, value != NULL ? value : "-");
}

/*
 * The effective configuration, one key=value line each, defaults filled
 * in (wsproxy(1) --check).  --header values are not printed: they may
 * hold a secret taken from the environment.
 */
static void
check_print(void)
{
	static const char *const levels[] = { "error", "warn", "info",
	    "debug" };
	char addr[128];		/* "unix:" and a socket path */
	int i, j;

	printf("version=%s\ntls=%s\n", WSPROXY_VERSION,
	    tls_built_in() ? "yes" : "no");
	for (i = 0; i < px_cfg.nlisten; i++)
		print_opt("listen", px_cfg.listen[i].text);
	for (i = 0; i < px_cfg.nroute; i++) {
		static const char *const bal[] = { "roundrobin", "leastconn",
		    "hash" };
		static const char *const key[] = { "header:", "cookie:", "ip" };
		static const char *const health[] = { "none", "tcp", "ws:" };
		const struct px_route *r = &px_cfg.route[i];
		int k;

		printf("route=%s", r->label);
		for (k = 0; k < r->nupstream; k++) {
			printf("%s%s", k ? "," : " ", r->upstream[k].uri);
			if (r->upstream[k].weight != 1)
				printf(" weight=%u", r->upstream[k].weight);
		}
		/* A pool's balance, and every option not at its default. */
		if (r->nupstream > 1 || r->balance != BAL_ROUNDROBIN)
			printf(";balance=%s", bal[r->balance]);
		if (r->balance == BAL_HASH)
			printf("(%s%.*s);hash-factor=%u.%02u", key[r->hash_key],
			    (int)r->hash_name_len,
			    r->hash_name ? r->hash_name : "",
			    r->hash_factor / 100, r->hash_factor % 100);
		if (r->nupstream > 1 && r->fail_timeout != 10000)
			printf(";fail-timeout=%llums",
			    (unsigned long long)r->fail_timeout);
		if (r->health != HEALTH_NONE)
			printf(";health=%s%s;health-interval=%llums;on-down=%s",
			    health[r->health],
			    r->health_path ? r->health_path : "",
			    (unsigned long long)r->health_interval,
			    r->on_down_close ? "close" : "keep");
		if (r->send_proxy)
			printf(";send-proxy=v2");
		printf("\n");
		for (k = 0; k < r->nupstream; k++) {
			const struct px_upstream *u = &r->upstream[k];

			for (j = 0; j < u->naddr; j++)
				printf("upstream_addr=%s %s\n", u->uri,
				    sock_addr_text(
				    (const struct sockaddr *)&u->addr[j],
				    addr, sizeof(addr)));
		}
	}
	for (i = 0; i < px_cfg.nheader; i++)
		print_opt("header", px_cfg.header[i].name);
	for (i = 0; i < px_cfg.nprotocol; i++)
		print_opt("protocol", px_cfg.protocol[i]);
	if (px_cfg.nprotocol == 0)
		print_opt("protocol", "*");
	for (i = 0; i < px_cfg.norigin; i++)
		print_opt("allow_origin", px_cfg.origin[i].text);
	print_ms("connect_timeout", px_cfg.connect_timeout);
	print_ms("upgrade_timeout", px_cfg.upgrade_timeout);
	print_ms("request_timeout", px_cfg.request_timeout);
	print_ms("idle_timeout", px_cfg.idle_timeout);
	print_ms("close_timeout", px_cfg.close_timeout);
	print_ms("drain_timeout", px_cfg.drain_timeout);
	print_ms("drain_spread", px_cfg.drain_spread);
	print_ms("ping_interval", px_cfg.ping_interval);
	print_ms("ping_timeout", px_cfg.ping_timeout);
	print_opt("admin", px_cfg.admin.text);
	printf("workers=%u\n", px_cfg.workers);
	printf("max_conns_per_ip=%u\n", px_cfg.max_conns_per_ip);
	for (i = 0; i < px_cfg.ntrust; i++) {
		char a[INET6_ADDRSTRLEN];

		printf("trust_proxy=%s/%u\n", inet_ntop(px_cfg.trust[i].family,
		    px_cfg.trust[i].addr, a, sizeof(a)) ? a : "?",
		    px_cfg.trust[i].bits);
	}
	printf("tcp_keepalive=%us\nmax_conns=%u\nmax_message=%llu\n"
	    "max_header_bytes=%zu\nbuffer=%zu\n", px_cfg.tcp_keepalive,
	    px_cfg.max_conns, (unsigned long long)px_cfg.max_message,
	    px_cfg.max_header_bytes, px_cfg.buf_size);
	if (tls_built_in()) {
		print_opt("tls_ca", px_cfg.tls_ca != NULL ? px_cfg.tls_ca :
		    "system");
		print_opt("tls_cert", px_cfg.tls_cert);
		print_opt("tls_key", px_cfg.tls_key);
		print_opt("tls_servername", px_cfg.tls_servername);
		print_opt("tls_insecure", px_cfg.tls_insecure ? "yes" : "no");
		print_opt("listen_cert", px_cfg.listen_cert);
		print_opt("listen_key", px_cfg.listen_key);
	}
	print_opt("log_level", levels[px_cfg.log_level]);
	print_opt("log_file", px_cfg.log_file != NULL ? px_cfg.log_file :
	    "stderr");
	print_opt("log_format", px_cfg.log_json ? "json" : "text");
	print_opt("log_timestamps", px_cfg.log_no_timestamps ? "off" : "on");
	printf("log_sample=%u\n", px_cfg.log_sample);
	print_opt("resolv_conf", px_cfg.resolv_conf != NULL ?
	    px_cfg.resolv_conf : "/etc/resolv.conf");
	print_opt("hosts_file", px_cfg.hosts_file != NULL ?
	    px_cfg.hosts_file : "/etc/hosts");
	printf("dns_min_ttl=%us\ndns_max_ttl=%us\n", px_cfg.dns_min_ttl,
	    px_cfg.dns_max_ttl);
	print_opt("user", px_cfg.user);
	print_opt("restart_args_file", px_cfg.restart_args_file);
	fflush(stdout);
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
	struct cmd_scan scan = { 1, NULL, NULL };
	int c, index, i, verbose = 0, quiet = 0;

	px_cfg.max_header_bytes = 8192;
	px_cfg.connect_timeout = 5000;
	px_cfg.upgrade_timeout = 5000;
	px_cfg.request_timeout = 10000;
	px_cfg.idle_timeout = 0;
	px_cfg.close_timeout = 5000;
	px_cfg.tcp_keepalive = 60;
	px_cfg.drain_timeout = 10000;
	px_cfg.log_sample = 1;
	px_cfg.workers = 1;
	px_cfg.dns_min_ttl = 5;
	px_cfg.dns_max_ttl = 300;
	px_cfg.admin.fd = -1;
	px_cfg.listen_mode = -1;
	px_cfg.log_level = PX_LOG_INFO;
	px_cfg.argc = argc;
	px_cfg.argv = argv;
	for (;;) {
		c = cmd_next(&scan, argc, argv, "l:u:p:r:H:P:vqhV",
		    long_options, &index);
		if (c == -1)
			break;
		switch (c) {
		case 'l':
			add_listen("--listen", scan.arg);
			break;
		case 'u':
			if (upstream != NULL)
				usage_error("--upstream: given twice (use --route"
				    " for more upstreams)");
			upstream = scan.arg;
			break;
		case 'p':
			if (path != NULL)
				usage_error("--path: given twice (use --route for"
				    " more paths)");
			path = scan.arg;
			break;
		case 'r':
			route_parse("--route", scan.arg);
			break;
		case 'H':
			add_header("--header", scan.arg);
			break;
		case 'P':
			add_protocols("--protocol", scan.arg);
			break;
		case OPT_LISTEN_MODE:
			if ((px_cfg.listen_mode = listen_mode_parse(scan.arg)) < 0)
				usage_error("--listen-mode: '%s' is not an octal"
				    " mode from 0 to 0777", scan.arg);
			break;
		case OPT_MAX_CONNS_PER_IP:
			px_cfg.max_conns_per_ip = (uint32_t)cfg_number(
			    "--max-conns-per-ip", scan.arg, 1, 1000000);
			break;
		case OPT_TRUST_PROXY:
			add_trust("--trust-proxy", scan.arg);
			break;
		case OPT_ALLOW_ORIGIN:
			if (px_cfg.norigin == PX_MAX_ORIGINS)
				usage_error("--allow-origin: more than %d",
				    PX_MAX_ORIGINS);
			if (hs_origin_parse(scan.arg, strlen(scan.arg),
			    &px_cfg.origin[px_cfg.norigin], 1) < 0)
				usage_error("--allow-origin: '%s' is not"
				    " [SCHEME://]HOST[:PORT]", scan.arg);
			px_cfg.origin[px_cfg.norigin++].text = scan.arg;
			break;
		case OPT_CONNECT_TIMEOUT:
			px_cfg.connect_timeout = cfg_duration("--connect-timeout",
			    scan.arg, 1, 86400000);
			break;
		case OPT_UPGRADE_TIMEOUT:
			px_cfg.upgrade_timeout = cfg_duration("--upgrade-timeout",
			    scan.arg, 1, 86400000);
			break;
		case OPT_REQUEST_TIMEOUT:
			px_cfg.request_timeout = cfg_duration("--request-timeout",
			    scan.arg, 1, 86400000);
			break;
		case OPT_IDLE_TIMEOUT:
			px_cfg.idle_timeout = cfg_duration("--idle-timeout", scan.arg,
			    0, 86400000ULL * 365);
			break;
		case OPT_CLOSE_TIMEOUT:
			px_cfg.close_timeout = cfg_duration("--close-timeout", scan.arg,
			    1, 86400000);
			break;
		case OPT_MAX_CONNS:
			px_cfg.max_conns = (uint32_t)cfg_number("--max-conns",
			    scan.arg, 1, 1000000);
			break;
		case OPT_MAX_MESSAGE:
			px_cfg.max_message = cfg_number("--max-message", scan.arg, 0,
			    UINT64_MAX >> 1);
			break;
		case OPT_TCP_KEEPALIVE:
			px_cfg.tcp_keepalive = (unsigned)cfg_number("--tcp-keepalive",
			    scan.arg, 0, 86400);
			break;
		case OPT_DRAIN_TIMEOUT:
			px_cfg.drain_timeout = cfg_duration("--drain-timeout", scan.arg,
			    0, 86400000);
			break;
		case OPT_DRAIN_SPREAD:
			px_cfg.drain_spread = cfg_duration("--drain-spread", scan.arg,
			    0, 86400000);
			break;
		case OPT_LOG_FILE:
			one_path("--log-file", &px_cfg.log_file, scan.arg);
			break;
		case OPT_USER:
			one_path("--user", &px_cfg.user, scan.arg);
			break;
		case OPT_RESOLV_CONF:
			one_path("--resolv-conf", &px_cfg.resolv_conf, scan.arg);
			break;
		case OPT_HOSTS_FILE:
			one_path("--hosts-file", &px_cfg.hosts_file, scan.arg);
			break;
		case OPT_DNS_MIN_TTL:
			px_cfg.dns_min_ttl = (unsigned)cfg_number("--dns-min-ttl",
			    scan.arg, 1, 86400);
			break;
		case OPT_WORKERS:
#ifdef WSPROXY_NO_WORKERS
			if (strcmp(scan.arg, "1") != 0)
				usage_error("--workers: this build has one"
				    " process (wsproxy(1) WORKERS)");
#else
			px_cfg.workers = strcmp(scan.arg, "auto") == 0 ?
			    workers_auto() : (unsigned)cfg_number("--workers",
			    scan.arg, 1, PX_MAX_WORKERS);
#endif
			break;
		case OPT_DNS_MAX_TTL:
			px_cfg.dns_max_ttl = (unsigned)cfg_number("--dns-max-ttl",
			    scan.arg, 1, 86400);
			break;
		case OPT_RESTART_ARGS_FILE:
			one_path("--restart-args-file",
			    &px_cfg.restart_args_file, scan.arg);
			break;
		case OPT_CHECK:
			px_cfg.check = 1;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(scan.arg, "json") != 0 &&
			    strcmp(scan.arg, "text") != 0)
				usage_error("--log-format: '%s' is not text or"
				    " json", scan.arg);
			px_cfg.log_json = strcmp(scan.arg, "json") == 0;
			break;
		case OPT_LOG_TIMESTAMPS:
			if (strcmp(scan.arg, "on") != 0 &&
			    strcmp(scan.arg, "off") != 0)
				usage_error("--log-timestamps: '%s' is not on or"
				    " off", scan.arg);
			px_cfg.log_no_timestamps = strcmp(scan.arg, "off") == 0;
			break;
		case OPT_LOG_SAMPLE:
			px_cfg.log_sample = (unsigned)cfg_number("--log-sample",
			    scan.arg, 1, 1000000);
			break;
		case OPT_ADMIN:
			if (px_cfg.admin.text != NULL)
				usage_error("--admin: given twice");
			px_cfg.admin.text = scan.arg;
			px_cfg.admin.fd = -1;
			break;
		case OPT_PING_INTERVAL:
			px_cfg.ping_interval = cfg_duration("--ping-interval",
			    scan.arg, 0, 86400000);
			break;
		case OPT_PING_TIMEOUT:
			px_cfg.ping_timeout = cfg_duration("--ping-timeout", scan.arg,
			    1, 86400000);
			break;
		case OPT_MAX_HEADER_BYTES:
			px_cfg.max_header_bytes = (size_t)cfg_number(
			    "--max-header-bytes", scan.arg, 256, 1048576);
			break;
		case OPT_TLS_CA: case OPT_TLS_CERT: case OPT_TLS_KEY:
		case OPT_TLS_SERVERNAME: case OPT_TLS_INSECURE:
		case OPT_LISTEN_CERT: case OPT_LISTEN_KEY:
			if (!tls_built_in())
				usage_error("--%s: this binary was built without"
				    " TLS", flag_name(c, index));
			tls_flag(c, flag_name(c, index), scan.arg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage_print();
			exit(0);
		case 'V':
			printf("wsproxy %s%s\n", WSPROXY_VERSION,
			    tls_built_in() ? " (TLS: BearSSL)" : " (no TLS)");
			exit(0);
		case ':':
			usage_error("%s: missing value", argv[scan.ind - 1]);
			break;
		default:
			usage_error("unknown option '%s'", argv[scan.ind - 1]);
		}
	}
	if (scan.ind < argc)
		usage_error("unexpected argument '%s'", argv[scan.ind]);
	if (verbose && quiet)
		usage_error("--verbose and --quiet contradict each other");
	px_cfg.log_level = verbose ? PX_LOG_DEBUG : quiet ? PX_LOG_WARN :
	    PX_LOG_INFO;
	if (path != NULL && upstream == NULL)
		usage_error("--path: needs --upstream");
	if (px_cfg.dns_max_ttl < px_cfg.dns_min_ttl)
		usage_error("--dns-max-ttl: %u is less than --dns-min-ttl %u",
		    px_cfg.dns_max_ttl, px_cfg.dns_min_ttl);
	if (px_cfg.ping_timeout != 0 && px_cfg.ping_interval == 0)
		usage_error("--ping-timeout: needs --ping-interval");
	if (px_cfg.ping_interval != 0 && px_cfg.ping_timeout == 0)
		px_cfg.ping_timeout = 3 * px_cfg.ping_interval;
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

	/* Sockets handed over by systemd are the listeners when no
	 * --listen names any (wsproxy(1) CONTAINERS). */
	if (px_cfg.nlisten == 0 && !listen_inherited())
		add_listen("--listen", "0.0.0.0:8080");
	for (i = 0; i < px_cfg.nlisten; i++) {
		const char *why = listen_check(&px_cfg.listen[i]);

		if (why != NULL)
			usage_error("--listen: '%s': %s", px_cfg.listen[i].text,
			    why);
		/* Nobody could pass: refuse rather than serve nothing. */
		if (px_cfg.listen[i].proxy && px_cfg.ntrust == 0)
			usage_error("--listen: '%s': a proxy: listener needs"
			    " --trust-proxy", px_cfg.listen[i].text);
	}
	if (px_cfg.admin.text != NULL) {
		const char *why = strncmp(px_cfg.admin.text, "tls:", 4) == 0 ||
		    strncmp(px_cfg.admin.text, "proxy:", 6) == 0 ?
		    "the admin listener is plain HTTP" :
		    listen_check(&px_cfg.admin);

		if (why != NULL)
			usage_error("--admin: '%s': %s", px_cfg.admin.text, why);
		for (i = 0; i < px_cfg.nlisten; i++)
			if (strcmp(px_cfg.listen[i].text, px_cfg.admin.text) == 0)
				usage_error("--admin: '%s' is also a --listen"
				    " address", px_cfg.admin.text);
	}
	if (px_cfg.log_file != NULL && log_open(px_cfg.log_file) < 0)
		usage_error("--log-file: %s: %s", px_cfg.log_file,
		    strerror(errno));
	tls_check();
	/* Sockets only once every flag is known to be good. */
	listen_open(px_cfg.check);
	dns_init();		/* --check: every name looked up now */
	if (px_cfg.user != NULL && user_lookup(px_cfg.user, &px_cfg.uid,
	    &px_cfg.gid) < 0)
		usage_error("--user: no user '%s'", px_cfg.user);
	if (px_cfg.check) {
		check_print();
		exit(0);
	}
}
