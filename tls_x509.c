/*
 * tls_x509.c - checking an upstream's certificate (wsproxy(1) TLS):
 * the X.509 engine BearSSL calls for every wss:// upstream, wrapping its
 * minimal validator (chain to a trust anchor, dates, DNS name) with a
 * matcher for IP literals, or, for --tls-insecure, a bare decoder that
 * only takes the server's key.  The matcher walks the certificate's DER
 * as the records bring it, so nothing is buffered.
 */
#ifdef WSPROXY_TLS
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <string.h>

#include <bearssl.h>

#include "tls_int.h"

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

void
tls_x509_start(struct tls_x509 *x, const char *name, int insecure)
{
	x->vtable = insecure ? &x509_insecure : &x509_verify;
	x->name = name;
	x->cert = 0;
	x->ip_len = 0;
	if (inet_pton(AF_INET, name, x->ip) == 1)
		x->ip_len = 4;
	else if (inet_pton(AF_INET6, name, x->ip) == 1)
		x->ip_len = 16;
}

#else /* WSPROXY_TLS */

/* Without TLS there is nothing to check; ISO C wants a declaration. */
typedef int tls_x509_unused;

#endif /* WSPROXY_TLS */
