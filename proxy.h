/*
 * proxy.h - the contract between wsproxy's files.
 *
 * wsproxy is one process with one thread: an edge-triggered readiness loop
 * (ev_epoll.c or ev_kqueue.c, chosen at compile time) drives a fixed slab of
 * connection pairs (proxy.c).  ws.c holds the pure parsers: the HTTP/1.1
 * head parser used for both handshakes, SHA-1/base64 for the accept key,
 * and the RFC 6455 frame-header codec.  tls.c is the transport seam: every
 * byte a pair reads or writes goes through tls_read()/tls_write(), which
 * call recv()/send() directly for plain TCP ends and drive BearSSL's
 * sans-I/O engine for TLS ends (builds with -DWSPROXY_TLS).
 *
 * Everything not declared here is static to its file.
 */
#ifndef WSPROXY_PROXY_H
#define WSPROXY_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "target.h"

#define WSPROXY_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* HTTP/1.1 head parser (ws.c)                                         */
/* ------------------------------------------------------------------ */

/*
 * Most header lines a head may carry.  A head with more is answered 431
 * (request) or 502 (upstream response): 100 is far above what browsers
 * send (~20) and keeps the parser's table on the stack small.
 */
#define HTTP_MAX_HEADERS 100

/* Parser results besides "bytes consumed" (picohttpparser's convention). */
#define HTTP_PARTIAL (-2)	/* need more bytes */
#define HTTP_INVALID (-1)	/* malformed: answer 400 / 502 */
#define HTTP_TOO_MANY (-3)	/* more than HTTP_MAX_HEADERS lines */

/* One header line; name and value point into the caller's buffer. */
struct http_header {
	const char	*name;
	size_t		 name_len;
	const char	*value;	/* leading and trailing blanks removed */
	size_t		 value_len;
};

struct http_head {
	/* request: method and target; response: empty method, status set */
	const char	*method;
	size_t		 method_len;
	const char	*target;
	size_t		 target_len;
	int		 status;	/* response only */
	const char	*reason;	/* response only */
	size_t		 reason_len;
	int		 minor_version;	/* HTTP/1.x */
	size_t		 num_headers;
	struct http_header headers[HTTP_MAX_HEADERS];
};

/*
 * Parse a complete request (or response) head from buf[0..len).  Pure:
 * nothing is read past buf[len-1].  Returns the length of the head
 * including its final CRLF CRLF, HTTP_PARTIAL when the bytes seen so far
 * are a valid prefix, HTTP_INVALID, or HTTP_TOO_MANY.
 *
 * Strict by design (wsproxy sits in front of applications): bare LF line
 * ends, obs-fold, control characters (NUL, CR, LF, DEL, other C0 except
 * HTAB) in values, spaces before the colon and non-token names are all
 * HTTP_INVALID.  Re-parsing from the start on each call is fine for a
 * head bounded by --max-header-bytes; callers avoid even that by calling
 * only once http_head_end() has found the end.
 */
int http_parse_request(const char *buf, size_t len, struct http_head *h);
int http_parse_response(const char *buf, size_t len, struct http_head *h);

/*
 * Incremental end-of-head finder: scans buf[*scan..len) and returns
 * 1 when buf[0..len) contains a blank line (the head is complete, or the
 * parser will say what is wrong with it), 0 when more bytes are needed.
 * *scan remembers how far it got so each byte is looked at once.
 * A bare LF also returns 1, so the parser can reject it without waiting.
 */
int http_head_end(const char *buf, size_t len, size_t *scan);

/* First header called name (case-insensitive), or NULL. */
const struct http_header *http_find(const struct http_head *h,
    const char *name);

/* Number of header lines called name. */
size_t http_count(const struct http_head *h, const char *name);

/*
 * Does the comma-separated list in value[0..len) hold token tok
 * (case-insensitive, blanks around elements ignored)?
 */
int http_list_has(const char *value, size_t len, const char *tok);

/* ------------------------------------------------------------------ */
/* Handshake helpers (ws.c)                                            */
/* ------------------------------------------------------------------ */

#define WS_KEY_LEN 24		/* base64 of 16 bytes */
#define WS_ACCEPT_LEN 28	/* base64 of a 20-byte SHA-1 */

/* SHA-1 (FIPS 180-4) of data[0..len). */
void ws_sha1(const void *data, size_t len, uint8_t out[20]);

/* Base64 (RFC 4648, with padding) of in[0..len) into out; returns length. */
size_t ws_base64(const uint8_t *in, size_t len, char *out);

/* Is key[0..len) the base64 of exactly 16 bytes (RFC 6455 4.2.1)? */
int ws_key_valid(const char *key, size_t len);

/* Sec-WebSocket-Accept for a 24-character key; out gets 28 characters. */
void ws_accept(const char key[WS_KEY_LEN], char out[WS_ACCEPT_LEN]);

/* ------------------------------------------------------------------ */
/* RFC 6455 frames (ws.c)                                              */
/* ------------------------------------------------------------------ */

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa
};

#define WS_MAX_HEADER 14	/* 2 + 8 length + 4 mask */
#define WS_MAX_CONTROL 125

/* Close codes wsproxy itself sends (wsproxy(1) RELAYING).            */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_BAD_DATA 1007
#define WS_CLOSE_TOO_BIG 1009
#define WS_CLOSE_BAD_GATEWAY 1014

/* A decoded frame header. */
struct ws_frame {
	uint8_t		 fin;
	uint8_t		 rsv;		/* RSV1..3 as bits 0x4, 0x2, 0x1 */
	uint8_t		 opcode;
	uint8_t		 masked;
	uint8_t		 mask[4];
	uint8_t		 header_len;	/* 2..14 */
	uint64_t	 payload_len;
};

/* ws_frame_parse() results besides the header length. */
#define WS_PARTIAL 0
#define WS_BAD_LENGTH (-1)	/* 64-bit length with the top bit set */
#define WS_BAD_MINIMAL (-2)	/* reserved for stricter callers; unused */

/*
 * Decode the frame header at buf[0..len): returns its length (2..14)
 * with f filled, WS_PARTIAL if more bytes are needed (a header resumes
 * at any byte: the caller keeps the bytes and calls again), or
 * WS_BAD_LENGTH.  Reads nothing past buf[len-1] and no payload byte.
 */
int ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame *f);

/*
 * Per-direction message state for the frame checks of wsproxy(1)
 * RELAYING.  One lives
 * in each direction of a pair; it remembers only what the rules need.
 */
struct ws_stream {
	uint64_t	 message_len;	/* payload bytes of the message so far */
	uint8_t		 in_message;	/* a fragmented message is open */
	uint8_t		 must_mask;	/* 1: client->upstream, 0: reverse */
	uint8_t		 deflate;	/* permessage-deflate negotiated */
};

/*
 * Check a decoded header against the stream's rules and advance the
 * message state.  Returns 0, or the close code to send to the sender
 * (1002 for protocol errors, 1009 when the message would pass
 * max_message; max_message 0 means no limit).
 */
int ws_frame_check(struct ws_stream *s, const struct ws_frame *f,
    uint64_t max_message);

/*
 * Validate a complete close payload (after unmasking): empty, or a code
 * that may be sent on the wire followed by UTF-8.  Returns 0, 1002 or
 * 1007.  *code gets the code (1005 when empty).
 */
int ws_close_check(const uint8_t *payload, size_t len, unsigned *code);

/* Is s[0..len) well-formed UTF-8 (RFC 3629)? */
int ws_utf8_valid(const uint8_t *s, size_t len);

/*
 * Write a close frame with code (and no reason) into out, masked with
 * mask when mask is not NULL.  Returns its length (4 or 8).
 */
size_t ws_close_frame(uint8_t out[8], unsigned code, const uint8_t *mask);

/* XOR payload bytes with the mask, starting at offset 'pos' of the payload. */
void ws_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t pos);

/* ------------------------------------------------------------------ */
/* Transport seam (tls.c)                                              */
/* ------------------------------------------------------------------ */

/* Tri-state results of every I/O helper; callers never look at errno. */
#define PX_IO_AGAIN (-1)	/* would block: wait for readiness */
#define PX_IO_CLOSED (-2)	/* orderly end of stream */
#define PX_IO_ERROR (-3)	/* reset or other failure */

struct tls_conn;		/* opaque; NULL for plain TCP */

/*
 * Read up to len bytes: > 0 bytes read, or PX_IO_AGAIN / PX_IO_CLOSED /
 * PX_IO_ERROR.  For plain ends this is one recv().  For TLS ends it also
 * sends what the engine has to send (handshake, alerts); PX_IO_AGAIN
 * means a socket call really said EAGAIN, so another edge will come.
 */
ssize_t tls_read(int fd, struct tls_conn *t, void *buf, size_t len);

/*
 * Write up to len bytes: > 0 written, PX_IO_AGAIN or PX_IO_ERROR.  Plain
 * ends: one send().  TLS ends report bytes written only once their record
 * is on the socket, so after PX_IO_AGAIN the caller must offer the same
 * bytes again (at least as many); it may not switch to other data.
 */
ssize_t tls_write(int fd, struct tls_conn *t, const void *buf, size_t len);

/* Was this binary built with TLS support? */
int tls_built_in(void);

/*
 * Start-up, after the flags are parsed: load and check the files named
 * by px_cfg's TLS fields (CA bundle, client and listener certificates and
 * keys).  0, or -1 with a message naming the flag in err.
 */
int tls_setup(char *err, size_t len);

/*
 * Reserve the TLS state pool: slots entries for each side that can be
 * TLS (any tls: listener, any wss:// route); nothing when neither.
 * Untouched entries cost no memory.  0, or -1.
 */
int tls_pool_init(uint32_t slots);

/*
 * A TLS end for the connected upstream socket fd of route: SNI and the
 * verified name are --tls-servername or the route's host.  NULL only if
 * the pool is empty.
 */
struct tls_conn *tls_client_new(int fd, int route);

/* A TLS end for a client accepted on a tls: listener; NULL if none free. */
struct tls_conn *tls_server_new(int fd);

/*
 * Drive an upstream end's handshake: 1 when done, PX_IO_AGAIN (a socket
 * said EAGAIN), or PX_IO_ERROR (see tls_error()).
 */
int tls_handshake(struct tls_conn *t);

/*
 * Why a TLS end failed: a fixed reason for the log and the 502 ("TLS:
 * certificate not trusted (unknown CA)"...), or NULL when TLS did not
 * fail.  detail gets "bearssl_error=N [alert=N(name)]".
 */
const char *tls_error(const struct tls_conn *t, char *detail, size_t len);

/*
 * No more writes to this end: shutdown(SHUT_WR), after a close_notify
 * for TLS ends (sent when the socket has room).
 */
void tls_shutdown(int fd, struct tls_conn *t);

/* Free the TLS state of an end after a best-effort close_notify (NULL
 * is fine).  The caller closes fd after it. */
void tls_close(struct tls_conn *t);

/* ------------------------------------------------------------------ */
/* Configuration (config.c)                                            */
/* ------------------------------------------------------------------ */

/*
 * I/O buffer size, raised for big request heads.  32 KiB: on loopback
 * (MTU 65536) a 64 KiB write leaves a 53-byte second segment every time
 * and doubles the CPU per MiB streamed; 32 KiB writes do not.
 */
#define PX_BUF_MIN (32 * 1024)
#define PX_MAX_ROUTES 64
#define PX_MAX_LISTENERS 16
#define PX_MAX_EXTRA_HEADERS 32
#define PX_MAX_PROTOCOLS 32
#define PX_MAX_ADDRS 8		/* upstream addresses kept per route */

/* One upstream route: a path prefix and the URI it goes to. */
struct px_route {
	const char	*prefix;	/* normalised: no trailing '/', "" for "/" */
	size_t		 prefix_len;
	const char	*uri;		/* as given, for logs */
	int		 tls;		/* wss:// */
	char		*host;		/* for SNI and logs; no brackets */
	char		*host_header;	/* Host: value sent upstream */
	char		*path;		/* NULL when the URI has none */
	char		*query;		/* NULL when the URI has none */
	char		 port[8];	/* decimal, for getaddrinfo */
	/* addresses from start-up resolution, tried in order */
	struct sockaddr_storage addr[PX_MAX_ADDRS];
	socklen_t	 addr_len[PX_MAX_ADDRS];
	int		 naddr;
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
	char		*text;		/* as given, for logs */
};

struct px_config {
	struct px_listener listen[PX_MAX_LISTENERS];
	int		 nlisten;
	struct px_route	 route[PX_MAX_ROUTES];
	int		 nroute;
	struct px_header header[PX_MAX_EXTRA_HEADERS];
	int		 nheader;
	size_t		 header_bytes;	/* sum of --header lengths */
	char		*protocol[PX_MAX_PROTOCOLS];
	int		 nprotocol;	/* 0: every subprotocol allowed */
	uint32_t	 max_conns;
	uint64_t	 max_message;	/* 0: no limit */
	size_t		 max_header_bytes;
	size_t		 buf_size;	/* each pool buffer */
	uint64_t	 connect_timeout;	/* ms */
	uint64_t	 upgrade_timeout;
	uint64_t	 request_timeout;
	uint64_t	 idle_timeout;		/* 0: never */
	uint64_t	 close_timeout;
	unsigned	 tcp_keepalive;	/* seconds; 0: off */
	int		 log_level;	/* enum px_log_level */
	/* TLS (wsproxy(1) TLS); paths as given, loaded by tls_setup() */
	const char	*tls_ca;	/* NULL: SSL_CERT_FILE or the system's */
	const char	*tls_cert;
	const char	*tls_key;
	const char	*tls_servername;	/* NULL: each route's host */
	int		 tls_insecure;
	const char	*listen_cert;
	const char	*listen_key;
};

extern struct px_config px_cfg;

/*
 * Parse the command line into px_cfg, resolve upstream names and bind
 * the listeners.  Exits 0 for --help/--version, 64 for a bad flag (before
 * any socket is opened) and 71 when a listen address cannot be bound.
 */
void px_configure(int argc, char **argv);

/* TCP keepalive on a socket, as --tcp-keepalive says (proxy.c). */
void px_keepalive(int fd);

/* Route whose prefix matches path[0..len) longest, or -1. */
int px_route_match(const char *path, size_t len);

/* ------------------------------------------------------------------ */
/* Handshake heads (handshake.c): pure, no I/O                         */
/* ------------------------------------------------------------------ */

/* A request the handshake accepted: its normalised target and route. */
struct hs_request {
	const struct http_head *head;
	struct target	 target;	/* wsproxy(1) ROUTING AND REWRITING */
	const char	*host;		/* the target's authority, else Host;
					 * NULL when neither (HTTP/1.0) */
	size_t		 host_len;
	const struct px_route *route;
};

/*
 * The status for a parsed request head, in the order of wsproxy(1)
 * HANDSHAKE (0 when it may go upstream), with *rq filled in.  scratch
 * (cap bytes, at least twice the target's length plus 2) receives the
 * normalised target.  *version is set when a 426 must carry
 * Sec-WebSocket-Version, *why a reason for the log.  431 (size) and 503
 * (slab) are decided by the caller.
 */
unsigned hs_check_request(const struct http_head *h, char *scratch,
    size_t cap, struct hs_request *rq, int *version, const char **why);

/*
 * The upgrade request for the upstream into buf: rewritten target and
 * composed query, Host, the client's end-to-end headers less identity
 * claims, narrowed subprotocols, permessage-deflate offers,
 * X-Forwarded-* and Forwarded, --header.  Returns its length, 0 if it
 * does not fit in cap.
 */
size_t hs_upstream_request(const struct hs_request *rq,
    const char *client_ip, int client_tls, char *buf, size_t cap);

/*
 * Check the upstream's 101 (res) against the client's request (req):
 * NULL when good, else why it is a 502.  *deflate tells whether
 * permessage-deflate was negotiated.
 */
const char *hs_check_response(const struct http_head *req,
    const struct http_head *res, int *deflate);

/* The 101 for the client into buf; its length, 0 if it does not fit. */
size_t hs_client_101(const struct http_head *res, char *buf, size_t cap);

/*
 * A non-101 upstream answer of route r for the client into buf: NULL
 * with *len (0 if it does not fit) and *body (bytes that follow, or
 * UINT64_MAX until the upstream closes), or why it is a 502 instead
 * (ambiguous framing, wsproxy(1) HANDSHAKE).
 */
const char *hs_passthrough(const struct http_head *res,
    const struct px_route *r, char *buf, size_t cap, size_t *len,
    uint64_t *body);

/* wsproxy's own error answer (wsproxy(1) HANDSHAKE) into out; its length. */
size_t hs_error(char *out, size_t len, unsigned status, int version);

/* ------------------------------------------------------------------ */
/* Pairs (proxy.c: slab, timers, handshake states; relay.c: frames)     */
/* ------------------------------------------------------------------ */

/*
 * Timers: one FIFO list per kind of deadline.  All entries of a list
 * share one duration, so appending keeps each list sorted and the loop
 * only ever looks at list heads: O(1) per event, no scan of all pairs.
 */
enum timer_kind {
	TIMER_NONE,
	TIMER_REQUEST,		/* --request-timeout */
	TIMER_CONNECT,		/* --connect-timeout */
	TIMER_UPGRADE,		/* --upgrade-timeout */
	TIMER_IDLE,		/* --idle-timeout, when not 0 */
	TIMER_CLOSE,		/* --close-timeout: close handshake */
	TIMER_LINGER,		/* draining after an error response */
	TIMER_KINDS
};

enum pair_state {
	PAIR_FREE,
	PAIR_REQUEST,		/* reading the client's request head */
	PAIR_CONNECT,		/* TCP connect to the upstream in progress */
	PAIR_UPGRADE,		/* upgrade request out, response head in */
	PAIR_RESPONSE,		/* passing a non-101 upstream answer on */
	PAIR_OPEN,		/* relaying frames both ways */
	PAIR_CLOSING,		/* a close frame is in flight */
	PAIR_REJECT,		/* writing our own error response */
	PAIR_LINGER		/* response sent; draining until EOF */
};

enum inject_state { INJECT_NONE, INJECT_WAIT, INJECT_READY, INJECT_SENT };

/*
 * Bytes read from one end on their way to the other.  Offsets into buf:
 * start <= ready <= scan <= end.  [start, ready) may be written now;
 * [ready, scan) is parsed but held (a frame that fits the buffer waits
 * until it is complete, or everything after a seal); [scan, end) is not
 * parsed yet.
 */
struct flow {
	uint8_t		*buf;		/* pool buffer while bytes are in flight */
	uint32_t	 start;
	uint32_t	 ready;
	uint32_t	 scan;
	uint32_t	 end;
	uint64_t	 frame_left;	/* payload still to come of a streamed frame */
	uint64_t	 held;		/* size of the checked frame waiting at scan */
	struct ws_stream ws;
	uint8_t		 sealed;	/* nothing past 'ready' is ever written */
	uint8_t		 last;		/* nothing follows 'ready': a relayed close,
					 * or the source died mid-frame (a FIN) */
	uint8_t		 discard;	/* the source broke the rules: drop its bytes */
	uint8_t		 inject;	/* enum inject_state */
	uint8_t		 inject_len;
	uint8_t		 inject_off;
	uint8_t		 frame[8];	/* our own close frame for the destination */
	uint64_t	 bytes;		/* frame bytes read from the source */
	uint64_t	 messages;	/* complete data messages */
};

struct end {
	int		 fd;
	struct tls_conn	*tls;
	uint8_t		 readable;	/* edge seen, not yet read to EAGAIN */
	uint8_t		 writable;
	uint8_t		 hup;		/* the poller reported a hang-up */
	uint8_t		 eof;		/* read returned end of stream */
	uint8_t		 dead;		/* error, or done with: never touched again */
	uint8_t		 got_close;	/* a close frame from this end was parsed */
	uint8_t		 sent_close;	/* a close frame to this end was written */
	uint8_t		 shut;		/* shutdown(SHUT_WR) done */
	struct flow	 in;		/* bytes read from this end */
};

struct pair {
	struct end	 client;
	struct end	 upstream;
	uint32_t	 gen;		/* bumped on reuse: stale events are dropped */
	uint32_t	 timer_prev;	/* slot indices; UINT32_MAX ends a list */
	uint32_t	 timer_next;
	uint32_t	 run_prev;	/* the run queue, while 'queued' */
	uint32_t	 run_next;
	uint8_t		 queued;	/* its turn ran out with work left */
	uint8_t		 timer;		/* enum timer_kind */
	uint8_t		 state;		/* enum pair_state */
	uint8_t		 route;
	uint8_t		 addr;		/* which upstream address is being tried */
	uint8_t		 listener;
	uint8_t		 closed_by;	/* 0 none, 1 client, 2 upstream, 3 proxy */
	uint8_t		 request_sent;	/* PAIR_UPGRADE: reading the response */
	uint8_t		 interim;	/* PAIR_UPGRADE: 1xx answers skipped */
	uint8_t		 counted;	/* counts against --max-conns */
	uint8_t		 failed_in;	/* state when the pair was rejected */
	uint16_t	 status;	/* HTTP status answered, 101 when open */
	uint16_t	 close_code;	/* first close code seen */
	uint32_t	 head_len;	/* client head length, kept until its 101 */
	uint64_t	 deadline;	/* ms, for the current timer */
	uint64_t	 started;	/* ms */
	uint64_t	 body_left;	/* PAIR_RESPONSE: bytes still to pass on */
	const char	*why;		/* reason of a rejection, for the log */
	struct sockaddr_in6 peer;	/* client address (v4 as v4-mapped) */
};

/* The ends of a pair, and their I/O through the transport seam. */
static inline struct end *
peer_of(struct pair *p, const struct end *e)
{
	return e == &p->client ? &p->upstream : &p->client;
}

static inline const char *
side_name(const struct pair *p, const struct end *e)
{
	return e == &p->client ? "client" : "upstream";
}

static inline ssize_t
end_read(struct end *e, void *buf, size_t len)
{
	return tls_read(e->fd, e->tls, buf, len);
}

static inline ssize_t
end_write(struct end *e, const void *buf, size_t len)
{
	return tls_write(e->fd, e->tls, buf, len);
}

/* proxy.c */
extern uint8_t px_scratch[64 * 1024];	/* sink for bytes that are dropped */

/* Take a pool buffer for f if it has none: 0, or -1 if the pool is dry. */
int flow_buf(struct flow *f);

/* Give f's buffer back to the pool and reset its offsets. */
void flow_release(struct flow *f);

/* Close an end's socket (its flow stays for what it still holds). */
void end_close(struct end *e);

/* The one way a pair ends: log once, close both ends, free the slot.
 * 'why' is NULL for a clean close handshake. */
void pair_close(struct pair *p, const char *why);

/* The one place a pair changes state (and timer). */
void pair_set_state(struct pair *p, enum pair_state s);

/* Bytes moved: restart the idle timer (cheap when it is off). */
void pair_touch(struct pair *p);

/*
 * Fairness (wsproxy(1) LIMITS): in one turn, the run after an event or
 * from the run queue, a pair reads at most PX_TURN_BYTES.  A pair that
 * has more to do calls pair_yield() and runs again after every other
 * pair that was ready, so one flooding pair cannot hold the loop.
 */
#ifndef PX_TURN_BYTES
#define PX_TURN_BYTES (128 * 1024)
#endif

/* Bytes the running pair may still read in this turn. */
extern size_t px_turn_left;

/* Take n bytes of the turn (reads that made progress). */
static inline void
turn_spend(size_t n)
{
	px_turn_left = n >= px_turn_left ? 0 : px_turn_left - n;
}

/* The turn is spent and p can still read: run it again later. */
void pair_yield(struct pair *p);

/* Before a read: is the turn over?  Then p is queued for another. */
static inline int
turn_over(struct pair *p)
{
	if (px_turn_left > 0)
		return 0;
	pair_yield(p);
	return 1;
}

/* relay.c */

/* Seed the generator of the mask keys wsproxy's own frames use. */
void relay_init(void);

/* Write f's ready bytes (and any close of ours) to dst; 1 on progress. */
int flow_write(struct flow *f, struct end *dst);

/* Walk the frames read from 'from', moving 'ready'; -1 after a protocol
 * error was handled (the pair is then closing). */
int flow_scan(struct pair *p, struct end *from);

/* Queue a close frame with code for dst, put between frames. */
void send_close(struct pair *p, struct end *dst, unsigned code);

/* Move bytes both ways until nothing more can move; ends the pair when
 * both sides are done. */
void relay_run(struct pair *p);

/* ------------------------------------------------------------------ */
/* Logging (proxy.c)                                                   */
/* ------------------------------------------------------------------ */

enum px_log_level { PX_LOG_ERROR, PX_LOG_WARN, PX_LOG_INFO, PX_LOG_DEBUG };

/* One key=value line on stderr if level is enabled (-q / -v). */
void px_log(enum px_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* WSPROXY_PROXY_H */
