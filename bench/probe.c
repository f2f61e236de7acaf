/*
 * probe.c - loadgen --mode probe: one blocking connect, (TLS,) upgrade,
 * 16 B echo and close, to tell that a target is up.  See probe.h.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "probe.h"
#include "tlsclient.h"
#include "wsutil.h"

/* a frame from the client: FIN, opcode, masked, len < 126 */
static size_t client_frame(uint8_t *f, int opcode, const uint8_t *payload, size_t len,
			   const uint8_t key[4])
{
	size_t i;

	f[0] = (uint8_t)(0x80 | opcode);
	f[1] = (uint8_t)(0x80 | len);
	memcpy(f + 2, key, 4);
	for (i = 0; i < len; i++)
		f[6 + i] = payload[i] ^ key[i & 3];
	return 6 + len;
}

static ssize_t io_read(int fd, struct tlsc *t, void *buf, size_t n)
{
	return t ? tlsc_read(t, buf, n) : read(fd, buf, n);
}

static ssize_t io_write(int fd, struct tlsc *t, const void *buf, size_t n)
{
	return t ? tlsc_write(t, buf, n) : write(fd, buf, n);
}

int probe_once(const struct sockaddr_in *target, const char *target_str, const char *path,
	       int use_tls, int verbose, uint64_t seed)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;
	struct timeval tv = { 2, 0 };
	char req[512], resp[4096], acc[29];
	uint8_t kb[16], frame[64], key[4], echo[64], msg[16], code[2] = { 0x03, 0xe8 };
	uint64_t a = seed, b = seed * 0x9E3779B97F4A7C15ull ^ 0x5851F42D4C957F2Dull;
	char k[25];
	struct tlsc *t = NULL;
	size_t got = 0, hl = 0, vl, i;
	const char *v;
	ssize_t n;

	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (const struct sockaddr *)target, sizeof *target) < 0)
		goto out;
	if (use_tls && (!(t = tlsc_new(fd)) || tlsc_handshake(t) != 1)) {
		if (verbose)
			fprintf(stderr, "loadgen: probe: TLS: %s\n", tlsc_error());
		goto out;
	}
	memcpy(kb, &a, 8);
	memcpy(kb + 8, &b, 8);
	base64_encode(kb, 16, k);
	n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n\r\n", path, target_str, k);
	if (io_write(fd, t, req, (size_t)n) != n)
		goto out;
	while (!hl && got < sizeof resp) {
		n = io_read(fd, t, resp + got, sizeof resp - got);
		if (n <= 0)
			goto out;
		got += (size_t)n;
		hl = http_head_len(resp, got);
	}
	if (!hl || memcmp(resp, "HTTP/1.1 101", 12)) {
		if (verbose)
			fprintf(stderr, "loadgen: probe: %.40s\n", resp);
		goto out;
	}
	ws_accept(k, 24, acc);
	v = http_find_header(resp, hl, "sec-websocket-accept", &vl);
	if (!v || vl != 28 || memcmp(v, acc, 28))
		goto out;
	memcpy(key, kb + 3, 4);
	for (vl = 0; vl < 16; vl++)
		msg[vl] = (uint8_t)('a' + vl);
	i = client_frame(frame, 2, msg, 16, key);
	if (io_write(fd, t, frame, i) != (ssize_t)i)
		goto out;
	got -= hl;
	memmove(echo, resp + hl, got < sizeof echo ? got : sizeof echo);
	while (got < 18) {
		n = io_read(fd, t, echo + got, sizeof echo - got);
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	if (echo[0] != 0x82 || echo[1] != 16)
		goto out;
	for (vl = 0; vl < 16; vl++)
		if (echo[2 + vl] != 'a' + vl)
			goto out;
	i = client_frame(frame, 8, code, 2, key);
	if (io_write(fd, t, frame, i) != (ssize_t)i)
		goto out;
	n = io_read(fd, t, echo, sizeof echo);	/* close frame back, best effort */
	ok = 1;
out:
	tlsc_free(t);
	close(fd);
	return ok;
}
