/*
 * test_iplimit.c - iplimit.c against a model: random takes and gives
 * of connections from a few addresses, IPv4 and IPv6, in a table as
 * small as the code allows (twice the slots), so that collisions,
 * wrap-around and the backward shift on removal all happen.  After every
 * step each address's count must be what the model says, shown by
 * take() refusing exactly at --max-conns-per-ip.  Unix-socket clients
 * are never counted.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "../../config.h"
#include "../../iplimit.h"

struct px_config px_cfg;

static uint64_t rng = 88172645463325252ULL;

uint64_t relay_random(void);

uint64_t
relay_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define SLOTS 6
#define NADDR 10

static struct sockaddr_in6 addr[NADDR];

static void
make_addrs(void)
{
	int i;

	for (i = 0; i < NADDR; i++) {
		memset(&addr[i], 0, sizeof(addr[i]));
		if (i % 2) {
			struct sockaddr_in *a = (struct sockaddr_in *)&addr[i];

			a->sin_family = AF_INET;
			a->sin_addr.s_addr = htonl(0x7f000001U + (uint32_t)i);
		} else {
			addr[i].sin6_family = AF_INET6;
			addr[i].sin6_addr.s6_addr[15] = (uint8_t)i;
			addr[i].sin6_addr.s6_addr[0] = 0x20;
		}
	}
}

int
main(void)
{
	int live[SLOTS], nlive = 0, count[NADDR], i, step, failed = 0, a, k;

	px_cfg.max_conns_per_ip = 2;
	make_addrs();
	memset(count, 0, sizeof(count));
	if (iplimit_init(SLOTS) < 0) {
		printf("init failed\n");
		return 1;
	}
	for (step = 0; step < 200000 && !failed; step++) {
		if (nlive < SLOTS && (nlive == 0 || relay_random() % 2)) {
			a = (int)(relay_random() % NADDR);
			k = iplimit_take(&addr[a]);
			if ((k == 0) != (count[a] < 2)) {
				printf("step %d: take(%d) = %d with count %d\n",
				    step, a, k, count[a]);
				failed = 1;
			}
			if (k == 0) {
				count[a]++;
				live[nlive++] = a;
			}
		} else {
			i = (int)(relay_random() % (uint64_t)nlive);
			a = live[i];
			live[i] = live[--nlive];
			iplimit_give(&addr[a]);
			count[a]--;
		}
	}
	/* the counts, probed: each address takes exactly 2 - count more
	 * (within the slots left), then is refused */
	while (nlive > 0) {
		a = live[--nlive];
		iplimit_give(&addr[a]);
		count[a]--;
	}
	for (a = 0; a < NADDR && !failed; a++) {
		if (iplimit_take(&addr[a]) != 0 || iplimit_take(&addr[a]) != 0 ||
		    iplimit_take(&addr[a]) != -1) {
			printf("address %d: not 2 places after all gave back\n", a);
			failed = 1;
		}
		iplimit_give(&addr[a]);
		iplimit_give(&addr[a]);
	}
	/* unix-socket clients (sock_peer(): the family alone) are never
	 * counted: more than the limit pass, and giving them back is a
	 * no-op that leaves the table as it was */
	if (!failed) {
		struct sockaddr_in6 u;

		memset(&u, 0, sizeof(u));
		u.sin6_family = AF_UNIX;
		for (i = 0; i < 3 * SLOTS && !failed; i++)
			if (iplimit_take(&u) != 0) {
				printf("unix client %d refused\n", i);
				failed = 1;
			}
		for (i = 0; i < 3 * SLOTS; i++)
			iplimit_give(&u);
		if (!failed && (iplimit_take(&addr[0]) != 0 ||
		    iplimit_take(&addr[0]) != 0 ||
		    iplimit_take(&addr[0]) != -1)) {
			printf("unix clients changed the table\n");
			failed = 1;
		}
	}
	printf("%d passed, %d failed\n", failed ? 0 : 1, failed);
	return failed;
}
