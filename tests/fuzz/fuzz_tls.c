/*
 * fuzz_tls.c - libFuzzer target for tls.c's engine ends: a wsproxy
 * server end (tls_server_new) on one side of a socketpair, a BearSSL
 * client engine driven here on the other, and the input a script of
 * operations that moves the end between idle (record buffer parked)
 * and active (records in flight) in every order (wsproxy(1) TLS,
 * LIMITS):
 *
 *   op % 14:  0 client writes app data    1 server io_read(chunk)
 *             2 server io_write(n)        3 client pumps records
 *             4 tls_pool_trim, time on    5 client close_notify
 *             6 raw bytes injected        7 next client record corrupted
 *             8 client TCP half-close     9 tls_shutdown
 *            10 tls_handshake            11 tls_close
 *            12 client sends part of its pending records only
 *            13 client socket closed (the server's sends fail)
 *
 * Each direction carries a numbered byte pattern, so checked:
 *   - what each side reads is exactly the next bytes the other wrote
 *     (in order, nothing twice, nothing invented), up to an error;
 *   - io_read/io_write return what io.h promises, and a failed end
 *     still says why (tls_error);
 *   - with no fault injected and no end closed, the script ends with
 *     both directions settled: every byte written has been read (no
 *     loss, also of bytes an idle end parked);
 *   - with no fault injected and no end closed inside the handshake,
 *     neither engine ends in an error;
 *   - after tls_close every end and record buffer is back in its pool.
 * Under ASan a parked record buffer is poisoned (tls.c rec_put), so an
 * engine still using one crashes here.
 *
 * tls.c is #included for its pools; the certificate is a fixed
 * self-signed P-256 one, written to a temp dir once and read by
 * tls_load.c as --listen-cert/--listen-key would be.
 */
#define WSPROXY_TLS 1
#include "../../tls.c"

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct px_config px_cfg;

static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWb504AJ0krdQPZT+\n"
    "7zCFX6ev24Sk74CSypVHiaNhvzihRANCAASL4ECeYUE9Z5ha9Q97Y6vpg68aWXie\n"
    "QnD3ut0bCjL+QaDFbI5cmiGq3hnJ3uCeM7XDCRgVE6q4qCcLfTrSqMfx\n"
    "-----END PRIVATE KEY-----\n";
static const char cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBlDCCATugAwIBAgIURo+F4ZTIHFaHEZ/ionu7GUleSSowCgYIKoZIzj0EAwIw\n"
    "FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMTIyMTA0OFoYDzIxMjYxMTA3\n"
    "MjIxMDQ4WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAASL4ECeYUE9Z5ha9Q97Y6vpg68aWXieQnD3ut0bCjL+QaDFbI5cmiGq\n"
    "3hnJ3uCeM7XDCRgVE6q4qCcLfTrSqMfxo2kwZzAdBgNVHQ4EFgQUiH4NvE0ezsAU\n"
    "H21Hp3H+4d6npRgwHwYDVR0jBBgwFoAUiH4NvE0ezsAUH21Hp3H+4d6npRgwDwYD\n"
    "VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID\n"
    "RwAwRAIgAnja0yB1/cigTha6Oy2bfOZKR/7VYFDUL4pFLt+vXU8CIFYnw3lJTgRu\n"
    "TlfhWUhI2VwLqGzJj/0mGdbPTkmc9QCb\n"
    "-----END CERTIFICATE-----\n";

/* The client: BearSSL's full client with the server's key pinned. */
static br_ssl_client_context cc;
static br_x509_minimal_context xc;
static br_x509_knownkey_context xk;
static unsigned char cbuf[BR_SSL_BUFSIZE_BIDI];
static br_ec_public_key server_pub;
static unsigned char server_q[BR_EC_KBUF_PUB_MAX_SIZE];

/* The byte at position i of direction d. */
static uint8_t
pattern(int d, uint64_t i)
{
	return (uint8_t)((i * 31u) ^ (i >> 8) ^ (i >> 16) ^ (uint64_t)(d * 0x5a));
}

static void
fill(int d, uint64_t off, uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = pattern(d, off + i);
}

static int
matches(int d, uint64_t off, const uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (buf[i] != pattern(d, off + i))
			return 0;
	return 1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	CHECK(fputs(text, f) >= 0);
	CHECK(fclose(f) == 0);
}

static void
setup_once(void)
{
	static char dir[] = "/tmp/fuzz_tls.XXXXXX", crt[64], key[64];
	static int done;
	char err[256];
	const br_ec_private_key *sk;

	if (done)
		return;
	done = 1;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(crt, sizeof(crt), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	write_file(crt, cert_pem);
	write_file(key, key_pem);
	px_cfg.listen_cert = crt;
	px_cfg.listen_key = key;
	px_cfg.nlisten = 1;
	px_cfg.listen[0].tls = 1;
	px_cfg.log_level = PX_LOG_ERROR;
	if (tls_setup(err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_tls: %s\n", err);
		abort();
	}
	CHECK(tls_pool_init(2) == 0);
	(void)unlink(crt);
	(void)unlink(key);
	(void)rmdir(dir);
	sk = br_skey_decoder_get_ec(&mat->server_key->dc);
	CHECK(sk != NULL);
	CHECK(br_ec_compute_pub(br_ec_get_default(), &server_pub, server_q,
	    sk) > 0);
}

/* One run's state. */
struct run {
	struct tls_conn	*t;		/* NULL once closed */
	int		 fs, fc;	/* server's and client's sockets */
	uint64_t	 c_sent;	/* client bytes its engine took */
	uint64_t	 s_read;	/* of those, read by the server */
	uint64_t	 s_wrote;	/* server bytes io_write reported */
	size_t		 s_pending;	/* io_write said AGAIN with this many */
	uint64_t	 c_read;	/* of those, read by the client */
	int		 faulty;	/* bytes injected or corrupted */
	int		 ended;		/* some end closed or failed */
	int		 corrupt_next;	/* corrupt the next client record */
	int		 early_end;	/* an end closed inside the handshake */
	uint64_t	 now;		/* ms, for tls_pool_trim */
	uint8_t		 buf[20000];
};

static int
client_alive(void)
{
	return !(br_ssl_engine_current_state(&cc.eng) & BR_SSL_CLOSED);
}

/* Both ends past the handshake. */
static int
handshaken(const struct run *r)
{
	return r->t != NULL && r->t->ready &&
	    (br_ssl_engine_current_state(&cc.eng) &
	    (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) != 0;
}

/* Client records out to the socket, at most max bytes. */
static void
client_send(struct run *r, size_t max)
{
	unsigned char *b;
	size_t len;
	ssize_t n;

	while (max > 0 && (b = br_ssl_engine_sendrec_buf(&cc.eng, &len))) {
		if (len > max)
			len = max;
		if (r->corrupt_next) {
			b[len - 1] ^= 0x40;
			r->corrupt_next = 0;
			r->faulty = 1;
		}
		n = send(r->fc, b, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		br_ssl_engine_sendrec_ack(&cc.eng, (size_t)n);
		max -= (size_t)n;
	}
}

/* Client: records out, records in, app data read and checked. */
static void
client_pump(struct run *r)
{
	unsigned char *b;
	size_t len;
	ssize_t n;
	int rounds;

	for (rounds = 0; rounds < 64 && client_alive(); rounds++) {
		client_send(r, SIZE_MAX);
		if ((b = br_ssl_engine_recvapp_buf(&cc.eng, &len)) != NULL) {
			CHECK(matches(1, r->c_read, b, len));
			r->c_read += len;
			CHECK(r->c_read <= r->s_wrote + r->s_pending);
			br_ssl_engine_recvapp_ack(&cc.eng, len);
			continue;
		}
		if ((b = br_ssl_engine_recvrec_buf(&cc.eng, &len)) == NULL)
			break;
		n = recv(r->fc, b, len, 0);
		if (n <= 0)
			break;
		br_ssl_engine_recvrec_ack(&cc.eng, (size_t)n);
	}
	if (!client_alive())
		r->ended = 1;
}

/* App data into records; the last record stays with the client until
 * a pump or a partial send (op 12) lets it out. */
static void
client_write(struct run *r, size_t k)
{
	unsigned char *b;
	size_t len;

	while (k > 0 && client_alive()) {
		if ((b = br_ssl_engine_sendapp_buf(&cc.eng, &len)) == NULL) {
			client_send(r, SIZE_MAX);
			b = br_ssl_engine_sendapp_buf(&cc.eng, &len);
			if (b == NULL)
				break;
		}
		if (len > k)
			len = k;
		fill(0, r->c_sent, b, len);
		br_ssl_engine_sendapp_ack(&cc.eng, len);
		r->c_sent += len;
		k -= len;
		br_ssl_engine_flush(&cc.eng, 0);
	}
}

/* An end that failed says why (a parked one too). */
static void
server_failed(struct run *r)
{
	char detail[128];

	detail[0] = '\0';
	(void)tls_error(r->t, detail, sizeof(detail));
	CHECK(strncmp(detail, "bearssl_error=", 14) == 0);
	r->ended = 1;
}

/* io_read on the server end, checked against the client's pattern. */
static ssize_t
server_read(struct run *r, size_t chunk)
{
	ssize_t n = io_read(r->fs, r->t, r->buf, chunk);

	if (n > 0) {
		CHECK((size_t)n <= chunk);
		CHECK(matches(0, r->s_read, r->buf, (size_t)n));
		r->s_read += (uint64_t)n;
		CHECK(r->s_read <= r->c_sent);
	} else {
		CHECK(n == PX_IO_AGAIN || n == PX_IO_CLOSED ||
		    n == PX_IO_ERROR);
		if (n == PX_IO_ERROR)
			server_failed(r);
		else if (n == PX_IO_CLOSED)
			r->ended = 1;
	}
	return n;
}

/* io_write on the server end; after AGAIN the same bytes are offered
 * again (at least as many), as the relay does. */
static ssize_t
server_write(struct run *r, size_t len)
{
	ssize_t n;

	if (len < r->s_pending)
		len = r->s_pending;
	fill(1, r->s_wrote, r->buf, len);
	n = io_write(r->fs, r->t, r->buf, len);
	if (n >= 0) {
		CHECK((size_t)n <= len);
		r->s_wrote += (uint64_t)n;
		r->s_pending = 0;
	} else if (n == PX_IO_AGAIN) {
		/* Some of it may already be in a record on its way. */
		r->s_pending = len;
	} else {
		CHECK(n == PX_IO_ERROR);
		server_failed(r);
	}
	return n;
}

static void
server_close(struct run *r)
{
	tls_close(r->t);
	r->t = NULL;
	r->ended = 1;
	CHECK(tls_in_use() == 0);
	CHECK(pool_used(&recs) == 0);
	CHECK(recs.promised == 0);
}

/* No fault, no end closed: every byte written must come through. */
static void
settle(struct run *r)
{
	int i;

	for (i = 0; i < 200 && !r->ended; i++) {
		if (r->s_read == r->c_sent && r->c_read == r->s_wrote &&
		    r->s_pending == 0)
			return;
		client_pump(r);
		while (!r->ended && server_read(r, sizeof(r->buf)) > 0)
			;
		if (r->s_pending > 0 && !r->ended)
			(void)server_write(r, r->s_pending);
	}
	if (r->ended || r->faulty)
		return;
	fprintf(stderr, "fuzz_tls: c->s %llu sent %llu read, s->c %llu "
	    "written (%zu pending) %llu read\n",
	    (unsigned long long)r->c_sent, (unsigned long long)r->s_read,
	    (unsigned long long)r->s_wrote, r->s_pending,
	    (unsigned long long)r->c_read);
	CHECK(r->s_read == r->c_sent && r->c_read == r->s_wrote);
}

static size_t
arg16(const uint8_t *d, size_t size, size_t *i)
{
	size_t v = 0;

	if (*i < size)
		v = d[(*i)++];
	if (*i < size)
		v = v << 8 | d[(*i)++];
	return v;
}

static void
client_start(void)
{
	static const unsigned char seed[32] = "fuzz_tls fixed client entropy";

	br_ssl_client_init_full(&cc, &xc, NULL, 0);
	br_x509_knownkey_init_ec(&xk, &server_pub,
	    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	br_ssl_engine_set_x509(&cc.eng, &xk.vtable);
	br_ssl_engine_set_buffer(&cc.eng, cbuf, sizeof(cbuf), 1);
	br_ssl_engine_inject_entropy(&cc.eng, seed, sizeof(seed));
	cc.eng.rng_os_rand_done = 1;
	CHECK(br_ssl_client_reset(&cc, "localhost", 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	int sv[2];
	size_t i = 0, a;
	uint8_t op;

	setup_once();
	memset(&r, 0, offsetof(struct run, buf));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	r.fs = sv[0];
	r.fc = sv[1];
	CHECK(fcntl(r.fs, F_SETFL, O_NONBLOCK) == 0);
	CHECK(fcntl(r.fc, F_SETFL, O_NONBLOCK) == 0);
	r.t = tls_server_new(r.fs);
	CHECK(r.t != NULL);
	client_start();
	while (i < size) {
		op = data[i++] % 14;
		/* Closing inside the handshake may fail either engine. */
		if ((op == 5 || op == 8 || op == 9 || op == 11 || op == 13) &&
		    !handshaken(&r))
			r.early_end = 1;
		switch (op) {
		case 0:
			client_write(&r, arg16(data, size, &i) % 20000);
			break;
		case 1:
			a = arg16(data, size, &i) % sizeof(r.buf) + 1;
			if (r.t != NULL)
				(void)server_read(&r, a);
			break;
		case 2:
			a = arg16(data, size, &i) % sizeof(r.buf) + 1;
			if (r.t != NULL && !r.ended)
				(void)server_write(&r, a);
			break;
		case 3:
			client_pump(&r);
			break;
		case 4:
			r.now += (i < size ? data[i++] : 0) * 1000u;
			tls_pool_trim(r.now);
			break;
		case 5:
			br_ssl_engine_close(&cc.eng);
			client_send(&r, SIZE_MAX);
			r.ended = 1;
			break;
		case 6:
			a = i < size ? data[i++] % 16 + 1 : 1;
			if (a > size - i)
				a = size - i;
			if (a > 0 && send(r.fc, data + i, a, MSG_NOSIGNAL) > 0)
				r.faulty = 1;
			i += a;
			break;
		case 7:
			r.corrupt_next = 1;
			break;
		case 8:
			(void)shutdown(r.fc, SHUT_WR);
			r.ended = 1;
			break;
		case 9:
			if (r.t != NULL)
				tls_shutdown(r.fs, r.t);
			r.ended = 1;
			break;
		case 10:
			if (r.t != NULL && tls_handshake(r.t) == PX_IO_ERROR)
				r.ended = 1;
			break;
		case 11:
			if (r.t != NULL)
				server_close(&r);
			break;
		case 12:
			client_send(&r, i < size ? data[i++] + 1u : 1u);
			break;
		case 13:
			if (r.fc >= 0)
				close(r.fc);
			r.fc = -1;
			r.ended = 1;
			break;
		}
	}
	if (r.t != NULL && !r.faulty && !r.ended)
		settle(&r);
	/* Without a fault injected neither engine may have failed: a
	 * record gone wrong in a parked buffer shows here as a bad MAC. */
	if (!r.faulty && !r.early_end) {
		CHECK(br_ssl_engine_last_error(&cc.eng) == BR_ERR_OK);
		CHECK(r.t == NULL ||
		    br_ssl_engine_last_error(r.t->eng) == BR_ERR_OK);
	}
	if (r.t != NULL)
		server_close(&r);
	close(r.fs);
	if (r.fc >= 0)
		close(r.fc);
	return 0;
}
