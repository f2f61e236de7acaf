/*
 * test_dns.c - dnsmsg.c, table-driven: queries built (and refused for
 * names that cannot be sent), answers read (good ones, CNAME chains,
 * compression) and refused (truncated, bad pointers, pointer loops,
 * another id, another question), and the rcodes and TC passed on.
 * Every answer is also parsed at every shorter length, placed against
 * a PROT_NONE page, so a read past len faults.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "../../dns.h"

#define ID 0x1234
#define QR 0x81			/* QR and RD */
#define H(id, f1, f2, an) (id) >> 8, (id) & 0xff, f1, f2, 0, 1, 0, an, 0, 0, \
	0, 0
#define APP_TEST 3, 'a', 'p', 'p', 4, 't', 'e', 's', 't', 0
#define WEB_TEST 3, 'w', 'e', 'b', 4, 't', 'e', 's', 't', 0
#define QA APP_TEST, 0, 1, 0, 1		/* app.test A IN */
#define QAAAA APP_TEST, 0, 28, 0, 1
#define PTR_Q 0xc0, 12			/* the question's name */
#define TTL(t) 0, 0, (t) >> 8, (t) & 0xff
#define RR_A(ttl, d) 0, 1, 0, 1, TTL(ttl), 0, 4, 192, 0, 2, d
#define RR_CNAME(ttl, n) 0, 5, 0, 1, TTL(ttl), 0, n

struct answer_case {
	const char	*name;
	uint8_t		 msg[256];
	size_t		 len;
	uint16_t	 type;
	enum dns_msg	 want;
	int		 rcode, tc, naddr;
	uint8_t		 first;		/* last byte of the first address */
	uint32_t	 ttl;
};

#define M(...) { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })

static const struct answer_case cases[] = {
	{ "one A", M(H(ID, QR, 0x80, 1), QA, PTR_Q, RR_A(60, 1)),
	    DNS_TYPE_A, DNS_MSG_OK, 0, 0, 1, 1, 60 },
	{ "two A, least TTL", M(H(ID, QR, 0x80, 2), QA, PTR_Q, RR_A(60, 1),
	    PTR_Q, RR_A(30, 2)), DNS_TYPE_A, DNS_MSG_OK, 0, 0, 2, 1, 30 },
	{ "AAAA", M(H(ID, QR, 0x80, 1), QAAAA, PTR_Q, 0, 28, 0, 1, TTL(99),
	    0, 16, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9),
	    DNS_TYPE_AAAA, DNS_MSG_OK, 0, 0, 1, 9, 99 },
	{ "A in an AAAA answer ignored", M(H(ID, QR, 0x80, 1), QAAAA, PTR_Q,
	    RR_A(60, 1)), DNS_TYPE_AAAA, DNS_MSG_OK, 0, 0, 0, 0, 0 },
	{ "CNAME then A", M(H(ID, QR, 0x80, 2), QA, PTR_Q, RR_CNAME(20, 10),
	    WEB_TEST, 3, 'w', 'e', 'b', 4, 't', 'e', 's', 't', 0,
	    RR_A(60, 7)), DNS_TYPE_A, DNS_MSG_OK, 0, 0, 1, 7, 20 },
	{ "A before its CNAME, compressed", M(H(ID, QR, 0x80, 2), QA,
	    /* web.test A, "web" then a pointer to "test" at 16 */
	    3, 'w', 'e', 'b', 0xc0, 16, RR_A(60, 7),
	    PTR_Q, RR_CNAME(90, 2), 0xc0, 26), DNS_TYPE_A, DNS_MSG_OK, 0, 0,
	    1, 7, 60 },
	{ "A of another name ignored", M(H(ID, QR, 0x80, 1), QA, WEB_TEST,
	    RR_A(60, 7)), DNS_TYPE_A, DNS_MSG_OK, 0, 0, 0, 0, 0 },
	{ "CNAME loop", M(H(ID, QR, 0x80, 3), QA, PTR_Q, RR_CNAME(20, 10),
	    WEB_TEST, 0xc0, 38, RR_CNAME(20, 2), PTR_Q, 0xc0, 38,
	    RR_A(60, 7)), DNS_TYPE_A, DNS_MSG_OK, 0, 0, 0, 0, 0 },
	{ "question echoed in capitals", M(H(ID, QR, 0x80, 1), 3, 'A', 'P',
	    'P', 4, 'T', 'e', 's', 't', 0, 0, 1, 0, 1, PTR_Q, RR_A(60, 1)),
	    DNS_TYPE_A, DNS_MSG_OK, 0, 0, 1, 1, 60 },
	{ "A of 5 bytes ignored", M(H(ID, QR, 0x80, 1), QA, PTR_Q, 0, 1, 0, 1,
	    TTL(60), 0, 5, 1, 2, 3, 4, 5), DNS_TYPE_A, DNS_MSG_OK, 0, 0, 0,
	    0, 0 },
	{ "TTL with the top bit is 0", M(H(ID, QR, 0x80, 1), QA, PTR_Q, 0, 1,
	    0, 1, 0x80, 0, 0, 5, 0, 4, 192, 0, 2, 1), DNS_TYPE_A, DNS_MSG_OK,
	    0, 0, 1, 1, 0 },
	{ "nine A, eight kept", M(H(ID, QR, 0x80, 9), QA, PTR_Q, RR_A(9, 1),
	    PTR_Q, RR_A(9, 2), PTR_Q, RR_A(9, 3), PTR_Q, RR_A(9, 4), PTR_Q,
	    RR_A(9, 5), PTR_Q, RR_A(9, 6), PTR_Q, RR_A(9, 7), PTR_Q,
	    RR_A(9, 8), PTR_Q, RR_A(9, 9)), DNS_TYPE_A, DNS_MSG_OK, 0, 0, 8,
	    1, 9 },
	{ "NXDOMAIN", M(H(ID, QR, 0x83, 0), QA), DNS_TYPE_A, DNS_MSG_OK,
	    DNS_RCODE_NXDOMAIN, 0, 0, 0, 0 },
	{ "SERVFAIL", M(H(ID, QR, 0x82, 0), QA), DNS_TYPE_A, DNS_MSG_OK,
	    DNS_RCODE_SERVFAIL, 0, 0, 0, 0 },
	{ "TC", M(H(ID, QR | 0x02, 0x80, 0), QA), DNS_TYPE_A, DNS_MSG_OK, 0,
	    1, 0, 0, 0 },
	{ "id mismatch", M(H(ID + 1, QR, 0x80, 1), QA, PTR_Q, RR_A(60, 1)),
	    DNS_TYPE_A, DNS_MSG_ID, 0, 0, 0, 0, 0 },
	{ "another name", M(H(ID, QR, 0x80, 1), WEB_TEST, 0, 1, 0, 1, PTR_Q,
	    RR_A(60, 1)), DNS_TYPE_A, DNS_MSG_QUESTION, 0, 0, 0, 0, 0 },
	{ "another type", M(H(ID, QR, 0x80, 1), QA, PTR_Q, RR_A(60, 1)),
	    DNS_TYPE_AAAA, DNS_MSG_QUESTION, 0, 0, 0, 0, 0 },
	{ "another class", M(H(ID, QR, 0x80, 0), APP_TEST, 0, 1, 0, 3),
	    DNS_TYPE_A, DNS_MSG_QUESTION, 0, 0, 0, 0, 0 },
	{ "two questions", M(ID >> 8, ID & 0xff, QR, 0x80, 0, 2, 0, 0, 0, 0,
	    0, 0, QA, QA), DNS_TYPE_A, DNS_MSG_QUESTION, 0, 0, 0, 0, 0 },
	{ "a query, not an answer", M(H(ID, 0x01, 0, 0), QA), DNS_TYPE_A,
	    DNS_MSG_NOT_ANSWER, 0, 0, 0, 0, 0 },
	{ "opcode 2", M(H(ID, QR | 0x10, 0x80, 0), QA), DNS_TYPE_A,
	    DNS_MSG_NOT_ANSWER, 0, 0, 0, 0, 0 },
	{ "short header", M(0x12, 0x34, QR, 0x80, 0, 1), DNS_TYPE_A,
	    DNS_MSG_MALFORMED, 0, 0, 0, 0, 0 },
	{ "record cut short", M(H(ID, QR, 0x80, 1), QA, PTR_Q, 0, 1, 0, 1,
	    TTL(60), 0, 4, 192, 0), DNS_TYPE_A, DNS_MSG_MALFORMED, 0, 0, 0,
	    0, 0 },
	{ "fewer records than counted", M(H(ID, QR, 0x80, 2), QA, PTR_Q,
	    RR_A(60, 1)), DNS_TYPE_A, DNS_MSG_MALFORMED, 0, 0, 0, 0, 0 },
	{ "pointer to itself", M(H(ID, QR, 0x80, 1), QA, 0xc0, 26,
	    RR_A(60, 1)), DNS_TYPE_A, DNS_MSG_MALFORMED, 0, 0, 0, 0, 0 },
	{ "pointer forwards", M(H(ID, QR, 0x80, 1), QA, 0xc0, 40,
	    RR_A(60, 1)), DNS_TYPE_A, DNS_MSG_MALFORMED, 0, 0, 0, 0, 0 },
	{ "pointer loop", M(H(ID, QR, 0x80, 1), QA, 1, 'x', 0xc0, 26,
	    RR_A(60, 1)), DNS_TYPE_A, DNS_MSG_MALFORMED, 0, 0, 0, 0, 0 },
	{ "pointer past the end", M(H(ID, QR, 0x80, 1), QA, 0xff, 0xff,
	    RR_A(60, 1)), DNS_TYPE_A, DNS_MSG_MALFORMED, 0, 0, 0, 0, 0 },
	{ "pointer cut in half", M(H(ID, QR, 0x80, 1), QA, 0xc0),
	    DNS_TYPE_A, DNS_MSG_MALFORMED, 0, 0, 0, 0, 0 },
	{ "pointer in the question", M(H(ID, QR, 0x80, 0), 0xc0, 12, 0, 1, 0,
	    1), DNS_TYPE_A, DNS_MSG_MALFORMED, 0, 0, 0, 0, 0 },
	{ "label with a dot", M(H(ID, QR, 0x80, 0), 3, 'a', '.', 'p', 4, 't',
	    'e', 's', 't', 0, 0, 1, 0, 1), DNS_TYPE_A, DNS_MSG_MALFORMED, 0,
	    0, 0, 0, 0 },
	{ "label type 0x40", M(H(ID, QR, 0x80, 0), 0x41, 'a', 0, 0, 1, 0, 1),
	    DNS_TYPE_A, DNS_MSG_MALFORMED, 0, 0, 0, 0, 0 },
};

static int failed, passed;

static int
fail(const char *name, const char *what)
{
	printf("FAIL %s: %s\n", name, what);
	return ++failed;
}

/* m copied to end exactly at a PROT_NONE page. */
static const uint8_t *
guarded(const uint8_t *m, size_t len)
{
	static uint8_t *pages;
	static size_t page;

	if (pages == NULL)
		pages = guard_map(&page);
	memcpy(pages + page - len, m, len);
	return pages + page - len;
}

static int
answer_case(const struct answer_case *c)
{
	struct dns_answer a;
	enum dns_msg r;
	size_t cut;

	r = dns_answer_parse(guarded(c->msg, c->len), c->len, ID, "app.test",
	    c->type, &a);
	if (r != c->want)
		return fail(c->name, "wrong verdict");
	if (r == DNS_MSG_OK && (a.rcode != c->rcode || a.tc != c->tc ||
	    a.naddr != c->naddr))
		return fail(c->name, "wrong rcode, tc or count");
	if (r == DNS_MSG_OK && a.naddr > 0 &&
	    (a.addr[0][c->type == DNS_TYPE_A ? 3 : 15] != c->first ||
	    a.ttl != c->ttl))
		return fail(c->name, "wrong address or TTL");
	/* Every shorter message: no read past it, never an address. */
	for (cut = 0; cut < c->len; cut++) {
		r = dns_answer_parse(guarded(c->msg, cut), cut, ID, "app.test",
		    c->type, &a);
		if (r == DNS_MSG_OK && a.naddr > 0 && c->naddr > 0)
			return fail(c->name, "an address from a cut message");
	}
	return ++passed;
}

static void
query_cases(void)
{
	static const uint8_t want[] = { 0xbe, 0xef, 0x01, 0, 0, 1, 0, 0, 0, 0,
	    0, 0, APP_TEST, 0, 28, 0, 1 };
	static const char *const bad[] = { "", ".x", "a..b", "a.", "x.aaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaa" };
	char longname[300];
	uint8_t buf[DNS_QUERY_MAX], ans[DNS_QUERY_MAX];
	struct dns_answer a;
	size_t i;
	int n;

	n = dns_query_build(buf, sizeof(buf), 0xbeef, "app.test",
	    DNS_TYPE_AAAA);
	if (n != (int)sizeof(want) || memcmp(buf, want, sizeof(want)) != 0)
		(void)fail("query app.test AAAA", "wrong bytes");
	else
		passed++;
	/* Our own query, turned into an empty answer, is read as one. */
	memcpy(ans, buf, (size_t)n);
	ans[2] |= 0x80;
	if (dns_answer_parse(ans, (size_t)n, 0xbeef, "APP.test", DNS_TYPE_AAAA,
	    &a) != DNS_MSG_OK || a.naddr != 0)
		(void)fail("query round trip", "not read back");
	else
		passed++;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dns_query_build(buf, sizeof(buf), 1, bad[i],
		    DNS_TYPE_A) != -1)
			(void)fail(bad[i], "a bad name was built");
		else
			passed++;
	}
	/* 127 labels of 1 byte: 254 wire bytes plus the root, the most. */
	for (i = 0; i < 253; i++)
		longname[i] = i % 2 ? '.' : 'a';
	longname[253] = '\0';
	if (dns_query_build(buf, sizeof(buf), 1, longname, DNS_TYPE_A) < 0)
		(void)fail("253-byte name", "refused");
	else
		passed++;
	longname[253] = '.';
	longname[254] = 'a';
	longname[255] = '\0';
	if (dns_query_build(buf, sizeof(buf), 1, longname, DNS_TYPE_A) != -1)
		(void)fail("255-byte name", "built");
	else
		passed++;
	if (dns_query_build(buf, 20, 1, "app.test", DNS_TYPE_A) != -1)
		(void)fail("short buffer", "built");
	else
		passed++;
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		(void)answer_case(&cases[i]);
	query_cases();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
