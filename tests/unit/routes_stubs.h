/*
 * routes_stubs.h - what routes.c needs of the rest of wsproxy, for the
 * harnesses that #include it alone (tests/unit/test_routes.c,
 * tests/fuzz/fuzz_uri.c).  Each harness defines usage_error() (a
 * longjmp) and xstrndup() itself, then includes this once.
 */
#ifndef WSPROXY_ROUTES_STUBS_H
#define WSPROXY_ROUTES_STUBS_H

/* The route grammar's numbers and durations (config.c) are not
 * reached by URIs alone. */
uint64_t
cfg_number(const char *flag, const char *arg, uint64_t min, uint64_t max)
{
	(void)arg;
	(void)min;
	(void)max;
	usage_error("%s: not in this harness", flag);
}

uint64_t
cfg_duration(const char *flag, const char *arg, uint64_t min, uint64_t max)
{
	(void)arg;
	(void)min;
	(void)max;
	usage_error("%s: not in this harness", flag);
}

void
px_log(enum px_log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

int
tls_built_in(void)
{
	return 1;
}

#endif /* WSPROXY_ROUTES_STUBS_H */
