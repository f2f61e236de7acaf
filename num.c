/*
 * num.c - strtol and its family for the static build.
 *
 * musl's strtol family reads through a FILE-like scanner shared with
 * scanf (__intscan, __shgetc): 2.5 KiB of the static binary for what
 * wsproxy does with it, numbers in flags and addresses.  Built with
 * WSPROXY_NUM_LIBC (make static), strtol, strtoul, strtoll, strtoull,
 * strtoimax and strtoumax are linked instead of musl's (all six, since
 * musl defines them in one object).  They do what C11 7.22.1.4 says, as
 * musl does: leading white space, a sign, "0x" taken only before a hex
 * digit, the value clamped with ERANGE, EINVAL for a base other than 0
 * or 2 to 36.  tests/unit/test_num.c holds them against glibc's.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

#include "num.h"

/* A digit's value in bases up to 36, or 36 for anything else. */
static int
digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 36;
}

/* The digits at s in base (0: by their prefix): their magnitude, *neg
 * for a '-', *over when it passed ULLONG_MAX; *end (if end is not NULL)
 * after the last digit, or s if there was none. */
static unsigned long long
num_scan(const char *s, char **end, int base, int *neg, int *over)
{
	const char *p = s, *first;
	unsigned long long v = 0;
	int d;

	*neg = 0;
	*over = 0;
	if (base < 0 || base == 1 || base > 36) {
		errno = EINVAL;
		if (end != NULL)
			*end = (char *)(uintptr_t)s;
		return 0;
	}
	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' &&
	    (p[1] == 'x' || p[1] == 'X') && digit(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	for (first = p; (d = digit(*p)) < base; p++) {
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			*over = 1;
		else
			v = v * (unsigned)base + (unsigned)d;
	}
	if (end != NULL)
		*end = (char *)(uintptr_t)(p == first ? s : p);
	return v;
}

unsigned long long
num_strtoull(const char *s, char **end, int base)
{
	int neg, over;
	unsigned long long v = num_scan(s, end, base, &neg, &over);

	if (over) {
		errno = ERANGE;
		return ULLONG_MAX;
	}
	return neg ? 0 - v : v;
}

unsigned long
num_strtoul(const char *s, char **end, int base)
{
	int neg, over;
	unsigned long long v = num_scan(s, end, base, &neg, &over);

	if (over || v > ULONG_MAX) {
		errno = ERANGE;
		return ULONG_MAX;
	}
	return neg ? 0 - (unsigned long)v : (unsigned long)v;
}

long long
num_strtoll(const char *s, char **end, int base)
{
	int neg, over;
	unsigned long long v = num_scan(s, end, base, &neg, &over);

	if (over || v > (unsigned long long)LLONG_MAX + (unsigned)neg) {
		errno = ERANGE;
		return neg ? LLONG_MIN : LLONG_MAX;
	}
	return neg && v > 0 ? -(long long)(v - 1) - 1 : (long long)v;
}

long
num_strtol(const char *s, char **end, int base)
{
	int neg, over;
	unsigned long long v = num_scan(s, end, base, &neg, &over);

	if (over || v > (unsigned long long)LONG_MAX + (unsigned)neg) {
		errno = ERANGE;
		return neg ? LONG_MIN : LONG_MAX;
	}
	return neg && v > 0 ? -(long)(v - 1) - 1 : (long)v;
}

#ifdef WSPROXY_NUM_LIBC
unsigned long long
strtoull(const char *restrict s, char **restrict end, int base)
{
	return num_strtoull(s, end, base);
}

unsigned long
strtoul(const char *restrict s, char **restrict end, int base)
{
	return num_strtoul(s, end, base);
}

long long
strtoll(const char *restrict s, char **restrict end, int base)
{
	return num_strtoll(s, end, base);
}

long
strtol(const char *restrict s, char **restrict end, int base)
{
	return num_strtol(s, end, base);
}

intmax_t
strtoimax(const char *restrict s, char **restrict end, int base)
{
	return num_strtoll(s, end, base);
}

uintmax_t
strtoumax(const char *restrict s, char **restrict end, int base)
{
	return num_strtoull(s, end, base);
}
#endif
