/*
 * fuzz_origin.c - libFuzzer target for the Origin parser of
 * handshake.c (wsproxy(1) HANDSHAKE, --allow-origin).
 *
 * The input's first byte chooses whether "*." is allowed (an entry) or
 * not (a request's Origin); the rest is parsed by hs_origin_parse(),
 * which must not read past it and, when it accepts, must give a scheme
 * of letters, digits and "+-." followed by "://", a non-empty host
 * inside the input, and a port of 1 to 5 digits.  The rest is also
 * sent as the Origin of an upgrade request to hs_check_request() with
 * a list of two entries: 0 or 403 (or 400/426 when the input itself
 * adds header lines), never a crash or a read past the head.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../config.h"
#include "../../handshake.h"
#include "../../ws.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct px_upstream up = { .uri = "ws://u", .host = "u",
    .host_header = "u", .port = "80" };
static struct px_route route = { .prefix = "", .prefix_len = 0,
    .upstream = &up };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allow[] = { "https://a.example", "*.b.example" };
	static char scratch[8192], head[4096];
	struct px_origin o, list[2];
	struct hs_policy pol = { .route = &route, .nroute = 1, .origin = list,
	    .norigin = 2 };
	struct http_head h;
	struct hs_request rq;
	const char *why, *s;
	char *in;
	size_t n, i;
	unsigned st;
	int version, len;

	if (size == 0)
		return 0;
	n = size - 1;
	in = malloc(n ? n : 1);		/* exact size: ASan sees overreads */
	if (in == NULL)
		return 0;
	memcpy(in, data + 1, n);
	if (hs_origin_parse(in, n, &o, data[0] & 1) == 0) {
		if (o.scheme != NULL) {
			CHECK(o.scheme == in && o.scheme_len > 0);
			CHECK(memcmp(in + o.scheme_len, "://", 3) == 0);
			for (i = 0; i < o.scheme_len; i++)
				CHECK(isalnum((unsigned char)in[i]) ||
				    strchr("+-.", in[i]) != NULL);
		}
		CHECK(o.host >= in);
		CHECK(o.host + o.host_len <= in + n && o.host_len > 0);
		CHECK(!o.wild || (data[0] & 1));
		if (o.port != NULL) {
			CHECK(o.port_len >= 1 && o.port_len <= 5);
			CHECK(o.port + o.port_len == in + n);
			for (i = 0; i < o.port_len; i++)
				CHECK(isdigit((unsigned char)o.port[i]));
		}
	}
	for (i = 0; i < 2; i++)
		CHECK(hs_origin_parse(allow[i], strlen(allow[i]), &list[i], 1) == 0);
	len = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: h\r\n"
	    "Origin: %.*s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", (int)(n < 3000 ? n : 3000), in);
	s = head;
	if (len > 0 && (size_t)len < sizeof(head) &&
	    http_parse_request(s, (size_t)len, &h) > 0) {
		why = NULL;
		st = hs_check_request(&pol, &h, scratch, sizeof(scratch), &rq,
		    &version, &why);
		/* (bytes of the input may end the Origin line and add
		 * headers of their own: those can get 400 or 426) */
		CHECK(st == 0 || st == 403 || st == 400 || st == 426);
	}
	free(in);
	return 0;
}
