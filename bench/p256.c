/*
 * p256.c - microseconds per P-256 mulgen (the ECDSA signature's and
 * the ECDHE key share's) and per mul (ECDHE's shared secret): p256.c's
 * br_ec_impl against BearSSL's br_ec_p256_m31 (make bench-p256).  Not
 * a test: the results are printed, nothing is compared.
 *
 *   build/bench_p256 [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bearssl.h>

#include "../p256.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Scalars change with each call, as a signature's nonces do. */
static void
step(unsigned char *k)
{
	int i;

	for (i = 0; i < 32; i++)
		k[i] = (unsigned char)(k[i] * 5 + 1 + i);
	k[0] &= 0x7f;
}

static double
bench_mulgen(const br_ec_impl *impl, int n)
{
	unsigned char k[32], r[65];
	double t0;
	int i;

	memset(k, 0x5a, sizeof k);
	impl->mulgen(r, k, 32, BR_EC_secp256r1);	/* fills tables */
	t0 = now();
	for (i = 0; i < n; i++) {
		step(k);
		impl->mulgen(r, k, 32, BR_EC_secp256r1);
	}
	return (now() - t0) * 1e6 / n;
}

static double
bench_mul(const br_ec_impl *impl, int n)
{
	unsigned char k[32], g[65];
	double t0;
	int i;

	memset(k, 0x33, sizeof k);
	impl->mulgen(g, k, 32, BR_EC_secp256r1);
	t0 = now();
	for (i = 0; i < n; i++) {
		step(k);
		if (impl->mul(g, 65, k, 32, BR_EC_secp256r1) != 1) {
			fprintf(stderr, "mul failed\n");
			exit(1);
		}
	}
	return (now() - t0) * 1e6 / n;
}

int
main(int argc, char **argv)
{
	const br_ec_impl *ours = tls_ec_p256();
	int n = argc > 1 ? atoi(argv[1]) : 2000;

	if (ours == NULL) {
		printf("tls_ec_p256(): none on this machine\n");
		return 0;
	}
	if (n < 1)
		n = 1;
	printf("%-8s %12s %12s\n", "op", "m31 us", "p256.c us");
	printf("%-8s %12.1f %12.1f\n", "mulgen",
	    bench_mulgen(&br_ec_p256_m31, n), bench_mulgen(ours, n));
	printf("%-8s %12.1f %12.1f\n", "mul",
	    bench_mul(&br_ec_p256_m31, n / 4 + 1), bench_mul(ours, n / 4 + 1));
	return 0;
}
