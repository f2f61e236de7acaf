/*
 * target.c - request targets: the one normalised path that routing and
 * the upstream both see, the upstream's query, and host syntax
 * (wsproxy(1) ROUTING, SECURITY).
 *
 * A reverse proxy that routes on one reading of a path while the
 * upstream acts on another lets a client leave its route: "/chat/%2e%2e/
 * admin" matches the prefix "/chat" here and is "/admin" to a framework
 * that decodes before it resolves dot segments.  So the rule is to
 * decide once, strictly: unreserved percent-escapes are decoded (RFC
 * 3986 6.2.2.2, so "/%61dmin" is "/admin"), the other escapes are
 * spelled in upper case (6.2.2.1), and every spelling that a common
 * upstream could resolve to a dot segment, an extra slash or a
 * different segment is refused rather than guessed at.  What comes out
 * is what is routed on and what the upstream receives, byte for byte.
 *
 * Pure functions over the caller's buffers: no allocation, no I/O, no
 * global state.  Normalising never lengthens its input, so an output
 * buffer as long as the input always suffices.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "target.h"

/* RFC 3986 2.3 unreserved: ALPHA DIGIT "-" "." "_" "~". */
#define C_UNRESERVED	0x01
/* RFC 3986 2.2 sub-delims: "!" "$" "&" "'" "(" ")" "*" "+" "," ";" "=". */
#define C_SUBDELIM	0x02
/* ":" "@": the rest of pchar (3.3). */
#define C_PCHAR_EXTRA	0x04
#define C_HEX		0x08

static const uint8_t cls[128] = {
	['A'] = 9, ['B'] = 9, ['C'] = 9, ['D'] = 9, ['E'] = 9, ['F'] = 9,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 9, ['b'] = 9, ['c'] = 9, ['d'] = 9, ['e'] = 9, ['f'] = 9,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
	['0'] = 9, ['1'] = 9, ['2'] = 9, ['3'] = 9, ['4'] = 9, ['5'] = 9,
	['6'] = 9, ['7'] = 9, ['8'] = 9, ['9'] = 9,
	['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
	['!'] = 2, ['$'] = 2, ['&'] = 2, ['\''] = 2, ['('] = 2, [')'] = 2,
	['*'] = 2, ['+'] = 2, [','] = 2, [';'] = 2, ['='] = 2,
	[':'] = 4, ['@'] = 4,
};

static int
is_class(unsigned char c, uint8_t mask)
{
	return c < 128 && (cls[c] & mask) != 0;
}

static unsigned
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	return (unsigned)((c | 0x20) - 'a' + 10);
}

/* The byte of "%XY" at s (3 bytes available), or -1 if XY is not hex. */
static int
escape_at(const char *s, size_t avail)
{
	if (avail < 3 || !is_class((unsigned char)s[1], C_HEX) ||
	    !is_class((unsigned char)s[2], C_HEX))
		return -1;
	return (int)(hex_value((unsigned char)s[1]) << 4 |
	    hex_value((unsigned char)s[2]));
}

static const char hex_upper[] = "0123456789ABCDEF";

/*
 * UTF-8 (RFC 3629 4) over the bytes that escapes decode to: an upstream
 * that decodes overlong forms ("%C0%AE" for ".") or stray continuation
 * bytes leniently would see characters that were never checked here.
 * need: continuation bytes still to come; lo, hi: the range of the next.
 */
struct utf8 {
	unsigned	 need;
	uint32_t	 cp;		/* the code point so far */
	uint8_t		 lo, hi;
};

/*
 * Characters that Unicode compatibility normalisation (NFKC, which some
 * frameworks apply to paths) turns into '.', "..", '/' or '\'.
 */
static int
lookalike(uint32_t cp)
{
	return cp == 0x2024 || cp == 0x2025 || cp == 0xfe52 || cp == 0xff0e ||
	    cp == 0xff0f || cp == 0xfe68 || cp == 0xff3c;
}

/* 0; -1 when c cannot come next in UTF-8; -2 when it ends a look-alike. */
static int
utf8_step(struct utf8 *u, unsigned c)
{
	if (u->need > 0) {
		if (c < u->lo || c > u->hi)
			return -1;
		u->cp = u->cp << 6 | (c & 0x3f);
		u->lo = 0x80;
		u->hi = 0xbf;
		return --u->need == 0 && lookalike(u->cp) ? -2 : 0;
	}
	u->lo = 0x80;
	u->hi = 0xbf;
	if (c < 0x80)
		return 0;
	if (c >= 0xc2 && c <= 0xdf) {
		u->need = 1;
		u->cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		u->need = 2;
		u->cp = c & 0x0f;
		if (c == 0xe0)
			u->lo = 0xa0;		/* no overlong forms */
		else if (c == 0xed)
			u->hi = 0x9f;		/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		u->need = 3;
		u->cp = c & 0x07;
		if (c == 0xf0)
			u->lo = 0x90;
		else if (c == 0xf4)
			u->hi = 0x8f;		/* nothing past U+10FFFF */
	} else
		return -1;			/* 80..C1, F5..FF */
	return 0;
}

/*
 * Does the normalised path out[0..n) hold a doubly encoded byte that a
 * path must not hold?  "%252E" is "%2E" to an upstream that decodes
 * once and "." to one that decodes twice; "%2525..." goes deeper still.
 * Checked on the output, where every escape is already in its one
 * spelling, so a second normalisation decides the same.
 */
static int
double_escape(const char *out, size_t n)
{
	size_t i;
	unsigned v;

	for (i = 0; i + 4 < n; i++) {
		if (memcmp(out + i, "%25", 3) != 0 ||
		    !is_class((unsigned char)out[i + 3], C_HEX) ||
		    !is_class((unsigned char)out[i + 4], C_HEX))
			continue;
		v = hex_value((unsigned char)out[i + 3]) << 4 |
		    hex_value((unsigned char)out[i + 4]);
		if (v == '.' || v == '/' || v == '\\' || v == '%' ||
		    v < 0x20 || v == 0x7f)
			return 1;
	}
	return 0;
}

/*
 * A finished segment out[s..e) of a normalised path.  Its name is the
 * part before the first ';' (a servlet container cuts there), or "%3B"
 * (one that decodes first).  A name
 * of dots only, once trailing blanks and dots are dropped as Windows
 * does, is a dot segment to some upstream; an empty name anywhere but
 * in a trailing "/" is an empty segment ("//", "/;x/").
 */
/* Does a segment's ';params' start at p (of n bytes): ';' or "%3B"? */
static int
params_at(const char *p, size_t n)
{
	return p[0] == ';' || (n >= 3 && memcmp(p, "%3B", 3) == 0);
}

static const char *
segment_check(const char *out, size_t s, size_t e, int last)
{
	size_t n = s, dots = 0;

	while (n < e && !params_at(out + n, e - n))
		n++;
	if (n == s) {
		if (!last || e > s)
			return "empty path segment";
		return NULL;
	}
	while (n > s) {
		if (out[n - 1] == '.') {
			dots++;
			n--;
		} else if (n - s >= 3 && memcmp(out + n - 3, "%20", 3) == 0)
			n -= 3;
		else
			break;
	}
	if (n == s && dots > 0)
		return "dot segment in path";
	return NULL;
}

/*
 * Normalise one escape "%XY" at in (avail bytes) into out at *o.  u is
 * the path's UTF-8 state, NULL in the query (which is data: any escape).
 * Returns NULL, or why the escape is refused.
 */
static const char *
escape_copy(const char *in, size_t avail, char *out, size_t *o,
    struct utf8 *u)
{
	int v = escape_at(in, avail);

	if (v < 0)
		return "bad percent-escape";
	if (u != NULL) {
		if (v == '/' || v == '\\')
			return "encoded slash or backslash in path";
		if (v < 0x20 || v == 0x7f)
			return "encoded control character in path";
		switch (utf8_step(u, (unsigned)v)) {
		case -1:
			return "percent-escapes are not UTF-8";
		case -2:
			return "Unicode dot or slash look-alike in path";
		default:
			break;
		}
	}
	if (is_class((unsigned char)v, C_UNRESERVED)) {
		out[(*o)++] = (char)v;
		return NULL;
	}
	out[(*o)++] = '%';
	out[(*o)++] = hex_upper[v >> 4];
	out[(*o)++] = hex_upper[v & 15];
	return NULL;
}

/*
 * The path in[0..len) (it starts with '/') into out.  Returns NULL or
 * why it is refused; *olen gets the normalised length.
 */
static const char *
path_normalise(const char *in, size_t len, char *out, size_t *olen)
{
	struct utf8 u = { 0, 0, 0x80, 0xbf };
	size_t i = 0, o = 0, seg = 0;
	const char *why;
	unsigned char c;

	while (i < len) {
		c = (unsigned char)in[i];
		if (c == '/') {
			if (u.need > 0)
				return "percent-escapes are not UTF-8";
			if (i > 0 && (why = segment_check(out, seg, o, 0)) != NULL)
				return why;
			out[o++] = '/';
			seg = o;
			i++;
		} else if (c == '%') {
			why = escape_copy(in + i, len - i, out, &o, &u);
			if (why != NULL)
				return why;
			i += 3;
		} else if (c == '\\') {
			return "backslash in path";
		} else if (is_class(c, C_UNRESERVED | C_SUBDELIM |
		    C_PCHAR_EXTRA)) {
			if (u.need > 0)
				return "percent-escapes are not UTF-8";
			out[o++] = (char)c;
			i++;
		} else
			return c == '#' ? "fragment in request target" :
			    "byte not allowed in path";
	}
	if (u.need > 0)
		return "percent-escapes are not UTF-8";
	if ((why = segment_check(out, seg, o, 1)) != NULL)
		return why;
	if (double_escape(out, o))
		return "double percent-encoding in path";
	*olen = o;
	return NULL;
}

/* The query in[0..len) (after '?') into out: pchar, '/' and '?'. */
static const char *
query_normalise(const char *in, size_t len, char *out, size_t *olen)
{
	size_t i = 0, o = 0;
	const char *why;
	unsigned char c;

	while (i < len) {
		c = (unsigned char)in[i];
		if (c == '%') {
			why = escape_copy(in + i, len - i, out, &o, NULL);
			if (why != NULL)
				return why;
			i += 3;
		} else if (c == '/' || c == '?' || is_class(c, C_UNRESERVED |
		    C_SUBDELIM | C_PCHAR_EXTRA)) {
			out[o++] = (char)c;
			i++;
		} else
			return c == '#' ? "fragment in request target" :
			    "byte not allowed in query";
	}
	*olen = o;
	return NULL;
}

int
target_host_valid(const char *h, size_t len)
{
	size_t i = 0, n;

	if (len == 0)
		return 0;
	if (h[0] == '[') {
		/* IP-literal: an IPv6 address (no zone, no IPvFuture) */
		char a[INET6_ADDRSTRLEN];
		struct in6_addr in6;

		for (i = 1; i < len && h[i] != ']'; i++)
			;
		if (i >= len || i - 1 >= sizeof(a))
			return 0;
		memcpy(a, h + 1, i - 1);
		a[i - 1] = '\0';
		if (inet_pton(AF_INET6, a, &in6) != 1)
			return 0;
		i++;
	} else {
		/* A DNS name or IPv4 address: letters, digits, "-._~". */
		while (i < len && is_class((unsigned char)h[i], C_UNRESERVED))
			i++;
		if (i == 0)
			return 0;
	}
	if (i == len)
		return 1;
	if (h[i] != ':')
		return 0;
	for (n = ++i; i < len; i++)
		if (h[i] < '0' || h[i] > '9')
			return 0;
	return i - n <= 5;
}

/* Does t[0..n) start with scheme "://" for an allowed scheme? */
static size_t
scheme_len(const char *t, size_t len)
{
	static const char *const schemes[] = { "http", "https", "ws", "wss" };
	size_t i, n;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i]);
		if (len >= n + 3 && memcmp(t + n, "://", 3) == 0) {
			size_t k;

			for (k = 0; k < n; k++)
				if ((t[k] | 0x20) != schemes[i][k])
					break;
			if (k == n)
				return n + 3;
		}
	}
	return 0;
}

const char *
target_normalise(const char *t, size_t len, char *out, size_t cap,
    struct target *tg)
{
	const char *end = t + len, *q, *why;
	size_t plen, qlen, n;

	memset(tg, 0, sizeof(*tg));
	if (cap < len + 1)
		return "request target too long";
	if (len > 0 && t[0] != '/') {
		/* absolute-form (RFC 9112 3.2.2): the authority is the host */
		n = scheme_len(t, len);
		if (n == 0)
			return t[0] == '*' ? "asterisk-form target" :
			    "scheme not http, https, ws or wss";
		t += n;
		tg->authority = t;
		while (t < end && *t != '/' && *t != '?' && *t != '#')
			t++;
		tg->authority_len = (size_t)(t - tg->authority);
		if (tg->authority_len == 0)
			return "empty authority in request target";
		if (!target_host_valid(tg->authority, tg->authority_len))
			return "bad authority in request target";
	} else if (len == 0)
		return "empty request target";
	q = memchr(t, '?', (size_t)(end - t));
	tg->path = out;
	if (t == end || *t != '/') {
		/* "http://host" or "http://host?q": the path is "/" */
		if (t < end && *t == '#')
			return "fragment in request target";
		out[0] = '/';
		plen = 1;
	} else if ((why = path_normalise(t, (size_t)((q ? q : end) - t), out,
	    &plen)) != NULL)
		return why;
	tg->path_len = plen;
	if (q != NULL) {
		tg->query = out + plen;
		if ((why = query_normalise(q + 1, (size_t)(end - q - 1),
		    out + plen, &qlen)) != NULL)
			return why;
		tg->query_len = qlen;
	}
	return NULL;
}

size_t
target_strip_params(const char *path, size_t len, char *out)
{
	size_t i, o = 0;
	int in_params = 0;

	for (i = 0; i < len; i++) {
		if (path[i] == '/')
			in_params = 0;
		else if (params_at(path + i, len - i))
			in_params = 1;
		if (!in_params)
			out[o++] = path[i];
	}
	return o;
}

/* ------------------------------------------------------------------ */
/* Query composition                                                   */
/* ------------------------------------------------------------------ */

/*
 * Do two parameter names, as a form decoder reads them ('+' is a blank,
 * every escape decoded), name the same thing?  Both come from
 * normalised queries, so every escape is well formed.
 */
static int
same_name(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;
	unsigned ca, cb;

	while (i < alen && j < blen) {
		ca = (unsigned char)a[i];
		cb = (unsigned char)b[j];
		if (ca == '%' && escape_at(a + i, alen - i) >= 0) {
			ca = (unsigned)escape_at(a + i, alen - i);
			i += 2;
		} else if (ca == '+')
			ca = ' ';
		if (cb == '%' && escape_at(b + j, blen - j) >= 0) {
			cb = (unsigned)escape_at(b + j, blen - j);
			j += 2;
		} else if (cb == '+')
			cb = ' ';
		if (ca != cb)
			return 0;
		i++;
		j++;
	}
	return i == alen && j == blen;
}

/* Is name[0..len) the name of a parameter of q[0..qlen)? */
static int
query_names(const char *q, size_t qlen, const char *name, size_t len)
{
	size_t i = 0, s, e;

	while (i <= qlen) {
		s = i;
		while (i < qlen && q[i] != '&' && q[i] != ';')
			i++;
		for (e = s; e < i && q[e] != '='; e++)
			;
		if (e > s && same_name(q + s, e - s, name, len))
			return 1;
		i++;
	}
	return 0;
}

/*
 * Is any ';'-separated part of the '&'-element el[0..len) a parameter
 * that the operator's query op[0..oplen) names?  Parsers split on '&'
 * alone, or on ';' too: the element goes if either reading shadows.
 */
static int
element_shadows(const char *el, size_t len, const char *op, size_t oplen)
{
	size_t i = 0, s, e;

	while (i <= len) {
		s = i;
		while (i < len && el[i] != ';')
			i++;
		for (e = s; e < i && el[e] != '='; e++)
			;
		if (e > s && query_names(op, oplen, el + s, e - s))
			return 1;
		i++;
	}
	return 0;
}

size_t
target_query_compose(const char *op, size_t oplen, const char *client,
    size_t clen, char *out, size_t cap)
{
	size_t o = 0, i = 0, s;

	if (op == NULL) {
		/* Nothing to protect: the client's query as it is. */
		if (clen > cap)
			return SIZE_MAX;
		if (clen > 0)
			memcpy(out, client, clen);
		return clen;
	}
	if (oplen > cap)
		return SIZE_MAX;
	memcpy(out, op, oplen);
	o = oplen;
	while (client != NULL && i <= clen) {
		s = i;
		while (i < clen && client[i] != '&')
			i++;
		if (i > s && !element_shadows(client + s, i - s, op, oplen)) {
			if (o > 0) {
				if (o == cap)
					return SIZE_MAX;
				out[o++] = '&';
			}
			if (i - s > cap - o)
				return SIZE_MAX;
			memcpy(out + o, client + s, i - s);
			o += i - s;
		}
		i++;
	}
	return o;
}
