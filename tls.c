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
#include <sys/mman.h>
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
tls_pool_init(uint32_t slots)
{
	(void)slots;
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
 * iPAddress subjectAltName matching.  BearSSL's X.509 engine checks DNS
 * names only, so for an upstream named by an IP literal this walker
 * follows the end-entity certificate's DER as it streams through the
 * engine (a certificate may span records read in different loop turns,
 * so nothing is buffered): Certificate, tbsCertificate, [3], Extensions,
 * Extension { OID 2.5.29.17, OCTET STRING { GeneralNames { [7] } } }.
 * Anything it does not understand ends the walk with "not found".
 */
enum san_state { SAN_TAG, SAN_LEN, SAN_LEN_MORE, SAN_BODY, SAN_DONE };
enum san_capture { CAP_NONE, CAP_OID, CAP_IP };

#define SAN_DEPTH 8

struct san_walk {
	uint32_t	 pos;		/* bytes of the certificate seen */
	uint32_t	 end[SAN_DEPTH];	/* where each entered element ends */
	uint32_t	 body_end;	/* end of the element being skipped */
	uint32_t	 len;		/* length of the current element */
	uint8_t		 depth;		/* elements entered */
	uint8_t		 state;		/* enum san_state */
	uint8_t		 tag;
	uint8_t		 len_bytes;	/* long-form length bytes still to come */
	uint8_t		 capture;	/* enum san_capture */
	uint8_t		 cap_len;
	uint8_t		 cap[16];
	uint8_t		 tbs_seen;	/* past tbsCertificate's header */
	uint8_t		 is_san;	/* this Extension is subjectAltName */
	uint8_t		 found;		/* the wanted address is in the SAN */
};

/*
 * The X.509 "engine" BearSSL talks to for an upstream.  It is a class of
 * its own (vtable first, as BearSSL expects) wrapping either BearSSL's
 * minimal validator (chain to a trust anchor, dates, DNS name) plus the
 * IP matcher above, or, for --tls-insecure, a bare decoder that only
 * extracts the server's public key.
 */
struct tls_x509 {
	const br_x509_class *vtable;
	union {
		br_x509_minimal_context minimal;
		br_x509_decoder_context decoder;
	} u;
	const char	*name;		/* name to verify, from the config */
	uint32_t	 cert;		/* index of the certificate being read */
	struct san_walk	 san;
	uint8_t		 ip[16];	/* the name as an address */
	uint8_t		 ip_len;	/* 4 or 16 when the name is an IP literal */
};

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
	uint32_t	 unacked;	/* io_write bytes not yet reported */
	uint8_t		 server;	/* the client side of a pair */
	uint8_t		 shut_pending;	/* SHUT_WR once close_notify is out */
	uint8_t		 eof;		/* the peer closed TCP */
	uint8_t		 ready;		/* the handshake is done */
	int		 sock_errno;	/* a send()/recv() failure, for tls_error */
	unsigned char	 io[BR_SSL_BUFSIZE_BIDI];
};

/* A private key from PEM; the decoder keeps the key's bytes. */
struct tls_key {
	br_skey_decoder_context dc;
	int		 type;		/* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
};

struct blob {
	unsigned char	*data;
	size_t		 len;
	size_t		 cap;
};

struct pem_object {
	char		 name[128];	/* BearSSL keeps at most 127 */
	struct blob	 der;
};

/* ------------------------------------------------------------------ */
/* Start-up state: read-only once the loop runs                        */
/* ------------------------------------------------------------------ */

static br_x509_trust_anchor *anchors;
static size_t nanchors;

static br_x509_certificate *client_chain;	/* --tls-cert */
static size_t client_chain_len;
static struct tls_key *client_key;		/* --tls-key */

static br_x509_certificate *server_chain;	/* --listen-cert */
static size_t server_chain_len;
static struct tls_key *server_key;		/* --listen-key */
static unsigned server_issuer_type;		/* key type of its signer */

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

#define TLS_DEFAULT_CA "/etc/ssl/certs/ca-certificates.crt"

/* Seeds each engine, so a handshake never opens /dev/urandom. */
static br_hmac_drbg_context drbg;

static struct tls_conn *pool;
static uint32_t *pool_free;
static uint32_t pool_nfree;

/* ------------------------------------------------------------------ */
/* Start-up helpers (may allocate and exit)                            */
/* ------------------------------------------------------------------ */

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		fputs("wsproxy: out of memory\n", stderr);
		exit(71);
	}
	return p;
}

static void
blob_append(void *ctx, const void *data, size_t len)
{
	struct blob *b = ctx;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 256;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static int
fail(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* va_start is right above; the analyzer loses it (false positive). */
	vsnprintf(err, len, fmt, ap);	/* NOLINT(clang-analyzer-valist.Uninitialized) */
	va_end(ap);
	return -1;
}

/* The whole file, or -1 with errno set. */
static int
file_read(const char *path, struct blob *b)
{
	unsigned char chunk[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		blob_append(b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	return 0;
}

/* Every PEM object of path into *objs. */
static int
pem_read(const char *flag, const char *path, struct pem_object **objs,
    size_t *nobjs, char *err, size_t errlen)
{
	br_pem_decoder_context pc;
	struct blob file = { NULL, 0, 0 };
	struct pem_object *cur = NULL;
	const unsigned char *p;
	size_t len, k;
	int extra_nl = 1;

	*objs = NULL;
	*nobjs = 0;
	if (file_read(path, &file) < 0)
		return fail(err, errlen, "%s %s: %s", flag, path,
		    strerror(errno));
	br_pem_decoder_init(&pc);
	p = file.data;
	len = file.len;
	while (len > 0) {
		k = br_pem_decoder_push(&pc, p, len);
		p += k;
		len -= k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			*objs = xrealloc(*objs, (*nobjs + 1) * sizeof(**objs));
			cur = &(*objs)[(*nobjs)++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->name, sizeof(cur->name), "%s",
			    br_pem_decoder_name(&pc));
			br_pem_decoder_setdest(&pc, blob_append, &cur->der);
			break;
		case BR_PEM_END_OBJ:
			cur = NULL;
			break;
		case BR_PEM_ERROR:
			free(file.data);
			return fail(err, errlen, "%s %s: not a valid PEM file",
			    flag, path);
		default:
			break;
		}
		/* A last line without its newline still ends the object. */
		if (len == 0 && extra_nl) {
			extra_nl = 0;
			p = (const unsigned char *)"\n";
			len = 1;
		}
	}
	free(file.data);
	if (cur != NULL)
		return fail(err, errlen, "%s %s: unfinished PEM object", flag,
		    path);
	if (*nobjs == 0)
		return fail(err, errlen, "%s %s: no PEM object (PEM expected)",
		    flag, path);
	return 0;
}

static void
pem_free(struct pem_object *objs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(objs[i].der.data);
	free(objs);
}

static int
pem_is_cert(const struct pem_object *o)
{
	return strcmp(o->name, "CERTIFICATE") == 0 ||
	    strcmp(o->name, "X509 CERTIFICATE") == 0;
}

static unsigned char *
dup_bytes(const unsigned char *p, size_t n)
{
	unsigned char *d = xrealloc(NULL, n ? n : 1);

	memcpy(d, p, n);
	return d;
}

/* One trust anchor from a DER certificate; -1 if BearSSL cannot use it. */
static int
anchor_add(const unsigned char *der, size_t len)
{
	br_x509_decoder_context dc;
	struct blob dn = { NULL, 0, 0 };
	const br_x509_pkey *pk;
	br_x509_trust_anchor *ta;

	br_x509_decoder_init(&dc, blob_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL || (pk->key_type != BR_KEYTYPE_RSA &&
	    pk->key_type != BR_KEYTYPE_EC)) {
		free(dn.data);
		return -1;
	}
	anchors = xrealloc(anchors, (nanchors + 1) * sizeof(*anchors));
	ta = &anchors[nanchors++];
	memset(ta, 0, sizeof(*ta));
	ta->dn.data = dn.data;
	ta->dn.len = dn.len;
	/* A non-CA certificate is trusted directly (a pinned self-signed
	 * upstream), which BearSSL does by key comparison. */
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
	} else {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
	}
	return 0;
}

static int
anchors_load(const char *path, int is_default, char *err, size_t errlen)
{
	struct pem_object *objs;
	size_t n, i, skipped = 0;

	if (pem_read("--tls-ca", path, &objs, &n, err, errlen) < 0) {
		if (is_default)
			snprintf(err + strlen(err), errlen - strlen(err),
			    " (%s; give --tls-ca FILE or --tls-insecure)",
			    is_default == 2 ? "from SSL_CERT_FILE" :
			    "the default CA bundle");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!pem_is_cert(&objs[i]))
			continue;
		if (anchor_add(objs[i].der.data, objs[i].der.len) < 0)
			skipped++;
	}
	pem_free(objs, n);
	if (nanchors == 0)
		return fail(err, errlen, "--tls-ca %s: no usable CA"
		    " certificate in it", path);
	px_log(skipped ? PX_LOG_WARN : PX_LOG_DEBUG, "event=tls_ca file=%s"
	    " anchors=%zu skipped=%zu", path, nanchors, skipped);
	return 0;
}

/*
 * A certificate chain (end-entity first).  *pk gets a copy of the first
 * certificate's key type and *issuer its signer's key type.
 */
static int
chain_load(const char *flag, const char *path, br_x509_certificate **chain,
    size_t *chain_len, br_x509_decoder_context *first, char *err,
    size_t errlen)
{
	struct pem_object *objs;
	size_t n, i;

	memset(first, 0, sizeof(*first));	/* defined on every return */
	if (pem_read(flag, path, &objs, &n, err, errlen) < 0)
		return -1;
	*chain = NULL;
	*chain_len = 0;
	for (i = 0; i < n; i++) {
		if (!pem_is_cert(&objs[i]))
			continue;
		*chain = xrealloc(*chain, (*chain_len + 1) * sizeof(**chain));
		(*chain)[*chain_len].data = objs[i].der.data;
		(*chain)[*chain_len].data_len = objs[i].der.len;
		objs[i].der.data = NULL;	/* kept for good */
		(*chain_len)++;
	}
	pem_free(objs, n);
	if (*chain_len == 0)
		return fail(err, errlen, "%s %s: no CERTIFICATE in it", flag,
		    path);
	br_x509_decoder_init(first, NULL, NULL);
	br_x509_decoder_push(first, (*chain)[0].data, (*chain)[0].data_len);
	if (br_x509_decoder_get_pkey(first) == NULL)
		return fail(err, errlen, "%s %s: the first certificate cannot"
		    " be decoded (BearSSL error %d)", flag, path,
		    br_x509_decoder_last_error(first));
	return 0;
}

static int
key_load(const char *flag, const char *path, struct tls_key **out,
    char *err, size_t errlen)
{
	struct pem_object *objs;
	struct tls_key *k;
	size_t n, i;
	int e;

	if (pem_read(flag, path, &objs, &n, err, errlen) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(objs[i].name, "RSA PRIVATE KEY") == 0 ||
		    strcmp(objs[i].name, "EC PRIVATE KEY") == 0 ||
		    strcmp(objs[i].name, "PRIVATE KEY") == 0)
			break;
	if (i == n) {
		for (i = 0; i < n; i++)
			if (strstr(objs[i].name, "ENCRYPTED") != NULL)
				break;
		pem_free(objs, n);
		return fail(err, errlen, "%s %s: %s", flag, path, i < n ?
		    "encrypted keys are not supported" :
		    "no RSA or EC PRIVATE KEY in it");
	}
	k = xrealloc(NULL, sizeof(*k));
	br_skey_decoder_init(&k->dc);
	br_skey_decoder_push(&k->dc, objs[i].der.data, objs[i].der.len);
	pem_free(objs, n);
	e = br_skey_decoder_last_error(&k->dc);
	if (e != 0) {
		free(k);
		return fail(err, errlen, "%s %s: not a usable RSA or EC key"
		    " (BearSSL error %d)", flag, path, e);
	}
	k->type = br_skey_decoder_key_type(&k->dc);
	*out = k;
	return 0;
}

static size_t
strip_zeros(const unsigned char **p, size_t n)
{
	while (n > 0 && **p == 0) {
		(*p)++;
		n--;
	}
	return n;
}

/* Is k the private half of the public key pk? */
static int
key_matches(const struct tls_key *k, const br_x509_pkey *pk)
{
	if (k->type == BR_KEYTYPE_RSA && pk->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(&k->dc);
		br_rsa_compute_modulus mod = br_rsa_compute_modulus_get_default();
		const unsigned char *a, *b = pk->key.rsa.n;
		unsigned char *n;
		size_t alen, blen, len = mod(NULL, sk);
		int same;

		if (len == 0)
			return 0;
		n = xrealloc(NULL, len);
		mod(n, sk);
		a = n;
		alen = strip_zeros(&a, len);
		blen = strip_zeros(&b, pk->key.rsa.nlen);
		same = alen == blen && memcmp(a, b, alen) == 0;
		free(n);
		return same;
	}
	if (k->type == BR_KEYTYPE_EC && pk->key_type == BR_KEYTYPE_EC) {
		const br_ec_private_key *sk = br_skey_decoder_get_ec(&k->dc);
		unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
		br_ec_public_key pub;
		size_t len = br_ec_compute_pub(br_ec_get_default(), &pub, q, sk);

		return len != 0 && pub.curve == pk->key.ec.curve &&
		    len == pk->key.ec.qlen && memcmp(q, pk->key.ec.q, len) == 0;
	}
	return 0;
}

/* A certificate chain and its key, checked to belong together. */
static int
identity_load(const char *cert_flag, const char *cert_path,
    const char *key_flag, const char *key_path, br_x509_certificate **chain,
    size_t *chain_len, struct tls_key **key, unsigned *issuer, char *err,
    size_t errlen)
{
	br_x509_decoder_context first;

	if (chain_load(cert_flag, cert_path, chain, chain_len, &first, err,
	    errlen) < 0 || key_load(key_flag, key_path, key, err, errlen) < 0)
		return -1;
	if (!key_matches(*key, br_x509_decoder_get_pkey(&first)))
		return fail(err, errlen, "%s %s: does not match the first"
		    " certificate of %s %s", key_flag, key_path, cert_flag,
		    cert_path);
	*issuer = (unsigned)br_x509_decoder_get_signer_key_type(&first);
	return 0;
}

int
tls_setup(char *err, size_t errlen)
{
	const char *ca = px_cfg.tls_ca;
	int i, wss = 0, is_default = 0;

	for (i = 0; i < px_cfg.nupstream; i++)
		wss |= px_cfg.upstream[i].tls;
	if (ca == NULL && wss && !px_cfg.tls_insecure) {
		ca = getenv("SSL_CERT_FILE");
		is_default = 2;
		if (ca == NULL || ca[0] == '\0') {
			ca = TLS_DEFAULT_CA;
			is_default = 1;
		}
	}
	if (ca != NULL && anchors_load(ca, is_default, err, errlen) < 0)
		return -1;
	if (px_cfg.tls_cert != NULL) {
		unsigned issuer;

		if (identity_load("--tls-cert", px_cfg.tls_cert, "--tls-key",
		    px_cfg.tls_key, &client_chain, &client_chain_len,
		    &client_key, &issuer, err, errlen) < 0)
			return -1;
	}
	if (px_cfg.listen_cert != NULL) {
		if (identity_load("--listen-cert", px_cfg.listen_cert,
		    "--listen-key", px_cfg.listen_key, &server_chain,
		    &server_chain_len, &server_key, &server_issuer_type, err,
		    errlen) < 0)
			return -1;
		br_ssl_session_cache_lru_init(&session_cache, session_store,
		    sizeof(session_store));
	}
	for (i = 0; i < px_cfg.nupstream; i++)
		if (px_cfg.upstream[i].tls) {
			px_cfg.upstream[i].session = xrealloc(NULL,
			    sizeof(struct tls_session));
			memset(px_cfg.upstream[i].session, 0,
			    sizeof(struct tls_session));
		}
	return 0;
}

int
tls_pool_init(uint32_t slots)
{
	uint32_t i, n, sides = 0;
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
	/* Seeded here, in the process that runs the loop, so that
	 * processes forked before it never share a random stream. */
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, NULL, 0);
	seeder = br_prng_seeder_system(NULL);
	if (seeder == 0 || !seeder(&drbg.vtable)) {
		fputs("wsproxy: TLS: no system random source\n", stderr);
		return -1;
	}
	n = slots * sides;
	pool = mmap(NULL, (size_t)n * sizeof(*pool), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pool == MAP_FAILED) {
		pool = NULL;
		return -1;
	}
	pool_free = calloc(n, sizeof(*pool_free));
	if (pool_free == NULL)
		return -1;
	for (i = 0; i < n; i++)
		pool_free[i] = n - 1 - i;
	pool_nfree = n;
	px_log(PX_LOG_DEBUG, "event=tls_pool entries=%u entry_bytes=%zu",
	    n, sizeof(*pool));
	return 0;
}

/* ------------------------------------------------------------------ */
/* The IP subjectAltName walker                                        */
/* ------------------------------------------------------------------ */

static void
san_pop(struct san_walk *w)
{
	while (w->depth > 0 && w->pos >= w->end[w->depth - 1])
		w->depth--;
	if (w->depth == 0 && w->tbs_seen)
		w->state = SAN_DONE;
}

static void
san_body_done(struct san_walk *w, const struct tls_x509 *x)
{
	static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };

	if (w->capture == CAP_OID)
		w->is_san = w->len == sizeof(oid_san) &&
		    memcmp(w->cap, oid_san, sizeof(oid_san)) == 0;
	else if (w->capture == CAP_IP && w->len == x->ip_len &&
	    memcmp(w->cap, x->ip, x->ip_len) == 0)
		w->found = 1;
	w->capture = CAP_NONE;
	w->state = SAN_TAG;
	san_pop(w);
}

/* A complete tag and length: enter the element, capture it or skip it. */
static void
san_header(struct san_walk *w, const struct tls_x509 *x)
{
	int enter = 0;
	uint8_t capture = CAP_NONE;

	switch (w->depth) {
	case 0:		/* Certificate */
		enter = w->tag == 0x30;
		break;
	case 1:		/* tbsCertificate, then nothing of interest */
		if (w->tbs_seen) {
			w->state = SAN_DONE;
			return;
		}
		w->tbs_seen = 1;
		enter = w->tag == 0x30;
		break;
	case 2:		/* [3] extensions */
		enter = w->tag == 0xa3;
		break;
	case 3:		/* Extensions */
	case 6:		/* GeneralNames, inside the OCTET STRING */
		enter = w->tag == 0x30;
		break;
	case 4:		/* Extension */
		enter = w->tag == 0x30;
		w->is_san = 0;
		break;
	case 5:		/* extnID, critical, extnValue */
		if (w->tag == 0x06)
			capture = CAP_OID;
		else if (w->tag == 0x04 && w->is_san)
			enter = 1;
		break;
	case 7:		/* GeneralName: [7] iPAddress */
		if (w->tag == 0x87)
			capture = CAP_IP;
		break;
	default:
		break;
	}
	if (w->depth > 0 && w->pos + w->len > w->end[w->depth - 1]) {
		w->state = SAN_DONE;	/* longer than its parent */
		return;
	}
	if (enter) {
		w->end[w->depth++] = w->pos + w->len;
		w->state = SAN_TAG;
		san_pop(w);
		return;
	}
	w->body_end = w->pos + w->len;
	w->capture = capture;
	w->cap_len = 0;
	w->state = SAN_BODY;
	if (w->len == 0)
		san_body_done(w, x);
}

static void
san_feed(struct san_walk *w, const struct tls_x509 *x, const uint8_t *buf,
    size_t len)
{
	uint8_t b;

	while (len > 0 && w->state != SAN_DONE) {
		if (w->state == SAN_BODY) {
			size_t n = w->body_end - w->pos, c;

			if (n > len)
				n = len;
			c = sizeof(w->cap) - w->cap_len;
			if (w->capture != CAP_NONE) {
				if (c > n)
					c = n;
				memcpy(w->cap + w->cap_len, buf, c);
				w->cap_len = (uint8_t)(w->cap_len + c);
			}
			w->pos += (uint32_t)n;
			buf += n;
			len -= n;
			if (w->pos == w->body_end)
				san_body_done(w, x);
			continue;
		}
		b = *buf++;
		len--;
		w->pos++;
		switch (w->state) {
		case SAN_TAG:
			if ((b & 0x1f) == 0x1f) {
				w->state = SAN_DONE;	/* high tag number */
				break;
			}
			w->tag = b;
			w->state = SAN_LEN;
			break;
		case SAN_LEN:
			if (b < 0x80) {
				w->len = b;
				san_header(w, x);
			} else if (b == 0x80 || b > 0x83) {
				w->state = SAN_DONE;
			} else {
				w->len_bytes = b & 0x7f;
				w->len = 0;
				w->state = SAN_LEN_MORE;
			}
			break;
		case SAN_LEN_MORE:
			w->len = w->len << 8 | b;
			if (--w->len_bytes == 0)
				san_header(w, x);
			break;
		default:
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* X.509 classes for upstream ends                                     */
/* ------------------------------------------------------------------ */

static struct tls_x509 *
x509_of(const br_x509_class *const *ctx)
{
	return (struct tls_x509 *)(void *)(uintptr_t)ctx;
}

static void
xv_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_x509 *x = x509_of(ctx);

	(void)server_name;
	x->cert = 0;
	memset(&x->san, 0, sizeof(x->san));
	/* BearSSL checks DNS names; an IP literal is ours to check. */
	x->u.minimal.vtable->start_chain(&x->u.minimal.vtable,
	    x->ip_len ? NULL : x->name);
}

static void
xv_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_x509 *x = x509_of(ctx);

	x->u.minimal.vtable->start_cert(&x->u.minimal.vtable, length);
}

static void
xv_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct tls_x509 *x = x509_of(ctx);

	x->u.minimal.vtable->append(&x->u.minimal.vtable, buf, len);
	if (x->cert == 0 && x->ip_len)
		san_feed(&x->san, x, buf, len);
}

static void
xv_end_cert(const br_x509_class **ctx)
{
	struct tls_x509 *x = x509_of(ctx);

	x->u.minimal.vtable->end_cert(&x->u.minimal.vtable);
	x->cert++;
}

static unsigned
xv_end_chain(const br_x509_class **ctx)
{
	struct tls_x509 *x = x509_of(ctx);
	unsigned err = x->u.minimal.vtable->end_chain(&x->u.minimal.vtable);

	if (err == 0 && x->ip_len && !x->san.found)
		err = BR_ERR_X509_BAD_SERVER_NAME;
	return err;
}

static const br_x509_pkey *
xv_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct tls_x509 *x = x509_of(ctx);

	return x->u.minimal.vtable->get_pkey(&x->u.minimal.vtable, usages);
}

static const br_x509_class x509_verify = {
	sizeof(struct tls_x509), xv_start_chain, xv_start_cert, xv_append,
	xv_end_cert, xv_end_chain, xv_get_pkey
};

/* --tls-insecure: any chain is fine; only the server's key is needed. */
static void
xi_start_chain(const br_x509_class **ctx, const char *server_name)
{
	(void)server_name;
	x509_of(ctx)->cert = 0;
}

static void
xi_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_x509 *x = x509_of(ctx);

	(void)length;
	if (x->cert == 0)
		br_x509_decoder_init(&x->u.decoder, NULL, NULL);
}

static void
xi_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct tls_x509 *x = x509_of(ctx);

	if (x->cert == 0)
		br_x509_decoder_push(&x->u.decoder, buf, len);
}

static void
xi_end_cert(const br_x509_class **ctx)
{
	x509_of(ctx)->cert++;
}

static unsigned
xi_end_chain(const br_x509_class **ctx)
{
	struct tls_x509 *x = x509_of(ctx);

	if (x->cert == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	return (unsigned)br_x509_decoder_last_error(&x->u.decoder);
}

static const br_x509_pkey *
xi_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct tls_x509 *x = x509_of(ctx);

	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&x->u.decoder);
}

static const br_x509_class x509_insecure = {
	sizeof(struct tls_x509), xi_start_chain, xi_start_cert, xi_append,
	xi_end_cert, xi_end_chain, xi_get_pkey
};

/* ------------------------------------------------------------------ */
/* Making and ending TLS ends                                          */
/* ------------------------------------------------------------------ */

static struct tls_conn *
pool_get(void)
{
	if (pool_nfree == 0)
		return NULL;
	return &pool[pool_free[--pool_nfree]];
}

static void
pool_put(const struct tls_conn *t)
{
	pool_free[pool_nfree++] = (uint32_t)(t - pool);
}

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
	struct tls_conn *t = pool_get();
	br_ssl_client_context *cc;
	struct tls_x509 *x;
	br_ssl_session_parameters *sp = &up->session->params;

	if (t == NULL)
		return NULL;
	cc = &t->u.client.ssl;
	x = &t->u.client.x509;
	t->server = 0;
	t->session = up->session;
	br_ssl_client_init_full(cc, &x->u.minimal, anchors, nanchors);
	x->vtable = px_cfg.tls_insecure ? &x509_insecure : &x509_verify;
	x->name = name;
	x->cert = 0;
	x->ip_len = 0;
	if (inet_pton(AF_INET, name, x->ip) == 1)
		x->ip_len = 4;
	else if (inet_pton(AF_INET6, name, x->ip) == 1)
		x->ip_len = 16;
	br_ssl_engine_set_x509(&cc->eng, &x->vtable);
	engine_setup(t, &cc->eng, fd);
	if (client_key != NULL && client_key->type == BR_KEYTYPE_RSA)
		br_ssl_client_set_single_rsa(cc, client_chain, client_chain_len,
		    br_skey_decoder_get_rsa(&client_key->dc),
		    br_rsa_pkcs1_sign_get_default());
	else if (client_key != NULL)
		br_ssl_client_set_single_ec(cc, client_chain, client_chain_len,
		    br_skey_decoder_get_ec(&client_key->dc), BR_KEYTYPE_SIGN, 0,
		    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
	if (sp->session_id_len > 0)
		br_ssl_engine_set_session_parameters(&cc->eng, sp);
	/* No SNI for an IP literal (RFC 6066 3). */
	if (!br_ssl_client_reset(cc, x->ip_len ? NULL : name,
	    sp->session_id_len > 0)) {
		pool_put(t);
		return NULL;
	}
	return t;
}

struct tls_conn *
tls_server_new(int fd)
{
	struct tls_conn *t = pool_get();
	br_ssl_server_context *sc;

	if (t == NULL)
		return NULL;
	sc = &t->u.server;
	t->server = 1;
	t->session = NULL;
	if (server_key->type == BR_KEYTYPE_RSA)
		br_ssl_server_init_full_rsa(sc, server_chain, server_chain_len,
		    br_skey_decoder_get_rsa(&server_key->dc));
	else
		br_ssl_server_init_full_ec(sc, server_chain, server_chain_len,
		    server_issuer_type, br_skey_decoder_get_ec(&server_key->dc));
	engine_setup(t, &sc->eng, fd);
	br_ssl_engine_add_flags(&sc->eng, BR_OPT_ENFORCE_SERVER_PREFERENCES);
	br_ssl_server_set_cache(sc, &session_cache.vtable);
	if (!br_ssl_server_reset(sc)) {
		pool_put(t);
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
static ssize_t
engine_closed(const struct tls_conn *t)
{
	return br_ssl_engine_last_error(t->eng) == BR_ERR_OK ? PX_IO_CLOSED :
	    PX_IO_ERROR;
}

static ssize_t
engine_read(struct tls_conn *t, void *out, size_t len)
{
	br_ssl_engine_context *eng = t->eng;
	unsigned char *buf;
	unsigned st;
	size_t n;
	int r, blocked = 0;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return engine_closed(t);
		if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
			t->ready = 1;
		if ((st & BR_SSL_SENDREC) && !blocked) {
			r = records_send(t);
			if (r == PX_IO_ERROR)
				return PX_IO_ERROR;
			blocked = r == PX_IO_AGAIN;
			continue;
		}
		if (st & BR_SSL_RECVAPP) {
			buf = br_ssl_engine_recvapp_buf(eng, &n);
			if (n > len)
				n = len;
			memcpy(out, buf, n);
			br_ssl_engine_recvapp_ack(eng, n);
			return (ssize_t)n;
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

/*
 * Bytes handed to the engine are reported written only once their
 * record is on the socket: to the relay, an empty flow then means the
 * bytes have left, exactly as for plain TCP.  The caller offers the same
 * bytes again after PX_IO_AGAIN (the relay always does).
 */
static ssize_t
engine_write(struct tls_conn *t, const void *data, size_t len)
{
	br_ssl_engine_context *eng = t->eng;
	unsigned char *buf;
	unsigned st;
	size_t n;
	int r;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return PX_IO_ERROR;
		if (st & BR_SSL_SENDREC) {
			r = records_send(t);
			if (r < 0)
				return r;
			continue;
		}
		if (t->unacked > 0) {
			n = t->unacked;
			t->unacked = 0;
			return n <= len ? (ssize_t)n : PX_IO_ERROR;
		}
		if (st & BR_SSL_SENDAPP) {
			buf = br_ssl_engine_sendapp_buf(eng, &n);
			if (n > len)
				n = len;
			memcpy(buf, data, n);
			br_ssl_engine_sendapp_ack(eng, n);
			br_ssl_engine_flush(eng, 0);
			t->unacked = (uint32_t)n;
			continue;
		}
		if (st & BR_SSL_RECVREC) {
			/* The engine wants input before it takes more. */
			r = records_recv(t);
			if (r == 1)
				continue;
			return r == PX_IO_AGAIN ? PX_IO_AGAIN : PX_IO_ERROR;
		}
		return PX_IO_ERROR;
	}
}

int
tls_handshake(struct tls_conn *t)
{
	br_ssl_engine_context *eng = t->eng;
	unsigned st;
	int r, blocked = 0;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return PX_IO_ERROR;
		if ((st & BR_SSL_SENDREC) && !blocked) {
			r = records_send(t);
			if (r == PX_IO_ERROR) {
				/* A peer that refuses us often sends an
				 * alert and closes before reading our flight:
				 * read the alert, it says why. */
				while ((br_ssl_engine_current_state(eng) &
				    BR_SSL_RECVREC) && records_recv(t) == 1)
					;
				return PX_IO_ERROR;
			}
			blocked = r == PX_IO_AGAIN;
			continue;
		}
		if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) {
			t->ready = 1;
			if (t->session != NULL)
				br_ssl_engine_get_session_parameters(eng,
				    &t->session->params);
			return 1;
		}
		if (st & BR_SSL_RECVREC) {
			r = records_recv(t);
			if (r == 1)
				continue;
			return r == PX_IO_AGAIN ? PX_IO_AGAIN : PX_IO_ERROR;
		}
		return blocked ? PX_IO_AGAIN : PX_IO_ERROR;
	}
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
	pool_put(t);
}

#endif /* WSPROXY_TLS */
