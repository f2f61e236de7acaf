/*
 * workers.c - --workers N: a supervisor and its worker processes
 * (wsproxy(1) WORKERS).
 *
 * With N above 1, the process that read the command line, bound the
 * listeners and loaded the keys becomes the supervisor.  It forks N
 * workers, each one single-threaded loop like a wsproxy of its own, and
 * itself serves only signals, --admin and its children:
 *
 *   - the workers share its listening sockets and watch them with
 *     EPOLLEXCLUSIVE (ev_epoll.c), so a connection wakes one worker; a
 *     worker whose slab is full steps back from them while another has
 *     room (proxy.c);
 *   - a pair lives and ends in the worker that accepted it; workers
 *     share nothing but the counters' mapping (metrics.c), of which each
 *     writes its own entry and the supervisor reads them all;
 *   - a worker that dies is forked again: at once if it had run for
 *     STABLE_MS, else after a back-off that doubles up to BACKOFF_MAX_MS;
 *   - SIGTERM, SIGHUP and SIGUSR1 are passed on; after a SIGUSR2
 *     restart the workers drain with 1012 (life.c);
 *   - a worker whose supervisor is gone drains (PR_SET_PDEATHSIG).
 */
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "io.h"
#include "log.h"
#include "metrics.h"
#include "pair.h"
#include "workers.h"

#define cfg px_cfg

#ifdef WSPROXY_NO_WORKERS
/* Only what is reached without a supervisor. */
int
workers_exited(pid_t pid, int status)
{
	(void)pid;
	(void)status;
	return 0;
}

unsigned
workers_signal(int sig)
{
	(void)sig;
	return 0;
}
#else
#define BACKOFF_MIN_MS 100	/* the first quick death waits this long */
#define BACKOFF_MAX_MS 10000
#define STABLE_MS 10000		/* a worker that ran this long: no wait */

enum { ROLE_SINGLE, ROLE_SUPERVISOR, ROLE_WORKER };
static int role = ROLE_SINGLE;
static pid_t supervisor;

static struct worker {
	pid_t		 pid;		/* 0: not running */
	uint64_t	 started;	/* ms */
	uint64_t	 due;		/* fork again then (ms) */
	uint64_t	 backoff;	/* ms the next quick death waits */
	uint64_t	 restarts;
} w[PX_MAX_WORKERS];

unsigned
workers_auto(void)
{
	long n;
#ifdef __linux__
	cpu_set_t set;

	n = sched_getaffinity(0, sizeof(set), &set) == 0 ?
	    CPU_COUNT(&set) : 1;
#else
	n = sysconf(_SC_NPROCESSORS_ONLN);
#endif
	if (n < 1)
		n = 1;
	return n > PX_MAX_WORKERS ? PX_MAX_WORKERS : (unsigned)n;
}

int
workers_init(void)
{
	unsigned i;

	if (metrics_init(cfg.workers + 1) < 0)
		return -1;
	role = ROLE_SUPERVISOR;
	supervisor = getpid();
	for (i = 0; i < cfg.workers; i++)
		w[i].backoff = BACKOFF_MIN_MS;
	return 0;
}

int
workers_supervising(void)
{
	return role == ROLE_SUPERVISOR;
}

int
workers_worker(void)
{
	return role == ROLE_WORKER;
}

/* The signals a worker is likely to die of, named for the log. */
static const char *
signame(int sig)
{
	switch (sig) {
	case SIGSEGV:
		return " (SIGSEGV)";
	case SIGABRT:
		return " (SIGABRT)";
	case SIGKILL:
		return " (SIGKILL: out of memory?)";
	case SIGBUS:
		return " (SIGBUS)";
	default:
		return "";
	}
}

static void
spawn(unsigned i, uint64_t now)
{
	pid_t pid;

	metrics_reset_gauges(i + 1);	/* a dead one's open pairs are gone */
	pid = fork();
	if (pid == 0) {
		role = ROLE_WORKER;
		memset(w, 0, sizeof(w));	/* the supervisor's to know */
#ifdef __linux__
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		if (getppid() != supervisor)	/* gone before the prctl */
			(void)kill(getpid(), SIGTERM);
		px_worker(i);
	}
	if (pid < 0) {
		px_log(PX_LOG_ERROR, "event=worker_failed worker=%u"
		    " error=\"fork: %s\" restart_in_ms=%llu", i,
		    strerror(errno), (unsigned long long)w[i].backoff);
		w[i].due = now + w[i].backoff;
		return;
	}
	w[i].pid = pid;
	w[i].started = now;
	w[i].due = UINT64_MAX;
	px_log(PX_LOG_INFO, "event=worker_start worker=%u pid=%ld", i,
	    (long)pid);
}

void
workers_start(void)
{
	unsigned i;

	for (i = 0; i < cfg.workers; i++)
		spawn(i, px_now());
}

int
workers_exited(pid_t pid, int status)
{
	uint64_t now = px_now(), lived;
	char why[64];
	unsigned i;

	for (i = 0; i < cfg.workers && w[i].pid != pid; i++)
		;
	if (pid <= 0 || i == cfg.workers)
		return 0;
	w[i].pid = 0;
	metrics_reset_gauges(i + 1);	/* no room there for the others */
	lived = now - w[i].started;
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d%s",
		    WTERMSIG(status), signame(WTERMSIG(status)));
	else
		snprintf(why, sizeof(why), "exited with %d",
		    WEXITSTATUS(status));
	if (role != ROLE_SUPERVISOR || px_run != RUN_ACCEPTING) {
		px_log(PX_LOG_INFO, "event=worker_exit worker=%u pid=%ld"
		    " status=\"%s\" lived_ms=%llu", i, (long)pid, why,
		    (unsigned long long)lived);
		return 1;
	}
	/* Serving, a worker never ends by itself: restart it. */
	if (lived >= STABLE_MS) {
		w[i].due = now;
		w[i].backoff = BACKOFF_MIN_MS;
	} else {
		w[i].due = now + w[i].backoff;
		w[i].backoff = w[i].backoff * 2 > BACKOFF_MAX_MS ?
		    BACKOFF_MAX_MS : w[i].backoff * 2;
	}
	px_log(PX_LOG_ERROR, "event=worker_exit worker=%u pid=%ld"
	    " status=\"%s\" lived_ms=%llu restart_in_ms=%llu", i, (long)pid,
	    why, (unsigned long long)lived,
	    (unsigned long long)(w[i].due - now));
	return 1;
}

unsigned
workers_signal(int sig)
{
	unsigned i, n = 0;

	for (i = 0; i < cfg.workers && role == ROLE_SUPERVISOR; i++)
		if (w[i].pid > 0 && kill(w[i].pid, sig) == 0)
			n++;
	return n;
}

uint32_t
workers_open(void)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < cfg.workers; i++)
		n += metrics_entry(i + 1)->pairs[PAIR_OPEN];
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

unsigned
workers_alive(void)
{
	unsigned i, n = 0;

	for (i = 0; i < cfg.workers; i++)
		n += w[i].pid > 0;
	return n;
}

pid_t
workers_pid(unsigned i)
{
	return i < cfg.workers ? w[i].pid : 0;
}

void
workers_tick(uint64_t now)
{
	unsigned i;

	if (role != ROLE_SUPERVISOR || px_run != RUN_ACCEPTING)
		return;
	for (i = 0; i < cfg.workers; i++)
		if (w[i].pid == 0 && w[i].due <= now) {
			w[i].restarts++;
			spawn(i, now);
		}
}

int
workers_next_ms(uint64_t now)
{
	uint64_t first = UINT64_MAX;
	unsigned i;

	if (role != ROLE_SUPERVISOR || px_run != RUN_ACCEPTING)
		return -1;
	for (i = 0; i < cfg.workers; i++)
		if (w[i].pid == 0 && w[i].due < first)
			first = w[i].due;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : first - now > 86400000 ? 86400000 :
	    (int)(first - now);
}

void
workers_publish(void)
{
	px_count.w_buffers_in_use = buffers_in_use();
	px_count.w_buffers_max = 2 * (uint64_t)px_slab_size();
	px_count.w_buffer_bytes = buffers_bytes();
	px_count.w_tls_in_use = tls_in_use();
	px_count.w_tls_bytes = tls_pool_bytes();
}

int
workers_others_free(uint64_t than)
{
	unsigned i;

	for (i = 0; i < cfg.workers; i++)
		if (metrics_entry(i + 1) != px_stats &&
		    metrics_entry(i + 1)->pairs[PAIR_FREE] > than)
			return 1;
	return 0;
}

void
workers_gauges(struct met_gauges *g)
{
	const struct px_counters *e;
	unsigned i;

	g->pairs_max = (uint64_t)cfg.max_conns * cfg.workers;
	for (i = 0; i < cfg.workers; i++) {
		e = metrics_entry(i + 1);
		g->buffers_in_use += e->w_buffers_in_use;
		g->buffers_max += e->w_buffers_max;
		g->buffer_bytes += e->w_buffer_bytes;
		g->tls_in_use += e->w_tls_in_use;
		g->tls_bytes += e->w_tls_bytes;
	}
}

size_t
workers_render(char *out, size_t len, size_t cap)
{
	uint64_t up[PX_MAX_WORKERS], restarts[PX_MAX_WORKERS];
	unsigned i;

	for (i = 0; i < cfg.workers; i++) {
		up[i] = w[i].pid > 0;
		restarts[i] = w[i].restarts;
	}
	return metrics_render_workers(out, len, cap, cfg.workers, up,
	    restarts);
}
#endif /* WSPROXY_NO_WORKERS */
