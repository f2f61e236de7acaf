/*
 * log.c - one key=value line per event (wsproxy(1) LOGGING), to stderr
 * or to --log-file, which SIGUSR1 reopens so that logrotate can move it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

void
px_log(enum px_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char line[1024];
	va_list ap;
	int n, m;

	if ((int)level > px_cfg.log_level)
		return;
	n = snprintf(line, sizeof(line), "level=%s ", names[level]);
	va_start(ap, fmt);
	/* va_start is right above; the analyzer loses it (false positive). */
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);	/* NOLINT(clang-analyzer-valist.Uninitialized) */
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so lines from a busy loop never interleave. */
	(void)!write(log_fd, line, (size_t)n);
}
