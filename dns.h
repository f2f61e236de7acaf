/*
 * dns.h - wsproxy's own stub resolver, wsproxy(1) UPSTREAMS, Name
 * resolution: upstream host names looked up on the loop (dns.c) and
 * answers read by a pure parser (dnsmsg.c).
 */
#ifndef WSPROXY_DNS_H
#define WSPROXY_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Poller data: query slot i is DNS_TAG + i, beside proxy.c's listener
 * bit (admin.h has 0xff00 and up). */
#define DNS_TAG 0xfe00

/* ---- dns.c: the resolver on the loop ---- */

/*
 * Start-up (config.c), after the flags: literal upstream addresses
 * filled in, resolv.conf read, each host name watched (looked up once
 * the loop runs).  With --check every name is looked up here, blocking
 * for at most timeout x attempts x nameservers, and one that does not
 * resolve is exit 64.
 */
void dns_init(void);

/*
 * host (a literal address, else a name from the hosts file, "localhost"
 * even without one) and port into ss for a listener: 0, or -1.  Never
 * asks a nameserver: it runs before the loop (wsproxy(1) --listen).
 */
int dns_host_addr(const char *host, const char *port,
    struct sockaddr_storage *ss, socklen_t *len);

/* The loop is about to run: query sockets are watched with data + slot. */
void dns_start(uint64_t data);

/* An event on query slot. */
void dns_event(unsigned slot);

/* The earliest deadline (ms, CLOCK_MONOTONIC), UINT64_MAX if none. */
uint64_t dns_next(void);

/* After each turn: timeouts, lookups due. */
void dns_tick(void);

/* SIGHUP: resolv.conf read again and every name looked up now, in the
 * background.  -1 (logged) when a --resolv-conf given cannot be read. */
int dns_reload(void);

/* ---- dnsmsg.c: messages, pure ---- */

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_NAME_MAX 253	/* a name as text, no trailing dot */
#define DNS_QUERY_MAX 272	/* header, name, type, class */
#define DNS_ANSWER_ADDRS 8	/* addresses kept from one answer */
#define DNS_CNAME_HOPS 8	/* CNAMEs followed in one answer */

/*
 * A query for name (text, no trailing dot) and type, recursion
 * desired, into buf: its length, or -1 when the name cannot be sent
 * (an empty label, one over 63 bytes, over 255 in all) or cap is short.
 */
int dns_query_build(uint8_t *buf, size_t cap, uint16_t id, const char *name,
    uint16_t type);

struct dns_answer {
	int		 rcode;		/* 0, DNS_RCODE_NXDOMAIN, ... */
	int		 tc;		/* truncated: ask again over TCP */
	uint32_t	 ttl;		/* least TTL of the records used */
	int		 naddr;
	int		 family[DNS_ANSWER_ADDRS];	/* AF_INET, AF_INET6 */
	uint8_t		 addr[DNS_ANSWER_ADDRS][16];
};

enum dns_msg {
	DNS_MSG_OK,		/* an answer to the question: see *a */
	DNS_MSG_MALFORMED,	/* a read would pass len, a bad name */
	DNS_MSG_NOT_ANSWER,	/* a query, or not a standard query */
	DNS_MSG_ID,		/* another query's id */
	DNS_MSG_QUESTION	/* another name, type or class */
};

/*
 * Read the message m[0..len) as the answer to the query (id, name,
 * type): DNS_MSG_OK with *a filled, or why it is not (the caller keeps
 * waiting).  With rcode 0 and no TC, a->addr holds the addresses of
 * type found at name or at the end of its CNAME chain (at most
 * DNS_CNAME_HOPS), in answer order.  Each compression pointer must land
 * before the last, so no pointer loop can hold it.  Pure, every read bounds
 * checked.
 */
enum dns_msg dns_answer_parse(const uint8_t *m, size_t len, uint16_t id,
    const char *name, uint16_t type, struct dns_answer *a);

#endif /* WSPROXY_DNS_H */
