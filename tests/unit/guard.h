/*
 * guard.h - the guard page the unit tests read parsers against: two
 * pages, the second PROT_NONE, so that input copied to end at the first
 * page's last byte makes any read past it fault.  One copy for every
 * test (test_ws, test_target, test_routes, test_proxyproto, test_dns).
 */
#ifndef WSPROXY_TEST_GUARD_H
#define WSPROXY_TEST_GUARD_H

#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The first of the two pages; *page gets the page size.  Exit 2 when
 * they cannot be had. */
static uint8_t *
guard_map(size_t *page)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint8_t *p;

	*page = ps > 0 ? (size_t)ps : 4096;
	p = mmap(NULL, 2 * *page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + *page, *page, PROT_NONE) != 0) {
		perror("guard page");
		exit(2);
	}
	return p;
}

#endif /* WSPROXY_TEST_GUARD_H */
