/*
 * tlsclient.c - OpenSSL client for loadgen-tls: see tlsclient.h.
 */
#include <errno.h>
#include <stdio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "tlsclient.h"

static SSL_CTX *ctx;

int tlsc_init(void)
{
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return -1;
	/* TLS 1.2 forced, as in the comparison */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION))
		return -1;
	/* full handshakes only: no tickets, no cached sessions */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* writes behave like write(2): partial, and retried from a moved buffer */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

struct tlsc *tlsc_new(int fd)
{
	SSL *s = SSL_new(ctx);

	if (!s)
		return NULL;
	if (!SSL_set_fd(s, fd)) {
		SSL_free(s);
		return NULL;
	}
	SSL_set_connect_state(s);
	return (struct tlsc *)s;
}

void tlsc_free(struct tlsc *t)
{
	SSL_free((SSL *)t);
}

/* errno for a failed call: EAGAIN when it only waits for the socket */
static int failed(SSL *s, int r)
{
	int e = SSL_get_error(s, r);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		errno = EAGAIN;
	else if (e == SSL_ERROR_SYSCALL && errno)
		;	/* keep the socket's errno */
	else
		errno = EIO;
	return -1;
}

int tlsc_handshake(struct tlsc *t)
{
	SSL *s = (SSL *)t;
	int r = SSL_do_handshake(s);

	if (r == 1)
		return 1;
	return failed(s, r) < 0 && errno == EAGAIN ? 0 : -1;
}

ssize_t tlsc_read(struct tlsc *t, void *buf, size_t n)
{
	SSL *s = (SSL *)t;
	size_t got = 0;
	int r = SSL_read_ex(s, buf, n, &got), e;

	if (r == 1)
		return (ssize_t)got;
	e = SSL_get_error(s, r);
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	/* a TCP FIN without close_notify (SSL_OP_IGNORE_UNEXPECTED_EOF) */
	if (e == SSL_ERROR_SYSCALL && !errno && !ERR_peek_error())
		return 0;
	return failed(s, r);
}

ssize_t tlsc_write(struct tlsc *t, const void *buf, size_t n)
{
	SSL *s = (SSL *)t;
	size_t put = 0;
	int r = SSL_write_ex(s, buf, n, &put);

	if (r == 1)
		return (ssize_t)put;
	return failed(s, r);
}

void tlsc_describe(struct tlsc *t, char *out, size_t n)
{
	SSL *s = (SSL *)t;
	const char *suite = SSL_get_cipher_name(s), *group = "none";
	EVP_PKEY *k = NULL;
	char gname[64];
	size_t gl = 0;

	/* the server's ephemeral key share names the group (TLS 1.2 ECDHE) */
	if (SSL_get_peer_tmp_key(s, &k) && k) {
		if (EVP_PKEY_get_group_name(k, gname, sizeof gname, &gl) && gl)
			group = gname;
		else if (EVP_PKEY_get0_type_name(k))
			group = EVP_PKEY_get0_type_name(k);
	}
	snprintf(out, n, "suite=%s group=%s proto=%s", suite ? suite : "none", group,
		 SSL_get_version(s));
	EVP_PKEY_free(k);
}

const char *tlsc_error(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (!e)
		return "no OpenSSL error";
	ERR_error_string_n(e, buf, sizeof buf);
	return buf;
}
