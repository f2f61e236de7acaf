/*
 * check.h - the CHECK() of the unit tests that count their checks: a
 * passing one is counted, a failing one counted and printed with its
 * line.  main() ends with the two counts.
 */
#ifndef WSPROXY_TEST_CHECK_H
#define WSPROXY_TEST_CHECK_H

#include <stddef.h>
#include <stdint.h>
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

/* xorshift64 for the randomised checks: *s is the stream's state, never
 * 0; a test prints its seed so that a failure can be run again. */
static inline uint64_t
check_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* n bytes from the stream *s. */
static inline void
check_fill(uint64_t *s, unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(check_next(s) >> 24);
}

#endif /* WSPROXY_TEST_CHECK_H */
