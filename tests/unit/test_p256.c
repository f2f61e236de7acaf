/*
 * test_p256.c - p256.c's br_ec_impl against BearSSL's own
 * br_ec_p256_m31: mulgen and mul over chosen and random scalars
 * (0, 1, n - 1, n, above n, all ones, short and long encodings),
 * random points of the curve, and the points both must refuse (off
 * the curve, a coordinate >= p, a bad prefix or length); ECDSA
 * signatures made with one and checked with the other (RFC 6979 makes
 * them deterministic, so both must sign alike), and the P-256 SHA-256
 * vectors of RFC 6979, A.2.5.
 *
 * P256_SEED in the environment picks the random sequence (printed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "../../p256.h"
#include "check.h"

static uint64_t rng;


static const br_ec_impl *ours;
static const br_ec_impl *m31 = &br_ec_p256_m31;

static void
hex(const char *label, const unsigned char *b, size_t n)
{
	size_t i;

	printf("  %s ", label);
	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
	putchar('\n');
}

static void
unhex(unsigned char *b, const char *s)
{
	unsigned v;

	while (*s != '\0' && sscanf(s, "%2x", &v) == 1) {
		*b++ = (unsigned char)v;
		s += 2;
	}
}

/* mulgen of k by both; the results must be the same bytes. */
static void
same_mulgen(const unsigned char *k, size_t klen, const char *what)
{
	unsigned char a[65], b[65];
	size_t la, lb;

	memset(a, 0xaa, sizeof a);
	memset(b, 0x55, sizeof b);
	la = m31->mulgen(a, k, klen, BR_EC_secp256r1);
	lb = ours->mulgen(b, k, klen, BR_EC_secp256r1);
	CHECK(la == 65 && lb == 65 && memcmp(a, b, 65) == 0,
	    "mulgen %s (klen %zu): lengths %zu %zu", what, klen, la, lb);
	if (memcmp(a, b, 65) != 0) {
		hex("k  ", k, klen);
		hex("m31", a, 65);
		hex("our", b, 65);
	}
}

/* mul of the point g by k by both: same return value, same bytes. */
static void
same_mul(const unsigned char *g, size_t glen, const unsigned char *k,
    size_t klen, const char *what, uint32_t want)
{
	unsigned char a[80], b[80];
	uint32_t ra, rb;

	memcpy(a, g, glen);
	memcpy(b, g, glen);
	ra = m31->mul(a, glen, k, klen, BR_EC_secp256r1);
	rb = ours->mul(b, glen, k, klen, BR_EC_secp256r1);
	CHECK(ra == want && rb == want, "mul %s: returned m31 %u ours %u, "
	    "want %u", what, (unsigned)ra, (unsigned)rb, (unsigned)want);
	if (want == 1) {
		CHECK(memcmp(a, b, 65) == 0, "mul %s: results differ", what);
		if (memcmp(a, b, 65) != 0) {
			hex("k  ", k, klen);
			hex("m31", a, 65);
			hex("our", b, 65);
		}
	}
}

static void
test_interface(void)
{
	const unsigned char *ga, *gb;
	size_t la, lb, oa, ob;

	CHECK(ours->supported_curves == (uint32_t)1 << BR_EC_secp256r1,
	    "supported curves %#x", (unsigned)ours->supported_curves);
	ga = m31->generator(BR_EC_secp256r1, &la);
	gb = ours->generator(BR_EC_secp256r1, &lb);
	CHECK(la == lb && memcmp(ga, gb, la) == 0, "generator");
	ga = m31->order(BR_EC_secp256r1, &la);
	gb = ours->order(BR_EC_secp256r1, &lb);
	CHECK(la == lb && memcmp(ga, gb, la) == 0, "order");
	oa = m31->xoff(BR_EC_secp256r1, &la);
	ob = ours->xoff(BR_EC_secp256r1, &lb);
	CHECK(oa == ob && la == lb, "xoff %zu/%zu vs %zu/%zu", oa, la, ob, lb);
}

/* n + d for a small d, as 32 bytes (n + d < 2^256). */
static void
order_plus(unsigned char *k, int d)
{
	const unsigned char *n;
	size_t len, i;
	int c;

	n = m31->order(BR_EC_secp256r1, &len);
	memcpy(k, n, 32);
	c = d;
	for (i = 32; i-- > 0 && c != 0;) {
		c += k[i];
		k[i] = (unsigned char)c;
		c >>= 8;
	}
	if (d < 0) {
		/* Small negative d: borrow through the low bytes. */
		memcpy(k, n, 32);
		c = -d;
		for (i = 32; i-- > 0 && c != 0;) {
			int v = (int)k[i] - c;
			c = v < 0;
			k[i] = (unsigned char)(v < 0 ? v + 256 : v);
		}
	}
}

static void
test_mulgen(void)
{
	unsigned char k[48];
	int i, d;

	memset(k, 0, sizeof k);
	same_mulgen(k, 32, "0");
	same_mulgen(k, 1, "0, one byte");
	order_plus(k, 0);
	same_mulgen(k, 32, "n");
	memset(k, 0, sizeof k);
	k[31] = 1;
	same_mulgen(k, 32, "1");
	same_mulgen(k + 31, 1, "1, one byte");
	k[31] = 2;
	same_mulgen(k, 32, "2");
	for (d = -3; d <= 3; d++) {
		if (d == 0)
			continue;
		order_plus(k, d);
		same_mulgen(k, 32, "n + small");
	}
	order_plus(k, -1);
	same_mulgen(k, 32, "n - 1");
	memset(k, 0xff, 32);
	same_mulgen(k, 32, "all ones");
	memset(k, 0, sizeof k);
	check_fill(&rng, k + 1, 32);
	same_mulgen(k, 33, "33 bytes, leading zero");
	check_fill(&rng, k, 40);
	same_mulgen(k, 40, "40 random bytes");
	check_fill(&rng, k, 31);
	same_mulgen(k, 31, "31 bytes");
	check_fill(&rng, k, 7);
	same_mulgen(k, 7, "7 bytes");
	for (i = 0; i < 3000; i++) {
		check_fill(&rng, k, 32);
		same_mulgen(k, 32, "random");
	}
	/* The generator's multiple through mul must agree with mulgen. */
	{
		unsigned char a[65], b[65];
		const unsigned char *g;
		size_t glen;

		check_fill(&rng, k, 32);
		g = ours->generator(BR_EC_secp256r1, &glen);
		memcpy(a, g, 65);
		CHECK(ours->mul(a, 65, k, 32, BR_EC_secp256r1) == 1, "mul G");
		ours->mulgen(b, k, 32, BR_EC_secp256r1);
		CHECK(memcmp(a, b, 65) == 0, "mul G == mulgen");
	}
}

static void
test_mul(void)
{
	unsigned char g[80], k[48], e[32];
	int i, d;

	check_fill(&rng, e, 32);
	m31->mulgen(g, e, 32, BR_EC_secp256r1);
	memset(k, 0, sizeof k);
	same_mul(g, 65, k, 32, "by 0", 1);
	order_plus(k, 0);
	same_mul(g, 65, k, 32, "by n", 1);
	memset(k, 0, sizeof k);
	k[31] = 1;
	same_mul(g, 65, k, 32, "by 1", 1);
	k[31] = 2;
	same_mul(g, 65, k, 32, "by 2", 1);
	same_mul(g, 65, k + 31, 1, "by 2, one byte", 1);
	order_plus(k, -1);
	same_mul(g, 65, k, 32, "by n - 1", 1);
	for (d = 1; d <= 3; d++) {
		order_plus(k, d);
		same_mul(g, 65, k, 32, "by n + small", 1);
	}
	memset(k, 0xff, 32);
	same_mul(g, 65, k, 32, "by all ones", 1);
	check_fill(&rng, k, 40);
	same_mul(g, 65, k, 40, "by 40 bytes", 1);
	for (i = 0; i < 2000; i++) {
		check_fill(&rng, e, 32);
		m31->mulgen(g, e, 32, BR_EC_secp256r1);
		check_fill(&rng, k, 32);
		same_mul(g, 65, k, 32, "random", 1);
	}
}

/* Every malformed point must give 0 from both. */
static void
test_invalid(void)
{
	/* (0, y): a point of the curve with x = 0, so x + p is < 2^256. */
	static const char *y0 =
	    "66485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4";
	static const char *p =
	    "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
	/* (x5, 5): a point of the curve with y = 5, so y + p is < 2^256. */
	static const char *x5 =
	    "d7325d7646cd60d80a92738ceb345f844cffaf35841022cab176f692de8de1d7";
	static const char *y5p =
	    "ffffffff00000001000000000000000000000001000000000000000000000004";
	unsigned char g[80], v[80], k[32], e[32];
	int i;

	check_fill(&rng, e, 32);
	m31->mulgen(g, e, 32, BR_EC_secp256r1);
	check_fill(&rng, k, 32);
	same_mul(g, 65, k, 32, "valid", 1);
	same_mul(g, 64, k, 32, "64 bytes", 0);
	same_mul(g, 66, k, 32, "66 bytes", 0);
	same_mul(g, 33, k, 32, "33 bytes", 0);
	same_mul(g, 1, k, 32, "1 byte", 0);
	for (i = 0; i < 256; i++) {
		if (i == 4)
			continue;
		memcpy(v, g, 65);
		v[0] = (unsigned char)i;
		same_mul(v, 65, k, 32, "prefix", 0);
	}
	for (i = 0; i < 512; i++) {
		memcpy(v, g, 65);
		v[1 + i / 8] ^= (unsigned char)(1u << (i % 8));
		same_mul(v, 65, k, 32, "a bit flipped", 0);
	}
	memset(v, 0, sizeof v);
	v[0] = 4;
	same_mul(v, 65, k, 32, "(0, 0)", 0);
	unhex(v + 33, y0);
	same_mul(v, 65, k, 32, "(0, y)", 1);
	unhex(v + 1, p);
	same_mul(v, 65, k, 32, "(p, y): x = 0 + p", 0);
	memset(v, 0, sizeof v);
	v[0] = 4;
	unhex(v + 1, x5);
	v[64] = 5;
	same_mul(v, 65, k, 32, "(x, 5)", 1);
	unhex(v + 33, y5p);
	same_mul(v, 65, k, 32, "(x, 5 + p)", 0);
	memcpy(v, g, 65);
	unhex(v + 33, p);
	same_mul(v, 65, k, 32, "y = p", 0);
	memset(v + 33, 0xff, 32);
	same_mul(v, 65, k, 32, "y = 2^256 - 1", 0);
	memcpy(v, g, 65);
	memset(v + 1, 0xff, 32);
	same_mul(v, 65, k, 32, "x = 2^256 - 1", 0);
}

static void
hash_sha256(unsigned char *out, const char *msg)
{
	br_sha256_context sc;

	br_sha256_init(&sc);
	br_sha256_update(&sc, msg, strlen(msg));
	br_sha256_out(&sc, out);
}

/* RFC 6979, A.2.5: P-256, SHA-256, messages "sample" and "test". */
static void
test_rfc6979(void)
{
	static const char *x =
	    "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
	static const char *u = "04"
	    "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
	    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
	static const struct {
		const char *msg, *rs;
	} v[] = {
		{ "sample",
		  "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
		  "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8" },
		{ "test",
		  "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
		  "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083" },
	};
	unsigned char xb[32], ub[65], pub[65], kbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char h[32], want[64], sig[80];
	br_ec_private_key sk;
	br_ec_public_key pk;
	size_t i, n;

	unhex(xb, x);
	unhex(ub, u);
	ours->mulgen(pub, xb, 32, BR_EC_secp256r1);
	CHECK(memcmp(pub, ub, 65) == 0, "RFC 6979 public key");
	sk.curve = BR_EC_secp256r1;
	sk.x = xb;
	sk.xlen = 32;
	n = br_ec_compute_pub(ours, &pk, kbuf, &sk);
	CHECK(n == 65 && memcmp(pk.q, ub, 65) == 0, "br_ec_compute_pub");
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		hash_sha256(h, v[i].msg);
		unhex(want, v[i].rs);
		n = br_ecdsa_i31_sign_raw(ours, &br_sha256_vtable, h, &sk, sig);
		CHECK(n == 64 && memcmp(sig, want, 64) == 0,
		    "RFC 6979 %s: signature", v[i].msg);
		CHECK(br_ecdsa_i31_vrfy_raw(m31, h, 32, &pk, sig, n) == 1,
		    "RFC 6979 %s: m31 verifies", v[i].msg);
	}
}

/* Random keys: both sign alike, each verifies the other's signature. */
static void
test_ecdsa(void)
{
	unsigned char xb[32], kbuf[BR_EC_KBUF_PUB_MAX_SIZE], h[32];
	unsigned char sa[80], sb[80];
	const unsigned char *n;
	br_ec_private_key sk;
	br_ec_public_key pk;
	size_t la, lb, nlen;
	int i;

	n = m31->order(BR_EC_secp256r1, &nlen);
	for (i = 0; i < 100; i++) {
		do {
			check_fill(&rng, xb, 32);
		} while (memcmp(xb, n, 32) >= 0);
		sk.curve = BR_EC_secp256r1;
		sk.x = xb;
		sk.xlen = 32;
		br_ec_compute_pub(m31, &pk, kbuf, &sk);
		check_fill(&rng, h, 32);
		la = br_ecdsa_i31_sign_asn1(m31, &br_sha256_vtable, h, &sk, sa);
		lb = br_ecdsa_i31_sign_asn1(ours, &br_sha256_vtable, h, &sk, sb);
		CHECK(la > 0 && la == lb && memcmp(sa, sb, la) == 0,
		    "ECDSA key %d: signatures differ", i);
		CHECK(br_ecdsa_i31_vrfy_asn1(m31, h, 32, &pk, sb, lb) == 1,
		    "ECDSA key %d: m31 verifies ours", i);
		CHECK(br_ecdsa_i31_vrfy_asn1(ours, h, 32, &pk, sa, la) == 1,
		    "ECDSA key %d: ours verifies m31's", i);
		h[0] ^= 1;
		CHECK(br_ecdsa_i31_vrfy_asn1(m31, h, 32, &pk, sb, lb) == 0,
		    "ECDSA key %d: another hash verifies", i);
	}
}

int
main(void)
{
	const char *s = getenv("P256_SEED");

	rng = s != NULL ? strtoull(s, NULL, 0) : 0x2545f4914f6cdd1dULL;
	if (rng == 0)
		rng = 1;
	printf("P256_SEED=%#llx\n", (unsigned long long)rng);
	ours = tls_ec_p256();
#ifdef __SIZEOF_INT128__
	CHECK(ours != NULL, "tls_ec_p256() is NULL");
#else
	CHECK(ours == NULL, "tls_ec_p256() without __int128");
#endif
	if (ours != NULL) {
		test_interface();
		test_mulgen();
		test_mul();
		test_invalid();
		test_rfc6979();
		test_ecdsa();
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
