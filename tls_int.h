/*
 * tls_int.h - what the TLS files share, and nothing else includes: the
 * material read at start-up (tls_load.c), the upstream certificate
 * checks (tls_x509.c) and the engine they serve (tls.c).
 */
#ifndef WSPROXY_TLS_INT_H
#define WSPROXY_TLS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

/* A private key from PEM; the decoder keeps the key's bytes. */
struct tls_key {
	br_skey_decoder_context dc;
	int		 type;		/* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
};

/*
 * Everything the TLS flags name, read at once.  A reload (SIGHUP) reads
 * a new one; each TLS end holds the one it began with, so its engine's
 * pointers stay good, and a material goes when its last holder does.
 */
struct tls_material {
	unsigned	 refs;		/* the current one, and each TLS end */
	br_x509_trust_anchor *anchors;	/* --tls-ca, or the system's */
	size_t		 nanchors;
	br_x509_certificate *client_chain;	/* --tls-cert */
	size_t		 client_chain_len;
	struct tls_key	*client_key;		/* --tls-key */
	br_x509_certificate *server_chain;	/* --listen-cert */
	size_t		 server_chain_len;
	struct tls_key	*server_key;		/* --listen-key */
	unsigned	 server_issuer_type;	/* key type of its signer */
};

/* Read every file the TLS flags name: a new material (refs 1), or NULL
 * with a message naming the flag in err. */
struct tls_material *tls_material_load(char *err, size_t errlen);

/* One holder less: the material is freed when none is left. */
void tls_material_drop(struct tls_material *m);

/* realloc() that exits 71 when memory runs out (start-up only). */
void *tls_xrealloc(void *p, size_t n);

/* ------------------------------------------------------------------ */
/* Upstream certificates (tls_x509.c)                                  */
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

/*
 * Make x the X.509 engine for an upstream called name (a DNS name or an
 * IP literal): BearSSL's minimal validator plus the IP matcher, or with
 * insecure the bare decoder of --tls-insecure.  The minimal context in
 * x->u must have been set up with the trust anchors first.
 */
void tls_x509_start(struct tls_x509 *x, const char *name, int insecure);

#endif /* WSPROXY_TLS_INT_H */
