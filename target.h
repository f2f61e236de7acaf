/*
 * target.h - request targets (target.c): the normalised path that
 * routing and the upstream both see, the upstream's query, host syntax.
 * The rules are wsproxy(1) REWRITING and SECURITY.
 */
#ifndef WSPROXY_TARGET_H
#define WSPROXY_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* A request target after target_normalise(). */
struct target {
	const char	*authority;	/* absolute-form only, else NULL */
	size_t		 authority_len;
	const char	*path;		/* normalised, in the caller's buffer */
	size_t		 path_len;
	const char	*query;		/* normalised; NULL when no '?' */
	size_t		 query_len;
};

/*
 * Normalise the request target t[0..len), origin-form or absolute-form
 * (http, https, ws or wss with a valid authority), into out (cap must
 * be at least len + 1; the result is never longer than the input).
 * Unreserved escapes are decoded and the others written in upper case.
 * Returns NULL with *tg filled in, or a fixed reason for a 400: a dot
 * segment in any spelling (literal or escaped dots, with ';params',
 * dots and blanks only, double-encoded, Unicode look-alikes), an empty
 * segment, a backslash or an encoded slash or backslash, a '#', a bad
 * or control escape, escapes that are not UTF-8, or any byte outside
 * RFC 3986 pchar (path) or query.
 */
const char *target_normalise(const char *t, size_t len, char *out,
    size_t cap, struct target *tg);

/*
 * A normalised path with every segment's ';params' (from a ';' or a
 * "%3B") removed, as a servlet container reads it, into out (len bytes
 * suffice).  Its length.
 */
size_t target_strip_params(const char *path, size_t len, char *out);

/*
 * The upstream's query: the operator's parameters op[0..oplen) first,
 * then the client's client[0..clen) less every '&'-element that has,
 * or has a ';'-part with, a name the operator's query has (names
 * compared as a form decoder reads them).  op NULL: the client's query
 * unchanged.  Returns the length written to out, or SIZE_MAX if it
 * does not fit in cap.
 */
size_t target_query_compose(const char *op, size_t oplen,
    const char *client, size_t clen, char *out, size_t cap);

/*
 * Is h[0..len) a host as wsproxy accepts it in Host and in an
 * absolute-form target: a name or IPv4 address of letters, digits and
 * "-._~", or an IPv6 literal in brackets, then optionally ":port"
 * (at most 5 digits)?
 */
int target_host_valid(const char *h, size_t len);

#endif /* WSPROXY_TARGET_H */
