/*
 * fuzz_frame.c - libFuzzer target for the frame codec: the input is a
 * byte stream as one direction of a pair would see it.  It is walked
 * the way the relay walks it (parse a header, check it against the
 * stream's rules, skip the payload, stop at the first error) once for
 * each direction and extension setting, with these invariants:
 *   - a header length is 2..14, fits the input, and matches its fields;
 *   - every shorter prefix of a header is PARTIAL (or the same error);
 *   - ws_frame_check() answers 0, 1002 or 1009 and keeps its state sane;
 *   - close payloads are unmasked and checked, and the close frame we
 *     would send back parses and passes the same checks;
 * plus ws_utf8_valid() against an independent decoder on the raw input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ws.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_close(const uint8_t *payload, size_t len, const uint8_t *mask)
{
	struct ws_frame	 f;
	uint8_t		*copy, out[8];
	unsigned	 code, code2;
	size_t		 n;
	int		 r;

	/* An exact-size copy: ws_close_check must stay inside len. */
	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL)
		abort();
	if (len > 0)
		memcpy(copy, payload, len);
	if (mask != NULL)
		ws_unmask(copy, len, mask, 0);
	r = ws_close_check(copy, len, &code);
	CHECK(r == 0 || r == WS_CLOSE_PROTOCOL || r == WS_CLOSE_BAD_DATA);
	CHECK(len != 0 || (r == 0 && code == 1005));
	CHECK(len < 2 || code == ((unsigned)copy[0] << 8 | copy[1]));
	if (r == 0 && len >= 2) {
		CHECK(code >= 1000 && code <= 4999);
		/* Masking twice is the identity. */
		if (mask != NULL) {
			ws_unmask(copy, len, mask, 0);
			CHECK(memcmp(copy, payload, len) == 0);
		}
		/* Our own close frame with that code round-trips. */
		n = ws_close_frame(out, code, mask);
		CHECK(n == (mask != NULL ? 8u : 4u));
		CHECK(ws_frame_parse(out, n, &f) == (int)n - 2);
		CHECK(f.fin && f.opcode == WS_OP_CLOSE && f.payload_len == 2 &&
		    f.rsv == 0 && f.masked == (mask != NULL));
		ws_unmask(out + n - 2, 2, f.mask, 0);
		CHECK(ws_close_check(out + n - 2, 2, &code2) == 0 &&
		    code2 == code);
	}
	free(copy);
}

/* Header of the frame at p: fields agree, every prefix is PARTIAL. */
static int
parse_header(const uint8_t *p, size_t avail, struct ws_frame *f)
{
	struct ws_frame	 g;
	size_t		 k, ext;
	int		 r, rk;

	r = ws_frame_parse(p, avail, f);
	CHECK(r == WS_PARTIAL || r == WS_BAD_LENGTH ||
	    (r >= 2 && r <= WS_MAX_HEADER));
	if (r == WS_PARTIAL)
		CHECK(avail < WS_MAX_HEADER);
	if (r > 0) {
		CHECK((size_t)r <= avail && f->header_len == r);
		ext = (p[1] & 0x7f) == 127 ? 8 : (p[1] & 0x7f) == 126 ? 2 : 0;
		CHECK((size_t)r == 2 + ext + (f->masked ? 4 : 0));
		CHECK(f->payload_len >> 63 == 0);
		CHECK(ext != 0 || f->payload_len <= 125);
		CHECK(f->fin == p[0] >> 7 && f->opcode == (p[0] & 15) &&
		    f->rsv == (p[0] >> 4 & 7));
		CHECK(!f->masked || memcmp(f->mask, p + r - 4, 4) == 0);
	}
	for (k = 0; k < avail && k < WS_MAX_HEADER; k++) {
		rk = ws_frame_parse(p, k, &g);
		CHECK(rk == WS_PARTIAL || rk == r);
	}
	return r;
}

static void
walk(const uint8_t *data, size_t size, uint8_t must_mask, uint8_t deflate,
    uint64_t max_message)
{
	struct ws_stream	s;
	struct ws_frame		f;
	size_t			pos = 0, avail, n;
	int			r, c;

	memset(&s, 0, sizeof(s));
	s.must_mask = must_mask;
	s.deflate = deflate;
	while (pos < size) {
		r = parse_header(data + pos, size - pos, &f);
		if (r <= 0)
			break;
		c = ws_frame_check(&s, &f, max_message);
		CHECK(c == 0 || c == WS_CLOSE_PROTOCOL ||
		    c == WS_CLOSE_TOO_BIG);
		if (c != 0) {
			/* The only rules that give 1009 are size rules. */
			CHECK(c != WS_CLOSE_TOO_BIG || max_message != 0);
			break;
		}
		CHECK(f.masked == must_mask);
		CHECK(s.in_message || s.message_len == 0);
		CHECK(max_message == 0 || s.message_len <= max_message);
		if (f.opcode >= 8)
			CHECK(f.fin && f.payload_len <= WS_MAX_CONTROL);

		pos += (size_t)r;
		avail = size - pos;
		if (f.payload_len > avail)
			break;		/* a frame still arriving */
		n = (size_t)f.payload_len;
		if (f.opcode == WS_OP_CLOSE)
			check_close(data + pos, n, f.masked ? f.mask : NULL);
		pos += n;
	}
}

/* An independent UTF-8 check: decode by bit pattern, then judge. */
static int
ref_utf8(const uint8_t *s, size_t len)
{
	uint32_t	cp, min;
	size_t		i = 0, n, k;

	while (i < len) {
		if (s[i] < 0x80)
			n = 1, cp = s[i], min = 0;
		else if ((s[i] & 0xe0) == 0xc0)
			n = 2, cp = s[i] & 0x1fu, min = 0x80;
		else if ((s[i] & 0xf0) == 0xe0)
			n = 3, cp = s[i] & 0x0fu, min = 0x800;
		else if ((s[i] & 0xf8) == 0xf0)
			n = 4, cp = s[i] & 0x07u, min = 0x10000;
		else
			return 0;
		if (len - i < n)
			return 0;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, size, 0, 0, 0);
	walk(data, size, 1, 0, 0);
	walk(data, size, 0, 1, 4096);
	walk(data, size, 1, 1, 4096);
	if (size > 0)
		walk(data, size, 1, 1, data[0]);
	CHECK(ws_utf8_valid(data, size) == ref_utf8(data, size));
	return 0;
}
