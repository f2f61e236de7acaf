/*
 * dnsmsg.c - DNS messages for the stub resolver (RFC 1035 4.1): a
 * query built, an answer checked against its query and read.
 *
 * Pure functions over (buf, len) with a bounds check before every byte
 * read, so the unit test (tests/unit/test_dns.c) and the fuzzer
 * (tests/fuzz/fuzz_dns.c) link this file alone.  An answer is believed
 * only when its id and its question echo the query's; anything else is
 * not an answer to us, and the resolver goes on waiting for one.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <string.h>

#include "dns.h"

#define HEADER 12
#define CLASS_IN 1
#define JUMPS_MAX 64		/* beyond the backwards rule, a plain cap */

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned
lower(char c)
{
	unsigned u = (unsigned char)c;

	return u >= 'A' && u <= 'Z' ? u | 0x20 : u;
}

/* ASCII case-insensitive, as DNS names compare (RFC 4343). */
static int
name_eq(const char *a, const char *b)
{
	while (*a != '\0' && lower(*a) == lower(*b))
		a++, b++;
	return lower(*a) == lower(*b);
}

int
dns_query_build(uint8_t *buf, size_t cap, uint16_t id, const char *name,
    uint16_t type)
{
	size_t n = HEADER, label;
	const char *p = name, *dot;

	if (cap < HEADER + 1 + 4 || *name == '\0')
		return -1;
	memset(buf, 0, HEADER);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01;			/* RD: the server recurses for us */
	buf[5] = 1;			/* one question */
	for (;;) {
		dot = strchr(p, '.');
		label = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (label == 0 || label > 63 || n + 1 + label + 5 > cap ||
		    n + 1 + label + 1 > HEADER + 255)
			return -1;
		buf[n++] = (uint8_t)label;
		memcpy(buf + n, p, label);
		n += label;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	buf[n++] = 0;
	buf[n++] = (uint8_t)(type >> 8);
	buf[n++] = (uint8_t)type;
	buf[n++] = 0;
	buf[n++] = CLASS_IN;
	return (int)n;
}

/*
 * The name at m[off] as dotted text into out (DNS_NAME_MAX + 1 bytes),
 * *next set past it in the record.  A pointer must point before where
 * the name (or the last jump) started: every jump lands lower than the
 * one before, so a chain of them ends.  A label holding '.' or NUL could pass for another name: such a
 * name is refused.  0, or -1 (malformed).
 */
static int
name_read(const uint8_t *m, size_t len, size_t off, char *out, size_t *next)
{
	size_t n = 0, wire = 1, c, i, seg = off;
	int jumps = 0;

	*next = 0;
	for (;;) {
		if (off >= len)
			return -1;
		c = m[off];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (off + 1 >= len)
				return -1;
			to = (c & 0x3f) << 8 | m[off + 1];
			if (to >= seg || ++jumps > JUMPS_MAX)
				return -1;
			if (*next == 0)
				*next = off + 2;
			off = seg = to;
			continue;
		}
		if (c & 0xc0)
			return -1;	/* extended label types: not used */
		if (c == 0)
			break;
		if (off + 1 + c > len || (wire += c + 1) > 255)
			return -1;
		if (n > 0)
			out[n++] = '.';
		for (i = 0; i < c; i++) {
			char ch = (char)m[off + 1 + i];

			if (ch == '.' || ch == '\0')
				return -1;
			out[n++] = ch;
		}
		off += 1 + c;
	}
	if (*next == 0)
		*next = off + 1;
	out[n] = '\0';
	return 0;
}

struct rr {
	char		 owner[DNS_NAME_MAX + 1];
	unsigned	 type, class;
	uint32_t	 ttl;
	size_t		 rdata, rdlen;
};

/* The resource record at *off into rr, *off moved past it: 0 or -1. */
static int
rr_read(const uint8_t *m, size_t len, size_t *off, struct rr *rr)
{
	size_t p;

	if (name_read(m, len, *off, rr->owner, &p) < 0 || len - p < 10)
		return -1;
	rr->type = get16(m + p);
	rr->class = get16(m + p + 2);
	rr->ttl = (uint32_t)get16(m + p + 4) << 16 | get16(m + p + 6);
	if (rr->ttl > 0x7fffffffU)
		rr->ttl = 0;		/* RFC 2181 8: a TTL with the top bit */
	rr->rdlen = get16(m + p + 8);
	rr->rdata = p + 10;
	if (len - rr->rdata < rr->rdlen)
		return -1;
	*off = rr->rdata + rr->rdlen;
	return 0;
}

enum dns_msg
dns_answer_parse(const uint8_t *m, size_t len, uint16_t id, const char *name,
    uint16_t type, struct dns_answer *a)
{
	char cur[DNS_NAME_MAX + 1], qname[DNS_NAME_MAX + 1];
	unsigned ancount, i, hop;
	size_t off, start;
	struct rr rr;
	int moved;

	memset(a, 0, sizeof(*a));
	if (len < HEADER)
		return DNS_MSG_MALFORMED;
	if (get16(m) != id)
		return DNS_MSG_ID;
	if (!(m[2] & 0x80) || (m[2] & 0x78) != 0)
		return DNS_MSG_NOT_ANSWER;	/* QR clear, or opcode not 0 */
	if (get16(m + 4) != 1)
		return DNS_MSG_QUESTION;
	if (name_read(m, len, HEADER, qname, &off) < 0 || len - off < 4)
		return DNS_MSG_MALFORMED;
	if (!name_eq(qname, name) || get16(m + off) != type ||
	    get16(m + off + 2) != CLASS_IN)
		return DNS_MSG_QUESTION;
	start = off + 4;
	a->rcode = m[3] & 0x0f;
	a->tc = (m[2] & 0x02) != 0;
	a->ttl = UINT32_MAX;
	ancount = get16(m + 6);
	/* Walk every record once: a malformed one spoils the message. */
	for (i = 0, off = start; i < ancount; i++)
		if (rr_read(m, len, &off, &rr) < 0)
			return DNS_MSG_MALFORMED;
	if (a->tc || a->rcode != 0)
		return DNS_MSG_OK;
	/* The CNAME chain from the question's name, one hop per pass. */
	memcpy(cur, qname, sizeof(cur));
	for (hop = 0, moved = 1; moved && hop <= DNS_CNAME_HOPS; hop++) {
		moved = 0;
		for (i = 0, off = start; i < ancount && !moved; i++) {
			size_t next;

			(void)rr_read(m, len, &off, &rr);
			if (rr.type != DNS_TYPE_CNAME || rr.class != CLASS_IN ||
			    !name_eq(rr.owner, cur))
				continue;
			if (hop == DNS_CNAME_HOPS ||
			    name_read(m, len, rr.rdata, cur, &next) < 0)
				goto done;	/* too long a chain: no address */
			if (rr.ttl < a->ttl)
				a->ttl = rr.ttl;
			moved = 1;
		}
	}
	for (i = 0, off = start; i < ancount; i++) {
		(void)rr_read(m, len, &off, &rr);
		if (rr.type != type || rr.class != CLASS_IN ||
		    !name_eq(rr.owner, cur) ||
		    rr.rdlen != (type == DNS_TYPE_A ? 4U : 16U) ||
		    a->naddr == DNS_ANSWER_ADDRS)
			continue;
		a->family[a->naddr] = type == DNS_TYPE_A ? AF_INET : AF_INET6;
		memcpy(a->addr[a->naddr++], m + rr.rdata, rr.rdlen);
		if (rr.ttl < a->ttl)
			a->ttl = rr.ttl;
	}
done:
	if (a->naddr == 0)
		a->ttl = 0;
	return DNS_MSG_OK;
}
