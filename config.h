/*
 * config.h - the configuration (config.c): the command line parsed once
 * at start-up into px_cfg, which the rest of wsproxy reads.
 */
#ifndef WSPROXY_CONFIG_H
#define WSPROXY_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "proxyproto.h"

#define WSPROXY_VERSION "0.1.0"

/*
 * I/O buffer size, raised for big request heads.  32 KiB: on loopback
 * (MTU 65536) a 64 KiB write leaves a 53-byte second segment every time
 * and doubles the CPU per MiB streamed; 32 KiB writes do not.
 */
#define PX_BUF_MIN (32 * 1024)
#define PX_MAX_ROUTES 64
#define PX_MAX_UPSTREAMS 128	/* pool members over all routes */
#define PX_MAX_POOL 16		/* members of one route's pool */
#define PX_MAX_CONDS 4		/* [HEADER=VALUE] conditions of a route */
#define PX_MAX_LISTENERS 16
#define PX_MAX_WORKERS 64	/* --workers */
#define PX_MAX_EXTRA_HEADERS 32
#define PX_MAX_PROTOCOLS 32
#define PX_MAX_ADDRS 8		/* addresses kept per upstream */
#define PX_MAX_ORIGINS 32
#define PX_MAX_TRUST 64		/* --trust-proxy blocks */

struct tls_session;		/* tls.c: one resumable session */

/*
 * Where requests go: an upstream URI and what start-up made of it.  A
 * route points at one; the handshake and the connect read it.
 */
struct px_upstream {
	const char	*uri;		/* as given, for logs */
	int		 tls;		/* wss:// */
	int		 is_unix;	/* ws+unix: addr[0] is the socket; never resolved */
	char		*host;		/* for SNI and logs; no brackets */
	char		*host_header;	/* Host: value sent upstream */
	char		*path;		/* normalised; NULL when the URI has none */
	char		*query;		/* normalised; NULL when the URI has none */
	char		 port[8];	/* decimal */
	/* addresses tried in order: a literal's at start-up, a name's
	 * replaced by each answer (dns.c) */
	struct sockaddr_storage addr[PX_MAX_ADDRS];
	socklen_t	 addr_len[PX_MAX_ADDRS];
	int		 naddr;
	struct tls_session *session;	/* wss://: kept for resumption */
	/* a pool member (wsproxy(1) UPSTREAMS) */
	struct px_route	*route;		/* the route whose pool it is in */
	unsigned	 weight;	/* 1..100 */
	uint64_t	 seed;		/* its hash(...) identity: from the URI */
	/* run-time state (balance.c, health.c) */
	uint32_t	 open;		/* pairs from its connect to their end */
	int64_t		 rr_current;	/* smooth weighted round robin */
	uint64_t	 down_until;	/* ms: skipped until then after a failure */
	uint64_t	 backoff;	/* ms: the next failure's back-off */
	const char	*fail_why;	/* its last failure, for logs and 502s */
	uint8_t		 probe_down;	/* health=: failed its probes */
	uint8_t		 probe_fails;	/* probes failed in a row */
	uint8_t		 probe_state;	/* health.c: enum probe_state */
	int		 probe_fd;
	uint64_t	 probe_at;	/* ms: the next probe, or its deadline */
	uint32_t	 probe_got;	/* bytes of the probe's answer read */
};

/* A route condition [NAME=VALUE]: a request header, value compared whole. */
struct px_cond {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
};

enum px_balance { BAL_ROUNDROBIN, BAL_LEASTCONN, BAL_HASH };
enum px_hash_key { KEY_HEADER, KEY_COOKIE, KEY_IP };
enum px_health { HEALTH_NONE, HEALTH_TCP, HEALTH_WS };

/*
 * A route (wsproxy(1) ROUTING): what requests it matches, a host, header
 * conditions and a path prefix, and the pool of upstreams they go to.
 */
struct px_route {
	const char	*label;		/* [HOST]PATH[...] for logs and metrics */
	const char	*host;		/* NULL: any; lower case, after "*." */
	size_t		 host_len;
	uint8_t		 host_wild;	/* "*.": exactly one more label */
	uint8_t		 ncond;
	struct px_cond	 cond[PX_MAX_CONDS];
	const char	*prefix;	/* normalised: no trailing '/', "" for "/" */
	size_t		 prefix_len;
	struct px_upstream *upstream;	/* the pool: upstream[0..nupstream) */
	int		 nupstream;
	uint8_t		 balance;	/* enum px_balance */
	uint8_t		 hash_key;	/* enum px_hash_key */
	const char	*hash_name;	/* the header or cookie */
	size_t		 hash_name_len;
	unsigned	 hash_factor;	/* bounded loads, in percent (125) */
	uint64_t	 fail_timeout;	/* ms: first back-off; 0: never down */
	uint8_t		 health;	/* enum px_health */
	uint8_t		 on_down_close;	/* on-down=close */
	const char	*health_path;	/* health=ws:PATH */
	uint64_t	 health_interval;	/* ms */
	uint32_t	 rr;		/* leastconn's tie-break cursor */
	uint8_t		 send_proxy;	/* ;send-proxy=v2: a PROXY v2 header
					 * first on every upstream connection */
	char		*options;	/* the text after ';', split in place */
};

/* An --allow-origin: [SCHEME://]HOST[:PORT], HOST possibly "*.domain". */
struct px_origin {
	const char	*text;		/* as given */
	const char	*scheme;	/* NULL: http or https */
	size_t		 scheme_len;
	const char	*host;		/* after "*." when wild */
	size_t		 host_len;
	int		 wild;		/* "*.": exactly one more label */
	const char	*port;		/* NULL: none written */
	size_t		 port_len;
};

/* A --header: sent upstream, replacing the client's header of that name. */
struct px_header {
	char		*name;
	size_t		 name_len;
	char		*value;		/* ${VAR} already expanded */
	size_t		 value_len;
};

struct px_listener {
	int		 fd;
	int		 tls;		/* tls: prefix */
	int		 proxy;		/* proxy: prefix (a PROXY header first) */
	char		*text;		/* as given, for logs */
};

struct px_config {
	struct px_listener listen[PX_MAX_LISTENERS];
	int		 nlisten;
	int		 listen_mode;	/* --listen-mode; -1: the umask's */
	struct px_route	 route[PX_MAX_ROUTES];
	int		 nroute;
	struct px_upstream upstream[PX_MAX_UPSTREAMS];
	int		 nupstream;
	struct px_header header[PX_MAX_EXTRA_HEADERS];
	int		 nheader;
	size_t		 header_bytes;	/* sum of --header lengths */
	char		*protocol[PX_MAX_PROTOCOLS];
	int		 nprotocol;	/* 0: every subprotocol allowed */
	struct px_origin origin[PX_MAX_ORIGINS];
	int		 norigin;	/* 0: any Origin, or none */
	uint32_t	 max_conns;
	uint32_t	 max_conns_per_ip;	/* 0: no limit */
	unsigned	 workers;	/* --workers: 1, no supervisor */
	struct pp_cidr	 trust[PX_MAX_TRUST];	/* --trust-proxy */
	int		 ntrust;
	uint64_t	 max_message;	/* 0: no limit */
	size_t		 max_header_bytes;
	size_t		 buf_size;	/* each pool buffer */
	uint64_t	 connect_timeout;	/* ms */
	uint64_t	 upgrade_timeout;
	uint64_t	 request_timeout;
	uint64_t	 idle_timeout;		/* 0: never */
	uint64_t	 close_timeout;
	unsigned	 tcp_keepalive;	/* seconds; 0: off */
	uint64_t	 drain_timeout;	/* ms: SIGTERM to exit at the latest */
	uint64_t	 drain_spread;	/* ms: the closes spread over this */
	int		 log_level;	/* enum px_log_level */
	const char	*log_file;	/* NULL: stderr */
	int		 log_json;	/* --log-format json */
	int		 log_no_timestamps;	/* --log-timestamps off */
	unsigned	 log_sample;	/* one clean close line in N (1: all) */
	const char	*user;		/* --user as given; NULL: stay */
	unsigned	 uid, gid;	/* --user, looked up at start-up */
	const char	*restart_args_file;	/* SIGUSR2's flags; NULL: argv */
	int		 check;		/* --check: validate, print, exit */
	struct px_listener admin;	/* --admin; text NULL: none */
	uint64_t	 ping_interval;	/* ms; 0: wsproxy sends no pings */
	uint64_t	 ping_timeout;	/* ms; 3 x interval by default */
	int		 argc;		/* the command line, for SIGUSR2 */
	char		**argv;
	/* TLS (wsproxy(1) TLS); paths as given, loaded by tls_setup() */
	const char	*tls_ca;	/* NULL: SSL_CERT_FILE or the system's */
	const char	*tls_cert;
	const char	*tls_key;
	const char	*tls_servername;	/* NULL: each upstream's host */
	int		 tls_insecure;
	const char	*listen_cert;
	const char	*listen_key;
	/* wsproxy(1) UPSTREAMS, Name resolution (dns.c) */
	const char	*resolv_conf;	/* NULL: /etc/resolv.conf, may lack */
	const char	*hosts_file;	/* NULL: /etc/hosts, may lack */
	unsigned	 dns_min_ttl;	/* seconds */
	unsigned	 dns_max_ttl;
};

extern struct px_config px_cfg;

/*
 * Parse the command line into px_cfg, hand upstream names to the
 * resolver (dns.c) and bind the listeners.  Exits 0 for --help/--version,
 * 64 for a bad flag (before any socket is opened) and 71 when a listen
 * address cannot be bound.
 */
void px_configure(int argc, char **argv);

/* The command line's own helpers (config.c), for routes.c. */
void usage_error(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
char *xstrndup(const char *s, size_t n);

/* A duration or a whole number from flag's argument, in [min, max]:
 * exit 64 naming the flag otherwise (wsproxy(1) DESCRIPTION). */
uint64_t cfg_duration(const char *flag, const char *arg, uint64_t min,
    uint64_t max);
uint64_t cfg_number(const char *flag, const char *arg, uint64_t min,
    uint64_t max);

/*
 * One route (routes.c): requests under prefix go to uri, both from the
 * flag named flag (path_flag for the prefix), normalised as wsproxy(1)
 * REWRITING says; a bad one is exit 64.  The -u/-p form.
 */
void add_route(const char *flag, const char *path_flag, const char *prefix,
    size_t prefix_len, const char *uri);

/* A --route in the grammar of wsproxy(1) ROUTING; exit 64 naming the
 * part that is wrong. */
void route_parse(const char *flag, const char *text);

#endif /* WSPROXY_CONFIG_H */
