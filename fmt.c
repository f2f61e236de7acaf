/*
 * fmt.c - vsnprintf and vfprintf for the static build: printf's integer,
 * character and string conversions, without floating point.
 *
 * musl's printf core is 10 KiB of the static binary, half of it the
 * exact decimal expansion of doubles, which wsproxy never prints (its
 * metrics format seconds from integers, metrics.c).  Built with
 * WSPROXY_FMT_LIBC (make static), this file defines vsnprintf and
 * vfprintf themselves; being in the program, they are linked instead of
 * musl's, and musl's snprintf, printf and fprintf (a few bytes each) and
 * its own callers (inet_ntop) end up here.  The static build also
 * compiles with -mgeneral-regs-only, so code that would hand a double to
 * a printf does not compile there rather than print the wrong thing.
 *
 * What is done: the flags "-+ #0", a width and a precision (digits or
 * '*'), the lengths hh h l ll j z t, the conversions d i u o x X c s p
 * and a bare %%, as C11 7.21.6.1 says (and %p and a null %s as musl prints
 * them).  Anything else (e f g a, n, wide characters, positional
 * arguments) fails the call with EINVAL, as a bad format does in musl;
 * -Wformat keeps wsproxy's formats within the first set.
 * tests/unit/test_fmt.c holds each case against the C library's printf.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "fmt.h"

/* Where the text goes: a string (file NULL), or a FILE through buf. */
struct sink {
	char		*buf;
	size_t		 room;		/* bytes buf can take */
	size_t		 used;		/* bytes in buf */
	size_t		 total;		/* bytes the whole text has */
	FILE		*file;
	int		 failed;	/* a write to file fell short */
};

enum {
	F_LEFT = 1, F_PLUS = 2, F_SPACE = 4, F_ALT = 8, F_ZERO = 16
};

/* The length modifiers, as the type va_arg must fetch. */
enum length {
	L_NONE, L_CHAR, L_SHORT, L_LONG, L_LLONG, L_MAX, L_SIZE, L_PTRDIFF
};

static void
flush(struct sink *s)
{
	if (s->file != NULL && s->used > 0 &&
	    fwrite(s->buf, 1, s->used, s->file) != s->used)
		s->failed = 1;
	s->used = 0;
}

/* n bytes of p, or n copies of c when p is NULL.  A full string only
 * counts what no longer fits; a FILE's buffer is flushed and reused. */
static void
put(struct sink *s, const char *p, char c, size_t n)
{
	size_t k;

	s->total += n;
	while (n > 0) {
		if (s->used == s->room) {
			if (s->file == NULL)
				return;
			flush(s);
		}
		k = s->room - s->used < n ? s->room - s->used : n;
		if (p != NULL) {
			memcpy(s->buf + s->used, p, k);
			p += k;
		} else {
			memset(s->buf + s->used, c, k);
		}
		s->used += k;
		n -= k;
	}
}

/* One converted field: spaces to width, the sign or 0x, zeros, text. */
static void
field(struct sink *s, unsigned flags, size_t width, const char *prefix,
    size_t zeros, const char *text, size_t n)
{
	size_t pl = strlen(prefix);
	size_t len = pl + zeros + n;
	size_t fill = width > len ? width - len : 0;

	if (!(flags & F_LEFT))
		put(s, NULL, ' ', fill);
	put(s, prefix, 0, pl);
	put(s, NULL, '0', zeros);
	put(s, text, 0, n);
	if (flags & F_LEFT)
		put(s, NULL, ' ', fill);
}

/* A d i o u x X p conversion of the value u (its magnitude when neg). */
static void
integer(struct sink *s, char conv, unsigned flags, size_t width,
    size_t prec, int have_prec, uintmax_t u, int neg)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";
	const char *digit = conv == 'X' ? upper : lower;
	const char *prefix = "";
	char buf[3 * sizeof(uintmax_t)], *end = buf + sizeof(buf), *q = end;
	unsigned base = conv == 'o' ? 8 : conv == 'x' || conv == 'X' ||
	    conv == 'p' ? 16 : 10;
	size_t n, zeros;

	if (conv == 'd' || conv == 'i')
		prefix = neg ? "-" : flags & F_PLUS ? "+" :
		    flags & F_SPACE ? " " : "";
	else if (u != 0 && (flags & F_ALT) && (conv == 'x' || conv == 'p'))
		prefix = "0x";
	else if (u != 0 && (flags & F_ALT) && conv == 'X')
		prefix = "0X";
	for (; u != 0; u /= base)
		*--q = digit[u % base];
	n = (size_t)(end - q);
	if (have_prec)
		flags &= ~(unsigned)F_ZERO;
	else
		prec = 1;
	if (conv == 'o' && (flags & F_ALT) && prec <= n)
		prec = n + 1;		/* the first digit is a 0 */
	zeros = prec > n ? prec - n : 0;
	if ((flags & (F_ZERO | F_LEFT)) == F_ZERO &&
	    width > strlen(prefix) + zeros + n)
		zeros = width - strlen(prefix) - n;
	field(s, flags, width, prefix, zeros, q, n);
}

/* The decimal digits at *f, moving past them: their value (0 if none),
 * or -1 when it passes INT_MAX. */
static long
count(const char **f)
{
	long v = 0;

	for (; **f >= '0' && **f <= '9'; (*f)++) {
		v = v * 10 + (**f - '0');
		if (v > INT_MAX)
			return -1;
	}
	return v;
}

static int
core(struct sink *s, const char *f, va_list ap)
{
	const char *p, *str;
	enum length len;
	unsigned flags;
	size_t width, prec;
	int have_prec, star, neg;
	long v;
	intmax_t i;
	uintmax_t u;
	char c;

	for (;;) {
		for (p = f; *p != '\0' && *p != '%'; p++)
			;
		put(s, f, 0, (size_t)(p - f));
		if (*p == '\0')
			break;
		f = p + 1;
		if (*f == '%') {		/* only bare: "%5%" is bad */
			put(s, "%", 0, 1);
			f++;
			continue;
		}
		for (flags = 0;; f++) {
			if (*f == '-')
				flags |= F_LEFT;
			else if (*f == '+')
				flags |= F_PLUS;
			else if (*f == ' ')
				flags |= F_SPACE;
			else if (*f == '#')
				flags |= F_ALT;
			else if (*f == '0')
				flags |= F_ZERO;
			else
				break;
		}
		if (*f == '*') {
			f++;
			star = va_arg(ap, int);
			if (star < 0) {
				flags |= F_LEFT;
				v = -(long)star;
			} else {
				v = star;
			}
		} else {
			v = count(&f);
		}
		if (v < 0 || v > INT_MAX || *f == '$')
			goto bad;
		width = (size_t)v;
		have_prec = 0;
		prec = 0;
		if (*f == '.') {
			f++;
			if (*f == '*') {
				f++;
				star = va_arg(ap, int);
				v = star;
				have_prec = star >= 0;
			} else {
				v = count(&f);
				if (v < 0)
					goto bad;
				have_prec = 1;
			}
			prec = have_prec ? (size_t)v : 0;
		}
		len = L_NONE;
		if (f[0] == 'h' && f[1] == 'h')
			len = L_CHAR;
		else if (f[0] == 'l' && f[1] == 'l')
			len = L_LLONG;
		else if (f[0] == 'h')
			len = L_SHORT;
		else if (f[0] == 'l')
			len = L_LONG;
		else if (f[0] == 'j')
			len = L_MAX;
		else if (f[0] == 'z')
			len = L_SIZE;
		else if (f[0] == 't')
			len = L_PTRDIFF;
		f += len == L_CHAR || len == L_LLONG ? 2 : len != L_NONE;
		c = *f++;
		switch (c) {
		case 'd':
		case 'i':
		case 'o':
		case 'u':
		case 'x':
		case 'X':
			/* Fetched unsigned (va_arg takes either signedness
			 * of a type), then cut or sign-extended to the size
			 * the length names.  Cases alike on LP64 differ on
			 * ILP32. */
			switch (len) {
			case L_LONG:
				u = va_arg(ap, unsigned long);
				break;
			case L_LLONG:
				u = va_arg(ap, unsigned long long);
				break;
			/* NOLINTNEXTLINE(bugprone-branch-clone) */
			case L_MAX:
				u = va_arg(ap, uintmax_t);
				break;
			case L_SIZE:
			case L_PTRDIFF:
				u = va_arg(ap, size_t);
				break;
			default:
				u = va_arg(ap, unsigned);
				break;
			}
			if (c == 'd' || c == 'i') {
				if (len == L_CHAR)
					/* NOLINTNEXTLINE(bugprone-signed-char-misuse) */
					i = (signed char)u;
				else if (len == L_SHORT)
					i = (short)u;
				else if (len == L_NONE)
					i = (int)u;
				else if (len == L_LONG)
					i = (long)u;
				else if (len == L_SIZE || len == L_PTRDIFF)
					i = (ptrdiff_t)u;
				else
					i = (intmax_t)u;
				neg = i < 0;
				u = neg ? -(uintmax_t)i : (uintmax_t)i;
			} else {
				neg = 0;
				if (len == L_CHAR)
					u = (unsigned char)u;
				else if (len == L_SHORT)
					u = (unsigned short)u;
			}
			integer(s, c, flags, width, prec, have_prec, u, neg);
			break;
		case 'p':
			if (len != L_NONE)
				goto bad;
			u = (uintptr_t)va_arg(ap, void *);
			if (!have_prec || prec < 2 * sizeof(void *))
				prec = 2 * sizeof(void *);
			integer(s, c, flags | F_ALT, width, prec, 1, u, 0);
			break;
		case 'c':
			if (len != L_NONE)
				goto bad;
			c = (char)va_arg(ap, int);
			field(s, flags, width, "", 0, &c, 1);
			break;
		case 's':
			if (len != L_NONE)
				goto bad;
			str = va_arg(ap, const char *);
			if (str == NULL)
				str = "(null)";
			field(s, flags, width, "", 0, str,
			    have_prec ? strnlen(str, prec) : strlen(str));
			break;
		default:
			goto bad;
		}
	}
	if (s->total > INT_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	return (int)s->total;
bad:
	errno = EINVAL;
	return -1;
}

int
fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct sink s;
	int n;

	memset(&s, 0, sizeof(s));
	s.buf = buf;
	s.room = cap > 0 ? cap - 1 : 0;
	n = core(&s, fmt, ap);
	if (cap > 0)
		buf[s.used] = '\0';
	return n;
}

int
fmt_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	char chunk[256];		/* one fwrite per chunk */
	struct sink s;
	int n;

	memset(&s, 0, sizeof(s));
	s.buf = chunk;
	s.room = sizeof(chunk);
	s.file = f;
	n = core(&s, fmt, ap);
	flush(&s);
	return s.failed ? -1 : n;
}

#ifdef WSPROXY_FMT_LIBC
int
vsnprintf(char *restrict buf, size_t cap, const char *restrict fmt,
    va_list ap)
{
	return fmt_vsnprintf(buf, cap, fmt, ap);
}

int
vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
	return fmt_vfprintf(f, fmt, ap);
}
#endif
