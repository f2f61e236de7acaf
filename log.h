/*
 * log.h - one key=value line per event (log.c), wsproxy(1) LOGGING.
 */
#ifndef WSPROXY_LOG_H
#define WSPROXY_LOG_H

#include <stddef.h>


enum px_log_level { PX_LOG_ERROR, PX_LOG_WARN, PX_LOG_INFO, PX_LOG_DEBUG };

/* Log to path from now on (--log-file): 0, or -1 with errno. */
int log_open(const char *path);

/* SIGUSR1: open the --log-file path again (a rotated file); 0, or -1
 * (logged) with the old file kept.  Nothing without --log-file. */
int log_reopen(void);

/*
 * A value a client can influence (a path, a host), quoted and escaped
 * for a log line into out: '"' and backslash escaped, control and
 * non-ASCII bytes as \xHH, cut with "..." when it does not fit.
 * Returns out.
 */
const char *log_value(char *out, size_t cap, const char *s, size_t len);

/* A worker's index (--workers), put on each of its lines; -1: none. */
extern int px_log_worker;

/* One key=value line on stderr (or --log-file) if level is enabled
 * (-q / -v). */
void px_log(enum px_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* WSPROXY_LOG_H */
