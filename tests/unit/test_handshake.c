/*
 * test_handshake.c - table-driven unit tests for handshake.c
 * (wsproxy(1) HANDSHAKE), with no global configuration: every table
 * brings its own routes, upstreams and policy.
 *
 *   - hs_check_request: the status of a request, in the man page's order;
 *   - hs_upstream_request: what goes upstream, line by line;
 *   - hs_check_response: the checks of the upstream's 101;
 *   - hs_passthrough: framing, Location, Content-Length;
 *   - hs_client_101 and hs_error: the heads wsproxy writes.
 *
 * Prints one line per failing case and ends with "N passed, N failed".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../handshake.h"

static unsigned passed, failed;

static void
check(int ok, const char *what, const char *name, const char *detail)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL %s %s: %s\n", what, name, detail ? detail : "");
}

/* ------------------------------------------------------------------ */
/* The configuration the tests bring                                   */
/* ------------------------------------------------------------------ */

static struct px_upstream up_app = {
	.uri = "ws://app:4000/internal/chat?token=abc",
	.host = "app", .host_header = "app:4000",
	.path = "/internal/chat", .query = "token=abc", .port = "4000",
};
static struct px_upstream up_root = {
	.uri = "ws://root", .host = "root", .host_header = "root",
	.port = "80",
};
static struct px_route routes[] = {
	{ .prefix = "/chat", .prefix_len = 5, .upstream = &up_app },
	{ .prefix = "", .prefix_len = 0, .upstream = &up_root },
};
static struct px_route chat_only[] = {
	{ .prefix = "/chat", .prefix_len = 5, .upstream = &up_app },
};
static struct px_header op_headers[] = {
	{ .name = "X-Auth-User", .name_len = 11, .value = "operator",
	    .value_len = 8 },
	{ .name = "Host", .name_len = 4, .value = "backend.internal",
	    .value_len = 16 },
	{ .name = "Forwarded", .name_len = 9, .value = "for=10.0.0.1",
	    .value_len = 12 },
};
static char *protocols[] = { "chat", "superchat" };

static const struct hs_policy pol_plain = {
	.route = routes, .nroute = 2,
};
static const struct hs_policy pol_chat = {
	.route = chat_only, .nroute = 1,
};
static const struct hs_policy pol_ops = {
	.route = routes, .nroute = 2, .header = op_headers, .nheader = 3,
	.protocol = protocols, .nprotocol = 2,
};

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define UPGRADE "Upgrade: websocket\r\nConnection: Upgrade\r\n" \
    "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n"

/* ------------------------------------------------------------------ */
/* hs_check_request                                                    */
/* ------------------------------------------------------------------ */

struct req_vec {
	const char	*name;
	const struct hs_policy *pol;
	const char	*head;
	unsigned	 status;
	int		 version;	/* 426 with Sec-WebSocket-Version */
	int		 route;		/* index in the policy, -1 none */
};

static const struct req_vec req_vecs[] = {
	{ "good", &pol_plain, "GET /chat HTTP/1.1\r\nHost: h\r\n" UPGRADE
	    "\r\n", 0, 0, 0 },
	{ "root route", &pol_plain, "GET /other HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "\r\n", 0, 0, 1 },
	{ "prefix not PATHX", &pol_chat, "GET /chats HTTP/1.1\r\nHost: h\r\n"
	    UPGRADE "\r\n", 404, 0, -1 },
	{ "decoded before routing", &pol_chat, "GET /%63hat/x HTTP/1.1\r\n"
	    "Host: h\r\n" UPGRADE "\r\n", 0, 0, 0 },
	{ "dot segment 400 before 404", &pol_chat, "GET /x/%2e%2e HTTP/1.1\r\n"
	    "Host: h\r\n" UPGRADE "\r\n", 400, 0, -1 },
	{ "; changes the route", &pol_plain, "GET /chat;x HTTP/1.1\r\n"
	    "Host: h\r\n" UPGRADE "\r\n", 400, 0, -1 },
	{ "; after the prefix", &pol_plain, "GET /chat/a;x HTTP/1.1\r\n"
	    "Host: h\r\n" UPGRADE "\r\n", 0, 0, 0 },
	{ "body first", &pol_chat, "POST /nowhere HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 0\r\n\r\n", 400, 0, -1 },
	{ "TE", &pol_plain, "GET /chat HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n" UPGRADE "\r\n", 400, 0, -1 },
	{ "no Host", &pol_plain, "GET /chat HTTP/1.1\r\n" UPGRADE "\r\n", 400,
	    0, -1 },
	{ "two Host", &pol_plain, "GET /chat HTTP/1.1\r\nHost: a\r\nHost: b"
	    "\r\n" UPGRADE "\r\n", 400, 0, -1 },
	{ "bad Host", &pol_plain, "GET /chat HTTP/1.1\r\nHost: a,b\r\n" UPGRADE
	    "\r\n", 400, 0, -1 },
	{ "404 before 426", &pol_chat, "POST /x HTTP/1.1\r\nHost: h\r\n\r\n",
	    404, 0, -1 },
	{ "not GET", &pol_plain, "POST /chat HTTP/1.1\r\nHost: h\r\n" UPGRADE
	    "\r\n", 426, 0, 0 },
	{ "HTTP/1.0", &pol_plain, "GET /chat HTTP/1.0\r\n" UPGRADE "\r\n", 426,
	    0, 0 },
	{ "no Upgrade", &pol_plain, "GET /chat HTTP/1.1\r\nHost: h\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", 426, 0, 0 },
	{ "tokens in lists", &pol_plain, "GET /chat HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: foo, WebSocket\r\nConnection: keep-alive, upgrade\r\n"
	    "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    0, 0, 0 },
	{ "version 8", &pol_plain, "GET /chat HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n",
	    426, 1, 0 },
	{ "426 before bad key", &pol_plain, "GET /chat HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: x\r\n\r\n", 426, 1, 0 },
	{ "bad key", &pol_plain, "GET /chat HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: xx\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    400, 0, 0 },
	{ "absolute-form", &pol_plain, "GET ws://h:1/chat HTTP/1.1\r\n"
	    "Host: h\r\n" UPGRADE "\r\n", 0, 0, 0 },
	{ "absolute-form ftp", &pol_plain, "GET ftp://h/chat HTTP/1.1\r\n"
	    "Host: h\r\n" UPGRADE "\r\n", 400, 0, -1 },
};

static char scratch[4096];

static void
test_check_request(void)
{
	struct http_head h;
	struct hs_request rq;
	const char *why;
	unsigned st;
	size_t i;
	int version, n;

	for (i = 0; i < sizeof(req_vecs) / sizeof(req_vecs[0]); i++) {
		const struct req_vec *v = &req_vecs[i];
		char d[200];

		n = http_parse_request(v->head, strlen(v->head), &h);
		if (n <= 0) {
			check(0, "check_request", v->name, "does not parse");
			continue;
		}
		why = NULL;
		st = hs_check_request(v->pol, &h, scratch, sizeof(scratch), &rq,
		    &version, &why);
		snprintf(d, sizeof(d), "status %u (%s), want %u; version %d",
		    st, why ? why : "-", v->status, version);
		check(st == v->status && (st != 426 || version == v->version),
		    "check_request", v->name, d);
		if (st == 0 || st >= 426)
			check(v->route < 0 ? rq.route == NULL :
			    rq.route == &v->pol->route[v->route],
			    "check_request route", v->name, "wrong route");
		check(st == 0 || why != NULL, "check_request why", v->name,
		    "no reason for the log");
	}
}

/* ------------------------------------------------------------------ */
/* hs_upstream_request                                                 */
/* ------------------------------------------------------------------ */

struct up_vec {
	const char	*name;
	const struct hs_policy *pol;
	const char	*head;
	const char	*ip;
	const char	*has[8];	/* lines (CRLF-ended) it must hold */
	const char	*hasnt[8];	/* text it must not hold */
	int		 trusted;	/* the client is in --trust-proxy */
};

static const struct up_vec up_vecs[] = {
	{ "rewrite and query", &pol_plain,
	    "GET /chat/room?token=evil&x=1 HTTP/1.1\r\nHost: front:8080\r\n"
	    UPGRADE "\r\n", "192.0.2.1",
	    { "GET /internal/chat/room?token=abc&x=1 HTTP/1.1\r\n",
	      "\r\nHost: app:4000\r\n", "\r\nX-Forwarded-For: 192.0.2.1\r\n",
	      "\r\nX-Forwarded-Proto: ws\r\n",
	      "\r\nX-Forwarded-Host: front:8080\r\n",
	      "\r\nForwarded: for=192.0.2.1;proto=ws;host=\"front:8080\"\r\n",
	      "\r\nSec-WebSocket-Key: " KEY "\r\n", NULL },
	    { "evil", NULL }, 0 },
	{ "identity claims dropped", &pol_plain,
	    "GET /x HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6\r\n"
	    "X_Real_IP: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n"
	    "True-Client-IP: 6.6.6.6\r\nX-Forwarded-Prefix: /a\r\n" UPGRADE
	    "\r\n", "2001:db8::1",
	    { "GET /x HTTP/1.1\r\n", "\r\nHost: root\r\n",
	      "\r\nX-Forwarded-For: 2001:db8::1\r\n",
	      "\r\nForwarded: for=\"[2001:db8::1]\";proto=ws;host=\"h\"\r\n",
	      NULL },
	    { "6.6.6.6", "Prefix", NULL }, 0 },
	{ "trusted: the chain kept, the client appended", &pol_plain,
	    "GET /x HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7\r\n"
	    "x-forwarded-for: 10.0.0.2\r\nX_Forwarded_For: 6.6.6.6\r\n"
	    "Forwarded: for=203.0.113.7;proto=https\r\nX-Real-IP: 6.6.6.6\r\n"
	    "X-Forwarded-Proto: https\r\n" UPGRADE "\r\n", "10.0.0.3",
	    { "\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.2, 10.0.0.3\r\n",
	      "\r\nForwarded: for=203.0.113.7;proto=https, for=10.0.0.3;"
	      "proto=ws;host=\"h\"\r\n", "\r\nX-Forwarded-Proto: ws\r\n",
	      NULL },
	    { "6.6.6.6", "https\r\n", NULL }, 1 },
	{ "trusted, IPv6, no chain of its own", &pol_plain,
	    "GET /x HTTP/1.1\r\nHost: h\r\n" UPGRADE "\r\n", "2001:db8::1",
	    { "\r\nX-Forwarded-For: 2001:db8::1\r\n",
	      "\r\nForwarded: for=\"[2001:db8::1]\";proto=ws;host=\"h\"\r\n",
	      NULL },
	    { ", ", NULL }, 1 },
	{ "hop-by-hop and Connection-named", &pol_plain,
	    "GET /x HTTP/1.1\r\nHost: h\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
	    "Proxy-Authorization: x\r\nX-Drop-This-Very-Long-Header-Name-That-"
	    "Is-Longer-Than-Sixty-Four-Bytes-Indeed: v\r\nCookie: c=1\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade, X-Drop-This-Very-Long-"
	    "Header-Name-That-Is-Longer-Than-Sixty-Four-Bytes-Indeed\r\n"
	    "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    "127.0.0.1",
	    { "\r\nCookie: c=1\r\n", "\r\nConnection: Upgrade\r\n", NULL },
	    { "Keep-Alive", "TE:", "Proxy-", "X-Drop", NULL }, 0 },
	{ "--header is the last word", &pol_ops,
	    "GET /x HTTP/1.1\r\nHost: h\r\nX_Auth_User: admin\r\n"
	    "x-auth-user: admin\r\nSec-WebSocket-Protocol: chat, other, "
	    "superchat\r\nSec-WebSocket-Extensions: permessage-deflate; "
	    "client_max_window_bits, x-webkit-deflate-frame\r\n" UPGRADE "\r\n",
	    "127.0.0.1",
	    { "\r\nX-Auth-User: operator\r\n", "\r\nHost: backend.internal\r\n",
	      "\r\nForwarded: for=10.0.0.1\r\n",
	      "\r\nSec-WebSocket-Protocol: chat, superchat\r\n",
	      "\r\nSec-WebSocket-Extensions: permessage-deflate; "
	      "client_max_window_bits\r\n", NULL },
	    { "admin", "Host: root", "other", "webkit", "for=127", NULL }, 0 },
	{ "unix-socket client", &pol_plain,
	    "GET /x HTTP/1.1\r\nHost: h\r\n" UPGRADE "\r\n", "unix:",
	    { "\r\nX-Forwarded-For: unix:\r\n",
	      "\r\nForwarded: for=_unix;proto=ws;host=\"h\"\r\n", NULL },
	    { "[unix", "for=unix", NULL }, 0 },
};

static void
test_upstream_request(void)
{
	char out[4096];
	struct http_head h;
	struct hs_request rq;
	const char *why;
	size_t i, j, n;
	int version;

	for (i = 0; i < sizeof(up_vecs) / sizeof(up_vecs[0]); i++) {
		const struct up_vec *v = &up_vecs[i];

		if (http_parse_request(v->head, strlen(v->head), &h) <= 0 ||
		    hs_check_request(v->pol, &h, scratch, sizeof(scratch), &rq,
		    &version, &why) != 0) {
			check(0, "upstream_request", v->name, "not accepted");
			continue;
		}
		n = hs_upstream_request(v->pol, &rq, v->ip, 0, v->trusted, out,
		    sizeof(out) - 1);
		out[n] = '\0';
		check(n > 0 && strcmp(out + n - 4, "\r\n\r\n") == 0,
		    "upstream_request", v->name, "not a head");
		for (j = 0; v->has[j] != NULL; j++)
			check(strstr(out, v->has[j]) != NULL, "upstream_request",
			    v->name, v->has[j]);
		for (j = 0; v->hasnt[j] != NULL; j++)
			check(strstr(out, v->hasnt[j]) == NULL,
			    "upstream_request has", v->name, v->hasnt[j]);
		/* exactly one of each line wsproxy writes */
		check(strstr(strstr(out, "\r\nHost: ") + 1, "\r\nHost: ") ==
		    NULL, "upstream_request", v->name, "two Host lines");
		/* too small a buffer: 0, never an overflow */
		check(hs_upstream_request(v->pol, &rq, v->ip, 0, v->trusted, out,
		    n - 1) == 0, "upstream_request cap", v->name, "fit in less");
	}
}

/* ------------------------------------------------------------------ */
/* hs_check_response, hs_client_101                                    */
/* ------------------------------------------------------------------ */

struct res_vec {
	const char	*name;
	const char	*offer;		/* extra request headers */
	const char	*answer;
	int		 good;
	int		 deflate;
};

static const struct res_vec res_vecs[] = {
	{ "good", "", "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
	    1, 0 },
	{ "no Upgrade", "", "HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n", 0, 0 },
	{ "bad accept", "", "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: x" ACCEPT "\r\n\r\n",
	    0, 0 },
	{ "two accepts", "", "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n"
	    "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n", 0, 0 },
	{ "protocol offered", "Sec-WebSocket-Protocol: chat\r\n",
	    "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Protocol: chat"
	    "\r\n\r\n", 1, 0 },
	{ "protocol not offered", "Sec-WebSocket-Protocol: chat\r\n",
	    "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Protocol: mqtt"
	    "\r\n\r\n", 0, 0 },
	{ "deflate", "Sec-WebSocket-Extensions: permessage-deflate\r\n",
	    "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Extensions: "
	    "permessage-deflate\r\n\r\n", 1, 1 },
	{ "deflate not offered", "", "HTTP/1.1 101 OK\r\nUpgrade: websocket"
	    "\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n"
	    "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", 0, 0 },
};

static void
test_check_response(void)
{
	char req[1024], out[2048];
	struct http_head h, r;
	const char *why;
	size_t i, n;
	int deflate;

	for (i = 0; i < sizeof(res_vecs) / sizeof(res_vecs[0]); i++) {
		const struct res_vec *v = &res_vecs[i];

		snprintf(req, sizeof(req), "GET /x HTTP/1.1\r\nHost: h\r\n%s"
		    UPGRADE "\r\n", v->offer);
		if (http_parse_request(req, strlen(req), &h) <= 0 ||
		    http_parse_response(v->answer, strlen(v->answer), &r) <= 0) {
			check(0, "check_response", v->name, "does not parse");
			continue;
		}
		deflate = -1;
		why = hs_check_response(&pol_ops, &h, &r, &deflate);
		check((why == NULL) == v->good && (!v->good ||
		    deflate == v->deflate), "check_response", v->name,
		    why ? why : "accepted");
		if (why == NULL) {
			n = hs_client_101(&r, out, sizeof(out) - 1);
			out[n] = '\0';
			check(n > 0 && strstr(out, "Sec-WebSocket-Accept: " ACCEPT
			    "\r\n") != NULL, "client_101", v->name, out);
		}
	}
}

static void
test_client_101(void)
{
	static const char answer[] = "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade, X-Hop\r\nSec-WebSocket-Accept: " ACCEPT "\r\n"
	    "Set-Cookie: s=1\r\nKeep-Alive: 5\r\nX-Hop: 1\r\n\r\n";
	char out[1024];
	struct http_head r;
	size_t n;

	(void)http_parse_response(answer, sizeof(answer) - 1, &r);
	n = hs_client_101(&r, out, sizeof(out) - 1);
	out[n] = '\0';
	check(strncmp(out, "HTTP/1.1 101 Switching Protocols\r\n", 34) == 0,
	    "client_101", "status line", out);
	check(strstr(out, "\r\nSet-Cookie: s=1\r\n") != NULL, "client_101",
	    "Set-Cookie kept", out);
	check(strstr(out, "Keep-Alive") == NULL && strstr(out, "X-Hop") == NULL,
	    "client_101", "hop-by-hop dropped", out);
	check(hs_client_101(&r, out, 20) == 0, "client_101", "cap", NULL);
}

/* ------------------------------------------------------------------ */
/* hs_passthrough                                                      */
/* ------------------------------------------------------------------ */

struct pass_vec {
	const char	*name;
	const char	*answer;
	const char	*why;		/* a word of the 502 reason, or NULL */
	uint64_t	 body;
	const char	*has;		/* a line the client's head holds */
};

static const struct pass_vec pass_vecs[] = {
	{ "length", "HTTP/1.1 403 No\r\nContent-Length: 4\r\n\r\n", NULL, 4,
	    "\r\nContent-Length: 4\r\n" },
	{ "same twice", "HTTP/1.1 403 No\r\nContent-Length: 4\r\n"
	    "Content-Length: 4\r\n\r\n", NULL, 4, "\r\nContent-Length: 4\r\n"
	    "Connection: close\r\n" },
	{ "list of same", "HTTP/1.1 403 No\r\nContent-Length: 4, 4\r\n\r\n",
	    NULL, 4, NULL },
	{ "two values", "HTTP/1.1 403 No\r\nContent-Length: 4\r\n"
	    "Content-Length: 5\r\n\r\n", "conflicting", 0, NULL },
	{ "list of two", "HTTP/1.1 403 No\r\nContent-Length: 4, 5\r\n\r\n",
	    "conflicting", 0, NULL },
	{ "CL and TE", "HTTP/1.1 403 No\r\nContent-Length: 4\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding", 0, NULL },
	{ "not a number", "HTTP/1.1 403 No\r\nContent-Length: +4\r\n\r\n",
	    "bad", 0, NULL },
	{ "empty", "HTTP/1.1 403 No\r\nContent-Length: \r\n\r\n", "bad", 0,
	    NULL },
	{ "19 digits", "HTTP/1.1 403 No\r\nContent-Length: "
	    "1000000000000000000\r\n\r\n", "large", 0, NULL },
	{ "chunked", "HTTP/1.1 403 No\r\nTransfer-Encoding: chunked\r\n\r\n",
	    NULL, UINT64_MAX, "\r\nTransfer-Encoding: chunked\r\n" },
	{ "no length", "HTTP/1.1 403 No\r\n\r\n", NULL, UINT64_MAX, NULL },
	{ "204", "HTTP/1.1 204 No\r\n\r\n", NULL, 0, NULL },
	{ "304 with length", "HTTP/1.1 304 No\r\nContent-Length: 9\r\n\r\n",
	    NULL, 0, NULL },
	{ "Location at the upstream", "HTTP/1.1 302 F\r\nLocation: "
	    "http://APP:4000/internal/chat/login?x\r\n\r\n", NULL, UINT64_MAX,
	    "\r\nLocation: /chat/login?x\r\n" },
	{ "Location default port", "HTTP/1.1 302 F\r\nLocation: "
	    "wss://app/internal/chat\r\n\r\n", NULL, UINT64_MAX,
	    "\r\nLocation: wss://app/internal/chat\r\n" },
	{ "Location elsewhere", "HTTP/1.1 302 F\r\nLocation: "
	    "http://other:4000/internal/chat\r\n\r\n", NULL, UINT64_MAX,
	    "\r\nLocation: http://other:4000/internal/chat\r\n" },
	{ "Location outside the path", "HTTP/1.1 302 F\r\nLocation: "
	    "ws://app:4000/internalx\r\n\r\n", NULL, UINT64_MAX,
	    "\r\nLocation: /internalx\r\n" },
	{ "relative Location", "HTTP/1.1 302 F\r\nLocation: x/y\r\n\r\n",
	    NULL, UINT64_MAX, "\r\nLocation: x/y\r\n" },
};

static void
test_passthrough(void)
{
	char out[1024];
	struct http_head r;
	const char *why;
	uint64_t body;
	size_t i, n;

	for (i = 0; i < sizeof(pass_vecs) / sizeof(pass_vecs[0]); i++) {
		const struct pass_vec *v = &pass_vecs[i];

		if (http_parse_response(v->answer, strlen(v->answer), &r) <= 0) {
			check(0, "passthrough", v->name, "does not parse");
			continue;
		}
		n = 0;
		body = 7;
		why = hs_passthrough(&r, &routes[0], routes[0].upstream, out, sizeof(out) - 1, &n,
		    &body);
		if (v->why != NULL) {
			check(why != NULL && strstr(why, v->why) != NULL,
			    "passthrough", v->name, why ? why : "passed");
			continue;
		}
		out[n] = '\0';
		check(why == NULL && n > 0 && body == v->body, "passthrough",
		    v->name, why ? why : out);
		check(strstr(out, "\r\nConnection: close\r\n\r\n") != NULL,
		    "passthrough", v->name, "no Connection: close");
		if (v->has != NULL)
			check(strstr(out, v->has) != NULL, "passthrough", v->name,
			    out);
	}
}

static void
test_error(void)
{
	char out[512];
	size_t n;

	n = hs_error(out, sizeof(out), 426, 1, 0);
	out[n] = '\0';
	check(strncmp(out, "HTTP/1.1 426 Upgrade Required\r\n", 31) == 0 &&
	    strstr(out, "\r\nSec-WebSocket-Version: 13\r\n") &&
	    strstr(out, "\r\nUpgrade: websocket\r\n") &&
	    strstr(out, "\r\nConnection: Upgrade, close\r\n") &&
	    strstr(out, "\r\nContent-Type: text/plain\r\n"), "error", "426",
	    out);
	n = hs_error(out, sizeof(out), 503, 0, 0);
	out[n] = '\0';
	check(strstr(out, "\r\nConnection: close\r\n") != NULL &&
	    strstr(out, "Upgrade") == NULL && strstr(out, "Retry-After") ==
	    NULL && strstr(out, "\r\n\r\n503 ") != NULL, "error", "503", out);
	n = hs_error(out, sizeof(out), 503, 0, 1);
	out[n] = '\0';
	check(strstr(out, "\r\nRetry-After: 1\r\n") != NULL, "error",
	    "503 Retry-After", out);
}

/* ------------------------------------------------------------------ */
/* --allow-origin: hs_origin_parse and the 403                         */
/* ------------------------------------------------------------------ */

static const struct { const char *s; int wild_ok, ok; } parse_vecs[] = {
	{ "https://a.example", 0, 0 }, { "HTTP://A.Example:8080", 0, 0 },
	{ "https://[::1]:8443", 0, 0 }, { "a.example", 1, 0 },
	{ "*.example.com", 1, 0 }, { "https://*.example.com:443", 1, 0 },
	{ "*.example.com", 0, -1 }, { "*", 1, -1 }, { "*.", 1, -1 },
	{ "https://", 0, -1 }, { "https://a/", 0, -1 }, { "https://a:", 0, -1 },
	{ "https://a:65536", 0, -1 }, { "https://a:123456", 0, -1 },
	{ "1x://a", 0, -1 }, { "://a", 0, -1 }, { "https://a b", 0, -1 },
	{ "https://*.*.a", 1, -1 }, { "https://[::1", 0, -1 },
	{ "https://[::g]", 0, -1 }, { "", 0, -1 }, { "null", 0, 0 },
};

static const char *const allow[] = {
	"https://chat.example.com", "*.apps.example.com", "http://l:3000"
};

static const struct { const char *origin; unsigned status; } origin_vecs[] = {
	{ "Origin: https://chat.example.com\r\n", 0 },
	{ "Origin: HTTPS://CHAT.example.COM\r\n", 0 },
	{ "Origin: https://x.apps.example.com\r\n", 0 },
	{ "Origin: http://x.apps.example.com\r\n", 0 },
	{ "Origin: http://l:3000\r\n", 0 },
	{ "", 403 },
	{ "Origin: null\r\n", 403 },
	{ "Origin: https://chat.example.com:443\r\n", 403 },
	{ "Origin: http://chat.example.com\r\n", 403 },
	{ "Origin: https://apps.example.com\r\n", 403 },
	{ "Origin: https://a.b.apps.example.com\r\n", 403 },
	{ "Origin: https://xapps.example.com\r\n", 403 },
	{ "Origin: wss://x.apps.example.com\r\n", 403 },
	{ "Origin: http://l:30000\r\n", 403 },
	{ "Origin: https://chat.example.com.evil\r\n", 403 },
	{ "Origin: https://chat.example.com\r\n"
	    "Origin: https://chat.example.com\r\n", 403 },
};

static void
test_origin(void)
{
	struct px_origin o[3];
	struct hs_policy pol = { .route = routes, .nroute = 2, .origin = o,
	    .norigin = 3 };
	struct http_head h;
	struct hs_request rq;
	const char *why;
	char head[512], d[160];
	size_t i;
	int version, n;

	for (i = 0; i < sizeof(parse_vecs) / sizeof(parse_vecs[0]); i++) {
		struct px_origin x;

		n = hs_origin_parse(parse_vecs[i].s, strlen(parse_vecs[i].s), &x,
		    parse_vecs[i].wild_ok);
		snprintf(d, sizeof(d), "got %d, want %d", n, parse_vecs[i].ok);
		check(n == parse_vecs[i].ok, "origin_parse", parse_vecs[i].s, d);
	}
	for (i = 0; i < 3; i++)
		if (hs_origin_parse(allow[i], strlen(allow[i]), &o[i], 1) < 0)
			check(0, "origin entry", allow[i], "does not parse");
	for (i = 0; i < sizeof(origin_vecs) / sizeof(origin_vecs[0]); i++) {
		snprintf(head, sizeof(head), "GET /chat HTTP/1.1\r\nHost: h\r\n"
		    "%s" UPGRADE "\r\n", origin_vecs[i].origin);
		n = http_parse_request(head, strlen(head), &h);
		why = NULL;
		snprintf(d, sizeof(d), "want %u", origin_vecs[i].status);
		check(n > 0 && hs_check_request(&pol, &h, scratch,
		    sizeof(scratch), &rq, &version, &why) ==
		    origin_vecs[i].status, "allow_origin", origin_vecs[i].origin,
		    d);
	}
	/* no list: any Origin, or none */
	snprintf(head, sizeof(head), "GET /chat HTTP/1.1\r\nHost: h\r\n"
	    "Origin: https://evil\r\n" UPGRADE "\r\n");
	n = http_parse_request(head, strlen(head), &h);
	check(n > 0 && hs_check_request(&pol_plain, &h, scratch,
	    sizeof(scratch), &rq, &version, &why) == 0, "allow_origin",
	    "no list", "refused");
}

int
main(void)
{
	test_check_request();
	test_origin();
	test_upstream_request();
	test_check_response();
	test_client_101();
	test_passthrough();
	test_error();
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
