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
 * Memory (wsproxy(1) LIMITS, TLS): an end's engine state comes from a
 * pool of its kind (client-facing or upstream), taken when the end is
 * made and given back in tls_close(); its 32 KiB record buffer comes
 * from a third pool and is held only while records are in flight (see
 * rec_take() and rec_park()).  Pools map chunks as use grows (pool.c);
 * plain pairs never touch them.
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
#include "x25519.h"

/* Under AddressSanitizer a parked record buffer is poisoned and
 * scribbled over, so that any use of one after it went back, or any
 * reliance on what it held, shows in the tests (rec_get(), rec_put()). */
#if defined(__SANITIZE_ADDRESS__)
#define REC_POISON 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REC_POISON 1
#endif
#endif
#ifdef REC_POISON
#include <sanitizer/asan_interface.h>
#endif

static ssize_t engine_read(struct tls_conn *, void *, size_t);
static ssize_t engine_write(struct tls_conn *, const void *, size_t);
static void suites_init(void);
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

/*
 * One TLS end.  The engine's record buffer is not part of it: an end
 * holds one (rec) only while records are in flight, and an idle end,
 * its engine waiting for the next record header with nothing gathered
 * to send, parks it back in the pool (wsproxy(1) TLS, LIMITS).  The
 * union comes last so a server end's entry stops after the server
 * context: the two kinds come from pools of their own sizes.
 */
struct tls_conn {
	br_ssl_engine_context *eng;
	unsigned char	*rec;		/* record buffer; NULL: parked */
	int		 fd;
	struct tls_session *session;	/* upstream ends: for resumption */
	struct tls_material *mat;	/* its certificates, keys, anchors */
	uint32_t	 unacked;	/* io_write bytes not yet reported */
	uint8_t		 server;	/* the client side of a pair */
	uint8_t		 shut_pending;	/* SHUT_WR once close_notify is out */
	uint8_t		 eof;		/* the peer closed TCP */
	uint8_t		 ready;		/* the handshake is done */
	int		 sock_errno;	/* a send()/recv() failure, for tls_error */
	union {
		struct {
			br_ssl_client_context ssl;
			struct tls_x509 x509;
		} client;
		br_ssl_server_context server;
	} u;
};

/* A record buffer: BearSSL's largest input record, then its largest
 * output record, side by side (never overlapping). */
#define REC_IN		BR_SSL_BUFSIZE_INPUT
#define REC_OUT		BR_SSL_BUFSIZE_OUTPUT
#define REC_BYTES	(REC_IN + REC_OUT)

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

static struct pool servers;	/* a tls_conn per client-facing end */
static struct pool clients;	/* a tls_conn per upstream end */
static struct pool recs;	/* record buffers, REC_BYTES each */
#define SERVER_BYTES	(offsetof(struct tls_conn, u) + \
    sizeof(br_ssl_server_context))

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
	uint32_t n, up = 0, down = 0;
	br_prng_seeder seeder;
	int r;

	for (r = 0; r < px_cfg.nupstream; r++)
		if (px_cfg.upstream[r].tls)
			up = 1;
	for (r = 0; r < px_cfg.nlisten; r++)
		if (px_cfg.listen[r].tls)
			down = 1;
	if (up + down == 0)
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
	suites_init();
	n = slots * (up + down);
	if (pool_create(&servers, down ? slots : 0, SERVER_BYTES) < 0 ||
	    pool_create(&clients, up ? slots : 0,
	    sizeof(struct tls_conn)) < 0 ||
	    pool_create(&recs, n, REC_BYTES) < 0)
		return -1;
	px_log(PX_LOG_DEBUG, "event=tls_pool ends=%u server_bytes=%zu"
	    " client_bytes=%zu record_bytes=%u", n, (size_t)SERVER_BYTES,
	    sizeof(struct tls_conn), (unsigned)REC_BYTES);
	return 0;
}

uint32_t
tls_in_use(void)
{
	return pool_used(&servers) + pool_used(&clients);
}

void
tls_pool_trim(uint64_t now_ms)
{
	if (recs.chunk == NULL)
		return;
	pool_trim(&servers, now_ms);
	pool_trim(&clients, now_ms);
	pool_trim(&recs, now_ms);
}

uint64_t
tls_pool_bytes(void)
{
	return recs.chunk == NULL ? 0 : pool_bytes(&servers) +
	    pool_bytes(&clients) + pool_bytes(&recs);
}

/* ------------------------------------------------------------------ */
/* Making and ending TLS ends                                          */
/* ------------------------------------------------------------------ */

/* Elliptic curves: X25519 with 64-bit limbs where the compiler has
 * them (x25519.c), BearSSL's m31 code for P-256, i31 for the rest. */
static const br_ec_impl *
ec_impl(void)
{
	return tls_ec_impl();
}

/*
 * Cipher suites (wsproxy(1) TLS): ECDHE with an AEAD only.  AES-GCM comes
 * first where the CPU has AES-NI and PCLMULQDQ, BearSSL's x86ni and
 * pclmul code (both test the CPU at run time); elsewhere ChaCha20-
 * Poly1305, which in portable constant-time C beats AES without them.
 * WSPROXY_TEST_NO_AESNI=1 in the environment takes the second order on
 * any CPU: for the tests, which need both.
 */
#define SUITES_EC	3
static uint16_t suites_ecdsa[SUITES_EC];
static uint16_t suites_rsa[SUITES_EC];
static uint16_t suites_all[2 * SUITES_EC];	/* upstreams: both kinds */
static int aes_fast;

static void
suites_init(void)
{
	static const uint16_t ecdsa[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	}, rsa[] = {
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	};
	const char *no = getenv("WSPROXY_TEST_NO_AESNI");
	size_t i, j;

	/* Both are NULL on other CPUs and where the CPU lacks them. */
	aes_fast = br_aes_x86ni_ctr_get_vtable() != NULL &&
	    br_ghash_pclmul_get() != 0;
	if (no != NULL && strcmp(no, "1") == 0)
		aes_fast = 0;
	for (i = 0; i < SUITES_EC; i++) {
		/* GCM 128, GCM 256, ChaCha; or ChaCha, GCM 128, GCM 256 */
		j = aes_fast ? i : (i + SUITES_EC - 1) % SUITES_EC;
		suites_ecdsa[i] = ecdsa[j];
		suites_rsa[i] = rsa[j];
		suites_all[2 * i] = ecdsa[j];
		suites_all[2 * i + 1] = rsa[j];
	}
}

/* The primitives every engine gets, for the suites above: the fastest
 * BearSSL has for this CPU (x86ni and pclmul, or ct64; sse2 ChaCha20
 * and ctmulq Poly1305 where they run), and X25519 with 64-bit limbs. */
static void
engine_algorithms(br_ssl_engine_context *eng)
{
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_ec(eng, ec_impl());
}

/* What every engine gets: TLS 1.2, a record buffer, ALPN, fresh
 * entropy. */
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
	br_ssl_engine_set_buffers_bidi(eng, t->rec, REC_IN, t->rec + REC_IN,
	    REC_OUT);
	br_ssl_engine_set_protocol_names(eng, alpn, 1);
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
	/* Entropy from our start-up-seeded DRBG; marking the OS seeding as
	 * done keeps the engine from reading /dev/urandom per handshake
	 * (a syscall, and an fd that may not be there under EMFILE). */
	br_hmac_drbg_generate(&drbg, seed, sizeof(seed));
	br_ssl_engine_inject_entropy(eng, seed, sizeof(seed));
	eng->rng_os_rand_done = 1;
}

/* A record buffer from the pool (promised: never NULL), and back. */
static unsigned char *
rec_get(void)
{
	unsigned char *b = pool_take(&recs);

#ifdef REC_POISON
	ASAN_UNPOISON_MEMORY_REGION(b, REC_BYTES);
#endif
	return b;
}

static void
rec_put(unsigned char *b)
{
#ifdef REC_POISON
	memset(b, 0xa5, REC_BYTES);
	ASAN_POISON_MEMORY_REGION(b, REC_BYTES);
#endif
	pool_give(&recs, b);
}

/*
 * A TLS end from pool pl, with the record buffer it will always find
 * (promised now, so an end never waits for one later), or NULL with
 * errno ENOMEM.
 */
static struct tls_conn *
end_take(struct pool *pl)
{
	struct tls_conn *t = pool_take(pl);

	if (t == NULL)
		goto none;
	if (pool_promise(&recs, 1) < 0) {
		pool_give(pl, t);
		goto none;
	}
	t->rec = rec_get();
	t->mat = mat;
	mat->refs++;
	return t;
none:
	errno = ENOMEM;
	return NULL;
}

static void
end_give(struct tls_conn *t)
{
	if (t->rec != NULL)
		rec_put(t->rec);
	pool_unpromise(&recs, 1);
	tls_material_drop(t->mat);
	pool_give(t->server ? &servers : &clients, t);
}

/*
 * Record buffers come and go between calls (struct tls_conn).  Every
 * entry that may run the engine takes one first; on the way out an idle
 * engine gives it back.  Idle is BearSSL's own resting state
 * (ssl_engine.c, make_ready_in() and make_ready_out()): waiting for the
 * first byte of a record header, no plaintext gathered, no record
 * waiting to go out.  Then nothing in the buffer is needed again, and
 * the next record is laid out from the same offsets in whichever buffer
 * the end holds by then.  The handshake keeps its buffer throughout.
 */
static void
rec_take(struct tls_conn *t)
{
	br_ssl_engine_context *e = t->eng;

	if (t->rec != NULL)
		return;
	t->rec = rec_get();
	e->ibuf = t->rec;
	e->obuf = t->rec + REC_IN;
}

static void
rec_park(struct tls_conn *t)
{
	br_ssl_engine_context *e = t->eng;

	if (!t->ready || t->rec == NULL || e->ixa != 0 || e->ixb != 0 ||
	    e->ixc != 5 || e->oxa != e->oxc)
		return;
	rec_put(t->rec);
	t->rec = NULL;
	e->ibuf = e->obuf = NULL;
}

struct tls_conn *
tls_client_new(int fd, struct px_upstream *up)
{
	const char *name = px_cfg.tls_servername != NULL ?
	    px_cfg.tls_servername : up->host;
	struct tls_conn *t = end_take(&clients);
	struct tls_material *m = mat;
	br_ssl_client_context *cc;
	struct tls_x509 *x;
	br_ssl_session_parameters *sp = &up->session->params;
	int id;

	if (t == NULL)
		return NULL;
	cc = &t->u.client.ssl;
	x = &t->u.client.x509;
	t->server = 0;
	t->session = up->session;
	br_ssl_client_zero(cc);
	br_ssl_engine_set_suites(&cc->eng, suites_all, 2 * SUITES_EC);
	engine_algorithms(&cc->eng);
	/* The upstream's certificates: verified by BearSSL's minimal
	 * validator, with the hashes and signatures of the handshake. */
	br_x509_minimal_init(&x->u.minimal, &br_sha256_vtable, m->anchors,
	    m->nanchors);
	br_ssl_engine_set_default_rsavrfy(&cc->eng);
	br_ssl_engine_set_ecdsa(&cc->eng, br_ecdsa_vrfy_asn1_get_default());
	br_x509_minimal_set_rsa(&x->u.minimal,
	    br_ssl_engine_get_rsavrfy(&cc->eng));
	br_x509_minimal_set_ecdsa(&x->u.minimal, ec_impl(),
	    br_ssl_engine_get_ecdsa(&cc->eng));
	for (id = br_sha1_ID; id <= br_sha512_ID; id++)
		br_x509_minimal_set_hash(&x->u.minimal, id,
		    br_ssl_engine_get_hash(&cc->eng, id));
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
		    ec_impl(), br_ecdsa_sign_asn1_get_default());
	if (sp->session_id_len > 0)
		br_ssl_engine_set_session_parameters(&cc->eng, sp);
	/* No SNI for an IP literal (RFC 6066 3). */
	if (!br_ssl_client_reset(cc, x->ip_len ? NULL : name,
	    sp->session_id_len > 0)) {
		end_give(t);
		errno = EPROTO;
		return NULL;
	}
	return t;
}

struct tls_conn *
tls_server_new(int fd)
{
	struct tls_conn *t = end_take(&servers);
	struct tls_material *m;
	br_ssl_server_context *sc;

	if (t == NULL)
		return NULL;
	m = t->mat;
	sc = &t->u.server;
	t->server = 1;
	t->session = NULL;
	br_ssl_server_zero(sc);
	engine_algorithms(&sc->eng);
	if (m->server_key->type == BR_KEYTYPE_RSA) {
		br_ssl_engine_set_suites(&sc->eng, suites_rsa, SUITES_EC);
		br_ssl_server_set_single_rsa(sc, m->server_chain,
		    m->server_chain_len,
		    br_skey_decoder_get_rsa(&m->server_key->dc),
		    BR_KEYTYPE_SIGN, br_rsa_private_get_default(),
		    br_rsa_pkcs1_sign_get_default());
	} else {
		br_ssl_engine_set_suites(&sc->eng, suites_ecdsa, SUITES_EC);
		br_ssl_server_set_single_ec(sc, m->server_chain,
		    m->server_chain_len,
		    br_skey_decoder_get_ec(&m->server_key->dc),
		    BR_KEYTYPE_SIGN, m->server_issuer_type, ec_impl(),
		    br_ecdsa_sign_asn1_get_default());
	}
	engine_setup(t, &sc->eng, fd);
	br_ssl_engine_add_flags(&sc->eng, BR_OPT_ENFORCE_SERVER_PREFERENCES);
	br_ssl_server_set_cache(sc, &session_cache.vtable);
	if (!br_ssl_server_reset(sc)) {
		end_give(t);
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

	rec_take(t);
	if ((r = run_until(t, PUMP_READ)) != 0) {
		rec_park(t);
		return r;
	}
	buf = br_ssl_engine_recvapp_buf(t->eng, &n);
	if (n > len)
		n = len;
	memcpy(out, buf, n);
	br_ssl_engine_recvapp_ack(t->eng, n);
	rec_park(t);
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

	rec_take(t);
	if (t->unacked == 0) {
		if ((r = run_until(t, PUMP_ROOM)) != 0)
			goto out;
		buf = br_ssl_engine_sendapp_buf(t->eng, &n);
		if (n > len)
			n = len;
		memcpy(buf, data, n);
		br_ssl_engine_sendapp_ack(t->eng, n);
		br_ssl_engine_flush(t->eng, 0);
		t->unacked = (uint32_t)n;
	}
	if ((r = run_until(t, PUMP_FLUSHED)) != 0)
		goto out;
	rec_park(t);
	n = t->unacked;
	t->unacked = 0;
	return n <= len ? (ssize_t)n : PX_IO_ERROR;
out:
	rec_park(t);
	return r == PX_IO_AGAIN ? PX_IO_AGAIN : PX_IO_ERROR;
}

int
tls_handshake(struct tls_conn *t)
{
	int r;

	rec_take(t);
	r = run_until(t, PUMP_HANDSHAKE);
	rec_park(t);
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
	rec_take(t);
	br_ssl_engine_close(t->eng);
	if (br_ssl_engine_current_state(t->eng) & BR_SSL_CLOSED) {
		shutdown(fd, SHUT_WR);
	} else {
		/* The FIN follows close_notify, now or when the socket
		 * drains. */
		t->shut_pending = 1;
		(void)records_send(t);
	}
	rec_park(t);
}

void
tls_close(struct tls_conn *t)
{
	if (t == NULL)
		return;
	/* Best effort close_notify: one non-blocking send, no waiting. */
	rec_take(t);
	if (!(br_ssl_engine_current_state(t->eng) & BR_SSL_CLOSED)) {
		br_ssl_engine_close(t->eng);
		(void)records_send(t);
	}
	end_give(t);
}

#endif /* WSPROXY_TLS */
