/*
 * check.h - the CHECK() of the unit tests that count their checks: a
 * passing one is counted, a failing one counted and printed with its
 * line.  main() ends with the two counts.
 */
#ifndef WSPROXY_TEST_CHECK_H
#define WSPROXY_TEST_CHECK_H

#include <stdio.h>

static int failed, passed;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		passed++;						\
	} else {							\
		failed++;						\
		printf("FAIL line %d: ", __LINE__);			\
		printf(__VA_ARGS__);					\
		putchar('\n');						\
	}								\
} while (0)

#endif /* WSPROXY_TEST_CHECK_H */
