/*
 * x25519.c - X25519 (RFC 7748) as a BearSSL br_ec_impl, for the ECDHE of
 * every TLS handshake (wsproxy(1) TLS).
 *
 * BearSSL 0.6 has only 15- and 31-bit code for Curve25519; on a 64-bit
 * machine a field element in five 51-bit limbs, multiplied into 128-bit
 * sums, needs a quarter of the word products.  The interface is
 * br_ec_c25519_m31's, byte for byte:
 *   - a point is 32 bytes, the u coordinate little-endian; its top bit
 *     is ignored, and a u of p or more is taken modulo p;
 *   - the scalar is little-endian as in RFC 7748 (BearSSL 0.6 reads
 *     Curve25519's so, whatever bearssl_ec.h says of multipliers), at
 *     most 32 bytes, padded with zeros at the top, and clamped as the RFC
 *     clamps (bit 254 set, bits 255 and 0..2 cleared);
 *   - mul() returns 1 for any such input, 0 for a point not 32 bytes
 *     long or a longer scalar; mulgen() multiplies the base point u = 9;
 *     muladd() is for ECDSA and fails.
 *
 * Constant time: the ladder runs 255 steps whatever the scalar, its
 * swaps are masks, and no branch or array index depends on a secret.
 */
#ifdef WSPROXY_TLS
#include <stdint.h>
#include <string.h>

#include <bearssl.h>

#include "x25519.h"
#include "p256.h"

#ifdef __SIZEOF_INT128__

__extension__ typedef unsigned __int128 u128;

#define MASK51	((UINT64_C(1) << 51) - 1)

/* A field element modulo p = 2^255 - 19: h[0] + h[1] 2^51 + ... +
 * h[4] 2^204, limbs a little over 51 bits at most. */
typedef uint64_t fe[5];

static uint64_t
load64(const unsigned char *b)
{
	uint64_t w = 0;
	int i;

	for (i = 7; i >= 0; i--)
		w = w << 8 | b[i];
	return w;
}

static void
store64(unsigned char *b, uint64_t w)
{
	int i;

	for (i = 0; i < 8; i++) {
		b[i] = (unsigned char)w;
		w >>= 8;
	}
}

/* 32 little-endian bytes, bit 255 dropped. */
static void
fe_load(fe h, const unsigned char s[32])
{
	uint64_t w0 = load64(s), w1 = load64(s + 8), w2 = load64(s + 16),
	    w3 = load64(s + 24);

	h[0] = w0 & MASK51;
	h[1] = (w0 >> 51 | w1 << 13) & MASK51;
	h[2] = (w1 >> 38 | w2 << 26) & MASK51;
	h[3] = (w2 >> 25 | w3 << 39) & MASK51;
	h[4] = w3 >> 12 & MASK51;
}

/* Carries each limb's excess into the next, the top one's times 19
 * into the bottom: limbs below 2^51, but h[0] up to 2^51 + 19 * 2^13. */
static void
fe_carry(fe h)
{
	uint64_t c;

	c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
	c = h[1] >> 51; h[1] &= MASK51; h[2] += c;
	c = h[2] >> 51; h[2] &= MASK51; h[3] += c;
	c = h[3] >> 51; h[3] &= MASK51; h[4] += c;
	c = h[4] >> 51; h[4] &= MASK51; h[0] += 19 * c;
}

/* The unique value below p, little-endian. */
static void
fe_store(unsigned char s[32], const fe f)
{
	fe h;
	uint64_t q;

	memcpy(h, f, sizeof h);
	fe_carry(h);
	fe_carry(h);
	/* h < 2^255 + 19 < 2p: subtract p once if h + 19 reaches 2^255 */
	q = (h[0] + 19) >> 51;
	q = (h[1] + q) >> 51;
	q = (h[2] + q) >> 51;
	q = (h[3] + q) >> 51;
	q = (h[4] + q) >> 51;
	h[0] += 19 * q;
	h[1] += h[0] >> 51; h[0] &= MASK51;
	h[2] += h[1] >> 51; h[1] &= MASK51;
	h[3] += h[2] >> 51; h[2] &= MASK51;
	h[4] += h[3] >> 51; h[3] &= MASK51;
	h[4] &= MASK51;	/* the 2^255 of q * p */
	store64(s, h[0] | h[1] << 51);
	store64(s + 8, h[1] >> 13 | h[2] << 38);
	store64(s + 16, h[2] >> 26 | h[3] << 25);
	store64(s + 24, h[3] >> 39 | h[4] << 12);
}

/* Limbs below 2^52 in (what fe_mul() and fe_sq() give), below 2^53
 * out: fit for fe_mul() and fe_sq(), not carried. */
static inline void
fe_add(fe h, const fe f, const fe g)
{
	h[0] = f[0] + g[0];
	h[1] = f[1] + g[1];
	h[2] = f[2] + g[2];
	h[3] = f[3] + g[3];
	h[4] = f[4] + g[4];
}

/* f - g + 4p: no limb goes below zero for g's limbs below 2^53 - 76,
 * and f's below 2^52 give limbs below 2^54, not carried. */
static inline void
fe_sub(fe h, const fe f, const fe g)
{
	h[0] = f[0] + UINT64_C(0x1FFFFFFFFFFFB4) - g[0];
	h[1] = f[1] + UINT64_C(0x1FFFFFFFFFFFFC) - g[1];
	h[2] = f[2] + UINT64_C(0x1FFFFFFFFFFFFC) - g[2];
	h[3] = f[3] + UINT64_C(0x1FFFFFFFFFFFFC) - g[3];
	h[4] = f[4] + UINT64_C(0x1FFFFFFFFFFFFC) - g[4];
}

/* The five 128-bit column sums, reduced to limbs. */
static inline void
fe_reduce(fe h, u128 t0, u128 t1, u128 t2, u128 t3, u128 t4)
{
	uint64_t c;

	c = (uint64_t)(t0 >> 51); h[0] = (uint64_t)t0 & MASK51; t1 += c;
	c = (uint64_t)(t1 >> 51); h[1] = (uint64_t)t1 & MASK51; t2 += c;
	c = (uint64_t)(t2 >> 51); h[2] = (uint64_t)t2 & MASK51; t3 += c;
	c = (uint64_t)(t3 >> 51); h[3] = (uint64_t)t3 & MASK51; t4 += c;
	c = (uint64_t)(t4 >> 51); h[4] = (uint64_t)t4 & MASK51;
	h[0] += 19 * c;
	h[1] += h[0] >> 51;
	h[0] &= MASK51;
}

/* Limbs up to 2^54 in: 19 * 2^54 * 2^54 * 5 < 2^115, and the top
 * carry times 19 fits 64 bits. */
static inline void
fe_mul(fe h, const fe f, const fe g)
{
	uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
	uint64_t g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
	uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3,
	    g4_19 = 19 * g4;

	fe_reduce(h,
	    (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 +
	    (u128)f3 * g2_19 + (u128)f4 * g1_19,
	    (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 +
	    (u128)f3 * g3_19 + (u128)f4 * g2_19,
	    (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 +
	    (u128)f3 * g4_19 + (u128)f4 * g3_19,
	    (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 +
	    (u128)f3 * g0 + (u128)f4 * g4_19,
	    (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 +
	    (u128)f3 * g1 + (u128)f4 * g0);
}

static inline void
fe_sq(fe h, const fe f)
{
	uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
	uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f3_19 = 19 * f3,
	    f4_19 = 19 * f4;

	fe_reduce(h,
	    (u128)f0 * f0 + (u128)f1_2 * f4_19 + (u128)(2 * f2) * f3_19,
	    (u128)f0_2 * f1 + (u128)(2 * f2) * f4_19 + (u128)f3 * f3_19,
	    (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)(2 * f3) * f4_19,
	    (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19,
	    (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2);
}

/* h = f^(2^n) */
static void
fe_sqn(fe h, const fe f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/* f * 121665, the curve's (A - 2) / 4. */
static inline void
fe_mul_a24(fe h, const fe f)
{
	fe_reduce(h, (u128)f[0] * 121665, (u128)f[1] * 121665,
	    (u128)f[2] * 121665, (u128)f[3] * 121665, (u128)f[4] * 121665);
}

/* f^(p - 2) = 1 / f (0 for 0): 254 squarings and 11 multiplications,
 * the same for every f. */
static void
fe_invert(fe h, const fe f)
{
	fe z2, z9, z11, a, b, c;

	fe_sq(z2, f);			/* 2 */
	fe_sqn(a, z2, 2);		/* 8 */
	fe_mul(z9, a, f);		/* 9 */
	fe_mul(z11, z9, z2);		/* 11 */
	fe_sq(a, z11);			/* 22 */
	fe_mul(a, a, z9);		/* 2^5 - 1 */
	fe_sqn(b, a, 5);
	fe_mul(a, b, a);		/* 2^10 - 1 */
	fe_sqn(b, a, 10);
	fe_mul(b, b, a);		/* 2^20 - 1 */
	fe_sqn(c, b, 20);
	fe_mul(b, c, b);		/* 2^40 - 1 */
	fe_sqn(b, b, 10);
	fe_mul(a, b, a);		/* 2^50 - 1 */
	fe_sqn(b, a, 50);
	fe_mul(b, b, a);		/* 2^100 - 1 */
	fe_sqn(c, b, 100);
	fe_mul(b, c, b);		/* 2^200 - 1 */
	fe_sqn(b, b, 50);
	fe_mul(b, b, a);		/* 2^250 - 1 */
	fe_sqn(b, b, 5);		/* 2^255 - 2^5 */
	fe_mul(h, b, z11);		/* 2^255 - 21 = p - 2 */
}

/* Swaps f and g when bit is 1, leaves them when 0, alike in time. */
static inline void
fe_cswap(fe f, fe g, uint64_t bit)
{
	uint64_t m = 0 - bit, x0, x1, x2, x3, x4;

	x0 = m & (f[0] ^ g[0]);
	x1 = m & (f[1] ^ g[1]);
	x2 = m & (f[2] ^ g[2]);
	x3 = m & (f[3] ^ g[3]);
	x4 = m & (f[4] ^ g[4]);
	f[0] ^= x0; g[0] ^= x0;
	f[1] ^= x1; g[1] ^= x1;
	f[2] ^= x2; g[2] ^= x2;
	f[3] ^= x3; g[3] ^= x3;
	f[4] ^= x4; g[4] ^= x4;
}

/* RFC 7748 section 5: u = k * u over the Montgomery ladder; k is
 * little-endian and already clamped. */
static void
ladder(unsigned char u[32], const unsigned char k[32])
{
	fe x1, x2, z2, x3, z3, a, aa, b, bb, e, c, d, da, cb;
	uint64_t swap = 0, bit;
	int i;

	fe_load(x1, u);
	memset(x2, 0, sizeof x2);
	x2[0] = 1;
	memset(z2, 0, sizeof z2);
	memcpy(x3, x1, sizeof x3);
	memset(z3, 0, sizeof z3);
	z3[0] = 1;
	for (i = 254; i >= 0; i--) {
		bit = (uint64_t)(k[i >> 3] >> (i & 7) & 1);
		swap ^= bit;
		fe_cswap(x2, x3, swap);
		fe_cswap(z2, z3, swap);
		swap = bit;

		fe_add(a, x2, z2);
		fe_sq(aa, a);
		fe_sub(b, x2, z2);
		fe_sq(bb, b);
		fe_sub(e, aa, bb);
		fe_add(c, x3, z3);
		fe_sub(d, x3, z3);
		fe_mul(da, d, a);
		fe_mul(cb, c, b);
		fe_add(x3, da, cb);
		fe_sq(x3, x3);
		fe_sub(z3, da, cb);
		fe_sq(z3, z3);
		fe_mul(z3, z3, x1);
		fe_mul(x2, aa, bb);
		fe_mul_a24(z2, e);
		fe_add(z2, z2, aa);
		fe_mul(z2, z2, e);
	}
	fe_cswap(x2, x3, swap);
	fe_cswap(z2, z3, swap);
	fe_invert(z2, z2);
	fe_mul(x2, x2, z2);
	fe_store(u, x2);
}

static const unsigned char c25519_gen[32] = { 9 };

/* 2^255 - 1, what br_ec_c25519_m31 gives: the engine draws secrets
 * below it and the clamping does the rest. */
static const unsigned char c25519_order[32] = {
	0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

static uint32_t
c25519_mul(unsigned char *G, size_t Glen, const unsigned char *x,
    size_t xlen)
{
	unsigned char k[32];

	if (Glen != 32 || xlen > 32)
		return 0;
	memcpy(k, x, xlen);
	memset(k + xlen, 0, sizeof k - xlen);
	k[0] &= 0xF8;
	k[31] = (unsigned char)((k[31] & 0x7F) | 0x40);
	ladder(G, k);
	return 1;
}

/* ------------------------------------------------------------------ */
/* The br_ec_impl: Curve25519 here, the other curves to BearSSL       */
/* ------------------------------------------------------------------ */

static const br_ec_impl *
other(int curve)
{
	return curve == BR_EC_secp256r1 ? tls_ec_p256() : &br_ec_prime_i31;
}

static const unsigned char *
api_generator(int curve, size_t *len)
{
	if (curve != BR_EC_curve25519)
		return other(curve)->generator(curve, len);
	*len = sizeof c25519_gen;
	return c25519_gen;
}

static const unsigned char *
api_order(int curve, size_t *len)
{
	if (curve != BR_EC_curve25519)
		return other(curve)->order(curve, len);
	*len = sizeof c25519_order;
	return c25519_order;
}

static size_t
api_xoff(int curve, size_t *len)
{
	if (curve != BR_EC_curve25519)
		return other(curve)->xoff(curve, len);
	*len = 32;
	return 0;
}

static uint32_t
api_mul(unsigned char *G, size_t Glen, const unsigned char *x, size_t xlen,
    int curve)
{
	if (curve != BR_EC_curve25519)
		return other(curve)->mul(G, Glen, x, xlen, curve);
	return c25519_mul(G, Glen, x, xlen);
}

static size_t
api_mulgen(unsigned char *R, const unsigned char *x, size_t xlen, int curve)
{
	if (curve != BR_EC_curve25519)
		return other(curve)->mulgen(R, x, xlen, curve);
	memcpy(R, c25519_gen, sizeof c25519_gen);
	c25519_mul(R, sizeof c25519_gen, x, xlen);
	return sizeof c25519_gen;
}

static uint32_t
api_muladd(unsigned char *A, const unsigned char *B, size_t len,
    const unsigned char *x, size_t xlen, const unsigned char *y,
    size_t ylen, int curve)
{
	if (curve != BR_EC_curve25519)
		return other(curve)->muladd(A, B, len, x, xlen, y, ylen,
		    curve);
	return 0;	/* no ECDSA over Curve25519 */
}

static const br_ec_impl ec_impl = {
	(uint32_t)1 << BR_EC_secp256r1 | (uint32_t)1 << BR_EC_secp384r1 |
	    (uint32_t)1 << BR_EC_secp521r1 | (uint32_t)1 << BR_EC_curve25519,
	api_generator,
	api_order,
	api_xoff,
	api_mul,
	api_mulgen,
	api_muladd,
};

const br_ec_impl *
tls_ec_impl(void)
{
	return &ec_impl;
}

#else /* no __int128: BearSSL's own, all of it */

const br_ec_impl *
tls_ec_impl(void)
{
	return br_ec_get_default();
}

#endif /* __SIZEOF_INT128__ */

#else /* no WSPROXY_TLS */

/* Without TLS there is no curve; ISO C wants a declaration. */
typedef int x25519_unused;

#endif /* WSPROXY_TLS */
