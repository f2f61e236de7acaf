/*
 * x25519.c - microseconds per X25519 scalar multiplication: x25519.c's
 * (tls_ec_impl()) against BearSSL's br_ec_c25519_m31 and, for scale,
 * P-256 (br_ec_p256_m31, what both give for it).
 *
 *   make build/bench_x25519 && build/bench_x25519 [ROUNDS]
 *
 * Each line is the best of five runs of ROUNDS (2000) mul() calls on
 * CLOCK_PROCESS_CPUTIME_ID, the result fed back as the next point so
 * nothing is optimized away; then the same for mulgen().  Not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bearssl.h>

#include "../x25519.h"

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The best of five: microseconds per call of mul() (gen = 0) or
 * mulgen() (gen = 1) on curve. */
static double
per_call(const br_ec_impl *ec, int curve, int gen, int rounds)
{
	unsigned char p[BR_EC_KBUF_PUB_MAX_SIZE], k[32];
	const unsigned char *g;
	size_t len, i;
	double best = 0, t;
	int run, r;

	for (i = 0; i < sizeof k; i++)
		k[i] = (unsigned char)(i * 37 + 11);
	k[0] &= 0x7f;	/* below P-256's order, read big-endian */
	for (run = 0; run < 5; run++) {
		g = ec->generator(curve, &len);
		memcpy(p, g, len);
		t = now_us();
		for (r = 0; r < rounds; r++) {
			if (gen)
				len = ec->mulgen(p, k, sizeof k, curve);
			else if (ec->mul(p, len, k, sizeof k, curve) != 1)
				abort();
			k[5] ^= p[7];
		}
		t = (now_us() - t) / rounds;
		if (run == 0 || t < best)
			best = t;
	}
	return best;
}

int
main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 2000;
	double ours, m31;

	if (rounds <= 0)
		rounds = 2000;
	ours = per_call(tls_ec_impl(), BR_EC_curve25519, 0, rounds);
	m31 = per_call(&br_ec_c25519_m31, BR_EC_curve25519, 0, rounds);
	printf("X25519 mul     x25519.c %7.1f us   br_ec_c25519_m31 %7.1f us"
	    "   %.2fx\n", ours, m31, m31 / ours);
	ours = per_call(tls_ec_impl(), BR_EC_curve25519, 1, rounds);
	m31 = per_call(&br_ec_c25519_m31, BR_EC_curve25519, 1, rounds);
	printf("X25519 mulgen  x25519.c %7.1f us   br_ec_c25519_m31 %7.1f us"
	    "   %.2fx\n", ours, m31, m31 / ours);
	printf("P-256 mul      br_ec_p256_m31 %7.1f us, mulgen %7.1f us\n",
	    per_call(&br_ec_p256_m31, BR_EC_secp256r1, 0, rounds / 4 + 1),
	    per_call(&br_ec_p256_m31, BR_EC_secp256r1, 1, rounds / 4 + 1));
	return 0;
}
