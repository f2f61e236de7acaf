/*
 * x25519.h - the elliptic curve code every TLS engine gets (wsproxy(1)
 * TLS): X25519 in 51-bit limbs (x25519.c) and P-256 in 64-bit limbs
 * (p256.c) where the compiler multiplies 64 by 64 bits into 128,
 * BearSSL's own code for P-384 and P-521.
 */
#ifndef WSPROXY_X25519_H
#define WSPROXY_X25519_H

#include <bearssl.h>

/*
 * A br_ec_impl that sends Curve25519 (BR_EC_curve25519) to x25519.c and
 * P-256 to p256.c (its muladd, for ECDSA verification, is
 * br_ec_p256_m31's), P-384 and P-521 to br_ec_prime_i31; its
 * supported_curves names those four.  Where the compiler has no
 * unsigned __int128 this is BearSSL's br_ec_get_default() itself.
 */
const br_ec_impl *tls_ec_impl(void);

#endif /* WSPROXY_X25519_H */
