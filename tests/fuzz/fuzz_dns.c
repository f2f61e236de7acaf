/*
 * fuzz_dns.c - libFuzzer target for dnsmsg.c, the stub resolver's
 * answer parser (wsproxy(1) UPSTREAMS, Name resolution).
 *
 * The input's first byte picks the question type (A or AAAA) and
 * whether the id to match is the message's own (so most inputs get
 * past the id check); the rest is the message, in a buffer of its exact
 * size so ASan sees any read past it.  A message taken as an answer
 * must give at most DNS_ANSWER_ADDRS addresses, all of the question's
 * family, and none at all with TC or an error rcode.  The rest is also
 * tried as a name for dns_query_build(): a query built must read back,
 * flipped into an empty answer, as the answer to itself.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dns.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t q[DNS_QUERY_MAX], *m;
	uint16_t type, id;
	struct dns_answer a;
	char name[DNS_NAME_MAX + 8];
	size_t n;
	int i, len;

	if (size == 0)
		return 0;
	type = data[0] & 1 ? DNS_TYPE_AAAA : DNS_TYPE_A;
	n = size - 1;
	m = malloc(n ? n : 1);
	if (m == NULL)
		return 0;
	memcpy(m, data + 1, n);
	id = (data[0] & 2) && n >= 2 ? (uint16_t)(m[0] << 8 | m[1]) : 0x1234;
	if (dns_answer_parse(m, n, id, "app.test", type, &a) == DNS_MSG_OK) {
		CHECK(a.naddr >= 0 && a.naddr <= DNS_ANSWER_ADDRS);
		CHECK(a.naddr == 0 || (!a.tc && a.rcode == 0));
		for (i = 0; i < a.naddr; i++)
			CHECK(a.family[i] == (type == DNS_TYPE_A ? AF_INET :
			    AF_INET6));
	}
	if (n < sizeof(name)) {
		memcpy(name, m, n);
		name[n] = '\0';
		len = dns_query_build(q, sizeof(q), id, name, type);
		if (len > 0) {
			CHECK(len <= DNS_QUERY_MAX);
			q[2] |= 0x80;
			CHECK(dns_answer_parse(q, (size_t)len, id, name, type,
			    &a) == DNS_MSG_OK);
		}
	}
	free(m);
	return 0;
}
