/*
 * tls_load.c - reading the TLS material at start-up: the CA bundle into
 * trust anchors, certificate chains and private keys from PEM, and the
 * check that a key belongs to its certificate (wsproxy(1) TLS).
 *
 * Everything here runs once, before the loop, so it may allocate and
 * block; every failure is one message naming the flag, for exit 64.
 */
#ifdef WSPROXY_TLS
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "config.h"
#include "io.h"
#include "log.h"
#include "tls_int.h"
#include "x25519.h"

/* The material being loaded (start-up, or a SIGHUP's reload). */
static struct tls_material *loading;

#define TLS_DEFAULT_CA "/etc/ssl/certs/ca-certificates.crt"

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
/* Start-up helpers (may allocate and exit)                            */
/* ------------------------------------------------------------------ */

void *
tls_xrealloc(void *p, size_t n)
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
		b->data = tls_xrealloc(b->data, b->cap);
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
			*objs = tls_xrealloc(*objs,
			    (*nobjs + 1) * sizeof(**objs));
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
	unsigned char *d = tls_xrealloc(NULL, n ? n : 1);

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
	loading->anchors = tls_xrealloc(loading->anchors,
	    (loading->nanchors + 1) * sizeof(*loading->anchors));
	ta = &loading->anchors[loading->nanchors++];
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
	if (loading->nanchors == 0)
		return fail(err, errlen, "--tls-ca %s: no usable CA"
		    " certificate in it", path);
	px_log(skipped ? PX_LOG_WARN : PX_LOG_DEBUG, "event=tls_ca file=%s"
	    " anchors=%zu skipped=%zu", path, loading->nanchors, skipped);
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
		*chain = tls_xrealloc(*chain,
		    (*chain_len + 1) * sizeof(**chain));
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
	k = tls_xrealloc(NULL, sizeof(*k));
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
		n = tls_xrealloc(NULL, len);
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
		size_t len = br_ec_compute_pub(tls_ec_impl(), &pub, q, sk);

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

static int material_read(char *, size_t);

void
tls_material_drop(struct tls_material *m)
{
	size_t i;

	if (m == NULL || --m->refs > 0)
		return;
	for (i = 0; i < m->nanchors; i++) {
		br_x509_trust_anchor *ta = &m->anchors[i];

		free(ta->dn.data);
		if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
			free(ta->pkey.key.rsa.n);
			free(ta->pkey.key.rsa.e);
		} else
			free(ta->pkey.key.ec.q);
	}
	free(m->anchors);
	for (i = 0; i < m->client_chain_len; i++)
		free(m->client_chain[i].data);
	free(m->client_chain);
	for (i = 0; i < m->server_chain_len; i++)
		free(m->server_chain[i].data);
	free(m->server_chain);
	free(m->client_key);
	free(m->server_key);
	free(m);
}

struct tls_material *
tls_material_load(char *err, size_t errlen)
{
	struct tls_material *m = tls_xrealloc(NULL, sizeof(*m));

	memset(m, 0, sizeof(*m));
	m->refs = 1;
	loading = m;
	if (material_read(err, errlen) < 0) {
		tls_material_drop(m);
		m = NULL;
	}
	loading = NULL;
	return m;
}

/* Every file the TLS flags name, into loading. */
static int
material_read(char *err, size_t errlen)
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
		    px_cfg.tls_key, &loading->client_chain,
		    &loading->client_chain_len,
		    &loading->client_key, &issuer, err, errlen) < 0)
			return -1;
	}
	if (px_cfg.listen_cert != NULL) {
		if (identity_load("--listen-cert", px_cfg.listen_cert,
		    "--listen-key", px_cfg.listen_key, &loading->server_chain,
		    &loading->server_chain_len, &loading->server_key,
		    &loading->server_issuer_type, err,
		    errlen) < 0)
			return -1;
	}
	return 0;
}

#else /* WSPROXY_TLS */

/* Without TLS there is nothing to load; ISO C wants a declaration. */
typedef int tls_load_unused;

#endif /* WSPROXY_TLS */
