/*
 * test_x25519.c - x25519.c, the X25519 every TLS engine gets (wsproxy(1)
 * TLS): the RFC 7748 vectors (section 5.2, both single vectors and the
 * iterated one after 1 and 1,000 rounds; section 6.1, the Diffie-Hellman
 * exchange) through the br_ec_impl interface, whose Curve25519 scalar
 * is little-endian in BearSSL 0.6 as in the RFC; then mul() and mulgen() against BearSSL's own
 * br_ec_c25519_m31 for random scalars of every length and random points,
 * among them u with the top bit set, u = p and above, u = 0 and 1, and
 * points of small order; the refusals (a point not 32 bytes, a scalar
 * over 32); and that the other curves reach BearSSL.
 * Where the compiler has no unsigned __int128, tls_ec_impl() is
 * BearSSL's default, which this checks instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bearssl.h>

#include "../../x25519.h"
#include "check.h"

static const br_ec_impl *ec;

static void
unhex(unsigned char *out, const char *hex)
{
	size_t i;
	unsigned v;

	for (i = 0; i < 32; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (unsigned char)v;
	}
}

static int
same_hex(const unsigned char *b, const char *hex)
{
	unsigned char want[32];

	unhex(want, hex);
	return memcmp(b, want, 32) == 0;
}

/* RFC 7748's X25519(k, u). */
static uint32_t
x25519(unsigned char out[32], const unsigned char k[32],
    const unsigned char u[32])
{
	memcpy(out, u, 32);
	return ec->mul(out, 32, k, 32, BR_EC_curve25519);
}

/* Section 5.2, the two single vectors; the second u has bit 255 set. */
static void
test_rfc_vectors(void)
{
	static const char *const v[][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	unsigned char k[32], u[32], out[32];
	size_t i;

	for (i = 0; i < 2; i++) {
		unhex(k, v[i][0]);
		unhex(u, v[i][1]);
		CHECK(x25519(out, k, u) == 1, "vector %zu: mul failed", i + 1);
		CHECK(same_hex(out, v[i][2]), "vector %zu: wrong result",
		    i + 1);
	}
}

/* Section 5.2, iterated: k = X25519(k, u), u = the old k, from 9. */
static void
test_rfc_iterated(void)
{
	unsigned char k[32] = { 9 }, u[32] = { 9 }, out[32];
	int i;

	for (i = 1; i <= 1000; i++) {
		x25519(out, k, u);
		memcpy(u, k, 32);
		memcpy(k, out, 32);
		if (i == 1)
			CHECK(same_hex(k, "422c8e7a6227d7bca1350b3e2bb7279f"
			    "7897b87bb6854b783c60e80311ae3079"),
			    "iterated: wrong after 1");
	}
	CHECK(same_hex(k, "684cf59ba83309552800ef566f2f4d3c"
	    "1c3887c49360e3875f2eb94d99532c51"), "iterated: wrong after 1000");
}

/* Section 6.1: each side's public key by mulgen(), the shared secret
 * by mul() with the other's. */
static void
test_rfc_dh(void)
{
	unsigned char a[32], b[32], pa[32], pb[32], s[32];

	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	CHECK(ec->mulgen(pa, a, 32, BR_EC_curve25519) == 32, "mulgen length");
	CHECK(same_hex(pa, "8520f0098930a754748b7ddcb43ef75a"
	    "0dbf3a0d26381af4eba4a98eaa9b4e6a"), "Alice's public key");
	CHECK(ec->mulgen(pb, b, 32, BR_EC_curve25519) == 32, "mulgen length");
	CHECK(same_hex(pb, "de9edb7d7b7dc1b4d35b61c2ece43537"
	    "3f8343c85b78674dadfc7e146f882b4f"), "Bob's public key");
	x25519(s, a, pb);
	CHECK(same_hex(s, "4a5d9d5ba4ce2de1728e3bf480350f25"
	    "e07e21c947d19e3376f09b3c1e161742"), "Alice's shared secret");
	x25519(s, b, pa);
	CHECK(same_hex(s, "4a5d9d5ba4ce2de1728e3bf480350f25"
	    "e07e21c947d19e3376f09b3c1e161742"), "Bob's shared secret");
}

static uint64_t rng;


/* A point for round i: random, or one of the edges of the encoding. */
static void
point(unsigned char u[32], int i)
{
	/* two points of order 8, and p - 1 */
	static const char *const small[] = {
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};

	check_fill(&rng, u, 32);
	switch (i % 16) {
	case 0:		/* p to 2^255 - 1, with or without bit 255 */
		memset(u + 1, 0xff, 31);
		u[31] = (unsigned char)(0x7f | (check_next(&rng) & 0x80));
		u[0] = (unsigned char)(0xed + check_next(&rng) % 19);
		break;
	case 1:		/* every bit set */
		memset(u, 0xff, 32);
		break;
	case 2:		/* 0, 1 or 2^255 + 1 */
		memset(u, 0, 32);
		u[0] = (unsigned char)(check_next(&rng) & 1);
		u[31] = (unsigned char)(check_next(&rng) & 0x80);
		break;
	case 3:
		unhex(u, small[check_next(&rng) % 3]);
		break;
	case 4:		/* bit 255 set */
		u[31] |= 0x80;
		break;
	default:
		break;
	}
}

/* mul() and mulgen() against br_ec_c25519_m31, and the refusals. */
static void
test_against_bearssl(int rounds)
{
	unsigned char u[32], a[32], b[32], k[33];
	size_t klen;
	int i, bad = 0, badgen = 0;

	for (i = 0; i < rounds; i++) {
		point(u, i);
		klen = (size_t)(i % 4 == 0 ? check_next(&rng) % 33 : 32);
		check_fill(&rng, k, klen);
		memcpy(a, u, 32);
		memcpy(b, u, 32);
		if (ec->mul(a, 32, k, klen, BR_EC_curve25519) !=
		    br_ec_c25519_m31.mul(b, 32, k, klen, BR_EC_curve25519) ||
		    memcmp(a, b, 32) != 0) {
			if (bad++ < 5)
				CHECK(0, "mul differs, round %d", i);
		}
		if (i % 2 == 0) {
			memset(a, 0, 32);
			memset(b, 0, 32);
			if (ec->mulgen(a, k, klen, BR_EC_curve25519) !=
			    br_ec_c25519_m31.mulgen(b, k, klen,
			    BR_EC_curve25519) || memcmp(a, b, 32) != 0) {
				if (badgen++ < 5)
					CHECK(0, "mulgen differs, round %d",
					    i);
			}
		}
	}
	CHECK(bad == 0, "mul: %d of %d differ from m31", bad, rounds);
	CHECK(badgen == 0, "mulgen: %d of %d differ from m31", badgen,
	    (rounds + 1) / 2);

	check_fill(&rng, k, 33);
	point(u, 5);
	CHECK(ec->mul(u, 31, k, 32, BR_EC_curve25519) == 0, "31-byte point");
	CHECK(ec->mul(u, 33, k, 32, BR_EC_curve25519) == 0, "33-byte point");
	CHECK(ec->mul(u, 32, k, 33, BR_EC_curve25519) == 0, "33-byte scalar");
}

/* The rest of the interface, and the other curves through BearSSL. */
static void
test_interface(void)
{
	static const int curves[] = { BR_EC_secp256r1, BR_EC_secp384r1,
	    BR_EC_secp521r1, BR_EC_curve25519 };
	const unsigned char *g, *o;
	unsigned char a[BR_EC_KBUF_PUB_MAX_SIZE], b[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char k[32];
	size_t len, len2, off, off2, i;

	CHECK(ec->supported_curves == br_ec_all_m31.supported_curves,
	    "supported_curves %#x, m31's %#x", (unsigned)ec->supported_curves,
	    (unsigned)br_ec_all_m31.supported_curves);
	for (i = 0; i < sizeof curves / sizeof curves[0]; i++) {
		int c = curves[i];

		g = ec->generator(c, &len);
		CHECK(g != NULL && len > 0 && len <= sizeof a &&
		    memcmp(g, br_ec_all_m31.generator(c, &len2), len) == 0 &&
		    len == len2, "curve %d: generator", c);
		o = ec->order(c, &len);
		CHECK(memcmp(o, br_ec_all_m31.order(c, &len2), len) == 0 &&
		    len == len2, "curve %d: order", c);
		off = ec->xoff(c, &len);
		off2 = br_ec_all_m31.xoff(c, &len2);
		CHECK(off == off2 && len == len2, "curve %d: xoff", c);
		check_fill(&rng, k, 32);
		k[0] = 0x3f;	/* below every order, big-endian */
		len = ec->mulgen(a, k, 32, c);
		len2 = br_ec_all_m31.mulgen(b, k, 32, c);
		CHECK(len == len2 && len > 0 && memcmp(a, b, len) == 0,
		    "curve %d: mulgen", c);
		if (c != BR_EC_curve25519)
			CHECK(ec->mul(a, len, k, 32, c) == 1 &&
			    br_ec_all_m31.mul(b, len2, k, 32, c) == 1 &&
			    memcmp(a, b, len) == 0, "curve %d: mul", c);
	}
	g = ec->generator(BR_EC_curve25519, &len);
	memcpy(a, g, len);
	CHECK(ec->muladd(a, NULL, 32, k, 32, k, 32, BR_EC_curve25519) == 0,
	    "muladd on Curve25519 must fail");
}

int
main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3000;

	rng = argc > 2 ? strtoull(argv[2], NULL, 0) :
	    (uint64_t)time(NULL) * 2654435761u | 1;
	printf("seed %llu (test_x25519 ROUNDS SEED repeats it)\n",
	    (unsigned long long)rng);
	ec = tls_ec_impl();
#ifdef __SIZEOF_INT128__
	CHECK(ec != br_ec_get_default(), "x25519.c's impl expected here");
#else
	CHECK(ec == br_ec_get_default(), "BearSSL's default expected here");
#endif
	test_rfc_vectors();
	test_rfc_iterated();
	test_rfc_dh();
	test_against_bearssl(rounds);
	test_interface();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
