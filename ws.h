/*
 * ws.h - the pure parsers of ws.c: the HTTP/1.1 head parser used for
 * both handshakes, SHA-1 and base64 for Sec-WebSocket-Accept, and the
 * RFC 6455 frame-header codec with the per-direction message rules of
 * wsproxy(1) RELAYING.  No I/O, no allocation, no global state.
 */
#ifndef WSPROXY_WS_H
#define WSPROXY_WS_H

#include <stddef.h>
#include <stdint.h>

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
#define WS_CLOSE_SERVICE_RESTART 1012
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

#endif /* WSPROXY_WS_H */
