/*
 * log.h - one key=value line per event on stderr (proxy.c), wsproxy(1)
 * LOGGING.
 */
#ifndef WSPROXY_LOG_H
#define WSPROXY_LOG_H


enum px_log_level { PX_LOG_ERROR, PX_LOG_WARN, PX_LOG_INFO, PX_LOG_DEBUG };

/* One key=value line on stderr if level is enabled (-q / -v). */
void px_log(enum px_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* WSPROXY_LOG_H */
