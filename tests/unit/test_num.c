/*
 * test_num.c - num.c against the libc's strtol family (glibc's; musl's
 * in the static builds for other machines, make check-cross): a table of edges
 * (prefixes, signs, white space, the limits of each type and one past
 * them, bases 0, 2, 8, 10, 16 and 36, bad bases), then 500,000 random
 * strings over a small alphabet in random bases.  For each, every
 * function must return the same value, stop at the same place and set
 * errno the same way (ERANGE, EINVAL or untouched).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../num.h"

static int failed, passed;

#define SAME(lib, ours, fmt, type) do {					\
	char *le, *oe;							\
	type lv, ov;							\
	int lerr, oerr;							\
									\
	errno = 0;							\
	lv = lib(s, &le, base);						\
	lerr = errno;							\
	errno = 0;							\
	ov = ours(s, &oe, base);					\
	oerr = errno;							\
	/* POSIX lets a library set EINVAL when no digits were	\
	 * converted: musl does, glibc (and num.c) do not. */		\
	if (lerr == EINVAL && le == s && good)				\
		lerr = 0;						\
	if (lv != ov || lerr != oerr || (le != oe && good)) {		\
		printf("FAIL %s(\"%s\", %d): libc " fmt " end +%d "	\
		    "errno %d, num.c " fmt " end +%d errno %d\n", #lib,	\
		    s, base, lv, (int)(le - s), lerr, ov,		\
		    (int)(oe - s), oerr);				\
		failed++;						\
	} else {							\
		passed++;						\
	}								\
} while (0)

/* A bad base leaves the end pointer to the library: glibc does not
 * set it, musl (and num.c) set it to s. */
static void
same(const char *s, int base)
{
	int good = base == 0 || (base >= 2 && base <= 36);

	SAME(strtoull, num_strtoull, "%llu", unsigned long long);
	SAME(strtoul, num_strtoul, "%lu", unsigned long);
	SAME(strtoll, num_strtoll, "%lld", long long);
	SAME(strtol, num_strtol, "%ld", long);
	/* no end pointer */
	if (num_strtol(s, NULL, base) != strtol(s, NULL, base)) {
		printf("FAIL strtol(\"%s\", NULL, %d)\n", s, base);
		failed++;
	}
}

int
main(void)
{
	static const char *const table[] = {
		"", " ", "0", "-0", "+0", "00", "0x", "0X", "0x1", "0xg",
		"0X1f", "-0x1F", "  \t\n\v\f\r42", "+-1", "-+1", "- 1", "1 2",
		"12abc", "z", "Z", "zz", "0b1", "017", "089", "08", "0x0x1",
		"9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616",
		"-18446744073709551615", "-18446744073709551616",
		"99999999999999999999999999999999", "-1", "-2",
		"0xffffffffffffffff", "0x10000000000000000",
		"0x7fffffffffffffff", "-0x8000000000000000",
		"1111111111111111111111111111111111111111111111111111111111111111",
		"11111111111111111111111111111111111111111111111111111111111111111",
		"3w5e11264sgsf", "3w5e11264sgsg", "777777777777777777777",
		"1777777777777777777777", "2000000000000000000000", "\3771",
	};
	static const int bases[] = { 0, 2, 8, 10, 16, 36, 1, 37, -1, 3, 35 };
	static const char alphabet[] = " \t+-0123456789abcdefxzAFXZ.";
	unsigned long long rng = 0x9e3779b97f4a7c15ULL;
	char s[48];
	size_t i, j, n;
	int k;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		for (j = 0; j < sizeof(bases) / sizeof(bases[0]); j++)
			same(table[i], bases[j]);
	for (k = 0; k < 500000; k++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		n = (size_t)(rng % 30);
		for (i = 0; i < n; i++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			/* mostly digits, so long numbers happen */
			s[i] = rng % 4 ? "0123456789abcdef"[(rng >> 8) % 16] :
			    alphabet[(rng >> 8) % (sizeof(alphabet) - 1)];
		}
		s[n] = '\0';
		same(s, bases[(rng >> 20) % 7]);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
