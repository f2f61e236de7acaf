/*
 * test_fmt.c - fmt.c against the C library's printf: a table of formats
 * (every flag, width, precision and length with each conversion, the
 * edges: 0 with precision 0, INT_MIN, UINTMAX_MAX, '*' negative), then
 * 300,000 random single-conversion formats.  Each must give the same
 * text and return value; as a string at every buffer size from 0 to
 * past its length, with guard bytes after the buffer that must stay
 * untouched, and through a FILE.  The conversions fmt.c does not do
 * must fail with EINVAL; %p and a null %s are checked against musl's
 * text (fmt.c prints them as musl does).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fmt.h"

static int failed, passed;

/* fmt_vfprintf into a memory FILE: its return value, the bytes in
 * out and their count in *len. */
static int
through_file(char *out, size_t cap, size_t *len, const char *fmt,
    va_list ap)
{
	FILE *f = fmemopen(out, cap, "w");
	long n;
	int r;

	if (f == NULL) {
		perror("fmemopen");
		exit(2);
	}
	r = fmt_vfprintf(f, fmt, ap);
	fflush(f);
	n = ftell(f);
	fclose(f);
	*len = n < 0 ? 0 : (size_t)n;
	return r;
}

/* fmt against the C library's vsnprintf for one format and its
 * arguments (va_list again for each buffer size tried).  Compared as
 * bytes: %c may put a NUL in the middle. */
static void
same(const char *fmt, ...)
{
	char want[512], got[512 + 16];
	size_t cap, k, n;
	va_list ap;
	int wn, gn, bad = 0;

	va_start(ap, fmt);
	wn = vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	if (wn < 0 || (size_t)wn >= sizeof(want)) {
		printf("test bug: %s\n", fmt);
		exit(2);
	}
	for (cap = 0; cap <= (size_t)wn + 2 && !bad; cap++) {
		memset(got, 'G', sizeof(got));
		va_start(ap, fmt);
		gn = fmt_vsnprintf(cap ? got : NULL, cap, fmt, ap);
		va_end(ap);
		n = cap == 0 ? 0 : cap - 1 < (size_t)wn ? cap - 1 : (size_t)wn;
		if (gn != wn || memcmp(got, want, n) != 0 ||
		    (cap > 0 && got[n] != '\0'))
			bad = 1;
		for (k = cap; k < cap + 16; k++)
			if (got[k] != 'G')
				bad = 1;
	}
	va_start(ap, fmt);
	gn = through_file(got, sizeof(got), &n, fmt, ap);
	va_end(ap);
	if (gn != wn || n != (size_t)wn || memcmp(got, want, n) != 0)
		bad = 1;
	if (bad) {
		va_start(ap, fmt);
		gn = fmt_vsnprintf(got, sizeof(got), fmt, ap);
		va_end(ap);
		printf("FAIL \"%s\": libc %d \"%s\", fmt %d \"%s\"\n", fmt, wn,
		    want, gn, got);
		failed++;
	} else {
		passed++;
	}
}

/* A fixed expectation: for what the C library prints otherwise. */
static void
expect(int want_n, int want_errno, const char *want, const char *fmt, ...)
{
	char got[256];
	va_list ap;
	int n;

	errno = 0;
	strcpy(got, "untouched");
	va_start(ap, fmt);
	n = fmt_vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	if (n != want_n || errno != want_errno ||
	    (want != NULL && strcmp(got, want) != 0)) {
		printf("FAIL \"%s\": %d errno %d \"%s\", want %d errno %d "
		    "\"%s\"\n", fmt, n, errno, got, want_n, want_errno,
		    want != NULL ? want : "");
		failed++;
	} else {
		passed++;
	}
}

static void
table(void)
{
	static const char *const flags[] = {
		"", "-", "+", " ", "#", "0", "-0", "+0", " 0", "#0", "-#",
		"+ ", "-+ #0"
	};
	static const char *const widths[] = { "", "1", "5", "12", "25" };
	static const char *const precs[] = { "", ".", ".0", ".1", ".3",
		".20" };
	static const char ints[] = "diouxX";
	static const long long vals[] = {
		0, 1, -1, 7, 8, 9, 10, 15, 16, 100, 255, 256, 32767, -32768,
		65535, 2147483647, -2147483647 - 1, 4294967295LL,
		9223372036854775807LL, -9223372036854775807LL - 1
	};
	char f[64];
	size_t a, b, c, d, v;

	for (a = 0; a < sizeof(flags) / sizeof(flags[0]); a++)
		for (b = 0; b < sizeof(widths) / sizeof(widths[0]); b++)
			for (c = 0; c < sizeof(precs) / sizeof(precs[0]); c++)
				for (d = 0; ints[d] != '\0'; d++)
					for (v = 0; v < sizeof(vals) /
					    sizeof(vals[0]); v++) {
			snprintf(f, sizeof(f), "<%%%s%s%s%c>", flags[a],
			    widths[b], precs[c], ints[d]);
			same(f, (int)vals[v]);
			snprintf(f, sizeof(f), "<%%%s%s%sl%c>", flags[a],
			    widths[b], precs[c], ints[d]);
			same(f, (long)vals[v]);
			snprintf(f, sizeof(f), "<%%%s%s%sll%c>", flags[a],
			    widths[b], precs[c], ints[d]);
			same(f, vals[v]);
			snprintf(f, sizeof(f), "<%%%s%s%shh%c>", flags[a],
			    widths[b], precs[c], ints[d]);
			same(f, (int)vals[v]);
			snprintf(f, sizeof(f), "<%%%s%s%sh%c>", flags[a],
			    widths[b], precs[c], ints[d]);
			same(f, (int)vals[v]);
			snprintf(f, sizeof(f), "<%%%s%s%sj%c>", flags[a],
			    widths[b], precs[c], ints[d]);
			same(f, (intmax_t)vals[v]);
			snprintf(f, sizeof(f), "<%%%s%s%sz%c>", flags[a],
			    widths[b], precs[c], ints[d]);
			same(f, (size_t)vals[v]);
			snprintf(f, sizeof(f), "<%%%s%s%st%c>", flags[a],
			    widths[b], precs[c], ints[d]);
			same(f, (ptrdiff_t)vals[v]);
		}
	/* strings and characters: flags other than '-' are undefined */
	for (b = 0; b < sizeof(widths) / sizeof(widths[0]); b++)
		for (c = 0; c < sizeof(precs) / sizeof(precs[0]); c++) {
			snprintf(f, sizeof(f), "[%%%s%ss]", widths[b], precs[c]);
			same(f, "");
			same(f, "a");
			same(f, "hello, world");
			snprintf(f, sizeof(f), "[%%-%s%ss]", widths[b], precs[c]);
			same(f, "hello, world");
		}
	for (b = 0; b < sizeof(widths) / sizeof(widths[0]); b++) {
		snprintf(f, sizeof(f), "[%%%sc]", widths[b]);
		same(f, 'x');
		same(f, 0xff);
		snprintf(f, sizeof(f), "[%%-%sc]", widths[b]);
		same(f, 'y');
	}
	/* what wsproxy's own formats look like */
	same("%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", 2026, 12, 1, 5, 6, 7,
	    89L);
	same("%s=%llums\n", "ping_interval", 30000ULL);
	same("%.*s|%.*s|%.*s", 3, "abcdef", -1, "abc", 0, "abc");
	same("%*d|%*d|%-*d|", 6, 42, -6, 42, 6, -42);
	same("%*.*u|", 8, 5, 42U);
	same("%llu.%0*llu", 12ULL, 6, 345ULL);
	same("%zu bytes, %zd", (size_t)SIZE_MAX, (ptrdiff_t)-5);
	same("%%|%%%%|100%%");
	same("%x:%x::%x", 0x2001U, 0xdb8U, 0xffffU);
	same("%d.%d.%d.%d", 192, 168, 0, 1);
	same("%ju %jd", UINTMAX_MAX, INTMAX_MIN);
	same("no conversion at all");
	same("");
	same("%s", "");
}

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned long long
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* One random conversion with a random argument of its type. */
static void
random_one(void)
{
	static const char fl[] = "-+ #0";
	static const char *const len[] = { "", "hh", "h", "l", "ll", "j",
		"z", "t" };
	static const char conv[] = "diouxXcs";
	char f[64], str[32];
	size_t n = 0, i;
	unsigned long long r = next(), v = next();
	const char *l = len[r % 8];
	char c = conv[(r >> 3) % 8];
	int w = 0, p = 0, star_w = 0, star_p = 0;

	f[n++] = '<';
	f[n++] = '%';
	for (i = 0; i < 5; i++)
		if ((r >> (6 + i)) & 1 && (strchr("cs", c) == NULL ||
		    fl[i] == '-'))
			f[n++] = fl[i];
	if ((r >> 11) & 1)
		n += (size_t)snprintf(f + n, sizeof(f) - n, "%u",
		    (unsigned)((r >> 12) % 30));
	else if ((r >> 17) & 1) {
		f[n++] = '*';
		star_w = 1;
		w = (int)((r >> 18) % 61) - 30;
	}
	if ((r >> 24) & 1) {
		f[n++] = '.';
		if ((r >> 25) & 1)
			n += (size_t)snprintf(f + n, sizeof(f) - n, "%u",
			    (unsigned)((r >> 26) % 25));
		else if ((r >> 31) & 1) {
			f[n++] = '*';
			star_p = 1;
			p = (int)((r >> 32) % 41) - 10;
		}
	}
	if (strchr("cs", c) == NULL)
		n += (size_t)snprintf(f + n, sizeof(f) - n, "%s", l);
	f[n++] = c;
	f[n++] = '>';
	f[n] = '\0';
	if ((r >> 40) & 1)
		v >>= (r >> 41) % 64;
	for (i = 0; i < sizeof(str) - 1; i++)
		str[i] = (char)(' ' + (next() % 95));
	str[(r >> 50) % sizeof(str)] = '\0';
#define ARGS(x) do {						\
	if (star_w && star_p)						\
		same(f, w, p, x);					\
	else if (star_w)						\
		same(f, w, x);						\
	else if (star_p)						\
		same(f, p, x);						\
	else								\
		same(f, x);						\
} while (0)
	if (c == 's')
		ARGS(str);
	else if (c == 'c' || *l == '\0' || *l == 'h')
		ARGS((int)v);
	else if (strcmp(l, "l") == 0)
		ARGS((long)v);
	else if (strcmp(l, "ll") == 0)
		ARGS((long long)v);
	else if (*l == 'j')
		ARGS((intmax_t)v);
	else if (*l == 'z')
		ARGS((size_t)v);
	else
		ARGS((ptrdiff_t)v);
#undef ARGS
}

int
main(void)
{
	char *p = (char *)0x1234;
	int i;

	table();
	for (i = 0; i < 300000; i++)
		random_one();
	/* musl's text, which fmt.c keeps */
	if (sizeof(void *) == 8) {
		expect(18, 0, "0x0000000000001234", "%p", (void *)p);
		expect(16, 0, "0000000000000000", "%p", (void *)NULL);
	} else {	/* armhf: two digits a byte there too */
		expect(10, 0, "0x00001234", "%p", (void *)p);
		expect(8, 0, "00000000", "%p", (void *)NULL);
	}
	expect(8, 0, "(null)|(", "%s|%.1s", (char *)NULL, (char *)NULL);
	/* what fmt.c does not do */
	expect(-1, EINVAL, NULL, "%f", 1.5);
	expect(-1, EINVAL, NULL, "%g", 1.5);
	expect(-1, EINVAL, NULL, "%e", 1.5);
	expect(-1, EINVAL, NULL, "%a", 1.5);
	expect(-1, EINVAL, NULL, "%n", &i);
	expect(-1, EINVAL, NULL, "%1$d", 1);
	expect(-1, EINVAL, NULL, "%ls", L"wide");
	expect(-1, EINVAL, NULL, "%lc", 'w');
	expect(-1, EINVAL, NULL, "%q", 1);
	expect(-1, EINVAL, NULL, "%5%", 1);
	expect(-1, EINVAL, NULL, "ends in %", 1);
	expect(-1, EOVERFLOW, NULL, "%2147483647d%d", 1, 2);
	expect(-1, EINVAL, NULL, "%2147483648d", 1);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
