/*
 * p256.c - P-256 (secp256r1) point multiplication as a BearSSL
 * br_ec_impl, for machines whose compiler has unsigned __int128
 * (wsproxy(1) TLS).  BearSSL 0.6 as Debian builds it has only the
 * 31-bit br_ec_p256_m31, and the ECDSA signature of every ECDHE-ECDSA
 * handshake is mostly its field multiplications.
 *
 * The field: four 64-bit limbs, Montgomery form (R = 2^256), every
 * value fully reduced below p.  The points: projective (X:Y:Z) with the
 * complete addition and doubling formulas of Renes, Costello and Batina
 * ("Complete addition formulas for prime order elliptic curves", 2015,
 * algorithms 4, 5 and 6 for a = -3): they are right for every input,
 * the point at infinity and P + P included, so no case needs a branch.
 * Only the mixed addition cannot take the point at infinity as its
 * affine operand; a zero window skips it by a conditional move.
 *
 * mulgen: the 256-bit scalar is 64 four-bit digits d[j]; digit j = 4i + t
 * weighs 2^(16i) * 2^(4t), so with a table of d * 2^(16i) * G (i < 16,
 * 1 <= d <= 15, affine) the product is four rounds of 16 mixed
 * additions, with four doublings between rounds: 64 additions and 12
 * doublings.  The table (15 KiB) is computed at the first call.
 * mul: a four-bit fixed window over the whole scalar, a table of
 * 0..15 times the point.  Both read their tables by scanning every
 * entry with masks, and neither branches on the scalar.  muladd (ECDSA
 * verification, not on a server's path) is br_ec_p256_m31's.
 */
#ifdef WSPROXY_TLS
#include <stdint.h>
#include <string.h>

#include <bearssl.h>

#include "p256.h"

#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 u128;
typedef uint64_t fe[4];

struct pt {
	fe	x, y, z;
};

struct apt {
	fe	x, y;
};

/* p = 2^256 - 2^224 + 2^192 + 2^96 - 1, little-endian limbs. */
static const fe P = {
	0xffffffffffffffffULL, 0x00000000ffffffffULL,
	0x0000000000000000ULL, 0xffffffff00000001ULL
};
/* R^2 mod p, to enter the Montgomery form. */
static const fe R2 = {
	0x0000000000000003ULL, 0xfffffffbffffffffULL,
	0xfffffffffffffffeULL, 0x00000004fffffffdULL
};
/* 1 and b, in Montgomery form. */
static const fe ONE = {
	0x0000000000000001ULL, 0xffffffff00000000ULL,
	0xffffffffffffffffULL, 0x00000000fffffffeULL
};
static const fe B = {
	0xd89cdf6229c4bddfULL, 0xacf005cd78843090ULL,
	0xe5a220abf7212ed6ULL, 0xdc30061d04874834ULL
};

/* All ones when v is not zero, else zero. */
static uint64_t
nz_mask(uint64_t v)
{
	return (uint64_t)0 - ((v | ((uint64_t)0 - v)) >> 63);
}

static uint64_t
eq_mask(uint64_t a, uint64_t b)
{
	return ~nz_mask(a ^ b);
}

/* t + a * b + c into t, the carry out into c. */
#define MAC(t, a, b, c) do {						\
	u128 z_ = (u128)(a) * (b) + (t) + (c);				\
	(t) = (uint64_t)z_;						\
	(c) = (uint64_t)(z_ >> 64);					\
} while (0)

/* r = m ? a : b for the four limbs, m all ones or zero. */
#define SEL4(r, m, a0, a1, a2, a3, b) do {				\
	(r)[0] = ((a0) & (m)) | ((b)[0] & ~(m));			\
	(r)[1] = ((a1) & (m)) | ((b)[1] & ~(m));			\
	(r)[2] = ((a2) & (m)) | ((b)[2] & ~(m));			\
	(r)[3] = ((a3) & (m)) | ((b)[3] & ~(m));			\
} while (0)

/*
 * d = s - p over four limbs and a fifth (hi); the result is s when that
 * borrows (s < p), else d.
 */
static void
fe_reduce(fe r, uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3,
    uint64_t hi)
{
	uint64_t d[4], br, m;
	u128 z;

	z = (u128)s0 - P[0];
	d[0] = (uint64_t)z;
	br = (uint64_t)(z >> 64) & 1;
	z = (u128)s1 - P[1] - br;
	d[1] = (uint64_t)z;
	br = (uint64_t)(z >> 64) & 1;
	z = (u128)s2 - P[2] - br;
	d[2] = (uint64_t)z;
	br = (uint64_t)(z >> 64) & 1;
	z = (u128)s3 - P[3] - br;
	d[3] = (uint64_t)z;
	br = (uint64_t)(z >> 64) & 1;
	m = (uint64_t)0 - (br & (hi ^ 1));
	SEL4(r, m, s0, s1, s2, s3, d);
}

/* r = a + b mod p. */
static void
fe_add(fe r, const fe a, const fe b)
{
	uint64_t s0, s1, s2, s3;
	u128 z;

	z = (u128)a[0] + b[0];
	s0 = (uint64_t)z;
	z = (u128)a[1] + b[1] + (uint64_t)(z >> 64);
	s1 = (uint64_t)z;
	z = (u128)a[2] + b[2] + (uint64_t)(z >> 64);
	s2 = (uint64_t)z;
	z = (u128)a[3] + b[3] + (uint64_t)(z >> 64);
	s3 = (uint64_t)z;
	fe_reduce(r, s0, s1, s2, s3, (uint64_t)(z >> 64));
}

/* r = a - b mod p. */
static void
fe_sub(fe r, const fe a, const fe b)
{
	uint64_t d0, d1, d2, d3, m;
	u128 z;

	z = (u128)a[0] - b[0];
	d0 = (uint64_t)z;
	z = (u128)a[1] - b[1] - ((uint64_t)(z >> 64) & 1);
	d1 = (uint64_t)z;
	z = (u128)a[2] - b[2] - ((uint64_t)(z >> 64) & 1);
	d2 = (uint64_t)z;
	z = (u128)a[3] - b[3] - ((uint64_t)(z >> 64) & 1);
	d3 = (uint64_t)z;
	/* On a borrow, add p back. */
	m = (uint64_t)0 - ((uint64_t)(z >> 64) & 1);
	z = (u128)d0 + (P[0] & m);
	r[0] = (uint64_t)z;
	z = (u128)d1 + (P[1] & m) + (uint64_t)(z >> 64);
	r[1] = (uint64_t)z;
	z = (u128)d2 + (uint64_t)(z >> 64);
	r[2] = (uint64_t)z;
	r[3] = d3 + (P[3] & m) + (uint64_t)(z >> 64);
}

/*
 * One word of the Montgomery product: t += a * bi, then t += m * p with
 * m = t0, and t shifted down a word.  -1/p mod 2^64 is 1 (p = -1 mod
 * 2^64), hence m = t0; m * p[0] + t0 is m * 2^64 (carry m, word 0), and
 * p[2] is 0.
 */
#define MONT_STEP(bi) do {						\
	c = 0;								\
	MAC(t0, a[0], bi, c);						\
	MAC(t1, a[1], bi, c);						\
	MAC(t2, a[2], bi, c);						\
	MAC(t3, a[3], bi, c);						\
	z = (u128)t4 + c;						\
	t4 = (uint64_t)z;						\
	t5 = (uint64_t)(z >> 64);					\
	m = t0;								\
	c = m;								\
	MAC(t1, m, P[1], c);						\
	z = (u128)t2 + c;						\
	t0 = t1;							\
	t1 = (uint64_t)z;						\
	c = (uint64_t)(z >> 64);					\
	MAC(t3, m, P[3], c);						\
	t2 = t3;							\
	z = (u128)t4 + c;						\
	t3 = (uint64_t)z;						\
	t4 = t5 + (uint64_t)(z >> 64);					\
} while (0)

/* r = a * b / 2^256 mod p (Montgomery, word by word); r may be a or b. */
static void
fe_mul(fe r, const fe a, const fe b)
{
	uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5, c, m;
	uint64_t b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
	u128 z;

	MONT_STEP(b0);
	MONT_STEP(b1);
	MONT_STEP(b2);
	MONT_STEP(b3);
	/* t < 2p. */
	fe_reduce(r, t0, t1, t2, t3, t4);
}

static void
fe_sqr_n(fe r, const fe a, int n)
{
	fe_mul(r, a, a);
	while (--n > 0)
		fe_mul(r, r, r);
}

/*
 * r = a^(p-2) = 1/a (0 for 0).  p - 2 is, from the top, 32 ones, 31
 * zeros and a one, 96 zeros, 94 ones, a zero and a one.
 */
static void
fe_inv(fe r, const fe a)
{
	fe x2, x4, x8, x16, x30, x32, t;

	fe_sqr_n(t, a, 1);
	fe_mul(x2, t, a);
	fe_sqr_n(t, x2, 2);
	fe_mul(x4, t, x2);
	fe_sqr_n(t, x4, 4);
	fe_mul(x8, t, x4);
	fe_sqr_n(t, x8, 8);
	fe_mul(x16, t, x8);
	fe_sqr_n(t, x16, 8);
	fe_mul(t, t, x8);
	fe_sqr_n(t, t, 4);
	fe_mul(t, t, x4);
	fe_sqr_n(t, t, 2);
	fe_mul(x30, t, x2);
	fe_sqr_n(t, x30, 2);
	fe_mul(x32, t, x2);
	fe_sqr_n(t, x32, 32);
	fe_mul(t, t, a);
	fe_sqr_n(t, t, 96);
	fe_sqr_n(t, t, 32);
	fe_mul(t, t, x32);
	fe_sqr_n(t, t, 32);
	fe_mul(t, t, x32);
	fe_sqr_n(t, t, 30);
	fe_mul(t, t, x30);
	fe_sqr_n(t, t, 2);
	fe_mul(r, t, a);
}

/* 32 big-endian bytes into Montgomery form; all ones if they are >= p. */
static uint64_t
fe_decode(fe r, const unsigned char *b)
{
	uint64_t br = 0;
	u128 z;
	int i, j;

	for (i = 0; i < 4; i++) {
		r[i] = 0;
		for (j = 0; j < 8; j++)
			r[i] = (r[i] << 8) | b[(3 - i) * 8 + j];
	}
	for (i = 0; i < 4; i++) {
		z = (u128)r[i] - P[i] - br;
		br = (uint64_t)(z >> 64) & 1;
	}
	fe_mul(r, r, R2);
	return (uint64_t)0 - (br ^ 1);
}

/* From Montgomery form into 32 big-endian bytes. */
static void
fe_encode(unsigned char *b, const fe a)
{
	static const fe one = { 1, 0, 0, 0 };
	fe t;
	int i, j;

	fe_mul(t, a, one);
	for (i = 0; i < 4; i++)
		for (j = 0; j < 8; j++)
			b[(3 - i) * 8 + j] = (unsigned char)(t[i] >> (56 - 8 * j));
}

/* r = m ? a : r, m all ones or zero. */
static void
fe_cmov(fe r, const fe a, uint64_t m)
{
	int i;

	for (i = 0; i < 4; i++)
		r[i] = (a[i] & m) | (r[i] & ~m);
}

static void
pt_cmov(struct pt *r, const struct pt *a, uint64_t m)
{
	fe_cmov(r->x, a->x, m);
	fe_cmov(r->y, a->y, m);
	fe_cmov(r->z, a->z, m);
}

static void
pt_infinity(struct pt *r)
{
	memset(r, 0, sizeof *r);
	memcpy(r->y, ONE, sizeof r->y);
}

/*
 * The second half of algorithms 4 and 5, the same in both once t2 holds
 * Z1*Z2 (Z1 for an affine q): from t0 = X1X2, t1 = Y1Y2, t3, t4 and y3
 * as the first half left them to r.
 */
static void
add_finish(struct pt *r, fe t0, fe t1, fe t2, const fe t3, const fe t4,
    fe y3)
{
	fe x3, z3;

	fe_mul(z3, B, t2);
	fe_sub(x3, y3, z3);
	fe_add(z3, x3, x3);
	fe_add(x3, x3, z3);
	fe_sub(z3, t1, x3);
	fe_add(x3, t1, x3);
	fe_mul(y3, B, y3);
	fe_add(t1, t2, t2);
	fe_add(t2, t1, t2);
	fe_sub(y3, y3, t2);
	fe_sub(y3, y3, t0);
	fe_add(t1, y3, y3);
	fe_add(y3, t1, y3);
	fe_add(t1, t0, t0);
	fe_add(t0, t1, t0);
	fe_sub(t0, t0, t2);
	fe_mul(t1, t4, y3);
	fe_mul(t2, t0, y3);
	fe_mul(y3, x3, z3);
	fe_add(y3, y3, t2);
	fe_mul(x3, t3, x3);
	fe_sub(x3, x3, t1);
	fe_mul(z3, t4, z3);
	fe_mul(t1, t3, t0);
	fe_add(z3, z3, t1);
	memcpy(r->x, x3, sizeof x3);
	memcpy(r->y, y3, sizeof r->y);
	memcpy(r->z, z3, sizeof z3);
}

/* r = p + q (algorithm 4); r may be p or q. */
static void
pt_add(struct pt *r, const struct pt *p, const struct pt *q)
{
	fe t0, t1, t2, t3, t4, x3, y3;

	fe_mul(t0, p->x, q->x);
	fe_mul(t1, p->y, q->y);
	fe_mul(t2, p->z, q->z);
	fe_add(t3, p->x, p->y);
	fe_add(t4, q->x, q->y);
	fe_mul(t3, t3, t4);
	fe_add(t4, t0, t1);
	fe_sub(t3, t3, t4);
	fe_add(t4, p->y, p->z);
	fe_add(x3, q->y, q->z);
	fe_mul(t4, t4, x3);
	fe_add(x3, t1, t2);
	fe_sub(t4, t4, x3);
	fe_add(x3, p->x, p->z);
	fe_add(y3, q->x, q->z);
	fe_mul(x3, x3, y3);
	fe_add(y3, t0, t2);
	fe_sub(y3, x3, y3);
	add_finish(r, t0, t1, t2, t3, t4, y3);
}

/* r = p + q, q affine and not the point at infinity (algorithm 5). */
static void
pt_add_affine(struct pt *r, const struct pt *p, const struct apt *q)
{
	fe t0, t1, t2, t3, t4, y3;

	fe_mul(t0, p->x, q->x);
	fe_mul(t1, p->y, q->y);
	fe_add(t3, q->x, q->y);
	fe_add(t4, p->x, p->y);
	fe_mul(t3, t3, t4);
	fe_add(t4, t0, t1);
	fe_sub(t3, t3, t4);
	fe_mul(t4, q->y, p->z);
	fe_add(t4, t4, p->y);
	fe_mul(y3, q->x, p->z);
	fe_add(y3, y3, p->x);
	memcpy(t2, p->z, sizeof t2);
	add_finish(r, t0, t1, t2, t3, t4, y3);
}

/* r = 2p (algorithm 6); r may be p. */
static void
pt_double(struct pt *r, const struct pt *p)
{
	fe t0, t1, t2, t3, x3, y3, z3;

	fe_mul(t0, p->x, p->x);
	fe_mul(t1, p->y, p->y);
	fe_mul(t2, p->z, p->z);
	fe_mul(t3, p->x, p->y);
	fe_add(t3, t3, t3);
	fe_mul(z3, p->x, p->z);
	fe_add(z3, z3, z3);
	fe_mul(y3, B, t2);
	fe_sub(y3, y3, z3);
	fe_add(x3, y3, y3);
	fe_add(y3, x3, y3);
	fe_sub(x3, t1, y3);
	fe_add(y3, t1, y3);
	fe_mul(y3, x3, y3);
	fe_mul(x3, x3, t3);
	fe_add(t3, t2, t2);
	fe_add(t2, t2, t3);
	fe_mul(z3, B, z3);
	fe_sub(z3, z3, t2);
	fe_sub(z3, z3, t0);
	fe_add(t3, z3, z3);
	fe_add(z3, z3, t3);
	fe_add(t3, t0, t0);
	fe_add(t0, t3, t0);
	fe_sub(t0, t0, t2);
	fe_mul(t0, t0, z3);
	fe_add(y3, y3, t0);
	fe_mul(t0, p->y, p->z);
	fe_add(t0, t0, t0);
	fe_mul(z3, t0, z3);
	fe_sub(x3, x3, z3);
	fe_mul(z3, t0, t1);
	fe_add(z3, z3, z3);
	fe_add(z3, z3, z3);
	memcpy(r->x, x3, sizeof x3);
	memcpy(r->y, y3, sizeof y3);
	memcpy(r->z, z3, sizeof z3);
}

/*
 * 0x04 || X || Y into p; all ones when it is a point of the curve (its
 * coordinates below p, y^2 = x^3 - 3x + b), as br_ec_p256_m31 checks.
 */
static uint64_t
pt_decode(struct pt *p, const unsigned char *buf)
{
	fe t1, t2;
	uint64_t bad, d;
	int i;

	bad = nz_mask((uint64_t)(buf[0] ^ 0x04));
	bad |= fe_decode(p->x, buf + 1);
	bad |= fe_decode(p->y, buf + 33);
	memcpy(p->z, ONE, sizeof p->z);
	fe_mul(t1, p->x, p->x);
	fe_mul(t1, t1, p->x);
	fe_sub(t1, t1, p->x);
	fe_sub(t1, t1, p->x);
	fe_sub(t1, t1, p->x);
	fe_add(t1, t1, B);
	fe_mul(t2, p->y, p->y);
	d = 0;
	for (i = 0; i < 4; i++)
		d |= t1[i] ^ t2[i];
	return ~(bad | nz_mask(d));
}

/* p in affine coordinates as 0x04 || X || Y; infinity comes out 0, 0. */
static void
pt_encode(unsigned char *buf, const struct pt *p)
{
	fe zi, t;

	fe_inv(zi, p->z);
	buf[0] = 0x04;
	fe_mul(t, p->x, zi);
	fe_encode(buf + 1, t);
	fe_mul(t, p->y, zi);
	fe_encode(buf + 33, t);
}

/* q = k * p, k of any length (big-endian), a four-bit fixed window. */
static void
pt_mul(struct pt *q, const struct pt *p, const unsigned char *k, size_t klen)
{
	struct pt tab[16], t;
	size_t u;
	unsigned nib;
	int j, h, s;

	pt_infinity(&tab[0]);
	tab[1] = *p;
	for (j = 2; j < 16; j++) {
		if (j % 2 == 0)
			pt_double(&tab[j], &tab[j / 2]);
		else
			pt_add(&tab[j], &tab[j - 1], p);
	}
	pt_infinity(q);
	for (u = 0; u < klen; u++) {
		for (h = 4; h >= 0; h -= 4) {
			nib = ((unsigned)k[u] >> h) & 15;
			for (s = 0; s < 4; s++)
				pt_double(q, q);
			memset(&t, 0, sizeof t);
			for (j = 0; j < 16; j++)
				pt_cmov(&t, &tab[j], eq_mask(nib, (uint64_t)j));
			pt_add(q, q, &t);
		}
	}
}

/* gtab[i][d - 1] = d * 2^(16i) * G, affine, Montgomery form. */
static struct apt gtab[16][15];
static int gtab_ready;

static void
gtab_fill(void)
{
	struct pt base, m[15];
	fe acc[15], inv, zi;
	const unsigned char *g;
	size_t glen;
	int i, d, s;

	g = br_ec_p256_m31.generator(BR_EC_secp256r1, &glen);
	(void)pt_decode(&base, g);
	for (i = 0; i < 16; i++) {
		m[0] = base;
		for (d = 1; d < 15; d++) {
			if (d % 2 == 1)
				pt_double(&m[d], &m[d / 2]);
			else
				pt_add(&m[d], &m[d - 1], &base);
		}
		/* One inversion for the 15 (Montgomery's trick). */
		memcpy(acc[0], m[0].z, sizeof acc[0]);
		for (d = 1; d < 15; d++)
			fe_mul(acc[d], acc[d - 1], m[d].z);
		fe_inv(inv, acc[14]);
		for (d = 14; d >= 0; d--) {
			if (d > 0) {
				fe_mul(zi, inv, acc[d - 1]);
				fe_mul(inv, inv, m[d].z);
			} else {
				memcpy(zi, inv, sizeof zi);
			}
			fe_mul(gtab[i][d].x, m[d].x, zi);
			fe_mul(gtab[i][d].y, m[d].y, zi);
		}
		for (s = 0; s < 16; s++)
			pt_double(&base, &base);
	}
	gtab_ready = 1;
}

/* q = k * G, k 32 bytes big-endian. */
static void
pt_mulgen(struct pt *q, const unsigned char k[32])
{
	struct pt sum;
	struct apt a;
	unsigned nib, idx;
	int t, i, e, s, n;

	if (!gtab_ready)
		gtab_fill();
	pt_infinity(q);
	for (t = 3; t >= 0; t--) {
		if (t < 3)
			for (s = 0; s < 4; s++)
				pt_double(q, q);
		for (i = 0; i < 16; i++) {
			n = 4 * i + t;
			nib = ((unsigned)k[31 - n / 2] >> (4 * (n % 2))) & 15;
			memset(&a, 0, sizeof a);
			for (e = 0; e < 15; e++) {
				idx = (unsigned)e + 1;
				fe_cmov(a.x, gtab[i][e].x, eq_mask(nib, idx));
				fe_cmov(a.y, gtab[i][e].y, eq_mask(nib, idx));
			}
			pt_add_affine(&sum, q, &a);
			pt_cmov(q, &sum, nz_mask(nib));
		}
	}
}

static const unsigned char *
api_generator(int curve, size_t *len)
{
	return br_ec_p256_m31.generator(curve, len);
}

static const unsigned char *
api_order(int curve, size_t *len)
{
	return br_ec_p256_m31.order(curve, len);
}

static size_t
api_xoff(int curve, size_t *len)
{
	(void)curve;
	*len = 32;
	return 1;
}

/*
 * Like br_ec_p256_m31: 0 for a point that is not 65 bytes or not on
 * the curve; the result is written for any 65 bytes.
 */
static uint32_t
api_mul(unsigned char *g, size_t glen, const unsigned char *k, size_t klen,
    int curve)
{
	struct pt p, q;
	uint64_t ok;

	(void)curve;
	if (glen != 65)
		return 0;
	ok = pt_decode(&p, g);
	pt_mul(&q, &p, k, klen);
	pt_encode(g, &q);
	return (uint32_t)(ok & 1);
}

static size_t
api_mulgen(unsigned char *r, const unsigned char *k, size_t klen, int curve)
{
	unsigned char k32[32];
	const unsigned char *g;
	size_t glen;
	struct pt q;

	if (klen > 32) {
		/* Longer than the order: the generic multiplication. */
		g = api_generator(curve, &glen);
		memcpy(r, g, glen);
		(void)api_mul(r, glen, k, klen, curve);
		return glen;
	}
	memset(k32, 0, sizeof k32);
	memcpy(k32 + 32 - klen, k, klen);
	pt_mulgen(&q, k32);
	pt_encode(r, &q);
	return 65;
}

static uint32_t
api_muladd(unsigned char *a, const unsigned char *b, size_t len,
    const unsigned char *x, size_t xlen, const unsigned char *y, size_t ylen,
    int curve)
{
	return br_ec_p256_m31.muladd(a, b, len, x, xlen, y, ylen, curve);
}

static const br_ec_impl p256_impl = {
	(uint32_t)1 << BR_EC_secp256r1,
	&api_generator,
	&api_order,
	&api_xoff,
	&api_mul,
	&api_mulgen,
	&api_muladd
};

const br_ec_impl *
tls_ec_p256(void)
{
	return &p256_impl;
}

#else /* __SIZEOF_INT128__ */

const br_ec_impl *
tls_ec_p256(void)
{
	return NULL;
}

#endif /* __SIZEOF_INT128__ */

#else /* WSPROXY_TLS */

/* Without TLS there is nothing to multiply; ISO C wants a declaration. */
typedef int p256_unused;

#endif /* WSPROXY_TLS */
