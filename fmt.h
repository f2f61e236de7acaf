/*
 * fmt.h - printf's integer, character and string conversions without
 * floating point (fmt.c): the static build's vsnprintf and vfprintf.
 */
#ifndef WSPROXY_FMT_H
#define WSPROXY_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* vsnprintf(3): at most cap - 1 bytes and a NUL into buf (nothing when
 * cap is 0); returns the length the whole output has, or -1 (EINVAL: a
 * conversion fmt.c does not do; EOVERFLOW: longer than INT_MAX). */
int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);

/* vfprintf(3): the same text through fwrite(3) to f, so f's buffering
 * is kept; -1 also when a write fell short. */
int fmt_vfprintf(FILE *f, const char *fmt, va_list ap);

#endif /* WSPROXY_FMT_H */
