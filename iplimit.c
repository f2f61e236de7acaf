/*
 * iplimit.c - how many connections each client address has, for
 * --max-conns-per-ip (wsproxy(1) LIMITS).
 *
 * A connection counts from its accept, so clients still sending their
 * request head (or sending nothing) count too: silent sockets from one
 * address cannot take the slots of the others.  The counts live in an
 * open-addressing table allocated at start-up with twice as many
 * entries as the slab has slots, so it can never fill: an address is in
 * it only while it has a connection.  Linear probing; an entry whose
 * count drops to 0 is removed by shifting its followers back, so no
 * tombstones build up.  The hash is keyed with a random secret, so a
 * client cannot choose addresses that collide.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "iplimit.h"
#include "pair.h"

struct entry {
	uint8_t		 addr[16];
	uint32_t	 count;		/* 0: free */
};

static struct entry *table;
static uint32_t mask;
static uint64_t key;

int
iplimit_init(uint32_t slots)
{
	uint32_t n = 2;

	if (px_cfg.max_conns_per_ip == 0)
		return 0;
	while (n < 2 * (uint64_t)slots && n < (1U << 30))
		n <<= 1;
	table = calloc(n, sizeof(*table));
	if (table == NULL)
		return -1;
	mask = n - 1;
	key = relay_random() | 1;
	return 0;
}

static uint32_t
slot_of(const uint8_t a[16])
{
	uint64_t h = key, w;
	int i;

	/* splitmix64's finaliser on each half: every input bit reaches
	 * every output bit (a multiply alone moves bits only upwards, and
	 * the last byte of an IPv4 address would not reach the mask) */
	for (i = 0; i < 16; i += 8) {
		memcpy(&w, a + i, 8);
		h ^= w;
		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
		h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
		h ^= h >> 31;
	}
	return (uint32_t)h & mask;
}

/* The entry of a, or the free one where it would go. */
static struct entry *
find(const uint8_t a[16])
{
	uint32_t i = slot_of(a);

	while (table[i].count != 0 && memcmp(table[i].addr, a, 16) != 0)
		i = (i + 1) & mask;
	return &table[i];
}

/* The 16 bytes of an address: IPv4 as ::ffff:a.b.c.d (the pair keeps
 * an IPv4 peer as a sockaddr_in, sock_peer()). */
static void
key_of(const struct sockaddr_in6 *a, uint8_t k[16])
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)a;

	if (a->sin6_family == AF_INET) {
		memset(k, 0, 10);
		k[10] = k[11] = 0xff;
		memcpy(k + 12, &in4->sin_addr, 4);
	} else
		memcpy(k, a->sin6_addr.s6_addr, 16);
}

int
iplimit_take(const struct sockaddr_in6 *a)
{
	struct entry *e;
	uint8_t k[16];

	/* A unix-socket client has no address to count (wsproxy(1)
	 * --max-conns-per-ip). */
	if (table == NULL || a->sin6_family == AF_UNIX)
		return 0;
	key_of(a, k);
	e = find(k);
	if (e->count >= px_cfg.max_conns_per_ip)
		return -1;
	if (e->count++ == 0)
		memcpy(e->addr, k, 16);
	return 0;
}

void
iplimit_give(const struct sockaddr_in6 *a)
{
	struct entry *e;
	uint32_t hole, i, home;
	uint8_t k[16];

	if (table == NULL || a->sin6_family == AF_UNIX)
		return;
	key_of(a, k);
	e = find(k);
	if (e->count == 0 || --e->count > 0)
		return;
	/* Removed: move back each follower that may sit in the hole. */
	hole = (uint32_t)(e - table);
	for (i = (hole + 1) & mask; table[i].count != 0; i = (i + 1) & mask) {
		home = slot_of(table[i].addr);
		/* i may move to hole unless its home lies in (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			table[hole] = table[i];
			table[i].count = 0;
			hole = i;
		}
	}
}
