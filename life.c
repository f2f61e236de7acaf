/*
 * life.c - wsproxy's lifecycle (wsproxy(1) SIGNALS, CONTAINERS).
 *
 * Signals reach the loop through the poller (signalfd, EVFILT_SIGNAL)
 * and are acted on here, never in a handler, the same whether wsproxy
 * is PID 1 or not:
 *
 *   SIGTERM, SIGINT  drain: stop accepting, close every pair with 1001
 *                    at its next message boundary, wait for the close
 *                    handshakes up to --drain-timeout, exit 0; a second
 *                    one exits at once
 *   SIGHUP           reload: certificates, keys and CA files read again,
 *                    upstream names looked up again in the background
 *                    (dns.c); pairs keep their addresses
 *   SIGUSR1          reopen --log-file
 *   SIGUSR2          restart: the same binary (or --restart-args-file's
 *                    flags) started with the listeners handed over;
 *                    once it is ready, this one drains with 1012
 *   SIGCHLD          reap children (PID 1 must)
 *
 * A drain walks the slab once, from slot 0 up, spread evenly over
 * --drain-spread so that clients do not all reconnect in the same
 * millisecond.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "ev.h"
#include "io.h"
#include "admin.h"
#include "life.h"
#include "listen.h"
#include "log.h"
#include "pair.h"
#include "workers.h"

#define cfg px_cfg

#define DRAIN_STEP_MS 10	/* how often a spread drain takes more pairs */
#define DRAIN_GRACE_MS 1000	/* after the deadline: closes at a frame
				 * boundary get this long to go out */
#define SUPERVISOR_SLACK_MS 2000	/* --workers: a worker's drain
					 * may end this late */
#define RESTART_WAIT_MS 60000	/* a new process must be ready by then */
#define RESTART_MAX_ARGS 256

/* The drain in progress (px_run == RUN_DRAINING). */
static struct {
	unsigned	 code;		/* 1001, or 1012 for a restart */
	uint64_t	 t0;		/* ms */
	uint64_t	 deadline;	/* t0 + --drain-timeout */
	uint32_t	 cursor;	/* slots up to here have their close */
	uint32_t	 open;		/* pairs open when the drain began */
	uint32_t	 sent;		/* of those, closes queued so far */
	int		 cut;		/* the deadline has passed */
	uint64_t	 clean;		/* open pairs ended by a close handshake */
	uint64_t	 cutoff;	/* open pairs ended otherwise */
	uint64_t	 others;	/* handshakes and answers that ended */
} drain;

/* A restart whose new process is starting. */
static struct {
	pid_t		 pid;		/* 0: none */
	int		 fd;		/* its readiness pipe, read end */
	uint64_t	 deadline;
} restart = { 0, -1, 0 };

static char exe_path[PATH_MAX];		/* this binary, for a restart */

static void restart_done(void);

/* ------------------------------------------------------------------ */
/* systemd's notification socket, written by hand                      */
/* ------------------------------------------------------------------ */

/* One datagram to $NOTIFY_SOCKET ("READY=1", "STOPPING=1"...), if set. */
static void
notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t n;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* the abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Start-up                                                            */
/* ------------------------------------------------------------------ */

/* --user: after the listeners are bound and the keys loaded. */
static void
drop_privileges(void)
{
	if (cfg.user == NULL) {
		if (geteuid() == 0)
			px_log(PX_LOG_WARN, "event=running_as_root msg=\"give"
			    " --user NAME to drop privileges after start-up\"");
		return;
	}
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 ||
	    setgid((gid_t)cfg.gid) < 0 || setuid((uid_t)cfg.uid) < 0)) {
		fprintf(stderr, "wsproxy: --user %s: %s\n", cfg.user,
		    strerror(errno));
		exit(71);
	}
	if ((geteuid() == 0 || getuid() == 0) && strcmp(cfg.user, "root") != 0) {
		fprintf(stderr, "wsproxy: --user %s is root: say --user root"
		    " to run as root\n", cfg.user);
		exit(64);
	}
	if (geteuid() != (uid_t)cfg.uid) {
		fprintf(stderr, "wsproxy: --user %s: cannot become uid %u"
		    " (not started as root)\n", cfg.user, cfg.uid);
		exit(71);
	}
}

void
life_start(uint64_t signal_data)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
	    SIGUSR2, SIGCHLD };
	const char *ready;
	ssize_t n;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (ev_signal(sigs[i], signal_data) < 0) {
			fprintf(stderr, "wsproxy: signals: %s\n",
			    strerror(errno));
			exit(71);
		}
	px_fd_opened();			/* the signal source */
	n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	if (n > 0)
		exe_path[n] = '\0';
	else if (cfg.argv[0] != NULL)
		/* No /proc (an empty root): argv[0] as it was run, which
		 * still names the binary, as wsproxy never changes its
		 * working directory. */
		snprintf(exe_path, sizeof(exe_path), "%s", cfg.argv[0]);
	if (!workers_worker())	/* a worker's supervisor did */
		drop_privileges();
	/* A restart: tell the process before that this one is ready. */
	if ((ready = getenv("WSPROXY_READY_FD")) != NULL) {
		int fd = (int)strtol(ready, NULL, 10);
		char msg[64];

		unsetenv("WSPROXY_READY_FD");
		if (fd > 2) {
			(void)!write(fd, "R", 1);
			close(fd);
		}
		/* systemd follows the new main process (NotifyAccess=all). */
		snprintf(msg, sizeof(msg), "MAINPID=%ld\nREADY=1",
		    (long)getpid());
		notify(msg);
	} else
		notify("READY=1");
}

/* ------------------------------------------------------------------ */
/* Drain                                                               */
/* ------------------------------------------------------------------ */

unsigned
life_drain_code(void)
{
	return px_run == RUN_DRAINING ? drain.code : 0;
}

void
life_pair_closed(int was_open, int clean)
{
	if (!was_open)
		drain.others++;
	else if (clean)
		drain.clean++;
	else
		drain.cutoff++;
}

/* Stop accepting: the listeners close (a restart's new process holds
 * its own copies, so nothing waiting in a queue is lost). */
static void
listeners_close(void)
{
	int i;

	for (i = 0; i < cfg.nlisten; i++)
		if (cfg.listen[i].fd >= 0) {
			(void)ev_del(cfg.listen[i].fd);
			close(cfg.listen[i].fd);
			cfg.listen[i].fd = -1;
		}
}

static void
drain_start(unsigned code)
{
	uint64_t now = px_now();
	uint32_t i, open = 0;

	px_run = RUN_DRAINING;
	drain.code = code;
	drain.t0 = now;
	drain.deadline = now + cfg.drain_timeout;
	drain.cursor = 0;
	listeners_close();
	/* wsproxy(1) WORKERS: each worker drains its own pairs. */
	if (workers_supervising())
		(void)workers_signal(code == WS_CLOSE_SERVICE_RESTART ?
		    SIGUSR2 : SIGTERM);
	/* A restart's new process answers the probes now; a plain drain
	 * keeps answering them (/readyz says 503). */
	if (code == WS_CLOSE_SERVICE_RESTART)
		admin_close();
	/* Close handshakes now wait for the drain's deadline. */
	px_timer_close_at_least(cfg.drain_timeout);
	for (i = 0; i < px_slab_size(); i++)
		open += px_slot(i)->state == PAIR_OPEN;
	drain.open = open;		/* a supervisor's are its workers' */
	if (workers_supervising())
		open = workers_open();
	drain.sent = 0;
	px_log(PX_LOG_INFO, "event=drain code=%u open=%u timeout_ms=%llu"
	    " spread_ms=%llu", code, open,
	    (unsigned long long)cfg.drain_timeout,
	    (unsigned long long)cfg.drain_spread);
	notify("STOPPING=1");
	life_tick();
}

/* The deadline: handshakes still waiting for their upstream get 503,
 * closes still waiting for a message boundary go at a frame boundary,
 * and pairs whose closes are all out are cut. */
static void
drain_cut(void)
{
	struct pair *p;
	uint32_t i;

	drain.cut = 1;
	for (i = 0; i < px_slab_size(); i++) {
		p = px_slot(i);
		switch ((enum pair_state)p->state) {
		case PAIR_PROXY:
			pair_close(p, "drain deadline, no PROXY header yet");
			break;
		case PAIR_REQUEST:
			if (p->client.in.end == 0)
				pair_close(p, "drain deadline, nothing received");
			else
				pair_answer(p, 503, 0, 1, "drain deadline");
			break;
		case PAIR_CONNECT:
		case PAIR_UPGRADE:
			pair_answer(p, 503, 0, 1, "drain deadline");
			break;
		case PAIR_OPEN:
		case PAIR_CLOSING:
			relay_drain(p, drain.code, 1);
			/* Its closes are out and unanswered: cut it now.
			 * The others get DRAIN_GRACE_MS to reach a frame
			 * boundary. */
			if (p->state != PAIR_FREE && relay_closes_out(p))
				pair_close(p, "drain deadline: no close answer");
			break;
		default:
			break;
		}
	}
}

/* After the grace: whatever is left ends now. */
static void
drain_end(void)
{
	struct pair *p;
	uint32_t i;

	for (i = 0; i < px_slab_size(); i++) {
		p = px_slot(i);
		if (p->state != PAIR_FREE)
			pair_close(p, "drain timeout");
	}
}

void
life_tick(void)
{
	uint64_t now = px_now(), due;
	struct pair *p;

	if (restart.pid != 0 && now >= restart.deadline) {
		px_log(PX_LOG_ERROR, "event=restart_failed pid=%ld error=\"not"
		    " ready within %d ms\"", (long)restart.pid, RESTART_WAIT_MS);
		(void)kill(restart.pid, SIGTERM);
		restart_done();
	}
	if (px_run != RUN_DRAINING)
		return;

	/* The k-th of the pairs open at the start is due at
	 * t0 + k * spread / open: evenly over the spread. */
	due = drain.open;
	if (cfg.drain_spread > 0 && now - drain.t0 < cfg.drain_spread)
		due = drain.open * (now - drain.t0) / cfg.drain_spread + 1;
	for (; drain.cursor < px_slab_size() && drain.sent < due &&
	    !drain.cut; drain.cursor++) {
		p = px_slot(drain.cursor);
		if (p->state == PAIR_OPEN) {
			relay_drain(p, drain.code, 0);
			drain.sent++;
		}
	}
	if (!drain.cut && now >= drain.deadline)
		drain_cut();
	if (drain.cut && now >= drain.deadline + DRAIN_GRACE_MS)
		drain_end();
	if (workers_supervising()) {
		/* The workers end by their own deadlines; one that has not
		 * by SUPERVISOR_SLACK_MS after them is killed. */
		if (drain.cut && now >= drain.deadline + DRAIN_GRACE_MS +
		    SUPERVISOR_SLACK_MS && workers_signal(SIGKILL) > 0)
			px_log(PX_LOG_ERROR, "event=worker_killed error=\"still"
			    " running after the drain's deadline\"");
		if (workers_alive() > 0)
			return;
	}
	if (px_count.pairs[PAIR_FREE] == px_slab_size()) {
		/* A probe accepted in the last turns gets its answer
		 * before the process ends, not a reset: no new ones are
		 * taken, and each open one ends within its timeout. */
		admin_close();
		if (admin_open() > 0)
			return;
		px_log(PX_LOG_INFO, "event=drained clean=%llu cut=%llu"
		    " handshakes=%llu duration_ms=%llu",
		    (unsigned long long)drain.clean,
		    (unsigned long long)drain.cutoff,
		    (unsigned long long)drain.others,
		    (unsigned long long)(now - drain.t0));
		px_run = RUN_STOPPED;
	}
}

int
life_next_ms(void)
{
	uint64_t now = px_now(), at;

	if (px_run != RUN_DRAINING)
		return restart.pid == 0 ? -1 : restart.deadline > now ?
		    (int)(restart.deadline - now) : 0;
	if (!drain.cut)
		at = drain.deadline;
	else if (now < drain.deadline + DRAIN_GRACE_MS ||
	    !workers_supervising())
		at = drain.deadline + DRAIN_GRACE_MS;
	else
		at = drain.deadline + DRAIN_GRACE_MS + SUPERVISOR_SLACK_MS;
	if (drain.sent < drain.open && !drain.cut && now + DRAIN_STEP_MS < at)
		at = now + DRAIN_STEP_MS;
	return at > now ? (int)(at - now) : 0;
}

/* ------------------------------------------------------------------ */
/* Restart: a new process with the listeners, then drain               */
/* ------------------------------------------------------------------ */

/*
 * The new process's arguments: --restart-args-file's, one argument per
 * line (blank lines and lines starting with '#' skipped), or the ones
 * this process was started with.  NULL (logged) if the file is bad.
 */
static char **
restart_argv(char *text, size_t cap)
{
	static char *args[RESTART_MAX_ARGS + 2];
	char *line, *next;
	ssize_t n;
	int fd, i = 0;

	args[i++] = exe_path;
	if (cfg.restart_args_file == NULL) {
		for (n = 1; n < cfg.argc && i <= RESTART_MAX_ARGS; n++)
			args[i++] = cfg.argv[n];
		args[i] = NULL;
		return args;
	}
	fd = open(cfg.restart_args_file, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, text, cap - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0 || (size_t)n == cap - 1) {
		px_log(PX_LOG_ERROR, "event=restart_failed error=\"%s: %s\"",
		    cfg.restart_args_file, n < 0 ? strerror(errno) :
		    "too long");
		return NULL;
	}
	text[n] = '\0';
	for (line = text; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (i > RESTART_MAX_ARGS) {
			px_log(PX_LOG_ERROR, "event=restart_failed error=\"%s:"
			    " more than %d arguments\"", cfg.restart_args_file,
			    RESTART_MAX_ARGS);
			return NULL;
		}
		args[i++] = line;
	}
	args[i] = NULL;
	return args;
}

/* Let fd survive exec and add it to the list fds[0..len); the new len. */
static size_t
fd_pass(char *fds, size_t cap, size_t len, int fd)
{
	(void)fcntl(fd, F_SETFD, 0);
	return len + (size_t)snprintf(fds + len, cap - len, "%s%d",
	    len ? "," : "", fd);
}

/* In the child: the listeners (the admin one last) and the pipe
 * survive exec, signals are delivered normally again, then the new
 * binary. */
static _Noreturn void
restart_exec(char **argv, int ready_fd)
{
	char fds[(PX_MAX_LISTENERS + 1) * 12], num[16];
	sigset_t all;
	size_t len = 0;
	int i;

	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	fds[0] = '\0';
	for (i = 0; i < cfg.nlisten; i++)
		if (cfg.listen[i].fd >= 0)
			len = fd_pass(fds, sizeof(fds), len, cfg.listen[i].fd);
	if (cfg.admin.fd >= 0)
		(void)fd_pass(fds, sizeof(fds), len, cfg.admin.fd);
	(void)fcntl(ready_fd, F_SETFD, 0);
	snprintf(num, sizeof(num), "%d", ready_fd);
	setenv("WSPROXY_INHERIT_FDS", fds, 1);
	setenv("WSPROXY_READY_FD", num, 1);
	execv(argv[0], argv);
	_exit(127);
}

static void
restart_start(void)
{
	static char text[16384];
	char **argv;
	int fds[2];
	pid_t pid;

	if (px_run != RUN_ACCEPTING || restart.pid != 0) {
		px_log(PX_LOG_WARN, "event=restart_ignored error=\"%s\"",
		    restart.pid != 0 ? "a restart is under way" :
		    "draining");
		return;
	}
	if (getpid() == 1) {
		/* As PID 1 (a container) this process's end ends the new
		 * one too: the orchestrator restarts containers. */
		px_log(PX_LOG_WARN, "event=restart_ignored error=\"PID 1:"
		    " restart the container instead\"");
		return;
	}
	if ((argv = restart_argv(text, sizeof(text))) == NULL)
		return;
	if (pipe(fds) < 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0) {
		px_log(PX_LOG_ERROR, "event=restart_failed error=\"pipe: %s\"",
		    strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		restart_exec(argv, fds[1]);
	}
	close(fds[1]);
	if (pid < 0 || ev_add_listener(fds[0], (1ULL << 63) |
	    LIFE_TAG_RESTART) < 0) {
		px_log(PX_LOG_ERROR, "event=restart_failed error=\"%s\"",
		    strerror(errno));
		close(fds[0]);
		return;
	}
	px_fd_opened();
	restart.pid = pid;
	restart.fd = fds[0];
	restart.deadline = px_now() + RESTART_WAIT_MS;
	px_log(PX_LOG_INFO, "event=restart pid=%ld exe=%s", (long)pid,
	    argv[0]);
}

/* The restart is over, for better or worse: forget its pipe. */
static void
restart_done(void)
{
	(void)ev_del(restart.fd);
	px_fd_close(restart.fd);
	restart.fd = -1;
	restart.pid = 0;
}

void
life_restart_ready(void)
{
	char c;
	ssize_t n;

	if (restart.fd < 0)
		return;
	n = read(restart.fd, &c, 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 1) {
		px_log(PX_LOG_INFO, "event=restart_ready pid=%ld",
		    (long)restart.pid);
		restart_done();
		listen_handed_over();	/* unix socket files: the new one's */
		drain_start(WS_CLOSE_SERVICE_RESTART);
		return;
	}
	/* End of the pipe without a word: it did not come up. */
	px_log(PX_LOG_ERROR, "event=restart_failed pid=%ld error=\"the new"
	    " process ended before it was ready\"", (long)restart.pid);
	restart_done();
}

/* SIGCHLD: reap every child; one that was a starting restart failed. */
static void
children_reap(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (workers_exited(pid, status) || pid != restart.pid)
			continue;
		px_log(PX_LOG_ERROR, "event=restart_failed pid=%ld error=\"the"
		    " new process %s %d\"", (long)pid, WIFEXITED(status) ?
		    "exited with" : "died of signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status));
		restart_done();
	}
}

/* ------------------------------------------------------------------ */
/* Reload and the signals                                              */
/* ------------------------------------------------------------------ */

static void
reload(void)
{
	char err[512];
	int failed = 0;

	notify("RELOADING=1");
	if (tls_reload(err, sizeof(err)) < 0) {
		px_log(PX_LOG_ERROR, "event=reload_failed what=tls"
		    " error=\"%s\" msg=\"the old certificates and keys"
		    " stay\"", err);
		failed = 1;
	}
	/* Names looked up again, in the background, by whoever resolves
	 * them: a supervisor's workers do. */
	if (!workers_supervising() && dns_reload() < 0)
		failed = 1;
	px_log(failed ? PX_LOG_WARN : PX_LOG_INFO, "event=reload ok=%s",
	    failed ? "no" : "yes");
	notify("READY=1");
}

void
life_forget(void)
{
	if (restart.fd >= 0)
		close(restart.fd);
	restart.fd = -1;
	restart.pid = 0;
}

void
life_signals(void)
{
	int sig;

	while ((sig = ev_signal_next()) > 0) {
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			if (px_run == RUN_DRAINING) {
				px_log(PX_LOG_WARN, "event=stop signal=%s"
				    " msg=\"second signal: exit now\"",
				    sig == SIGTERM ? "TERM" : "INT");
				(void)workers_signal(SIGTERM);
				exit(0);
			}
			px_log(PX_LOG_INFO, "event=signal signal=%s",
			    sig == SIGTERM ? "TERM" : "INT");
			drain_start(WS_CLOSE_GOING_AWAY);
			break;
		case SIGHUP:
			/* A supervisor's keys are the ones its next
			 * workers start with: it reloads too. */
			(void)workers_signal(SIGHUP);
			reload();
			break;
		case SIGUSR1:
			(void)workers_signal(SIGUSR1);
			if (log_reopen() == 0)
				px_log(PX_LOG_INFO, "event=log_reopened");
			break;
		case SIGUSR2:
			/* A worker hears it from a supervisor whose restart
			 * is ready (drain_start()). */
			if (workers_worker()) {
				if (px_run == RUN_ACCEPTING)
					drain_start(WS_CLOSE_SERVICE_RESTART);
			} else
				restart_start();
			break;
		case SIGCHLD:
			children_reap();
			break;
		default:
			break;
		}
	}
}
