/*
 * ws.c - wsproxy's pure parsers: the HTTP/1.1 head parser used for both
 * handshakes, SHA-1 and base64 for Sec-WebSocket-Accept, and the RFC 6455
 * frame-header codec with the per-direction message rules of wsproxy(1)
 * RELAYING.
 *
 * Nothing here does I/O, allocates, logs or keeps global state: every
 * function works on the caller's buffers, so this file links alone into
 * the unit tests and the fuzz targets.  Every byte read is preceded by a
 * bounds check against the length the caller gave; wire integers are
 * assembled byte by byte, never by casting a pointer onto a buffer.
 *
 * cppcheck --enable=all reports only style notes here: variableScope
 * (declined: KNF declares locals at the top of a function) and
 * unusedFunction (an artefact of checking this file without proxy.c).
 */
#include <limits.h>
#include <string.h>

#include "ws.h"

/* ------------------------------------------------------------------ */
/* HTTP/1.1 head parser                                                */
/* ------------------------------------------------------------------ */

/*
 * RFC 7230 3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.  Spelled out
 * rather than taken from <ctype.h> so the locale cannot change it, and
 * as a table because the parser looks at every name byte.
 */
static const uint8_t tchar[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static int
is_tchar(unsigned char c)
{
	return tchar[c];
}

/*
 * Bytes allowed in a header value, reason phrase: HTAB, SP, VCHAR and
 * obs-text (RFC 7230 3.2).  CR and LF are handled by the callers; NUL,
 * the other C0 controls and DEL are what request smuggling and header
 * injection are made of, so they end the parse.
 */
static int
is_text(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Case-insensitive ASCII compare of two equal-length byte runs. */
static int
same_nocase(const char *a, const char *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/*
 * Match the literal lit at *pos.  Running out of input inside a literal
 * that has matched so far is PARTIAL, so "HTTP/1." is a valid prefix.
 */
static int
expect(const char *buf, size_t len, size_t *pos, const char *lit)
{
	for (; *lit != '\0'; lit++, (*pos)++) {
		if (*pos >= len)
			return HTTP_PARTIAL;
		if (buf[*pos] != *lit)
			return HTTP_INVALID;
	}
	return 0;
}

/* A line end must be CR LF: a bare LF or a CR alone is INVALID. */
static int
expect_crlf(const char *buf, size_t len, size_t *pos)
{
	return expect(buf, len, pos, "\r\n");
}

/*
 * "HTTP/1.0" or "HTTP/1.1".  HTTP/2+ never arrives as text and any other
 * 1.x is not a version we can promise semantics for.
 */
static int
parse_version(const char *buf, size_t len, size_t *pos, int *minor)
{
	int	r;

	if ((r = expect(buf, len, pos, "HTTP/1.")) != 0)
		return r;
	if (*pos >= len)
		return HTTP_PARTIAL;
	if (buf[*pos] != '0' && buf[*pos] != '1')
		return HTTP_INVALID;
	*minor = buf[*pos] - '0';
	(*pos)++;
	return 0;
}

/* request-line = method SP request-target SP HTTP-version CRLF */
static int
parse_request_line(const char *buf, size_t len, size_t *pos,
    struct http_head *h)
{
	size_t	start;
	int	r;

	start = *pos;
	while (*pos < len && is_tchar((unsigned char)buf[*pos]))
		(*pos)++;
	if (*pos >= len)
		return HTTP_PARTIAL;
	if (*pos == start || buf[*pos] != ' ')
		return HTTP_INVALID;
	h->method = buf + start;
	h->method_len = *pos - start;
	(*pos)++;

	/*
	 * Any visible ASCII: origin-, absolute-, authority- and
	 * asterisk-form all pass here and routing decides what it accepts.
	 */
	start = *pos;
	while (*pos < len && buf[*pos] >= 0x21 && buf[*pos] <= 0x7e)
		(*pos)++;
	if (*pos >= len)
		return HTTP_PARTIAL;
	if (*pos == start || buf[*pos] != ' ')
		return HTTP_INVALID;
	h->target = buf + start;
	h->target_len = *pos - start;
	(*pos)++;

	if ((r = parse_version(buf, len, pos, &h->minor_version)) != 0)
		return r;
	return expect_crlf(buf, len, pos);
}

/*
 * status-line = HTTP-version SP status-code SP reason-phrase CRLF, also
 * accepting no SP at all after the code: some servers send "HTTP/1.1 101"
 * and nothing is ambiguous about it.
 */
static int
parse_status_line(const char *buf, size_t len, size_t *pos,
    struct http_head *h)
{
	size_t	start;
	int	i, r;

	if ((r = parse_version(buf, len, pos, &h->minor_version)) != 0)
		return r;
	if ((r = expect(buf, len, pos, " ")) != 0)
		return r;
	h->status = 0;
	for (i = 0; i < 3; i++, (*pos)++) {
		if (*pos >= len)
			return HTTP_PARTIAL;
		if (buf[*pos] < '0' || buf[*pos] > '9' ||
		    (i == 0 && buf[*pos] == '0'))
			return HTTP_INVALID;
		h->status = h->status * 10 + (buf[*pos] - '0');
	}
	if (*pos >= len)
		return HTTP_PARTIAL;
	if (buf[*pos] == ' ') {
		(*pos)++;
		start = *pos;
		while (*pos < len && buf[*pos] != '\r' &&
		    is_text((unsigned char)buf[*pos]))
			(*pos)++;
		h->reason = buf + start;
		h->reason_len = *pos - start;
	} else if (buf[*pos] != '\r')
		return HTTP_INVALID;
	return expect_crlf(buf, len, pos);
}

/*
 * header-field = field-name ":" OWS field-value OWS, one per CRLF line,
 * until an empty line.  Returns 0 with *pos after the empty line.
 */
static int
parse_headers(const char *buf, size_t len, size_t *pos, struct http_head *h)
{
	struct http_header	*hd;
	size_t			 start, vend;
	unsigned char		 c;
	int			 r;

	for (;;) {
		if (*pos >= len)
			return HTTP_PARTIAL;
		c = (unsigned char)buf[*pos];
		if (c == '\r')
			return expect_crlf(buf, len, pos);
		/*
		 * A line starting with a blank is obs-fold (or, first
		 * thing after the start line, whitespace RFC 7230 3 says
		 * to reject): proxies that unfold and ones that do not
		 * disagree about the headers, so neither is safe.
		 */
		if (!is_tchar(c))
			return HTTP_INVALID;
		if (h->num_headers >= HTTP_MAX_HEADERS)
			return HTTP_TOO_MANY;

		start = *pos;
		while (*pos < len && is_tchar((unsigned char)buf[*pos]))
			(*pos)++;
		if (*pos >= len)
			return HTTP_PARTIAL;
		/* "Name :" is a smuggling vector (RFC 7230 3.2.4). */
		if (buf[*pos] != ':')
			return HTTP_INVALID;
		hd = &h->headers[h->num_headers];
		hd->name = buf + start;
		hd->name_len = *pos - start;
		(*pos)++;

		while (*pos < len && (buf[*pos] == ' ' || buf[*pos] == '\t'))
			(*pos)++;
		start = vend = *pos;
		for (; *pos < len; (*pos)++) {
			c = (unsigned char)buf[*pos];
			if (c == '\r' || !is_text(c))
				break;
			if (c != ' ' && c != '\t')
				vend = *pos + 1;
		}
		if ((r = expect_crlf(buf, len, pos)) != 0)
			return r;
		hd->value = buf + start;
		hd->value_len = vend - start;
		h->num_headers++;
	}
}

/*
 * Shared driver.  Re-parsing from the start each call is fine for a head
 * bounded by --max-header-bytes, and callers only call once
 * http_head_end() has seen the end anyway.
 */
static int
parse_head(const char *buf, size_t len, struct http_head *h, int request)
{
	size_t	pos = 0;
	int	clamped = 0, r;

	/* The result is an int; a head that long is garbage anyway. */
	if (len > INT_MAX) {
		len = INT_MAX;
		clamped = 1;
	}
	h->method = h->target = h->reason = "";
	h->method_len = h->target_len = h->reason_len = 0;
	h->status = 0;
	h->minor_version = 0;
	h->num_headers = 0;

	if (request)
		r = parse_request_line(buf, len, &pos, h);
	else
		r = parse_status_line(buf, len, &pos, h);
	if (r == 0)
		r = parse_headers(buf, len, &pos, h);
	if (r == HTTP_PARTIAL && clamped)
		return HTTP_INVALID;
	return r == 0 ? (int)pos : r;
}

int
http_parse_request(const char *buf, size_t len, struct http_head *h)
{
	return parse_head(buf, len, h, 1);
}

int
http_parse_response(const char *buf, size_t len, struct http_head *h)
{
	return parse_head(buf, len, h, 0);
}

/*
 * Besides the blank line, anything the parser is certain to reject on
 * sight (a bare LF, a CR not followed by LF, a NUL) also ends the wait:
 * the client then gets its 400 now rather than at --request-timeout.
 * *scan stays on the deciding byte so that asking again gives 1 again.
 */
int
http_head_end(const char *buf, size_t len, size_t *scan)
{
	/* Only NUL, CR and LF need a closer look; skip the rest fast. */
	static const uint8_t special[256] = { [0] = 1, ['\r'] = 1,
	    ['\n'] = 1 };
	size_t	i = *scan;

	/* A CR that ended the previous chunk must be followed by LF. */
	if (i > 0 && i < len && buf[i - 1] == '\r' && buf[i] != '\n') {
		*scan = i;
		return 1;
	}
	for (; i < len; i++) {
		if (!special[(unsigned char)buf[i]])
			continue;
		if (buf[i] == '\0')
			break;
		if (buf[i] == '\r') {
			if (i + 1 < len && buf[i + 1] != '\n') {
				i++;	/* a bare CR: decided by the next byte */
				break;
			}
			continue;
		}
		if (i == 0 || buf[i - 1] != '\r')
			break;	/* bare LF */
		/* CRLF CRLF, or a CRLF that is the whole first line. */
		if (i == 1 ||
		    (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r'))
			break;
	}
	*scan = i;
	return i < len;
}

const struct http_header *
http_find(const struct http_head *h, const char *name)
{
	size_t	i, n = strlen(name);

	for (i = 0; i < h->num_headers; i++)
		if (h->headers[i].name_len == n &&
		    same_nocase(h->headers[i].name, name, n))
			return &h->headers[i];
	return NULL;
}

size_t
http_count(const struct http_head *h, const char *name)
{
	size_t	i, count = 0, n = strlen(name);

	for (i = 0; i < h->num_headers; i++)
		if (h->headers[i].name_len == n &&
		    same_nocase(h->headers[i].name, name, n))
			count++;
	return count;
}

int
http_list_has(const char *value, size_t len, const char *tok)
{
	size_t	i = 0, start, end, n = strlen(tok);

	while (i < len) {
		start = i;
		while (i < len && value[i] != ',')
			i++;
		end = i;
		while (start < end &&
		    (value[start] == ' ' || value[start] == '\t'))
			start++;
		while (end > start &&
		    (value[end - 1] == ' ' || value[end - 1] == '\t'))
			end--;
		if (end - start == n && same_nocase(value + start, tok, n))
			return 1;
		i++;		/* past the comma */
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* SHA-1 (FIPS 180-4) and base64 (RFC 4648)                            */
/* ------------------------------------------------------------------ */

/*
 * SHA-1 is broken for collisions, but RFC 6455 uses it only to prove the
 * server read the key, not for security; we need nothing more.
 */
struct sha1 {
	uint32_t	h[5];
	uint8_t		block[64];
	size_t		fill;
	uint64_t	total;
};

static uint32_t
rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void
sha1_block(uint32_t hv[5], const uint8_t *p)
{
	uint32_t	w[80], a, b, c, d, e, f, k, t;
	int		i;

	/* Big-endian words, assembled byte by byte (FIPS 180-4 5.2.1). */
	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

	a = hv[0];
	b = hv[1];
	c = hv[2];
	d = hv[3];
	e = hv[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = t;
	}
	hv[0] += a;
	hv[1] += b;
	hv[2] += c;
	hv[3] += d;
	hv[4] += e;
}

static void
sha1_update(struct sha1 *s, const uint8_t *p, size_t len)
{
	size_t	n;

	s->total += len;
	while (len > 0) {
		n = sizeof(s->block) - s->fill;
		if (n > len)
			n = len;
		memcpy(s->block + s->fill, p, n);
		s->fill += n;
		p += n;
		len -= n;
		if (s->fill == sizeof(s->block)) {
			sha1_block(s->h, s->block);
			s->fill = 0;
		}
	}
}

void
ws_sha1(const void *data, size_t len, uint8_t out[20])
{
	struct sha1	s = {
		{ 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 },
		{ 0 }, 0, 0
	};
	uint64_t	bits;
	uint8_t		pad[72];
	size_t		padlen;
	int		i;

	sha1_update(&s, data, len);

	/* 0x80, zeros to 56 mod 64, then the bit length big-endian. */
	bits = s.total * 8;
	padlen = (s.fill < 56 ? 56 : 120) - s.fill;
	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(&s, pad, padlen + 8);

	for (i = 0; i < 20; i++)
		out[i] = (uint8_t)(s.h[i / 4] >> (24 - 8 * (i % 4)));
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes 4 * ceil(len / 3) characters and no terminating NUL. */
size_t
ws_base64(const uint8_t *in, size_t len, char *out)
{
	size_t		i, o = 0;
	uint32_t	v;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18 & 63];
		out[o++] = b64_alphabet[v >> 12 & 63];
		out[o++] = b64_alphabet[v >> 6 & 63];
		out[o++] = '=';
	}
	return o;
}

static int
is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * 16 bytes are 5 full groups plus one byte: 21 characters, one more
 * carrying that byte's last 2 bits and 4 zero bits, then "==".  A
 * non-zero low nibble there would not be canonical base64 of 16 bytes.
 */
int
ws_key_valid(const char *key, size_t len)
{
	size_t	i;
	char	c;

	if (len != WS_KEY_LEN)
		return 0;
	for (i = 0; i < 21; i++)
		if (!is_b64(key[i]))
			return 0;
	c = key[21];
	if (c != 'A' && c != 'Q' && c != 'g' && c != 'w')
		return 0;
	return key[22] == '=' && key[23] == '=';
}

void
ws_accept(const char key[WS_KEY_LEN], char out[WS_ACCEPT_LEN])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	uint8_t		buf[WS_KEY_LEN + sizeof(guid) - 1], digest[20];

	memcpy(buf, key, WS_KEY_LEN);
	memcpy(buf + WS_KEY_LEN, guid, sizeof(guid) - 1);
	ws_sha1(buf, sizeof(buf), digest);
	(void)ws_base64(digest, sizeof(digest), out);
}

/* ------------------------------------------------------------------ */
/* RFC 6455 frames                                                     */
/* ------------------------------------------------------------------ */

/*
 * RFC 6455 5.2 asks for the minimal length encoding, but senders that
 * pad are common and harmless, so they are accepted and passed through
 * (WS_BAD_MINIMAL is kept for a stricter caller).  A 64-bit length with
 * the top bit set is refused as soon as its first byte is seen rather
 * than when the whole header has arrived: a peer that stops there would
 * otherwise hold the pair until a timeout.
 */
int
ws_frame_parse(const uint8_t *buf, size_t len, struct ws_frame *f)
{
	size_t	need, i, ext;
	uint8_t	len7;

	if (len < 2)
		return WS_PARTIAL;
	f->fin = (buf[0] & 0x80) != 0;
	f->rsv = (uint8_t)(buf[0] >> 4 & 7);
	f->opcode = buf[0] & 0x0f;
	f->masked = (buf[1] & 0x80) != 0;
	len7 = buf[1] & 0x7f;

	ext = len7 == 127 ? 8 : len7 == 126 ? 2 : 0;
	if (ext == 8 && len > 2 && (buf[2] & 0x80))
		return WS_BAD_LENGTH;
	need = 2 + ext + (f->masked ? 4 : 0);
	if (len < need)
		return WS_PARTIAL;

	if (ext == 0)
		f->payload_len = len7;
	else {
		f->payload_len = 0;
		for (i = 0; i < ext; i++)
			f->payload_len = f->payload_len << 8 | buf[2 + i];
	}
	if (f->masked)
		for (i = 0; i < 4; i++)
			f->mask[i] = buf[2 + ext + i];
	else
		memset(f->mask, 0, sizeof(f->mask));
	f->header_len = (uint8_t)need;
	return (int)need;
}

/* The rules of wsproxy(1) RELAYING, in the order a reader of RFC 6455
 * 5.2-5.5 meets them. */
int
ws_frame_check(struct ws_stream *s, const struct ws_frame *f,
    uint64_t max_message)
{
	uint64_t	base;
	int		control = (f->opcode & 0x8) != 0;
	int		first = f->opcode == WS_OP_TEXT ||
			    f->opcode == WS_OP_BINARY;

	if ((f->masked != 0) != (s->must_mask != 0))
		return WS_CLOSE_PROTOCOL;
	/* No extension we pass through defines RSV2 or RSV3. */
	if (f->rsv & 0x3)
		return WS_CLOSE_PROTOCOL;
	/* permessage-deflate marks a compressed message on its first frame. */
	if ((f->rsv & 0x4) && !(s->deflate && first))
		return WS_CLOSE_PROTOCOL;
	if (f->opcode > WS_OP_PONG || (f->opcode > WS_OP_BINARY && !control))
		return WS_CLOSE_PROTOCOL;

	/* Control frames may sit between fragments and never touch them. */
	if (control) {
		if (f->payload_len > WS_MAX_CONTROL || !f->fin)
			return WS_CLOSE_PROTOCOL;
		return 0;
	}

	if (f->opcode == WS_OP_CONT && !s->in_message)
		return WS_CLOSE_PROTOCOL;
	if (first && s->in_message)
		return WS_CLOSE_PROTOCOL;

	base = first ? 0 : s->message_len;
	/* Written as a subtraction so that no sum can wrap. */
	if (max_message != 0 && (f->payload_len > max_message ||
	    base > max_message - f->payload_len))
		return WS_CLOSE_TOO_BIG;

	/* Without a limit the count only informs, so saturate it. */
	s->message_len = f->payload_len > UINT64_MAX - base ? UINT64_MAX :
	    base + f->payload_len;
	s->in_message = !f->fin;
	if (f->fin)
		s->message_len = 0;
	return 0;
}

/*
 * RFC 6455 7.4: 1004-1006 and 1015 are reserved or must never be on the
 * wire, 1016-2999 are for future protocol use, 3000-4999 are for
 * libraries and applications.  1012-1014 are registered with IANA.
 */
int
ws_close_check(const uint8_t *payload, size_t len, unsigned *code)
{
	unsigned	c;

	if (len == 0) {
		if (code != NULL)
			*code = 1005;
		return 0;
	}
	if (len == 1) {
		if (code != NULL)
			*code = 0;
		return WS_CLOSE_PROTOCOL;
	}
	c = (unsigned)payload[0] << 8 | payload[1];
	if (code != NULL)
		*code = c;
	if (c < 1000 || (c >= 1004 && c <= 1006) || (c >= 1015 && c < 3000) ||
	    c >= 5000)
		return WS_CLOSE_PROTOCOL;
	if (!ws_utf8_valid(payload + 2, len - 2))
		return WS_CLOSE_BAD_DATA;
	return 0;
}

/*
 * RFC 3629 table 4: the second byte's range depends on the lead byte,
 * which is what excludes overlongs (E0, F0), surrogates (ED) and code
 * points past U+10FFFF (F4); C0, C1 and F5-FF never occur.
 */
int
ws_utf8_valid(const uint8_t *s, size_t len)
{
	size_t	i = 0, need, k;
	uint8_t	c, lo, hi;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		/* C0/C1 would be overlong, F5-FF beyond U+10FFFF. */
		if (c < 0xc2 || c >= 0xf5)
			return 0;
		if (c < 0xe0)
			need = 1;
		else if (c < 0xf0) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else {
			need = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		}
		if (len - i - 1 < need)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += need + 1;
	}
	return 1;
}

size_t
ws_close_frame(uint8_t out[8], unsigned code, const uint8_t *mask)
{
	uint8_t	hi = (uint8_t)(code >> 8 & 0xff);
	uint8_t	lo = (uint8_t)(code & 0xff);

	out[0] = 0x80 | WS_OP_CLOSE;
	if (mask == NULL) {
		out[1] = 2;
		out[2] = hi;
		out[3] = lo;
		return 4;
	}
	out[1] = 0x80 | 2;
	memcpy(out + 2, mask, 4);
	out[6] = hi ^ mask[0];
	out[7] = lo ^ mask[1];
	return 8;
}

/*
 * The relay unmasks only close payloads, but the loop is kept fast for
 * any caller: eight bytes at a time through memcpy (no pointer casts, no
 * alignment assumptions; XOR does not care about byte order as long as
 * the mask word is built the same way), the tail byte by byte.
 */
void
ws_unmask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t pos)
{
	uint8_t		rot[8];
	uint64_t	m, w;
	size_t		i;

	for (i = 0; i < 8; i++)
		rot[i] = mask[(pos + i) & 3];
	memcpy(&m, rot, sizeof(m));
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, data + i, sizeof(w));
		w ^= m;
		memcpy(data + i, &w, sizeof(w));
	}
	for (; i < len; i++)
		data[i] ^= rot[i & 7];
}
