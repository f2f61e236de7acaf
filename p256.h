/*
 * p256.h - P-256 (secp256r1) point multiplication for BearSSL on
 * machines with 64x64->128-bit multiplication (p256.c).
 */
#ifndef WSPROXY_P256_H
#define WSPROXY_P256_H

#ifdef WSPROXY_TLS
#include <bearssl.h>

/*
 * The P-256 implementation, to hand to BearSSL for secp256r1 (ECDHE and
 * the ECDSA signer): mul and mulgen are p256.c's own, muladd is
 * br_ec_p256_m31's.  NULL where the compiler has no unsigned __int128;
 * br_ec_p256_m31 is the one to use then.  The first mulgen fills a
 * 15 KiB table of multiples of the generator (about 0.1 ms); wsproxy
 * has one thread, and the table is not filled under a lock.
 */
const br_ec_impl *tls_ec_p256(void);
#endif

#endif /* WSPROXY_P256_H */
