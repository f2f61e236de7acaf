/*
 * fuzz_check.h - CHECK(c): the fuzz targets' invariant test; a failed
 * one names itself and aborts, which libFuzzer reports as a crash with
 * the input that caused it.
 */
#ifndef WSPROXY_FUZZ_CHECK_H
#define WSPROXY_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

#endif /* WSPROXY_FUZZ_CHECK_H */
