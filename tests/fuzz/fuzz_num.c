/*
 * fuzz_num.c - libFuzzer target for num.c, the static build's strtol
 * family: differential against the C library's.
 *
 * The input's first byte chooses the base (0, 2 to 36, or a bad one);
 * the rest, cut at its first NUL and copied into a buffer of its exact
 * size (so a read past the end is caught), is read by num_strtoull,
 * num_strtoul, num_strtoll and num_strtol.  Each must give the libc
 * function's value and errno, and (for a good base) stop at the same
 * place, which must be inside the string.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../num.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SAME(lib, ours, type) do {					\
	char *le = s, *oe = s;						\
	type lv, ov;							\
	int lerr, oerr;							\
									\
	errno = 0;							\
	lv = lib(s, &le, base);						\
	lerr = errno;							\
	errno = 0;							\
	ov = ours(s, &oe, base);					\
	oerr = errno;							\
	CHECK(lv == ov);						\
	CHECK(lerr == oerr);						\
	CHECK(oe >= s && oe <= s + n);					\
	CHECK(!good || le == oe);					\
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int bad[] = { 1, 37, -1 };
	char *s;
	size_t n;
	int base, good;

	if (size == 0)
		return 0;
	base = data[0] % 40;
	if (base >= 37)
		base = bad[base - 37];
	else if (base == 1)
		base = 0;
	good = base == 0 || (base >= 2 && base <= 36);
	data++;
	size--;
	for (n = 0; n < size && data[n] != 0; n++)
		;
	s = malloc(n + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, n);
	s[n] = '\0';
	SAME(strtoull, num_strtoull, unsigned long long);
	SAME(strtoul, num_strtoul, unsigned long);
	SAME(strtoll, num_strtoll, long long);
	SAME(strtol, num_strtol, long);
	free(s);
	return 0;
}
