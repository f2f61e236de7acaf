/*
 * test_target.c - unit tests for target.c (wsproxy(1) ROUTING AND
 * REWRITING, SECURITY).
 *
 *   - a table of targets, each with its normalised form or the class of
 *     reason it is refused for;
 *   - every byte value inserted at every position of a few targets,
 *     checked against a reference model written here from RFC 3986's
 *     ABNF strings (not from target.c's table);
 *   - "%XY" for every byte, in path and query, both hex cases;
 *   - every accepted output normalises to itself, and holds no dot
 *     segment, backslash or encoded slash;
 *   - each target parsed from a buffer that ends at a PROT_NONE page;
 *   - query composition and host syntax tables.
 *
 * Prints one line per failing case and ends with "N passed, N failed".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"
#include "../../target.h"
#include "target_invariants.h"

static unsigned passed, failed;

static void
fail(const char *what, const char *in, size_t len, const char *detail)
{
	failed++;
	printf("FAIL %s: '", what);
	fwrite(in, 1, len, stdout);
	printf("': %s\n", detail);
}

/* ------------------------------------------------------------------ */
/* Guard page                                                          */
/* ------------------------------------------------------------------ */

static char	*guard;
static size_t	 page;

static void
guard_init(void)
{
	guard = (char *)guard_map(&page);
}

/* in[0..len) copied so that its last byte abuts the PROT_NONE page. */
static const char *
at_guard(const char *in, size_t len)
{
	if (len > page)
		return in;
	memcpy(guard + page - len, in, len);
	return guard + page - len;
}

/* ------------------------------------------------------------------ */
/* Invariants of an accepted output                                    */
/* ------------------------------------------------------------------ */

/*
 * Normalise in[0..len) from a guarded copy; on success check the
 * invariants and that the output normalises to itself.  Returns the
 * reason (NULL: accepted) and the output in out/olen.
 */
static const char *
norm(const char *in, size_t len, char *out, size_t *olen, struct target *t)
{
	const char *g = at_guard(in, len), *why, *why2, *bad;
	char *again;
	struct target t2;
	size_t n;

	why = target_normalise(g, len, out, len + 1, t);
	if (why != NULL)
		return why;
	n = t->path_len + t->query_len;
	*olen = n;
	if ((bad = target_path_clean(t->path, t->path_len)) != NULL)
		fail("invariant", in, len, bad);
	/* the output as a target again (the query behind a '?') */
	again = malloc(n + 2);
	if (again == NULL)
		abort();
	memcpy(again, t->path, t->path_len);
	n = t->path_len;
	if (t->query != NULL) {
		char *o2 = malloc(n + t->query_len + 2);

		if (o2 == NULL)
			abort();
		memcpy(o2, t->path, t->path_len);
		o2[n] = '?';
		memcpy(o2 + n + 1, t->query, t->query_len);
		n += 1 + t->query_len;
		free(again);
		again = o2;
	}
	{
		char *out2 = malloc(n + 1);

		if (out2 == NULL)
			abort();
		why2 = target_normalise(again, n, out2, n + 1, &t2);
		if (why2 != NULL)
			fail("idempotent", in, len, why2);
		else if (t2.path_len != t->path_len ||
		    memcmp(t2.path, t->path, t->path_len) != 0 ||
		    (t->query == NULL) != (t2.query == NULL) ||
		    t2.query_len != t->query_len ||
		    (t->query && memcmp(t2.query, t->query, t->query_len)))
			fail("idempotent", in, len, "second pass changed it");
		free(out2);
	}
	free(again);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Table                                                               */
/* ------------------------------------------------------------------ */

struct vec {
	const char	*in;
	const char	*want;	/* path[?query] when accepted */
	const char	*why;	/* a word of the refusal's reason */
};

static const struct vec vecs[] = {
	/* accepted, decoded, upper-cased */
	{ "/", "/", NULL },
	{ "/socket", "/socket", NULL },
	{ "/socket/", "/socket/", NULL },
	{ "/%61dmin", "/admin", NULL },
	{ "/%7euser/%2D%5f", "/~user/-_", NULL },
	{ "/a%2cb", "/a%2Cb", NULL },
	{ "/a%3Bb", "/a%3Bb", NULL },
	{ "/caf%c3%a9", "/caf%C3%A9", NULL },
	{ "/a%25b", "/a%25b", NULL },
	{ "/a%2541", "/a%2541", NULL },
	{ "/chat/room;jsessionid=1", "/chat/room;jsessionid=1", NULL },
	{ "/a.b/.c/..d/c..", "/a.b/.c/..d/c..", NULL },
	{ "/:@!$&'()*+,;=", "/:@!$&'()*+,;=", NULL },
	{ "/p?q=1&r=%2f&s=a%2Fb", "/p?q=1&r=%2F&s=a%2Fb", NULL },
	{ "/p?%61=%62", "/p?a=b", NULL },
	{ "/p?", "/p?", NULL },
	{ "/p?a/b?c:d@e", "/p?a/b?c:d@e", NULL },
	{ "/p?%00%0a", "/p?%00%0A", NULL },
	{ "http://host/x", "/x", NULL },
	{ "HTTPS://host:443/x?y", "/x?y", NULL },
	{ "ws://[::1]:80/x", "/x", NULL },
	{ "wss://h", "/", NULL },
	{ "http://h?q=1", "/?q=1", NULL },
	/* dot segments, every spelling */
	{ "/..", NULL, "dot" },
	{ "/.", NULL, "dot" },
	{ "/a/./b", NULL, "dot" },
	{ "/a/../b", NULL, "dot" },
	{ "/a/..", NULL, "dot" },
	{ "/a/%2e%2e/b", NULL, "dot" },
	{ "/a/%2E%2E/b", NULL, "dot" },
	{ "/a/.%2e/b", NULL, "dot" },
	{ "/a/%2e./b", NULL, "dot" },
	{ "/a/%2e/b", NULL, "dot" },
	{ "/a/..;/b", NULL, "dot" },
	{ "/a/..;x=1/b", NULL, "dot" },
	{ "/a/%2e%2e;/b", NULL, "dot" },
	{ "/a/.;/b", NULL, "dot" },
	{ "/a/..%3b/b", NULL, "dot" },
	{ "/a/%2e%2e%3Bx/b", NULL, "dot" },
	{ "/a/%3bx/b", NULL, "empty" },
	{ "/a/.../b", NULL, "dot" },
	{ "/a/..%20/b", NULL, "dot" },
	{ "/a/.%20./b", NULL, "dot" },
	{ "/a/%252e%252e/b", NULL, "double" },
	{ "/a/%25252e/b", NULL, "double" },
	{ "/a/%c0%ae%c0%ae/b", NULL, "UTF-8" },
	{ "/a/%e0%80%ae/b", NULL, "UTF-8" },
	{ "/a/%ef%bc%8e%ef%bc%8e/b", NULL, "look-alike" },
	{ "/a/%ef%bc%8fb", NULL, "look-alike" },
	{ "/a/%e2%80%a5/b", NULL, "look-alike" },
	/* slashes */
	{ "/a%2fb", NULL, "slash" },
	{ "/a%2Fb", NULL, "slash" },
	{ "/a%5cb", NULL, "slash" },
	{ "/a\\b", NULL, "backslash" },
	{ "/a/..\\b", NULL, "backslash" },
	{ "/a%255cb", NULL, "double" },
	{ "/a%252fb", NULL, "double" },
	{ "//a", NULL, "empty" },
	{ "/a//b", NULL, "empty" },
	{ "/a/;x/b", NULL, "empty" },
	{ "/;x", NULL, "empty" },
	/* bytes and escapes */
	{ "/a#b", NULL, "fragment" },
	{ "/a?b#c", NULL, "fragment" },
	{ "/a%", NULL, "escape" },
	{ "/a%4", NULL, "escape" },
	{ "/a%zz", NULL, "escape" },
	{ "/a%00", NULL, "control" },
	{ "/a%0d%0a", NULL, "control" },
	{ "/a%7f", NULL, "control" },
	{ "/a%80", NULL, "UTF-8" },
	{ "/a%c3", NULL, "UTF-8" },
	{ "/a%c3/", NULL, "UTF-8" },
	{ "/a b", NULL, "not allowed" },
	{ "/a\"b", NULL, "not allowed" },
	{ "/a<b>", NULL, "not allowed" },
	{ "/a[b]", NULL, "not allowed" },
	{ "/a{b}", NULL, "not allowed" },
	{ "/a|b", NULL, "not allowed" },
	{ "/a^b", NULL, "not allowed" },
	{ "/a`b", NULL, "not allowed" },
	{ "/a\x80", NULL, "not allowed" },
	{ "/p?a b", NULL, "not allowed" },
	{ "/p?a\\b", NULL, "not allowed" },
	{ "/p?a[]=1", NULL, "not allowed" },
	{ "/p?a%zz", NULL, "escape" },
	/* absolute-form */
	{ "http:///x", NULL, "authority" },
	{ "http://", NULL, "authority" },
	{ "ftp://h/x", NULL, "scheme" },
	{ "file:///etc/passwd", NULL, "scheme" },
	{ "javascript://h/x", NULL, "scheme" },
	{ "http://u@h/x", NULL, "authority" },
	{ "http://h:99999999/x", NULL, "authority" },
	{ "http://h#x", NULL, "fragment" },
	{ "*", NULL, "asterisk" },
	{ "h:80", NULL, "scheme" },
	{ "", NULL, "empty" },
	{ "http://h/a/../b", NULL, "dot" },
};

static void
test_table(void)
{
	char out[256], got[300];
	struct target t;
	const char *why;
	size_t i, n, len;

	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];

		len = strlen(v->in);
		why = norm(v->in, len, out, &n, &t);
		if (v->want != NULL) {
			if (why != NULL) {
				fail("table", v->in, len, why);
				continue;
			}
			snprintf(got, sizeof(got), "%.*s%s%.*s",
			    (int)t.path_len, t.path, t.query ? "?" : "",
			    (int)t.query_len, t.query ? t.query : "");
			if (strcmp(got, v->want) != 0) {
				fail("table", v->in, len, got);
				continue;
			}
		} else if (why == NULL || strstr(why, v->why) == NULL) {
			fail("table", v->in, len, why ? why : "accepted");
			continue;
		}
		passed++;
	}
}

/* ------------------------------------------------------------------ */
/* Every byte in every position, against a reference model             */
/* ------------------------------------------------------------------ */

/* RFC 3986 2.3, 2.2 and 3.3, spelled as the RFC lists them. */
static const char unreserved[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
static const char sub_delims[] = "!$&'()*+,;=";

static int
in_set(const char *set, int c)
{
	return c != 0 && strchr(set, c) != NULL;
}

static int
model_pchar(int c)
{
	return in_set(unreserved, c) || in_set(sub_delims, c) || c == ':' ||
	    c == '@';
}

/*
 * The model's answer for base with byte b put at position pos, for bytes
 * that stand for themselves (not '%', '/', '?'): refused when the byte
 * is not allowed where it lands; else accepted unless it makes a dot
 * segment ('.') or an empty name (';' right after a '/').
 */
static int
model_accepts(const char *base, size_t pos, int b)
{
	const char *q = strchr(base, '?');
	int in_query = q != NULL && (size_t)(q - base) < pos;

	if (in_query)
		return model_pchar(b) || b == '/' || b == '?';
	if (!model_pchar(b))
		return 0;
	return 1;
}

static void
test_every_byte(void)
{
	static const char *const bases[] = {
		"/ab/cd", "/a/b?x=1&y=2", "/x;p/y",
	};
	char in[64], out[80];
	struct target t;
	const char *why;
	size_t bi, pos, n, len, blen;
	int b;

	for (bi = 0; bi < sizeof(bases) / sizeof(bases[0]); bi++) {
		blen = strlen(bases[bi]);
		/* after the leading '/': position 0 makes no origin-form */
		for (pos = 1; pos <= blen; pos++) {
			for (b = 0; b < 256; b++) {
				if (b == '%' || b == '/' || b == '?' ||
				    b == '.' || b == ';')
					continue;	/* structural: tables */
				memcpy(in, bases[bi], pos);
				in[pos] = (char)b;
				memcpy(in + pos + 1, bases[bi] + pos,
				    blen - pos);
				len = blen + 1;
				why = norm(in, len, out, &n, &t);
				if ((why == NULL) != model_accepts(bases[bi],
				    pos, b)) {
					char d[64];

					snprintf(d, sizeof(d), "byte 0x%02x at %zu"
					    " %s", (unsigned)b, pos,
					    why ? why : "accepted");
					fail("every-byte", in, len, d);
				} else
					passed++;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* "%XY" for every byte                                                */
/* ------------------------------------------------------------------ */

static void
test_every_escape(void)
{
	static const char hexl[] = "0123456789abcdef", hexu[] = "0123456789ABCDEF";
	char in[32], out[64], want[32], d[96];
	struct target t;
	const char *why;
	size_t n, len;
	int v, up, query;

	for (query = 0; query < 2; query++)
	for (up = 0; up < 2; up++)
	for (v = 0; v < 256; v++) {
		const char *hx = up ? hexu : hexl;
		int ok;

		len = (size_t)snprintf(in, sizeof(in), "%sa%%%c%cb",
		    query ? "/p?" : "/", hx[v >> 4], hx[v & 15]);
		why = norm(in, len, out, &n, &t);
		if (in_set(unreserved, v))
			snprintf(want, sizeof(want), "%c", v);
		else
			snprintf(want, sizeof(want), "%%%c%c", hexu[v >> 4],
			    hexu[v & 15]);
		/* path: no '/', '\\', controls, lone non-ASCII bytes */
		ok = query || !(v == '/' || v == '\\' || v < 0x20 ||
		    v == 0x7f || v >= 0x80);
		if ((why == NULL) != ok) {
			snprintf(d, sizeof(d), "escape of 0x%02x: %s",
			    (unsigned)v, why ? why : "accepted");
			fail("every-escape", in, len, d);
			continue;
		}
		if (why == NULL) {
			const char *s = query ? t.query : t.path;
			size_t sl = query ? t.query_len : t.path_len;
			size_t wl = strlen(want);

			/* "/a" or "a" before it, "b" after it */
			if (sl != wl + (query ? 2 : 3) ||
			    memcmp(s + sl - wl - 1, want, wl) != 0) {
				snprintf(d, sizeof(d), "escape of 0x%02x gave"
				    " '%.*s', want ...%s", (unsigned)v,
				    (int)sl, s, want);
				fail("every-escape", in, len, d);
				continue;
			}
		}
		passed++;
	}
}

/* ------------------------------------------------------------------ */
/* Query composition                                                   */
/* ------------------------------------------------------------------ */

struct qvec {
	const char	*op;	/* NULL: no query in the URI */
	const char	*client;
	const char	*want;
};

static const struct qvec qvecs[] = {
	{ NULL, "a=1&b=2", "a=1&b=2" },
	{ NULL, "", "" },
	{ NULL, "a&&b", "a&&b" },
	{ "token=abc", "", "token=abc" },
	{ "token=abc", "room=1", "token=abc&room=1" },
	{ "token=abc", "token=evil", "token=abc" },
	{ "token=abc", "room=1&token=evil&x", "token=abc&room=1&x" },
	{ "token=abc", "token", "token=abc" },
	{ "token=abc", "t%6Fken=evil", "token=abc" },
	{ "token=abc", "tok%65n=evil", "token=abc" },
	{ "a+b=1", "a%20b=2", "a+b=1" },
	{ "token=abc", "a=1;token=evil&b=2", "token=abc&b=2" },
	{ "x=1;token=abc", "token=evil", "x=1;token=abc" },
	{ "token=abc", "tokens=1&Token=2", "token=abc&tokens=1&Token=2" },
	{ "token=abc", "&&room=1&", "token=abc&room=1" },
	{ "", "a=1", "a=1" },
};

static void
test_query(void)
{
	char out[128];
	size_t i, n;

	for (i = 0; i < sizeof(qvecs) / sizeof(qvecs[0]); i++) {
		const struct qvec *v = &qvecs[i];

		n = target_query_compose(v->op, v->op ? strlen(v->op) : 0,
		    v->client, strlen(v->client), out, sizeof(out));
		if (n == SIZE_MAX || n != strlen(v->want) ||
		    memcmp(out, v->want, n) != 0) {
			char d[160];

			snprintf(d, sizeof(d), "op '%s': got '%.*s', want '%s'",
			    v->op ? v->op : "(none)", n == SIZE_MAX ? 0 :
			    (int)n, out, v->want);
			fail("query", v->client, strlen(v->client), d);
		} else
			passed++;
		/* too small an output: SIZE_MAX, never an overflow */
		if (strlen(v->want) > 0) {
			n = target_query_compose(v->op, v->op ? strlen(v->op) :
			    0, v->client, strlen(v->client), out,
			    strlen(v->want) - 1);
			if (n != SIZE_MAX)
				fail("query-cap", v->client, strlen(v->client),
				    "fit in less than its length");
			else
				passed++;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Hosts                                                               */
/* ------------------------------------------------------------------ */

static void
test_hosts(void)
{
	static const struct { const char *h; int ok; } hosts[] = {
		{ "example.com", 1 }, { "example.com:8080", 1 },
		{ "127.0.0.1", 1 }, { "127.0.0.1:", 1 }, { "[::1]", 1 },
		{ "[::1]:443", 1 }, { "[2001:db8::a.b]", 0 },
		{ "[::ffff:1.2.3.4]", 1 }, { "a_b-c~d", 1 },
		{ "", 0 }, { ":80", 0 }, { "a b", 0 }, { "a\"b", 0 },
		{ "a,b", 0 }, { "a;b", 0 }, { "u@h", 0 }, { "h:8o", 0 },
		{ "h:123456", 0 }, { "[::1", 0 }, { "[::1]x", 0 },
		{ "[]", 0 }, { "h/x", 0 }, { "h\\x", 0 }, { "%41", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		size_t len = strlen(hosts[i].h);

		if (target_host_valid(at_guard(hosts[i].h, len), len) !=
		    hosts[i].ok)
			fail("host", hosts[i].h, len, hosts[i].ok ?
			    "refused" : "accepted");
		else
			passed++;
	}
}

static void
test_strip(void)
{
	static const struct { const char *in, *want; } v[] = {
		{ "/a;x/b;y=1", "/a/b" }, { "/a/b", "/a/b" },
		{ "/chat;x", "/chat" }, { "/;", "/" },
		{ "/chat%3Bx/y", "/chat/y" },
	};
	char out[64];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = target_strip_params(v[i].in, strlen(v[i].in), out);
		if (n != strlen(v[i].want) || memcmp(out, v[i].want, n))
			fail("strip", v[i].in, strlen(v[i].in), "wrong");
		else
			passed++;
	}
}

int
main(void)
{
	guard_init();
	test_table();
	test_every_byte();
	test_every_escape();
	test_query();
	test_hosts();
	test_strip();
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
