/*
 * log.c - one line per event (wsproxy(1) LOGGING): "ts=... level=...
 * event=... key=value ...", or the same keys as one JSON object per
 * line with --log-format json; to stderr, or to --log-file, which
 * SIGUSR1 reopens so that a log rotator can move it.
 *
 * Every value a client can influence goes through log_value(), which
 * quotes and escapes it, so no path or header can forge a key or a
 * line.  The JSON form is made from the key=value form by one parser of
 * that grammar: the two cannot disagree on the keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static int log_fd = STDERR_FILENO;
static const char *log_path;

int
log_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return -1;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	log_path = path;
	return 0;
}

int
log_reopen(void)
{
	int saved;

	if (log_path == NULL)
		return 0;
	if (log_open(log_path) < 0) {
		/* The old file stays: a line is not lost for a bad rotate. */
		saved = errno;
		px_log(PX_LOG_ERROR, "event=log_reopen_failed file=%s"
		    " error=\"%s\"", log_path, strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

const char *
log_value(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	if (cap < 3) {
		if (cap > 0)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (i = 0; i < len && o + 5 < cap; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else
			out[o++] = (char)c;
	}
	if (i < len && o + 4 < cap) {		/* cut: say so */
		out[o++] = '.';
		out[o++] = '.';
		out[o++] = '.';
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */
/* ------------------------------------------------------------------ */

/*
 * "2026-12-01T01:02:03.456Z" into out (25 bytes); its length.  The date
 * from the days since 1970 by the civil-from-days algorithm of Howard
 * Hinnant: gmtime_r() would bring musl's time-zone code into the static
 * binary for a UTC that needs none.
 */
static int
timestamp(char *out, size_t cap)
{
	struct timespec ts;
	long long days, secs, era, doe, yoe, doy, mp, y;
	int d, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	secs = (long long)ts.tv_sec % 86400;
	days = (long long)ts.tv_sec / 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	days += 719468;			/* from 0000-03-01 */
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400 + (m <= 2);
	return snprintf(out, cap, "%04lld-%02d-%02dT%02lld:%02lld:%02lld.%03ldZ",
	    y, m, d, secs / 3600, secs / 60 % 60, secs % 60,
	    ts.tv_nsec / 1000000);
}

/* Append s[0..n) to out as a JSON string's inside. */
static size_t
json_add(char *out, size_t o, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	unsigned char c;

	for (i = 0; i < n && o + 7 < cap; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			/* a part of a string, ended by the caller */
			/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 15];
			o += 6;
		} else
			out[o++] = (char)c;
	}
	return o;
}

/*
 * The key=value line kv[0..n) as one JSON object into out.  Values are
 * bare words or "quoted" with \" \\ \xHH escapes (log_value()); a bare
 * integer becomes a JSON number.
 */
static size_t
json_line(const char *kv, size_t n, char *out, size_t cap)
{
	char val[1024];
	size_t i = 0, o = 0, k, v;
	int first = 1, number;

	out[o++] = '{';
	while (i < n && o + 16 < cap) {
		while (i < n && kv[i] == ' ')
			i++;
		for (k = i; i < n && kv[i] != '=' && kv[i] != ' '; i++)
			;
		if (i >= n || kv[i] != '=' || i == k)
			break;
		if (!first)
			out[o++] = ',';
		first = 0;
		out[o++] = '"';
		o = json_add(out, o, cap, kv + k, i - k);
		out[o++] = '"';
		out[o++] = ':';
		i++;
		v = 0;
		if (i < n && kv[i] == '"') {
			for (i++; i < n && kv[i] != '"' && v < sizeof(val); i++) {
				if (kv[i] == '\\' && i + 1 < n && kv[i + 1] == 'x' &&
				    i + 3 < n) {
					unsigned hi = (unsigned)(kv[i + 2] <= '9' ?
					    kv[i + 2] - '0' : kv[i + 2] - 'a' + 10);
					unsigned lo = (unsigned)(kv[i + 3] <= '9' ?
					    kv[i + 3] - '0' : kv[i + 3] - 'a' + 10);

					val[v++] = (char)(hi << 4 | lo);
					i += 3;
				} else if (kv[i] == '\\' && i + 1 < n)
					val[v++] = kv[++i];
				else
					val[v++] = kv[i];
			}
			i++;
			number = 0;
		} else {
			for (; i < n && kv[i] != ' ' && v < sizeof(val); i++)
				val[v++] = kv[i];
			number = v > 0 && v < 19 && (v == 1 || val[0] != '0');
			for (k = 0; k < v && number; k++)
				number = val[k] >= '0' && val[k] <= '9';
		}
		if (number) {
			memcpy(out + o, val, v);
			o += v;
		} else {
			out[o++] = '"';
			o = json_add(out, o, cap, val, v);
			out[o++] = '"';
		}
	}
	out[o++] = '}';
	return o;
}

int px_log_worker = -1;

void
px_log(enum px_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[2048], json[4096];
	va_list ap;
	int n = 0, m;

	if ((int)level > px_cfg.log_level)
		return;
	if (!px_cfg.log_no_timestamps) {
		/* the line goes on right after; written with its length */
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result) */
		memcpy(line, "ts=", 3);
		n = 3 + timestamp(line + 3, sizeof(line) - 3);
		line[n++] = ' ';
	}
	n += snprintf(line + n, sizeof(line) - (size_t)n, "level=%s ",
	    names[level]);
#ifndef WSPROXY_NO_WORKERS
	if (px_log_worker >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "worker=%d ",
		    px_log_worker);
#endif
	va_start(ap, fmt);
	/* va_start is right above; the analyzer loses it (false positive). */
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);	/* NOLINT(clang-analyzer-valist.Uninitialized) */
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (px_cfg.log_json) {
		size_t j = json_line(line, (size_t)n, json, sizeof(json) - 1);

		json[j++] = '\n';
		(void)!write(log_fd, json, j);
		return;
	}
	line[n++] = '\n';
	/* One write per line so lines from a busy loop never interleave. */
	(void)!write(log_fd, line, (size_t)n);
}
