/*
 * tls.c - the transport seam.
 *
 * Every byte a pair moves goes through io_read() and io_write().  For
 * a plain TCP end (t == NULL) they are one recv()/send() each.  A TLS end
 * is a BearSSL engine driven sans-I/O from the same edge-triggered loop:
 * each call pumps the engine in BearSSL's order (records out with send(),
 * records in with recv(), then application data) and returns
 * PX_IO_AGAIN only after the socket itself said EAGAIN, so the poller
 * owes us another edge.  proxy.c wakes both directions of a TLS end on
 * any edge, because reading may have to write (handshake, alerts) and
 * writing may have to read.
 *
 * Memory: TLS state (engine, X.509 context, the 33 KiB BR_SSL_BUFSIZE_BIDI
 * record buffer) lives in a pool reserved once at start-up with
 * MAP_NORESERVE, one entry per slab slot and TLS-capable side, handed out
 * when a TLS end is made and given back in tls_close().  Plain pairs never
 * touch it; nothing here allocates after start-up.
 *
 * Without -DWSPROXY_TLS only the plain path is compiled.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "io.h"
#include "log.h"

#ifdef WSPROXY_TLS
#include <bearssl.h>

#include "pool.h"
#include "tls_int.h"

static ssize_t engine_read(struct tls_conn *, void *, size_t);
static ssize_t engine_write(struct tls_conn *, const void *, size_t);
#endif

ssize_t
io_read(int fd, struct tls_conn *t, void *buf, size_t len)
{
	ssize_t n;

#ifdef WSPROXY_TLS
	if (t != NULL)
		return engine_read(t, buf, len);
#else
	(void)t;
#endif
	do
		n = recv(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n == 0)
		return PX_IO_CLOSED;
	return errno == EAGAIN || errno == EWOULDBLOCK ? PX_IO_AGAIN :
	    PX_IO_ERROR;
}

ssize_t
io_write(int fd, struct tls_conn *t, const void *buf, size_t len)
{
	ssize_t n;

#ifdef WSPROXY_TLS
	if (t != NULL)
		return engine_write(t, buf, len);
#else
	(void)t;
#endif
	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	return errno == EAGAIN || errno == EWOULDBLOCK ? PX_IO_AGAIN :
	    PX_IO_ERROR;
}

#ifndef WSPROXY_TLS

/* ------------------------------------------------------------------ */
/* Built without TLS: config.c rejects every TLS flag and wss:// URI,   */
/* so nothing below is ever asked for a TLS end.                       */
/* ------------------------------------------------------------------ */

int
tls_built_in(void)
{
	return 0;
}

int
tls_setup(char *err, size_t len)
{
	(void)err;
	(void)len;
	return 0;
}

int
tls_reload(char *err, size_t len)
{
	(void)err;
	(void)len;
	return 0;
}

int
tls_pool_init(uint32_t slots)
{
	(void)slots;
	return 0;
}

uint32_t
tls_in_use(void)
{
	return 0;
}

void
tls_pool_trim(uint64_t now_ms)
{
	(void)now_ms;
}

uint64_t
tls_pool_bytes(void)
{
	return 0;
}

struct tls_conn *
tls_client_new(int fd, struct px_upstream *up)
{
	(void)fd;
	(void)up;
	return NULL;
}

struct tls_conn *
tls_server_new(int fd)
{
	(void)fd;
	return NULL;
}

int
tls_handshake(struct tls_conn *t)
{
	(void)t;
	return PX_IO_ERROR;
}

const char *
tls_error(const struct tls_conn *t, char *detail, size_t len)
{
	(void)t;
	if (len > 0)
		detail[0] = '\0';
	return NULL;
}

void
tls_shutdown(int fd, struct tls_conn *t)
{
	(void)t;
	shutdown(fd, SHUT_WR);
}

void
tls_close(struct tls_conn *t)
{
	(void)t;
}

#else /* WSPROXY_TLS */

int
tls_built_in(void)
{
	return 1;
}

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

struct tls_conn {
	union {
		struct {
			br_ssl_client_context ssl;
			struct tls_x509 x509;
		} client;
		br_ssl_server_context server;
	} u;
	br_ssl_engine_context *eng;
	int		 fd;
	struct tls_session *session;	/* upstream ends: for resumption */
	struct tls_material *mat;	/* its certificates, keys, anchors */
	uint32_t	 unacked;	/* io_write bytes not yet reported */
	uint8_t		 server;	/* the client side of a pair */
	uint8_t		 shut_pending;	/* SHUT_WR once close_notify is out */
	uint8_t		 eof;		/* the peer closed TCP */
	uint8_t		 ready;		/* the handshake is done */
	int		 sock_errno;	/* a send()/recv() failure, for tls_error */
	unsigned char	 io[BR_SSL_BUFSIZE_BIDI];
};

/* ------------------------------------------------------------------ */
/* Start-up state: read-only once the loop runs                        */
/* ------------------------------------------------------------------ */

/* Server-side session cache, and one resumable session per wss://
 * upstream (struct tls_session below): reconnects skip the expensive
 * half of the handshake. */
#define TLS_SESSION_CACHE (64 * 1024)
static br_ssl_session_cache_lru session_cache;
static unsigned char session_store[TLS_SESSION_CACHE];	/* .bss: free
							 * until used */

/* One resumable session per wss:// upstream (config.h's opaque type). */
struct tls_session {
	br_ssl_session_parameters params;
};

static const char *alpn[] = { "http/1.1" };

/* Seeds each engine, so a handshake never opens /dev/urandom. */
static br_hmac_drbg_context drbg;

static struct pool conns;	/* one tls_conn per TLS end */

/* The certificates, keys and anchors new TLS ends begin with. */
static struct tls_material *mat;

int
tls_setup(char *err, size_t errlen)
{
	mat = tls_material_load(err, errlen);
	return mat == NULL ? -1 : 0;
}

int
tls_reload(char *err, size_t errlen)
{
	struct tls_material *m = tls_material_load(err, errlen);

	if (m == NULL)
		return -1;
	tls_material_drop(mat);
	mat = m;
	/* Sessions of the old certificate are not resumed. */
	if (px_cfg.listen_cert != NULL)
		br_ssl_session_cache_lru_init(&session_cache, session_store,
		    sizeof(session_store));
	return 0;
}

int
tls_pool_init(uint32_t slots)
{
	uint32_t n, sides = 0;
	br_prng_seeder seeder;
	int r;

	for (r = 0; r < px_cfg.nupstream; r++)
		if (px_cfg.upstream[r].tls) {
			sides++;
			break;
		}
	for (r = 0; r < px_cfg.nlisten; r++)
		if (px_cfg.listen[r].tls) {
			sides++;
			break;
		}
	if (sides == 0)
		return 0;
	if (px_cfg.listen_cert != NULL)
		br_ssl_session_cache_lru_init(&session_cache, session_store,
		    sizeof(session_store));
	for (r = 0; r < px_cfg.nupstream; r++)
		if (px_cfg.upstream[r].tls) {
			px_cfg.upstream[r].session = tls_xrealloc(NULL,
			    sizeof(struct tls_session));
			memset(px_cfg.upstream[r].session, 0,
			    sizeof(struct tls_session));
		}
	/* Seeded here, in the process that runs the loop, so that
	 * processes forked before it never share a random stream. */
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, NULL, 0);
	seeder = br_prng_seeder_system(NULL);
	if (seeder == 0 || !seeder(&drbg.vtable)) {
		fputs("wsproxy: TLS: no system random source\n", stderr);
		return -1;
	}
	n = slots * sides;
	if (pool_create(&conns, n, sizeof(struct tls_conn)) < 0)
		return -1;
	px_log(PX_LOG_DEBUG, "event=tls_pool entries=%u entry_bytes=%zu",
	    n, sizeof(struct tls_conn));
	return 0;
}

uint32_t
tls_in_use(void)
{
	return pool_used(&conns);
}

void
tls_pool_trim(uint64_t now_ms)
{
	if (conns.chunk != NULL)
		pool_trim(&conns, now_ms);
}

uint64_t
tls_pool_bytes(void)
{
	return conns.chunk != NULL ? pool_bytes(&conns) : 0;
}

/* ------------------------------------------------------------------ */
/* Making and ending TLS ends                                          */
/* ------------------------------------------------------------------ */

/* What every engine gets: TLS 1.2, our buffer, ALPN, fresh entropy. */
static void
engine_setup(struct tls_conn *t, br_ssl_engine_context *eng, int fd)
{
	unsigned char seed[32];

	t->eng = eng;
	t->fd = fd;
	t->unacked = 0;
	t->shut_pending = 0;
	t->eof = 0;
	t->ready = 0;
	t->sock_errno = 0;
	/* BearSSL 0.6 does not do TLS 1.3; older versions are not worth
	 * their weaknesses in front of WebSockets. */
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_buffer(eng, t->io, sizeof(t->io), 1);
	br_ssl_engine_set_protocol_names(eng, alpn, 1);
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
	/* Entropy from our start-up-seeded DRBG; marking the OS seeding as
	 * done keeps the engine from reading /dev/urandom per handshake
	 * (a syscall, and an fd that may not be there under EMFILE). */
	br_hmac_drbg_generate(&drbg, seed, sizeof(seed));
	br_ssl_engine_inject_entropy(eng, seed, sizeof(seed));
	eng->rng_os_rand_done = 1;
}

struct tls_conn *
tls_client_new(int fd, struct px_upstream *up)
{
	const char *name = px_cfg.tls_servername != NULL ?
	    px_cfg.tls_servername : up->host;
	struct tls_conn *t = pool_take(&conns);
	struct tls_material *m = mat;
	br_ssl_client_context *cc;
	struct tls_x509 *x;
	br_ssl_session_parameters *sp = &up->session->params;

	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	t->mat = m;
	m->refs++;
	cc = &t->u.client.ssl;
	x = &t->u.client.x509;
	t->server = 0;
	t->session = up->session;
	br_ssl_client_init_full(cc, &x->u.minimal, m->anchors,
	    m->nanchors);
	tls_x509_start(x, name, px_cfg.tls_insecure);
	br_ssl_engine_set_x509(&cc->eng, &x->vtable);
	engine_setup(t, &cc->eng, fd);
	if (m->client_key != NULL &&
	    m->client_key->type == BR_KEYTYPE_RSA)
		br_ssl_client_set_single_rsa(cc, m->client_chain,
		    m->client_chain_len,
		    br_skey_decoder_get_rsa(&m->client_key->dc),
		    br_rsa_pkcs1_sign_get_default());
	else if (m->client_key != NULL)
		br_ssl_client_set_single_ec(cc, m->client_chain,
		    m->client_chain_len,
		    br_skey_decoder_get_ec(&m->client_key->dc),
		    BR_KEYTYPE_SIGN, 0,
		    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
	if (sp->session_id_len > 0)
		br_ssl_engine_set_session_parameters(&cc->eng, sp);
	/* No SNI for an IP literal (RFC 6066 3). */
	if (!br_ssl_client_reset(cc, x->ip_len ? NULL : name,
	    sp->session_id_len > 0)) {
		tls_material_drop(t->mat);
		pool_give(&conns, t);
		errno = EPROTO;
		return NULL;
	}
	return t;
}

struct tls_conn *
tls_server_new(int fd)
{
	struct tls_conn *t = pool_take(&conns);
	struct tls_material *m = mat;
	br_ssl_server_context *sc;

	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	t->mat = m;
	m->refs++;
	sc = &t->u.server;
	t->server = 1;
	t->session = NULL;
	if (m->server_key->type == BR_KEYTYPE_RSA)
		br_ssl_server_init_full_rsa(sc, m->server_chain,
		    m->server_chain_len,
		    br_skey_decoder_get_rsa(&m->server_key->dc));
	else
		br_ssl_server_init_full_ec(sc, m->server_chain,
		    m->server_chain_len, m->server_issuer_type,
		    br_skey_decoder_get_ec(&m->server_key->dc));
	engine_setup(t, &sc->eng, fd);
	br_ssl_engine_add_flags(&sc->eng, BR_OPT_ENFORCE_SERVER_PREFERENCES);
	br_ssl_server_set_cache(sc, &session_cache.vtable);
	if (!br_ssl_server_reset(sc)) {
		tls_material_drop(t->mat);
		pool_give(&conns, t);
		errno = EPROTO;
		return NULL;
	}
	return t;
}

/* ------------------------------------------------------------------ */
/* Pumping records                                                     */
/* ------------------------------------------------------------------ */

/* A send()/recv() said no: would block, or a failure kept for the log. */
static int
sock_failed(struct tls_conn *t)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return PX_IO_AGAIN;
	t->sock_errno = errno;
	return PX_IO_ERROR;
}

/* Records out: 0 when all are sent, PX_IO_AGAIN or PX_IO_ERROR. */
static int
records_send(struct tls_conn *t)
{
	unsigned char *buf;
	size_t len;
	ssize_t n;

	while ((buf = br_ssl_engine_sendrec_buf(t->eng, &len)) != NULL) {
		do
			n = send(t->fd, buf, len, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return sock_failed(t);
		br_ssl_engine_sendrec_ack(t->eng, (size_t)n);
	}
	if (t->shut_pending) {
		/* close_notify is out: now the FIN. */
		t->shut_pending = 0;
		shutdown(t->fd, SHUT_WR);
	}
	return 0;
}

/* One recv() of records: 1 on progress, PX_IO_AGAIN, PX_IO_CLOSED (TCP
 * end of stream) or PX_IO_ERROR. */
static int
records_recv(struct tls_conn *t)
{
	unsigned char *buf;
	size_t len;
	ssize_t n;

	buf = br_ssl_engine_recvrec_buf(t->eng, &len);
	if (buf == NULL)
		return PX_IO_ERROR;
	do
		n = recv(t->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		t->eof = 1;
		return PX_IO_CLOSED;
	}
	if (n < 0)
		return sock_failed(t);
	br_ssl_engine_recvrec_ack(t->eng, (size_t)n);
	return 1;
}

/* The engine has stopped: a close_notify exchange or a failure. */
static int
engine_closed(const struct tls_conn *t)
{
	return br_ssl_engine_last_error(t->eng) == BR_ERR_OK ? PX_IO_CLOSED :
	    PX_IO_ERROR;
}

/* What run_until() pumps the engine for. */
enum pump_for {
	PUMP_READ,		/* application data to read */
	PUMP_ROOM,		/* room for application data, no records
				 * waiting to go out */
	PUMP_FLUSHED,		/* every record out on the socket */
	PUMP_HANDSHAKE		/* the handshake done */
};

/* Once, when the engine first carries application data. */
static void
handshake_done(struct tls_conn *t)
{
	t->ready = 1;
	if (t->session != NULL)
		br_ssl_engine_get_session_parameters(t->eng,
		    &t->session->params);
}

/*
 * The one engine pump (BearSSL's run_until in ssl_io.c), serving read,
 * write and handshake: records out first, then records in, until the
 * engine can do what 'want' asks.  Returns 0 then, PX_IO_AGAIN when a
 * socket call said EAGAIN (so another edge will come), PX_IO_CLOSED
 * (close_notify, or TCP end of stream after the handshake) or
 * PX_IO_ERROR.  While records cannot go out, a reader still takes in
 * what it can; a writer waits, as its bytes count as written only once
 * their record is on the socket.
 */
static int
run_until(struct tls_conn *t, enum pump_for want)
{
	unsigned st;
	int r, blocked = 0;

	for (;;) {
		st = br_ssl_engine_current_state(t->eng);
		if (st & BR_SSL_CLOSED)
			return engine_closed(t);
		if ((st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) && !t->ready)
			handshake_done(t);
		if ((st & BR_SSL_SENDREC) && !blocked) {
			r = records_send(t);
			if (r == PX_IO_ERROR) {
				/* A peer that refuses us often sends an
				 * alert and closes before reading our flight:
				 * read the alert, it says why. */
				while ((br_ssl_engine_current_state(t->eng) &
				    BR_SSL_RECVREC) && records_recv(t) == 1)
					;
				return PX_IO_ERROR;
			}
			if (r == PX_IO_AGAIN && (want == PUMP_ROOM ||
			    want == PUMP_FLUSHED))
				return PX_IO_AGAIN;
			blocked = r == PX_IO_AGAIN;
			continue;
		}
		switch (want) {
		case PUMP_READ:
			if (st & BR_SSL_RECVAPP)
				return 0;
			break;
		case PUMP_ROOM:
			if (st & BR_SSL_SENDAPP)
				return 0;
			break;
		case PUMP_FLUSHED:
			return 0;	/* no SENDREC is left, see above */
		case PUMP_HANDSHAKE:
			if (t->ready)
				return 0;
			break;
		}
		if (st & BR_SSL_RECVREC) {
			r = records_recv(t);
			if (r == 1)
				continue;
			if (r == PX_IO_CLOSED && !t->ready)
				return PX_IO_ERROR;	/* inside a handshake */
			return r;
		}
		/* Waiting for its records to drain: send() said EAGAIN. */
		return blocked ? PX_IO_AGAIN : PX_IO_ERROR;
	}
}

static ssize_t
engine_read(struct tls_conn *t, void *out, size_t len)
{
	unsigned char *buf;
	size_t n;
	int r;

	if ((r = run_until(t, PUMP_READ)) != 0)
		return r;
	buf = br_ssl_engine_recvapp_buf(t->eng, &n);
	if (n > len)
		n = len;
	memcpy(out, buf, n);
	br_ssl_engine_recvapp_ack(t->eng, n);
	return (ssize_t)n;
}

/*
 * Bytes handed to the engine are reported written only once their
 * record is on the socket: to the relay, an empty flow then means the
 * bytes have left, exactly as for plain TCP.  The caller offers the same
 * bytes again after PX_IO_AGAIN (the relay always does).
 */
static ssize_t
engine_write(struct tls_conn *t, const void *data, size_t len)
{
	unsigned char *buf;
	size_t n;
	int r;

	if (t->unacked == 0) {
		if ((r = run_until(t, PUMP_ROOM)) != 0)
			return r == PX_IO_AGAIN ? PX_IO_AGAIN : PX_IO_ERROR;
		buf = br_ssl_engine_sendapp_buf(t->eng, &n);
		if (n > len)
			n = len;
		memcpy(buf, data, n);
		br_ssl_engine_sendapp_ack(t->eng, n);
		br_ssl_engine_flush(t->eng, 0);
		t->unacked = (uint32_t)n;
	}
	if ((r = run_until(t, PUMP_FLUSHED)) != 0)
		return r == PX_IO_AGAIN ? PX_IO_AGAIN : PX_IO_ERROR;
	n = t->unacked;
	t->unacked = 0;
	return n <= len ? (ssize_t)n : PX_IO_ERROR;
}

int
tls_handshake(struct tls_conn *t)
{
	int r = run_until(t, PUMP_HANDSHAKE);

	if (r == 0)
		return 1;
	return r == PX_IO_AGAIN ? PX_IO_AGAIN : PX_IO_ERROR;
}

static const char *
alert_name(int alert)
{
	switch (alert) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 112: return "unrecognized_name";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return "other";
	}
}

const char *
tls_error(const struct tls_conn *t, char *detail, size_t len)
{
	int err = br_ssl_engine_last_error(t->eng);

	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT)
		snprintf(detail, len, "bearssl_error=%d alert=%d(%s)", err,
		    err - BR_ERR_RECV_FATAL_ALERT,
		    alert_name(err - BR_ERR_RECV_FATAL_ALERT));
	else if (err == BR_ERR_OK && t->sock_errno != 0)
		snprintf(detail, len, "bearssl_error=0 socket_error=\"%s\"",
		    strerror(t->sock_errno));
	else
		snprintf(detail, len, "bearssl_error=%d", err);
	if (err == BR_ERR_OK && !t->ready && t->sock_errno != 0)
		return "TLS: connection failed during the handshake";
	if (err == BR_ERR_OK)
		return t->eof && !t->ready ? "TLS: peer closed the connection"
		    " during the handshake" : NULL;
	if (err == BR_ERR_IO)
		return "TLS: I/O error";
	if (err == BR_ERR_X509_NOT_TRUSTED)
		return "TLS: certificate not trusted (unknown CA)";
	if (err == BR_ERR_X509_BAD_SERVER_NAME)
		return "TLS: certificate name mismatch";
	if (err == BR_ERR_X509_EXPIRED)
		return "TLS: certificate expired or not yet valid";
	if (err >= BR_ERR_X509_OK && err < BR_ERR_X509_OK + 32)
		return "TLS: certificate rejected";
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT)
		return "TLS: handshake alert from the peer";
	if (err >= BR_ERR_SEND_FATAL_ALERT)
		return "TLS: handshake failed (alert sent)";
	if (err == BR_ERR_UNSUPPORTED_VERSION || err == BR_ERR_BAD_VERSION)
		return "TLS: no common protocol version (or the peer does not"
		    " speak TLS)";
	if (err == BR_ERR_BAD_CIPHER_SUITE)
		return "TLS: no common cipher suite";
	return "TLS: handshake failed";
}

void
tls_shutdown(int fd, struct tls_conn *t)
{
	if (t == NULL) {
		shutdown(fd, SHUT_WR);
		return;
	}
	br_ssl_engine_close(t->eng);
	if (br_ssl_engine_current_state(t->eng) & BR_SSL_CLOSED) {
		shutdown(fd, SHUT_WR);
		return;
	}
	/* The FIN follows close_notify, now or when the socket drains. */
	t->shut_pending = 1;
	(void)records_send(t);
}

void
tls_close(struct tls_conn *t)
{
	if (t == NULL)
		return;
	/* Best effort close_notify: one non-blocking send, no waiting. */
	if (!(br_ssl_engine_current_state(t->eng) & BR_SSL_CLOSED)) {
		br_ssl_engine_close(t->eng);
		(void)records_send(t);
	}
	tls_material_drop(t->mat);
	pool_give(&conns, t);
}

#endif /* WSPROXY_TLS */
