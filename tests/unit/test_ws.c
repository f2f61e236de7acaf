/*
 * test_ws.c - table-driven unit tests for ws.c.
 *
 * Every HTTP head and frame header is also parsed at every split point
 * (a prefix must give PARTIAL until the final answer, then keep it) and
 * from a buffer whose last byte abuts a PROT_NONE page, so a read past
 * the caller's length faults instead of passing silently.
 *
 * Prints one line per failing case and ends with "N passed, N failed".
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"
#include "../../ws.h"

static unsigned	passed, failed;

static void
result(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One case: fmt NULL means it passed, else print why it failed. */
static void
result(const char *name, const char *fmt, ...)
{
	va_list	ap;

	if (fmt == NULL) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* why is NULL for a pass, else the reason for the failure. */
static void
report(const char *name, const char *why)
{
	if (why == NULL)
		result(name, NULL);
	else
		result(name, "%s", why);
}

static void
expect(int ok, const char *name)
{
	if (ok)
		result(name, NULL);
	else
		result(name, "check failed");
}

/* ------------------------------------------------------------------ */
/* Guard page                                                          */
/* ------------------------------------------------------------------ */

/* One writable page followed by a PROT_NONE one. */
static uint8_t	*guard_page;
static size_t	 page_size;

static void
guard_init(void)
{
	guard_page = guard_map(&page_size);
}

/* Copy len bytes so that the last one is the last readable byte. */
static void *
guard_put(const void *data, size_t len)
{
	uint8_t	*dst;

	if (len > page_size) {
		fprintf(stderr, "guard_put: %zu bytes do not fit\n", len);
		exit(2);
	}
	dst = guard_page + page_size - len;
	if (len > 0)
		memcpy(dst, data, len);
	return dst;
}

/* ------------------------------------------------------------------ */
/* HTTP heads                                                          */
/* ------------------------------------------------------------------ */

#define OK	1	/* want: in[] (without tail) is the head */
#define REQ	0
#define RESP	1

struct http_case {
	int		 response;
	const char	*name;
	const char	*in;		/* the head (or garbage) */
	size_t		 len;
	const char	*tail;		/* bytes after it, e.g. a frame */
	size_t		 tail_len;
	int		 want;		/* OK or an error code */
};

#define L(s)	s, sizeof(s) - 1
#define C(r, name, s, want)		{ r, name, L(s), "", 0, want }
#define CT(r, name, s, tail, want)	{ r, name, L(s), L(tail), want }

#define WS_REQUEST \
	"GET /chat HTTP/1.1\r\n" \
	"Host: server.example.com\r\n" \
	"Upgrade: websocket\r\n" \
	"Connection: Upgrade\r\n" \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
	"Origin: http://example.com\r\n" \
	"Sec-WebSocket-Protocol: chat, superchat\r\n" \
	"Sec-WebSocket-Version: 13\r\n" \
	"\r\n"

#define WS_RESPONSE \
	"HTTP/1.1 101 Switching Protocols\r\n" \
	"Upgrade: websocket\r\n" \
	"Connection: Upgrade\r\n" \
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" \
	"Sec-WebSocket-Protocol: chat\r\n" \
	"\r\n"

static const struct http_case http_cases[] = {
	/* RFC 6455 1.2 / 4.1 opening handshake */
	C(REQ, "rfc6455 request", WS_REQUEST, OK),
	CT(REQ, "rfc6455 request + early frame", WS_REQUEST,
	    "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", OK),
	/* RFC 7230 2.1 */
	C(REQ, "rfc7230 2.1 request",
	    "GET /hello.txt HTTP/1.1\r\n"
	    "User-Agent: curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l "
	    "zlib/1.2.3\r\n"
	    "Host: www.example.com\r\n"
	    "Accept-Language: en, mi\r\n"
	    "\r\n", OK),
	/* RFC 7230 5.3: the four request-target forms */
	C(REQ, "origin-form with query",
	    "GET /where?q=now HTTP/1.1\r\nHost: www.example.org\r\n\r\n", OK),
	C(REQ, "absolute-form",
	    "GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\n"
	    "\r\n", OK),
	C(REQ, "authority-form",
	    "CONNECT www.example.com:80 HTTP/1.1\r\n\r\n", OK),
	C(REQ, "asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", OK),
	C(REQ, "HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", OK),
	C(REQ, "no headers", "GET / HTTP/1.1\r\n\r\n", OK),
	C(REQ, "token method", "M-SEARCH!#$%&'*+.^_`|~09 / HTTP/1.1\r\n\r\n",
	    OK),
	C(REQ, "all tchars in name",
	    "GET / HTTP/1.1\r\nX-!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n", OK),
	C(REQ, "empty value", "GET / HTTP/1.1\r\nX-Empty:\r\n\r\n", OK),
	C(REQ, "blank value", "GET / HTTP/1.1\r\nX-Empty: \t \r\n\r\n", OK),
	C(REQ, "value with tabs and obs-text",
	    "GET / HTTP/1.1\r\nX: \ta\tb \xc3\xa9\x80\xff \t\r\n\r\n", OK),
	C(REQ, "value with colon, quotes",
	    "GET / HTTP/1.1\r\nCookie: a=b; c=\"d:e\"\r\n\r\n", OK),
	C(REQ, "no OWS after colon", "GET / HTTP/1.1\r\nHost:a\r\n\r\n", OK),

	C(REQ, "empty input", "", HTTP_PARTIAL),
	C(REQ, "prefix in method", "GE", HTTP_PARTIAL),
	C(REQ, "prefix in version", "GET / HTTP/1.", HTTP_PARTIAL),
	C(REQ, "prefix at CR", "GET / HTTP/1.1\r", HTTP_PARTIAL),
	C(REQ, "prefix at final CR", "GET / HTTP/1.1\r\nA: b\r\n\r",
	    HTTP_PARTIAL),

	C(REQ, "leading empty line", "\r\nGET / HTTP/1.1\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "leading space", " GET / HTTP/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "empty method", " / HTTP/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "non-token method", "G(T / HTTP/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "empty target", "GET  HTTP/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "double space", "GET /  HTTP/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "tab separator", "GET\t/ HTTP/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "HTTP/0.9", "GET /\r\n\r\n", HTTP_INVALID),
	C(REQ, "HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", HTTP_INVALID),
	C(REQ, "HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", HTTP_INVALID),
	C(REQ, "HTTP/1.10", "GET / HTTP/1.10\r\n\r\n", HTTP_INVALID),
	C(REQ, "lower-case version", "GET / http/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "space after version", "GET / HTTP/1.1 \r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "obs-text in target", "GET /\xc3\xa9 HTTP/1.1\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "DEL in target", "GET /\x7f HTTP/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "NUL in method", "G\0T / HTTP/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "NUL in target", "GET /\0 HTTP/1.1\r\n\r\n", HTTP_INVALID),
	C(REQ, "bare LF request line", "GET / HTTP/1.1\n\n", HTTP_INVALID),
	C(REQ, "bare LF header line", "GET / HTTP/1.1\r\nHost: a\n\r\n",
	    HTTP_INVALID),
	C(REQ, "bare LF end", "GET / HTTP/1.1\r\nHost: a\r\n\n",
	    HTTP_INVALID),
	C(REQ, "CR without LF", "GET / HTTP/1.1\rX", HTTP_INVALID),
	C(REQ, "CR without LF at end", "GET / HTTP/1.1\r\nA: b\r\n\rX",
	    HTTP_INVALID),
	C(REQ, "CR in value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "obs-fold SP",
	    "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", HTTP_INVALID),
	C(REQ, "obs-fold HTAB",
	    "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", HTTP_INVALID),
	C(REQ, "whitespace before first header",
	    "GET / HTTP/1.1\r\n Host: a\r\n\r\n", HTTP_INVALID),
	C(REQ, "space before colon",
	    "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HTTP_INVALID),
	C(REQ, "tab before colon",
	    "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", HTTP_INVALID),
	C(REQ, "empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", HTTP_INVALID),
	C(REQ, "non-token name", "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", HTTP_INVALID),
	C(REQ, "NUL in name", "GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "NUL in value", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "DEL in value", "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "SOH in value", "GET / HTTP/1.1\r\nX: \x01\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "US in value", "GET / HTTP/1.1\r\nX: a\x1f\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "ESC in value", "GET / HTTP/1.1\r\nX: \x1b[0m\r\n\r\n",
	    HTTP_INVALID),
	C(REQ, "response to request parser",
	    "HTTP/1.1 101 Switching Protocols\r\n\r\n", HTTP_INVALID),

	/* Responses */
	C(RESP, "rfc6455 response", WS_RESPONSE, OK),
	CT(RESP, "rfc7230 2.1 response",
	    "HTTP/1.1 200 OK\r\n"
	    "Date: Mon, 27 Jul 2009 12:28:53 GMT\r\n"
	    "Server: Apache\r\n"
	    "Last-Modified: Wed, 22 Jul 2009 19:15:56 GMT\r\n"
	    "ETag: \"34aa387-d-1568eb00\"\r\n"
	    "Accept-Ranges: bytes\r\n"
	    "Content-Length: 51\r\n"
	    "Vary: Accept-Encoding\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n",
	    "Hello World! My payload includes a trailing CRLF.\r\n", OK),
	CT(RESP, "101 + first frame", "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n\r\n", "\x81\x02hi", OK),
	C(RESP, "HTTP/1.0 404", "HTTP/1.0 404 Not Found\r\n\r\n", OK),
	C(RESP, "empty reason", "HTTP/1.1 200 \r\n\r\n", OK),
	C(RESP, "no reason", "HTTP/1.1 101\r\nUpgrade: websocket\r\n\r\n",
	    OK),
	C(RESP, "reason with tab, obs-text",
	    "HTTP/1.1 403 Verboten\t\xc3\xbc ber \r\n\r\n", OK),
	C(RESP, "status 999", "HTTP/1.1 999 X\r\n\r\n", OK),
	C(RESP, "empty input", "", HTTP_PARTIAL),
	C(RESP, "prefix in version", "HTTP/1.", HTTP_PARTIAL),
	C(RESP, "prefix in status", "HTTP/1.1 10", HTTP_PARTIAL),
	C(RESP, "prefix after status", "HTTP/1.1 101", HTTP_PARTIAL),
	C(RESP, "two-digit status", "HTTP/1.1 20 OK\r\n\r\n", HTTP_INVALID),
	C(RESP, "four-digit status", "HTTP/1.1 2000 OK\r\n\r\n",
	    HTTP_INVALID),
	C(RESP, "leading zero status", "HTTP/1.1 099 X\r\n\r\n",
	    HTTP_INVALID),
	C(RESP, "alpha status", "HTTP/1.1 abc OK\r\n\r\n", HTTP_INVALID),
	C(RESP, "double space", "HTTP/1.1  200 OK\r\n\r\n", HTTP_INVALID),
	C(RESP, "HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", HTTP_INVALID),
	C(RESP, "HTTP/2", "HTTP/2 200\r\n\r\n", HTTP_INVALID),
	C(RESP, "NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n", HTTP_INVALID),
	C(RESP, "DEL in reason", "HTTP/1.1 200 O\x7fK\r\n\r\n",
	    HTTP_INVALID),
	C(RESP, "bare LF status line", "HTTP/1.1 200 OK\n\r\n", HTTP_INVALID),
	C(RESP, "bare LF after status", "HTTP/1.1 200\n\r\n", HTTP_INVALID),
	C(RESP, "obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
	    HTTP_INVALID),
	C(RESP, "space before colon",
	    "HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n", HTTP_INVALID),
	C(RESP, "NUL in value", "HTTP/1.1 101 OK\r\nX: \0\r\n\r\n",
	    HTTP_INVALID),
	C(RESP, "request to response parser", "GET / HTTP/1.1\r\n\r\n",
	    HTTP_INVALID),
	C(RESP, "lower-case", "http/1.1 200 OK\r\n\r\n", HTTP_INVALID),
};

static int
parse(int response, const char *buf, size_t len, struct http_head *h)
{
	return response ? http_parse_response(buf, len, h) :
	    http_parse_request(buf, len, h);
}

static int
inside(const char *p, size_t n, const char *buf, size_t len)
{
	return n == 0 || (p >= buf && p + n <= buf + len);
}

/* What any successful parse must satisfy; NULL when it does. */
static const char *
head_invariants(const struct http_head *h, const char *buf, size_t r,
    int response)
{
	size_t	i;
	const struct http_header *hd;

	if (!inside(h->method, h->method_len, buf, r) ||
	    !inside(h->target, h->target_len, buf, r) ||
	    !inside(h->reason, h->reason_len, buf, r))
		return "start line outside the head";
	if (response ? (h->status < 100 || h->status > 999 ||
	    h->method_len != 0) : (h->method_len == 0 || h->target_len == 0))
		return "start line fields";
	if (h->minor_version != 0 && h->minor_version != 1)
		return "minor_version";
	if (h->num_headers > HTTP_MAX_HEADERS)
		return "num_headers";
	for (i = 0; i < h->num_headers; i++) {
		hd = &h->headers[i];
		if (hd->name_len == 0 || !inside(hd->name, hd->name_len, buf,
		    r) || !inside(hd->value, hd->value_len, buf, r))
			return "header outside the head";
		if (hd->value_len > 0 && (hd->value[0] == ' ' ||
		    hd->value[0] == '\t' ||
		    hd->value[hd->value_len - 1] == ' ' ||
		    hd->value[hd->value_len - 1] == '\t'))
			return "value not trimmed";
	}
	return NULL;
}

/*
 * The whole input against the guard page, then every prefix: PARTIAL
 * until the final answer appears, then the same answer for every longer
 * prefix.  http_head_end() fed the same bytes one at a time must say
 * "done" exactly when a successful head ends, and never while the parser
 * still says PARTIAL.
 */
static const char *
http_run(int response, const char *in, size_t len, int want)
{
	static char		 msg[160];
	struct http_head	 h;
	const char		*p, *why;
	size_t			 k, scan = 0, ended = 0;
	int			 r, final, rk, seen = 0, e;

	p = guard_put(in, len);
	final = r = parse(response, p, len, &h);
	if (r != want) {
		snprintf(msg, sizeof(msg), "got %d, want %d", r, want);
		return msg;
	}
	if (r > 0 && (size_t)r > len)
		return "result past the input";
	if (r > 0 && (why = head_invariants(&h, p, (size_t)r, response)))
		return why;

	for (k = 0; k <= len; k++) {
		p = guard_put(in, k);
		rk = parse(response, p, k, &h);
		if (seen && rk != final) {
			snprintf(msg, sizeof(msg), "prefix %zu: %d after %d",
			    k, rk, final);
			return msg;
		}
		if (!seen && rk != HTTP_PARTIAL) {
			if (rk != final) {
				snprintf(msg, sizeof(msg),
				    "prefix %zu: %d, final %d", k, rk, final);
				return msg;
			}
			seen = 1;
		}
		if (k > 0 && ended == 0) {
			e = http_head_end(p, k, &scan);
			if (e) {
				ended = k;
				if (rk == HTTP_PARTIAL)
					return "head_end done, parser partial";
				if (scan != k - 1)
					return "head_end scan position";
				if (!http_head_end(p, k, &scan))
					return "head_end not idempotent";
			} else if (scan != k)
				return "head_end did not advance";
		}
		if (rk > 0 && ended != (size_t)rk) {
			snprintf(msg, sizeof(msg),
			    "head_end ended at %zu, head is %d", ended, rk);
			return msg;
		}
	}
	if (!seen && final != HTTP_PARTIAL)
		return "final result never seen";

	/* All at once must agree with byte by byte. */
	scan = 0;
	p = guard_put(in, len);
	e = http_head_end(p, len, &scan);
	if (e != (ended != 0) || (e && scan != ended - 1))
		return "head_end all at once disagrees";
	return NULL;
}

static void
test_http_table(void)
{
	const struct http_case	*c;
	char			 buf[2048];
	size_t			 i, n;
	int			 want;

	for (i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]); i++) {
		c = &http_cases[i];
		n = c->len + c->tail_len;
		memcpy(buf, c->in, c->len);
		memcpy(buf + c->len, c->tail, c->tail_len);
		want = c->want == OK ? (int)c->len : c->want;
		report(c->name, http_run(c->response, buf, n, want));
	}
}

/* n header lines "Hnnn: v" after a request or status line. */
static size_t
many_headers(char *buf, size_t size, int response, int n, const char *end)
{
	size_t	len;
	int	i;

	len = (size_t)snprintf(buf, size, "%s",
	    response ? "HTTP/1.1 101 X\r\n" : "GET / HTTP/1.1\r\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "H%d:v\r\n", i);
	len += (size_t)snprintf(buf + len, size - len, "%s", end);
	return len;
}

static void
test_http_limits(void)
{
	char	buf[2048];
	size_t	len;
	int	response;

	for (response = 0; response <= 1; response++) {
		len = many_headers(buf, sizeof(buf), response,
		    HTTP_MAX_HEADERS, "\r\n");
		report(response ? "response 100 headers" :
		    "request 100 headers", http_run(response, buf, len,
		    (int)len));

		len = many_headers(buf, sizeof(buf), response,
		    HTTP_MAX_HEADERS + 1, "\r\n");
		report(response ? "response 101 headers" :
		    "request 101 headers", http_run(response, buf, len,
		    HTTP_TOO_MANY));

		/* An invalid 101st line is INVALID, a valid one TOO_MANY. */
		len = many_headers(buf, sizeof(buf), response,
		    HTTP_MAX_HEADERS, " x: y\r\n\r\n");
		report(response ? "response 100 headers then obs-fold" :
		    "request 100 headers then obs-fold", http_run(response,
		    buf, len, HTTP_INVALID));
	}
}

static int
eq(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

static void
test_http_fields(void)
{
	struct http_head		 h;
	const struct http_header	*hd;
	const char			*s;
	int				 r;

	s = WS_REQUEST;
	r = http_parse_request(s, strlen(s), &h);
	expect(r == (int)strlen(s) && eq(h.method, h.method_len, "GET") &&
	    eq(h.target, h.target_len, "/chat") && h.minor_version == 1 &&
	    h.num_headers == 7 && h.status == 0 &&
	    eq(h.headers[0].name, h.headers[0].name_len, "Host") &&
	    eq(h.headers[0].value, h.headers[0].value_len,
	    "server.example.com") &&
	    eq(h.headers[5].value, h.headers[5].value_len, "chat, superchat"),
	    "rfc6455 request fields");

	hd = http_find(&h, "sec-websocket-key");
	expect(hd != NULL && eq(hd->value, hd->value_len,
	    "dGhlIHNhbXBsZSBub25jZQ==") &&
	    ws_key_valid(hd->value, hd->value_len), "http_find key");
	expect(http_find(&h, "UPGRADE") == &h.headers[1], "http_find case");
	expect(http_find(&h, "Upgrad") == NULL &&
	    http_find(&h, "Upgrade2") == NULL && http_find(&h, "") == NULL,
	    "http_find miss");
	expect(http_count(&h, "host") == 1 && http_count(&h, "cookie") == 0,
	    "http_count");
	hd = http_find(&h, "connection");
	expect(hd != NULL && http_list_has(hd->value, hd->value_len,
	    "upgrade"), "connection has upgrade");

	s = "GET / HTTP/1.1\r\nSec-WebSocket-Protocol: a\r\n"
	    "sec-websocket-protocol: b\r\nX:  spaced out \t\r\nY:\r\n\r\n";
	r = http_parse_request(s, strlen(s), &h);
	expect(r == (int)strlen(s) &&
	    http_count(&h, "Sec-WebSocket-Protocol") == 2 &&
	    eq(http_find(&h, "Sec-WebSocket-Protocol")->value, 1, "a") &&
	    eq(h.headers[2].value, h.headers[2].value_len, "spaced out") &&
	    h.headers[3].value_len == 0 && h.minor_version == 1,
	    "repeated headers, trimming");

	s = "GET http://a.example:8080/x?y HTTP/1.0\r\n\r\n";
	r = http_parse_request(s, strlen(s), &h);
	expect(r == (int)strlen(s) && h.minor_version == 0 &&
	    eq(h.target, h.target_len, "http://a.example:8080/x?y") &&
	    h.num_headers == 0, "absolute-form fields");

	s = WS_RESPONSE;
	r = http_parse_response(s, strlen(s), &h);
	expect(r == (int)strlen(s) && h.status == 101 &&
	    eq(h.reason, h.reason_len, "Switching Protocols") &&
	    h.method_len == 0 && h.num_headers == 4 && h.minor_version == 1 &&
	    eq(http_find(&h, "sec-websocket-accept")->value, 28,
	    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "rfc6455 response fields");

	s = "HTTP/1.0 404 \r\n\r\n";
	r = http_parse_response(s, strlen(s), &h);
	expect(r == (int)strlen(s) && h.status == 404 && h.reason_len == 0 &&
	    h.minor_version == 0, "empty reason fields");
	s = "HTTP/1.1 502\r\n\r\n";
	r = http_parse_response(s, strlen(s), &h);
	expect(r == (int)strlen(s) && h.status == 502 && h.reason_len == 0,
	    "no reason fields");
}

static void
test_list_has(void)
{
	static const struct {
		const char	*value;
		const char	*tok;
		int		 want;
	} t[] = {
		{ "keep-alive, Upgrade", "upgrade", 1 },
		{ "Upgrade", "upgrade", 1 },
		{ "UPGRADE", "Upgrade", 1 },
		{ " \tUpgrade\t ", "upgrade", 1 },
		{ "upgrade,keep-alive", "upgrade", 1 },
		{ ",,upgrade,", "upgrade", 1 },
		{ "keep-alive ,  upgrade  ", "upgrade", 1 },
		{ "websocket", "websocket", 1 },
		{ "keep-alive", "upgrade", 0 },
		{ "upgrade-foo", "upgrade", 0 },
		{ "upgrades", "upgrade", 0 },
		{ "up grade", "upgrade", 0 },
		{ "x-upgrade", "upgrade", 0 },
		{ "", "upgrade", 0 },
		{ ",", "upgrade", 0 },
		{ "upgrad", "upgrade", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (http_list_has(t[i].value, strlen(t[i].value), t[i].tok) ==
		    t[i].want)
			result(t[i].value, NULL);
		else
			result(t[i].value, "http_list_has(%s) != %d",
			    t[i].tok, t[i].want);
	}
	/* Only len bytes count: the value is not NUL-terminated. */
	expect(http_list_has("upgradeX", 7, "upgrade") == 1 &&
	    http_list_has("a, upgrade", 6, "upgrade") == 0,
	    "http_list_has length");
}

/* head_end on inputs the table does not cover. */
static void
test_head_end(void)
{
	static const struct {
		const char	*in;
		size_t		 len;
		size_t		 at;	/* deciding byte's index + 1 */
	} t[] = {
		{ L("GET / HTTP/1.1\r\n\r\n"), 18 },
		{ L("GET / HTTP/1.1\r\nA: b\r\n\r\nrest"), 24 },
		{ L("GET / HTTP/1.1\r\n"), 0 },
		{ L("GET / HTTP/1.1\r\nA: b\r\n\r"), 0 },
		{ L("GET\n"), 4 },
		{ L("\n"), 1 },
		{ L("\r\n"), 2 },
		{ L("G\0"), 2 },
		{ L("GET\rX"), 5 },
		{ L("\r\r\n"), 2 },
		{ L("a\n\r\n"), 2 },
		{ L("ab\r\n\r\n"), 6 },
	};
	size_t	i, scan, k;
	int	ok, e;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		scan = 0;
		e = http_head_end(t[i].in, t[i].len, &scan);
		ok = t[i].at ? e == 1 && scan == t[i].at - 1 :
		    e == 0 && scan == t[i].len;
		/* and one byte at a time */
		scan = 0;
		for (k = 1; k <= t[i].len; k++)
			if (http_head_end(t[i].in, k, &scan))
				break;
		if (t[i].at ? k != t[i].at : k != t[i].len + 1)
			ok = 0;
		expect(ok, t[i].in);
	}
	scan = 0;
	expect(http_head_end("", 0, &scan) == 0 && scan == 0,
	    "head_end empty");
}

/* ------------------------------------------------------------------ */
/* SHA-1, base64, handshake keys                                       */
/* ------------------------------------------------------------------ */

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
test_sha1(void)
{
	static const struct {
		const char	*in;
		size_t		 repeat;	/* of 'a', if in is NULL */
		const char	*want;
	} t[] = {
		{ "abc", 0, "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 0,
		    "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		    0, "a49b2446a02c645bf419f995b67091253a04a259" },
		{ NULL, 1, "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8" },
		{ NULL, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a" },
		{ NULL, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699" },
		{ NULL, 57, "f08f24908d682555111be7ff6f004e78283d989a" },
		{ NULL, 63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5" },
		{ NULL, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d" },
		{ NULL, 65, "11655326c708d70319be2610e8a57d9a5b959d3b" },
		{ NULL, 119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56" },
		{ NULL, 120, "f34c1488385346a55709ba056ddd08280dd4c6d6" },
		{ NULL, 127, "89d95fa32ed44a7c610b7ee38517ddf57e0bb975" },
		{ NULL, 128, "ad5b3fdbcb526778c2839d2f151ea753995e26a0" },
		{ NULL, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
	};
	uint8_t		 digest[20], *buf;
	char		 out[41], name[32];
	size_t		 i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].in != NULL) {
			n = strlen(t[i].in);
			buf = malloc(n + 1);
			memcpy(buf, t[i].in, n);
		} else {
			n = t[i].repeat;
			buf = malloc(n);
			memset(buf, 'a', n);
		}
		if (buf == NULL)
			exit(2);
		ws_sha1(buf, n, digest);
		free(buf);
		hex(digest, 20, out);
		snprintf(name, sizeof(name), "sha1 #%zu (%zu bytes)", i, n);
		if (strcmp(out, t[i].want) == 0)
			result(name, NULL);
		else
			result(name, "got %s", out);
	}

	/* Every byte value, unaligned start. */
	buf = malloc(3 * 256 + 1);
	if (buf == NULL)
		exit(2);
	for (i = 0; i < 3 * 256; i++)
		buf[i + 1] = (uint8_t)i;
	ws_sha1(buf + 1, 3 * 256, digest);
	free(buf);
	hex(digest, 20, out);
	expect(strcmp(out, "ac2a264c8ec1f4232a40854e8239bc3a697ab1d2") == 0,
	    "sha1 all bytes unaligned");
}

static void
test_base64(void)
{
	static const struct {
		const char	*in;
		const char	*want;
	} t[] = {		/* RFC 4648 10 */
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const uint8_t	high[] = { 0xfb, 0xff, 0xbf, 0x00, 0xff };
	char			out[64];
	size_t			i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(out, '#', sizeof(out));
		n = ws_base64((const uint8_t *)t[i].in, strlen(t[i].in), out);
		if (n == strlen(t[i].want) && memcmp(out, t[i].want, n) == 0 &&
		    out[n] == '#')
			result(t[i].want, NULL);
		else
			result(t[i].want, "base64(%s) wrong", t[i].in);
	}
	n = ws_base64(high, sizeof(high), out);
	expect(n == 8 && memcmp(out, "+/+/AP8=", 8) == 0, "base64 + and /");
}

static void
test_keys(void)
{
	static const struct {
		const char	*key;
		int		 valid;
	} t[] = {
		{ "dGhlIHNhbXBsZSBub25jZQ==", 1 },
		{ "AAAAAAAAAAAAAAAAAAAAAA==", 1 },
		{ "/////////////////////w==", 1 },
		{ "+++++++++++++++++++++g==", 1 },
		{ "dGhlIHNhbXBsZSBub25jZR==", 0 },	/* low bits set */
		{ "dGhlIHNhbXBsZSBub25jZQ=", 0 },
		{ "dGhlIHNhbXBsZSBub25jZQ===", 0 },
		{ "dGhlIHNhbXBsZSBub25jZQ", 0 },
		{ "dGhlIHNhbXBsZSBub25jZQAA", 0 },
		{ "dGhlIHNhbXBsZSBub25j=Q==", 0 },
		{ "dGhlIHNhbXBsZSBub25jZ===", 0 },
		{ "dGhlIHNhbXBsZSBub25j-Q==", 0 },	/* base64url */
		{ "dGhlIHNhbXBsZSBub25j_Q==", 0 },
		{ "dGhlIHNhbXBsZSBu b25jZQ=", 0 },
		{ "", 0 },
	};
	uint8_t	raw[16];
	char	key[WS_KEY_LEN], out[WS_ACCEPT_LEN + 1];
	size_t	i, j;
	int	ok;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect(ws_key_valid(guard_put(t[i].key, strlen(t[i].key)),
		    strlen(t[i].key)) == t[i].valid, t[i].key);

	/* Every 16-byte value's base64 is a valid key. */
	ok = 1;
	for (i = 0; i < 256; i++) {
		for (j = 0; j < 16; j++)
			raw[j] = (uint8_t)(i * 31 + j * 17);
		if (ws_base64(raw, 16, key) != WS_KEY_LEN ||
		    !ws_key_valid(key, WS_KEY_LEN))
			ok = 0;
	}
	expect(ok, "base64 of 16 bytes is a key");

	memset(out, 0, sizeof(out));
	ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
	expect(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0,
	    "ws_accept rfc6455");
}

/* ------------------------------------------------------------------ */
/* Frames                                                              */
/* ------------------------------------------------------------------ */

struct frame_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 want;
	uint8_t		 fin, rsv, opcode, masked;
	uint64_t	 payload_len;
	const char	*mask;
};

#define F(name, s, want, fin, rsv, op, masked, plen, mask) \
	{ name, L(s), want, fin, rsv, op, masked, plen, mask }

static const struct frame_case frame_cases[] = {
	F("len 0", "\x81\x00", 2, 1, 0, 1, 0, 0, NULL),
	F("len 1", "\x82\x01", 2, 1, 0, 2, 0, 1, NULL),
	F("len 125", "\x81\x7d", 2, 1, 0, 1, 0, 125, NULL),
	F("len 126", "\x82\x7e\x00\x7e", 4, 1, 0, 2, 0, 126, NULL),
	F("len 127", "\x82\x7e\x00\x7f", 4, 1, 0, 2, 0, 127, NULL),
	F("len 65535", "\x82\x7e\xff\xff", 4, 1, 0, 2, 0, 65535, NULL),
	F("len 65536", "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10,
	    1, 0, 2, 0, 65536, NULL),
	F("len 2^32", "\x02\x7f\x00\x00\x00\x01\x00\x00\x00\x00", 10,
	    0, 0, 2, 0, UINT64_C(1) << 32, NULL),
	F("len 2^63-1", "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10,
	    1, 0, 2, 0, INT64_MAX, NULL),
	F("len 2^63", "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00",
	    WS_BAD_LENGTH, 0, 0, 0, 0, 0, NULL),
	F("len 2^64-1", "\x82\x7f\xff\xff\xff\xff\xff\xff\xff\xff",
	    WS_BAD_LENGTH, 0, 0, 0, 0, 0, NULL),
	F("len 2^63 masked",
	    "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04",
	    WS_BAD_LENGTH, 0, 0, 0, 0, 0, NULL),
	F("non-minimal 16-bit", "\x82\x7e\x00\x05", 4, 1, 0, 2, 0, 5, NULL),
	F("non-minimal 64-bit", "\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x05",
	    10, 1, 0, 2, 0, 5, NULL),
	F("non-minimal 64-bit 65535",
	    "\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 10, 1, 0, 2, 0, 65535,
	    NULL),
	/* RFC 6455 5.7 */
	F("rfc6455 unmasked Hello", "\x81\x05Hello", 2, 1, 0, 1, 0, 5, NULL),
	F("rfc6455 masked Hello",
	    "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
	    6, 1, 0, 1, 1, 5, "\x37\xfa\x21\x3d"),
	F("rfc6455 fragment 1", "\x01\x03Hel", 2, 0, 0, 1, 0, 3, NULL),
	F("rfc6455 fragment 2", "\x80\x02lo", 2, 1, 0, 0, 0, 2, NULL),
	F("rfc6455 ping", "\x89\x05Hello", 2, 1, 0, 9, 0, 5, NULL),
	F("rfc6455 masked pong",
	    "\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
	    6, 1, 0, 10, 1, 5, "\x37\xfa\x21\x3d"),
	F("rfc6455 256 bytes", "\x82\x7e\x01\x00", 4, 1, 0, 2, 0, 256, NULL),
	F("rfc6455 64KiB", "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
	    10, 1, 0, 2, 0, 65536, NULL),
	F("masked len 0", "\x81\x80\xaa\xbb\xcc\xdd", 6, 1, 0, 1, 1, 0,
	    "\xaa\xbb\xcc\xdd"),
	F("masked len 126", "\x82\xfe\x00\x7e\x01\x02\x03\x04", 8,
	    1, 0, 2, 1, 126, "\x01\x02\x03\x04"),
	F("masked len 65536",
	    "\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00\xff\x00\xff\x00", 14,
	    1, 0, 2, 1, 65536, "\xff\x00\xff\x00"),
	F("masked len 2^63-1",
	    "\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00", 14,
	    1, 0, 2, 1, INT64_MAX, "\x00\x00\x00\x00"),
	F("all rsv bits", "\xf1\x00", 2, 1, 7, 1, 0, 0, NULL),
	F("rsv1", "\xc1\x00", 2, 1, 4, 1, 0, 0, NULL),
	F("rsv3 no fin", "\x12\x00", 2, 0, 1, 2, 0, 0, NULL),
	F("opcode 15", "\x8f\x00", 2, 1, 0, 15, 0, 0, NULL),
	F("close 125", "\x88\x7d", 2, 1, 0, 8, 0, 125, NULL),
	F("close 126 (checked later)", "\x88\x7e\x00\x7e", 4, 1, 0, 8, 0, 126,
	    NULL),
	F("empty", "", WS_PARTIAL, 0, 0, 0, 0, 0, NULL),
	F("one byte", "\x81", WS_PARTIAL, 0, 0, 0, 0, 0, NULL),
	F("partial 16-bit", "\x81\x7e\x01", WS_PARTIAL, 0, 0, 0, 0, 0, NULL),
	F("partial mask", "\x81\x85\x37\xfa\x21", WS_PARTIAL, 0, 0, 0, 0, 0,
	    NULL),
};

static const char *
frame_run(const struct frame_case *c)
{
	static char		 msg[128];
	struct ws_frame		 f;
	const uint8_t		*p;
	uint8_t			 buf[64];
	size_t			 k;
	int			 r, rk, seen = 0;

	p = guard_put(c->in, c->len);
	memset(&f, 0x55, sizeof(f));
	r = ws_frame_parse(p, c->len, &f);
	if (r != c->want) {
		snprintf(msg, sizeof(msg), "got %d, want %d", r, c->want);
		return msg;
	}
	if (r > 0) {
		if (f.header_len != r || f.fin != c->fin || f.rsv != c->rsv ||
		    f.opcode != c->opcode || f.masked != c->masked ||
		    f.payload_len != c->payload_len)
			return "fields";
		if (c->mask != NULL && memcmp(f.mask, c->mask, 4) != 0)
			return "mask";
		if (r > WS_MAX_HEADER || (size_t)r > c->len)
			return "length";
	}

	/* Every prefix: PARTIAL, then the final answer for good. */
	for (k = 0; k <= c->len; k++) {
		p = guard_put(c->in, k);
		rk = ws_frame_parse(p, k, &f);
		if (seen ? rk != r : rk != WS_PARTIAL && rk != r) {
			snprintf(msg, sizeof(msg), "prefix %zu: %d", k, rk);
			return msg;
		}
		if (rk != WS_PARTIAL)
			seen = 1;
	}
	/* The payload bytes that follow change nothing. */
	memcpy(buf, c->in, c->len);
	memset(buf + c->len, 0xa5, sizeof(buf) - c->len);
	rk = ws_frame_parse(buf, sizeof(buf), &f);
	if (r != WS_PARTIAL && rk != r)
		return "trailing bytes changed the result";
	return NULL;
}

static void
test_frame_parse(void)
{
	size_t	i;

	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++)
		report(frame_cases[i].name, frame_run(&frame_cases[i]));
}

/*
 * ws_frame_check: one sequence of frames on one stream.  b0 is the
 * first header byte (FIN, RSV, opcode); each frame is masked as the
 * direction requires unless the step says otherwise.
 */
#define MASK_OK		0
#define MASK_FLIP	1

struct check_step {
	uint8_t		 b0;
	uint64_t	 len;
	int		 flip;
	int		 want;
};

struct check_case {
	const char	*name;
	int		 deflate;
	uint64_t	 max_message;
	struct check_step steps[8];
	size_t		 n;
	int		 in_message;	/* state after the last step */
	uint64_t	 message_len;
};

#define S(b0, len, want)	{ b0, len, MASK_OK, want }
#define P	WS_CLOSE_PROTOCOL
#define BIG	WS_CLOSE_TOO_BIG

static const struct check_case check_cases[] = {
	{ "text", 0, 0, { S(0x81, 5, 0) }, 1, 0, 0 },
	{ "binary", 0, 0, { S(0x82, 5, 0) }, 1, 0, 0 },
	{ "wrong masking", 0, 0, { { 0x81, 5, MASK_FLIP, P } }, 1, 0, 0 },
	{ "wrong masking on ping", 0, 0, { { 0x89, 0, MASK_FLIP, P } }, 1,
	    0, 0 },
	{ "rsv2", 1, 0, { S(0xa1, 1, P) }, 1, 0, 0 },
	{ "rsv3", 1, 0, { S(0x91, 1, P) }, 1, 0, 0 },
	{ "rsv1 without deflate", 0, 0, { S(0xc1, 1, P) }, 1, 0, 0 },
	{ "rsv1 text with deflate", 1, 0, { S(0xc1, 1, 0) }, 1, 0, 0 },
	{ "rsv1 binary with deflate", 1, 0, { S(0xc2, 1, 0) }, 1, 0, 0 },
	{ "rsv1 first fragment, plain rest", 1, 0,
	    { S(0x41, 1, 0), S(0x00, 1, 0), S(0x80, 1, 0) }, 3, 0, 0 },
	{ "rsv1 on continuation", 1, 0, { S(0x41, 1, 0), S(0xc0, 1, P) }, 2,
	    1, 1 },
	{ "rsv1 on ping", 1, 0, { S(0xc9, 0, P) }, 1, 0, 0 },
	{ "rsv1 on close", 1, 0, { S(0xc8, 2, P) }, 1, 0, 0 },
	{ "rsv1+rsv2 with deflate", 1, 0, { S(0xe1, 1, P) }, 1, 0, 0 },
	{ "opcode 3", 0, 0, { S(0x83, 0, P) }, 1, 0, 0 },
	{ "opcode 7", 0, 0, { S(0x87, 0, P) }, 1, 0, 0 },
	{ "opcode 11", 0, 0, { S(0x8b, 0, P) }, 1, 0, 0 },
	{ "opcode 15", 0, 0, { S(0x8f, 0, P) }, 1, 0, 0 },
	{ "ping 125", 0, 0, { S(0x89, 125, 0) }, 1, 0, 0 },
	{ "ping 126", 0, 0, { S(0x89, 126, P) }, 1, 0, 0 },
	{ "pong 2^63-1", 0, 0, { S(0x8a, INT64_MAX, P) }, 1, 0, 0 },
	{ "close 125", 0, 0, { S(0x88, 125, 0) }, 1, 0, 0 },
	{ "close 126", 0, 0, { S(0x88, 126, P) }, 1, 0, 0 },
	{ "fragmented close", 0, 0, { S(0x08, 2, P) }, 1, 0, 0 },
	{ "fragmented ping", 0, 0, { S(0x09, 0, P) }, 1, 0, 0 },
	{ "fragmented pong", 0, 0, { S(0x0a, 0, P) }, 1, 0, 0 },
	{ "continuation first", 0, 0, { S(0x80, 1, P) }, 1, 0, 0 },
	{ "non-final continuation first", 0, 0, { S(0x00, 1, P) }, 1, 0, 0 },
	{ "text inside message", 0, 0, { S(0x01, 1, 0), S(0x81, 1, P) }, 2,
	    1, 1 },
	{ "binary inside message", 0, 0, { S(0x02, 1, 0), S(0x02, 1, P) }, 2,
	    1, 1 },
	{ "fragments with pings", 0, 0,
	    { S(0x01, 3, 0), S(0x89, 0, 0), S(0x00, 3, 0), S(0x8a, 5, 0),
	    S(0x00, 0, 0), S(0x80, 3, 0), S(0x81, 1, 0), S(0x89, 125, 0) },
	    8, 0, 0 },
	{ "open message state", 0, 0,
	    { S(0x02, 3, 0), S(0x89, 100, 0), S(0x00, 4, 0) }, 3, 1, 7 },
	{ "close between fragments", 0, 0,
	    { S(0x01, 3, 0), S(0x88, 2, 0), S(0x80, 1, 0) }, 3, 0, 0 },
	{ "continuation after final", 0, 0,
	    { S(0x01, 1, 0), S(0x80, 1, 0), S(0x80, 1, P) }, 3, 0, 0 },
	{ "max: exactly", 0, 10, { S(0x81, 10, 0), S(0x82, 10, 0) }, 2, 0, 0 },
	{ "max: one over", 0, 10, { S(0x81, 11, BIG) }, 1, 0, 0 },
	{ "max: fragments exactly", 0, 10,
	    { S(0x01, 5, 0), S(0x89, 125, 0), S(0x80, 5, 0) }, 3, 0, 0 },
	{ "max: fragments over", 0, 10, { S(0x01, 5, 0), S(0x80, 6, BIG) }, 2,
	    1, 5 },
	{ "max: many empty fragments", 0, 1,
	    { S(0x01, 0, 0), S(0x00, 0, 0), S(0x00, 1, 0), S(0x00, 0, 0),
	    S(0x80, 1, BIG) }, 5, 1, 1 },
	{ "max: control frames not counted", 0, 1,
	    { S(0x89, 125, 0), S(0x81, 1, 0) }, 2, 0, 0 },
	{ "max: 2^63-1 text", 0, INT64_MAX, { S(0x82, INT64_MAX, 0) }, 1,
	    0, 0 },
	{ "max: overflow-safe", 0, UINT64_MAX,
	    { S(0x02, INT64_MAX, 0), S(0x00, INT64_MAX, 0),
	    S(0x00, INT64_MAX, BIG) }, 3, 1, UINT64_MAX - 1 },
	{ "no max: huge fragments saturate", 0, 0,
	    { S(0x02, INT64_MAX, 0), S(0x00, INT64_MAX, 0),
	    S(0x00, INT64_MAX, 0), S(0x80, 1, 0), S(0x81, 3, 0) }, 5, 0, 0 },
	{ "no max: open huge message", 0, 0,
	    { S(0x02, INT64_MAX, 0), S(0x00, INT64_MAX, 0),
	    S(0x00, INT64_MAX, 0) }, 3, 1, UINT64_MAX },
};

static void
test_frame_check(void)
{
	const struct check_case	*c;
	const struct check_step	*st;
	struct ws_stream	 s;
	struct ws_frame		 f;
	char			 name[96];
	size_t			 i, j;
	int			 dir, r, bad;

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		c = &check_cases[i];
		/* Both directions: the rules are the same but the mask bit. */
		for (dir = 0; dir <= 1; dir++) {
			snprintf(name, sizeof(name), "%s (%s)", c->name,
			    dir ? "client" : "upstream");
			memset(&s, 0, sizeof(s));
			s.must_mask = (uint8_t)dir;
			s.deflate = (uint8_t)c->deflate;
			bad = 0;
			for (j = 0; j < c->n && !bad; j++) {
				st = &c->steps[j];
				memset(&f, 0, sizeof(f));
				f.fin = (st->b0 & 0x80) != 0;
				f.rsv = (uint8_t)(st->b0 >> 4 & 7);
				f.opcode = st->b0 & 0x0f;
				f.masked = (uint8_t)(dir ^ st->flip);
				f.payload_len = st->len;
				f.header_len = 2;
				r = ws_frame_check(&s, &f, c->max_message);
				if (r != st->want) {
					result(name, "step %zu: got %d, "
					    "want %d", j, r, st->want);
					bad = 1;
				}
			}
			if (bad)
				continue;
			if (s.in_message != c->in_message ||
			    s.message_len != c->message_len)
				result(name, "state in_message %u len %llu",
				    s.in_message,
				    (unsigned long long)s.message_len);
			else
				result(name, NULL);
		}
	}
}

static void
test_close_check(void)
{
	static const struct {
		const char	*name;
		const char	*in;
		size_t		 len;
		int		 want;
		unsigned	 code;
	} t[] = {
		{ "empty", L(""), 0, 1005 },
		{ "one byte", L("\x03"), P, 0 },
		{ "1000", L("\x03\xe8"), 0, 1000 },
		{ "1001", L("\x03\xe9"), 0, 1001 },
		{ "1002", L("\x03\xea"), 0, 1002 },
		{ "1003", L("\x03\xeb"), 0, 1003 },
		{ "1004", L("\x03\xec"), P, 1004 },
		{ "1005", L("\x03\xed"), P, 1005 },
		{ "1006", L("\x03\xee"), P, 1006 },
		{ "1007", L("\x03\xef"), 0, 1007 },
		{ "1011", L("\x03\xf3"), 0, 1011 },
		{ "1014", L("\x03\xf6"), 0, 1014 },
		{ "1015", L("\x03\xf7"), P, 1015 },
		{ "1016", L("\x03\xf8"), P, 1016 },
		{ "2999", L("\x0b\xb7"), P, 2999 },
		{ "3000", L("\x0b\xb8"), 0, 3000 },
		{ "4999", L("\x13\x87"), 0, 4999 },
		{ "5000", L("\x13\x88"), P, 5000 },
		{ "0", L("\x00\x00"), P, 0 },
		{ "999", L("\x03\xe7"), P, 999 },
		{ "65535", L("\xff\xff"), P, 65535 },
		{ "1000 reason", L("\x03\xe8" "bye"), 0, 1000 },
		{ "4000 utf-8 reason",
		    L("\x0f\xa0\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
		    0, 4000 },
		{ "1000 bad utf-8", L("\x03\xe8\xff"), WS_CLOSE_BAD_DATA,
		    1000 },
		{ "1000 truncated utf-8", L("\x03\xe8" "ab\xce"),
		    WS_CLOSE_BAD_DATA, 1000 },
		{ "1000 surrogate", L("\x03\xe8\xed\xa0\x80"),
		    WS_CLOSE_BAD_DATA, 1000 },
		{ "bad code before bad utf-8", L("\x03\xec\xff"), P, 1004 },
		{ "1000 NUL reason", L("\x03\xe8\0"), 0, 1000 },
	};
	const uint8_t	*p;
	uint8_t		 buf[2];
	unsigned	 code, c;
	size_t		 i;
	int		 r, want, ok;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p = guard_put(t[i].in, t[i].len);
		code = 12345;
		r = ws_close_check(p, t[i].len, &code);
		if (r == t[i].want && (t[i].len == 1 || code == t[i].code))
			result(t[i].name, NULL);
		else
			result(t[i].name, "got %d code %u", r, code);
	}

	/* All 65536 codes against the ranges RFC 6455 7.4 allows. */
	ok = 1;
	for (c = 0; c <= 0xffff; c++) {
		buf[0] = (uint8_t)(c >> 8);
		buf[1] = (uint8_t)c;
		want = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
		    (c >= 3000 && c <= 4999) ? 0 : P;
		if (ws_close_check(buf, 2, &code) != want || code != c)
			ok = 0;
	}
	expect(ok, "close codes 0..65535");
	expect(ws_close_check((const uint8_t *)"", 0, NULL) == 0,
	    "close check NULL code");
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */
/* ------------------------------------------------------------------ */

static void
test_utf8_vectors(void)
{
	static const struct {
		const char	*name;
		const char	*in;
		size_t		 len;
		int		 valid;
	} t[] = {
		{ "empty", L(""), 1 },
		{ "ascii", L("Hello-\x7f"), 1 },
		{ "NUL", L("\0"), 1 },
		{ "kosme",
		    L("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), 1 },
		{ "U+0080", L("\xc2\x80"), 1 },
		{ "U+07FF", L("\xdf\xbf"), 1 },
		{ "U+0800", L("\xe0\xa0\x80"), 1 },
		{ "U+D7FF", L("\xed\x9f\xbf"), 1 },
		{ "U+E000", L("\xee\x80\x80"), 1 },
		{ "U+FFFD", L("\xef\xbf\xbd"), 1 },
		{ "U+FFFF", L("\xef\xbf\xbf"), 1 },
		{ "U+10000", L("\xf0\x90\x80\x80"), 1 },
		{ "U+10FFFF", L("\xf4\x8f\xbf\xbf"), 1 },
		{ "emoji", L("\xf0\x9f\x98\x80"), 1 },
		{ "lone continuation 80", L("\x80"), 0 },
		{ "lone continuation bf", L("\xbf"), 0 },
		{ "overlong NUL", L("\xc0\x80"), 0 },
		{ "overlong c1", L("\xc1\xbf"), 0 },
		{ "overlong 3-byte", L("\xe0\x80\x80"), 0 },
		{ "overlong U+07FF", L("\xe0\x9f\xbf"), 0 },
		{ "overlong 4-byte", L("\xf0\x80\x80\x80"), 0 },
		{ "overlong U+FFFF", L("\xf0\x8f\xbf\xbf"), 0 },
		{ "U+D800", L("\xed\xa0\x80"), 0 },
		{ "U+DBFF", L("\xed\xaf\xbf"), 0 },
		{ "U+DC00", L("\xed\xb0\x80"), 0 },
		{ "U+DFFF", L("\xed\xbf\xbf"), 0 },
		{ "surrogate pair", L("\xed\xa0\x80\xed\xb0\x80"), 0 },
		{ "U+110000", L("\xf4\x90\x80\x80"), 0 },
		{ "f5", L("\xf5\x80\x80\x80"), 0 },
		{ "5-byte", L("\xf8\x88\x80\x80\x80"), 0 },
		{ "6-byte", L("\xfc\x84\x80\x80\x80\x80"), 0 },
		{ "fe", L("\xfe"), 0 },
		{ "ff", L("\xff"), 0 },
		{ "truncated 2", L("\xc2"), 0 },
		{ "truncated 3", L("\xe0\xa0"), 0 },
		{ "truncated 4", L("\xf0\x90\x80"), 0 },
		{ "truncated after ascii", L("abc\xe2\x82"), 0 },
		{ "bad second byte", L("\xc2\x41"), 0 },
		{ "bad third byte", L("\xe1\x80\x41"), 0 },
		{ "bad fourth byte", L("\xf1\x80\x80\x41"), 0 },
		{ "continuation c0", L("\xe1\x80\xc0"), 0 },
		{ "kosme then surrogate",
		    L("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
		    "edited"), 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect(ws_utf8_valid(guard_put(t[i].in, t[i].len), t[i].len) ==
		    t[i].valid, t[i].name);
}

/*
 * An independent reference: decode by bit pattern, then reject
 * overlongs, surrogates and values past U+10FFFF.
 */
static int
ref_utf8_one(const uint8_t *s, size_t len)
{
	uint32_t	cp, min;
	size_t		n, i;

	if (s[0] < 0x80)
		n = 1, cp = s[0], min = 0;
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1fu, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0fu, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (n != len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	return cp >= min && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}

static void
test_utf8_exhaustive(void)
{
	static const uint8_t	edge[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f,
	    0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	uint8_t			s[4];
	uint32_t		v;
	size_t			i, j;
	int			ok = 1;

	for (v = 0; v < 0x100; v++) {
		s[0] = (uint8_t)v;
		if (ws_utf8_valid(s, 1) != ref_utf8_one(s, 1))
			ok = 0;
	}
	for (v = 0; v < 0x10000; v++) {
		s[0] = (uint8_t)(v >> 8);
		s[1] = (uint8_t)v;
		if (s[0] >= 0x80 && ws_utf8_valid(s, 2) != ref_utf8_one(s, 2))
			ok = 0;
	}
	expect(ok, "utf-8 all 1- and 2-byte strings");

	ok = 1;
	for (v = 0xe00000; v < 0x1000000; v++) {
		s[0] = (uint8_t)(v >> 16);
		s[1] = (uint8_t)(v >> 8);
		s[2] = (uint8_t)v;
		if (s[0] < 0xf0 && ws_utf8_valid(s, 3) != ref_utf8_one(s, 3))
			ok = 0;
	}
	expect(ok, "utf-8 all 3-byte strings led by e0..ef");

	ok = 1;
	for (v = 0xf000; v < 0x10000; v++) {
		s[0] = (uint8_t)(v >> 8);
		s[1] = (uint8_t)v;
		for (i = 0; i < sizeof(edge); i++)
			for (j = 0; j < sizeof(edge); j++) {
				s[2] = edge[i];
				s[3] = edge[j];
				if (ws_utf8_valid(s, 4) != ref_utf8_one(s, 4))
					ok = 0;
			}
	}
	expect(ok, "utf-8 4-byte strings led by f0..ff");
}

/* ------------------------------------------------------------------ */
/* Close frames and masking                                            */
/* ------------------------------------------------------------------ */

static void
test_close_frame(void)
{
	static const uint8_t	mask[4] = { 0x01, 0x02, 0x03, 0x04 };
	struct ws_frame		f;
	uint8_t			out[8];
	unsigned		code;
	size_t			n;

	memset(out, 0xee, sizeof(out));
	n = ws_close_frame(out, 1000, NULL);
	expect(n == 4 && memcmp(out, "\x88\x02\x03\xe8", 4) == 0 &&
	    out[4] == 0xee, "close frame 1000 unmasked");

	n = ws_close_frame(out, 1001, mask);
	expect(n == 8 && memcmp(out, "\x88\x82\x01\x02\x03\x04\x02\xeb", 8) ==
	    0, "close frame 1001 masked");

	/* What we send must pass our own checks. */
	n = ws_close_frame(out, WS_CLOSE_BAD_GATEWAY, mask);
	expect(ws_frame_parse(out, n, &f) == 6 && f.opcode == WS_OP_CLOSE &&
	    f.fin && f.masked && f.payload_len == 2 && (ws_unmask(out + 6, 2,
	    f.mask, 0), ws_close_check(out + 6, 2, &code) == 0) &&
	    code == 1014, "close frame 1014 round trip");
	n = ws_close_frame(out, 4999, NULL);
	expect(ws_frame_parse(out, n, &f) == 2 && !f.masked &&
	    ws_close_check(out + 2, 2, &code) == 0 && code == 4999,
	    "close frame 4999 round trip");
}

static void
test_unmask(void)
{
	static const uint8_t	mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t			hello[5] = { 0x7f, 0x9f, 0x4d, 0x51,
				    0x58 };
	uint8_t			buf[80], ref[80];
	size_t			len, i, off;
	uint64_t		pos;
	int			ok = 1;

	ws_unmask(hello, sizeof(hello), mask, 0);
	expect(memcmp(hello, "Hello", 5) == 0, "unmask rfc6455 Hello");

	/* Split at every point: pos carries the phase across calls. */
	for (off = 0; off <= 5; off++) {
		memcpy(hello, "\x7f\x9f\x4d\x51\x58", 5);
		ws_unmask(hello, off, mask, 0);
		ws_unmask(hello + off, 5 - off, mask, off);
		if (memcmp(hello, "Hello", 5) != 0)
			ok = 0;
	}
	expect(ok, "unmask split");

	/* Against the byte-by-byte definition, odd offsets and lengths. */
	ok = 1;
	for (len = 0; len <= 40; len++)
		for (pos = 0; pos < 8; pos++)
			for (off = 0; off < 3; off++) {
				for (i = 0; i < sizeof(buf); i++)
					buf[i] = ref[i] = (uint8_t)(i * 7 + 3);
				ws_unmask(buf + off, len, mask,
				    pos + (UINT64_C(1) << 40));
				for (i = 0; i < len; i++)
					ref[off + i] ^= mask[(pos + i) & 3];
				if (memcmp(buf, ref, sizeof(buf)) != 0)
					ok = 0;
			}
	expect(ok, "unmask reference");
}

int
main(void)
{
	guard_init();
	test_http_table();
	test_http_limits();
	test_http_fields();
	test_list_has();
	test_head_end();
	test_sha1();
	test_base64();
	test_keys();
	test_frame_parse();
	test_frame_check();
	test_close_check();
	test_utf8_vectors();
	test_utf8_exhaustive();
	test_close_frame();
	test_unmask();
	printf("%u passed, %u failed\n", passed, failed);
	return failed != 0;
}
