/*
 * listen.c - the client listeners: parsing their addresses, binding
 * them, and taking over the ones a process before this one passed on
 * (see listen.h).
 *
 * A restart (SIGUSR2) passes its listening sockets to the new process
 * as inherited fds named in WSPROXY_INHERIT_FDS; systemd passes them as
 * LISTEN_FDS from fd 3 on (with LISTEN_PID).  Each --listen takes the
 * inherited socket already bound to its address, so the kernel's accept
 * queue, and every client waiting in it, carries over: no client is
 * refused while one process hands over to the next.
 *
 * A unix:PATH listener's socket file is this process's to remove at
 * exit when it bound it or took it over from a restart, unless it has
 * handed it on to a restart in turn; systemd's sockets stay systemd's.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "listen.h"
#include "log.h"
#include "sock.h"

#define MAX_INHERITED 64

static int inherited[MAX_INHERITED];	/* -1 once taken */
static int ninherited = -1;		/* -1: the environment not read yet */
static int from_systemd;		/* they are systemd's (LISTEN_FDS) */

/* Set in the environment by a process that got systemd's sockets, so
 * that the processes its restarts start know whose they are. */
#define SYSTEMD_MARK "WSPROXY_INHERIT_SYSTEMD"

/* Unix socket files to remove at exit: the very file bound, not one
 * that replaced it since. */
static struct {
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t		 dev;
	ino_t		 ino;
} owned[PX_MAX_LISTENERS + 1];
static int nowned;

/* The socket path of a [tls:]unix:PATH listener, else NULL. */
static const char *
unix_path(const struct px_listener *l)
{
	const char *a = l->text + (l->tls ? 4 : 0);

	return strncmp(a, "unix:", 5) == 0 ? a + 5 : NULL;
}

/* Split [tls:][proxy:]HOST:PORT; host "" means every address.  NULL or
 * why not. */
static const char *
split(const struct px_listener *l, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char *a = l->text + (l->tls ? 4 : 0) + (l->proxy ? 6 : 0);
	const char *colon;
	size_t n;

	if (a[0] == '[') {
		const char *close = strchr(a, ']');

		if (close == NULL || close[1] != ':')
			return "is not [V6]:PORT";
		n = (size_t)(close - a - 1);
		colon = close + 1;
		a++;
	} else {
		colon = strrchr(a, ':');
		if (colon == NULL)
			return "is not HOST:PORT";
		n = (size_t)(colon - a);
	}
	if (n >= hostlen || strlen(colon + 1) >= portlen ||
	    colon[1] == '\0' || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1) || strtoul(colon + 1, NULL, 10) > 65535)
		return "bad address or port";
	memcpy(host, a, n);
	host[n] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);	/* length checked above */
	return NULL;
}

const char *
listen_check(const struct px_listener *l)
{
	static char why[64];
	char host[256], port[8];
	const char *path = unix_path(l);
	size_t n;

	if (path != NULL) {
		if (path[0] != '/')
			return "the socket path must be absolute";
		/* It goes into log lines unquoted, as addresses do. */
		for (n = 0; path[n] != '\0'; n++)
			if ((unsigned char)path[n] <= ' ' || path[n] == 0x7f ||
			    path[n] == '"' || path[n] == '\\')
				return "the socket path may not hold blanks,"
				    " control characters, '\"' or '\\'";
		if (n < sizeof(owned[0].path))
			return NULL;
		snprintf(why, sizeof(why), "socket path longer than %zu bytes",
		    sizeof(owned[0].path) - 1);
		return why;
	}
	return split(l, host, sizeof(host), port, sizeof(port));
}

int
listen_mode_parse(const char *s)
{
	size_t n = strspn(s, "01234567");
	unsigned long mode;

	if (n == 0 || n > 4 || s[n] != '\0')
		return -1;
	mode = strtoul(s, NULL, 8);
	return mode > 0777 ? -1 : (int)mode;
}

/* ------------------------------------------------------------------ */
/* Sockets handed over                                                 */
/* ------------------------------------------------------------------ */

/* Read (and clear) the environment once: the fds are ours alone. */
static void
inherit_read(void)
{
	const char *s = getenv("WSPROXY_INHERIT_FDS"), *pid;
	long n, fd, i;
	char *end;

	ninherited = 0;
	if (s != NULL) {
		from_systemd = getenv(SYSTEMD_MARK) != NULL;
		while (*s != '\0' && ninherited < MAX_INHERITED) {
			fd = strtol(s, &end, 10);
			if (end == s || fd < 3)
				break;
			inherited[ninherited++] = (int)fd;
			s = *end == ',' ? end + 1 : end;
		}
	} else if ((pid = getenv("LISTEN_PID")) != NULL &&
	    strtol(pid, NULL, 10) == (long)getpid() &&
	    (s = getenv("LISTEN_FDS")) != NULL) {
		n = strtol(s, NULL, 10);
		for (i = 0; i < n && i < MAX_INHERITED; i++)
			inherited[ninherited++] = 3 + (int)i;	/* SD_LISTEN_FDS_START */
		from_systemd = 1;
		(void)setenv(SYSTEMD_MARK, "1", 1);
	}
	unsetenv("WSPROXY_INHERIT_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (i = 0; i < ninherited; i++)
		(void)fcntl(inherited[i], F_SETFD, FD_CLOEXEC);
}

int
listen_inherited(void)
{
	if (ninherited < 0)
		inherit_read();
	return ninherited > 0;
}

/* Is the socket fd bound to sa? */
static int
bound_to(int fd, const struct sockaddr *sa)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    ss.ss_family != sa->sa_family)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		const struct sockaddr_in *b = (const struct sockaddr_in *)&ss;

		return a->sin_port == b->sin_port &&
		    a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)&ss;

		return a->sin6_port == b->sin6_port &&
		    memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0;
	}
	if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *a = (const struct sockaddr_un *)sa;
		const struct sockaddr_un *b = (const struct sockaddr_un *)&ss;

		/* ss was zeroed, and a's path is NUL-terminated. */
		return strncmp(a->sun_path, b->sun_path,
		    sizeof(a->sun_path)) == 0;
	}
	return 0;
}

/* The inherited socket bound to sa, taken from the list, or -1. */
static int
inherit_take(const struct sockaddr *sa)
{
	int i, fd;

	for (i = 0; i < ninherited; i++) {
		if (inherited[i] < 0 || !bound_to(inherited[i], sa))
			continue;
		fd = inherited[i];
		inherited[i] = -1;
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
			return -1;
		return fd;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Binding                                                             */
/* ------------------------------------------------------------------ */

static int
bind_one(const struct sockaddr *sa, socklen_t len, int v6only)
{
	int fd, one = 1;

	fd = socket(sa->sa_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit TCP_NODELAY and keepalive from the
	 * listener on Linux, which saves setsockopt() calls per client. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sock_keepalive(fd, px_cfg.tcp_keepalive);
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
	if (bind(fd, sa, len) < 0 || listen(fd, 1024) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* An inherited socket for sa, or a new one: the fd, or -1 with errno. */
static int
open_one(const struct sockaddr *sa, socklen_t len, int v6only)
{
	int fd = inherit_take(sa);

	return fd >= 0 ? fd : bind_one(sa, len, v6only);
}

static _Noreturn void
listen_fail(const struct px_listener *l, const char *what, int check)
{
	fprintf(stderr, "wsproxy: %s %s: %s\n", l == &px_cfg.admin ?
	    "--admin" : "--listen", l->text, what);
	exit(check ? 64 : 71);
}

/* ------------------------------------------------------------------ */
/* Unix sockets (wsproxy(1) UNIX SOCKETS)                              */
/* ------------------------------------------------------------------ */

/* Remember path's socket file, to remove it at exit. */
static void
own(const char *path)
{
	static int registered;
	struct stat st;

	if (!registered++)
		(void)atexit(listen_unlink);
	if (nowned == (int)(sizeof(owned) / sizeof(owned[0])) ||
	    stat(path, &st) < 0)
		return;
	snprintf(owned[nowned].path, sizeof(owned[0].path), "%s", path);
	owned[nowned].dev = st.st_dev;
	owned[nowned].ino = st.st_ino;
	nowned++;
}

void
listen_unlink(void)
{
	struct stat st;
	int i;

	for (i = 0; i < nowned; i++)
		if (stat(owned[i].path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_dev == owned[i].dev && st.st_ino == owned[i].ino)
			(void)unlink(owned[i].path);
	nowned = 0;
}

void
listen_handed_over(void)
{
	nowned = 0;
}

/*
 * Make room for a socket at sun: NULL, or why not.  A socket file is a
 * leftover when connecting to it is refused, and only then removed; a
 * listening one, or a file of any other kind, stays.
 */
static const char *
unix_clear(const struct sockaddr_un *sun)
{
	static char why[128];
	struct stat st;
	int fd, r;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? NULL : strerror(errno);
	if (!S_ISSOCK(st.st_mode))
		return "address in use: a file that is not a socket is there"
		    " (left alone)";
	if ((fd = sock_new(AF_UNIX)) < 0)
		return strerror(errno);
	/* Non-blocking: a listener whose queue is full says EAGAIN. */
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (r < 0 && errno == ECONNREFUSED) {
		close(fd);
		if (unlink(sun->sun_path) < 0 && errno != ENOENT) {
			snprintf(why, sizeof(why), "cannot remove the stale"
			    " socket: %s", strerror(errno));
			return why;
		}
		px_log(PX_LOG_INFO, "event=listen_stale path=%s msg=\"nothing"
		    " listened on it; removed\"", sun->sun_path);
		return NULL;
	}
	if (r == 0 || errno == EAGAIN || errno == EINPROGRESS)
		snprintf(why, sizeof(why), "address in use: a process is"
		    " listening on it");
	else
		snprintf(why, sizeof(why), "cannot probe the socket there: %s",
		    strerror(errno));
	close(fd);
	return why;
}

/*
 * A unix listener: the handed-over socket for path, or a new one, its
 * mode --listen-mode.  The umask is narrowed around bind() so that no
 * client can connect before the chmod() that makes the mode exact.
 */
static void
open_unix(struct px_listener *l, const char *path, int check)
{
	struct sockaddr_un sun;
	const char *why;
	mode_t mask = 0;
	int fd, err = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));	/* listen_check() */
	if ((l->fd = inherit_take((const struct sockaddr *)&sun)) >= 0) {
		if (!from_systemd)
			own(path);
		return;
	}
	if ((why = unix_clear(&sun)) != NULL)
		listen_fail(l, why, check);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		listen_fail(l, strerror(errno), check);
	if (px_cfg.listen_mode >= 0)
		mask = umask((mode_t)(~(unsigned)px_cfg.listen_mode & 0777));
	if (bind(fd, (const struct sockaddr *)&sun, sizeof(sun)) < 0)
		err = errno;
	if (px_cfg.listen_mode >= 0)
		(void)umask(mask);
	if (err == 0)
		own(path);
	if (err == 0 && px_cfg.listen_mode >= 0 &&
	    chmod(path, (mode_t)px_cfg.listen_mode) < 0)
		err = errno;
	if (err == 0 && (listen(fd, 1024) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0))
		err = errno;
	if (err != 0) {
		char msg[256];

		close(fd);
		snprintf(msg, sizeof(msg), "cannot bind: %s", strerror(err));
		listen_fail(l, msg, check);
	}
	l->fd = fd;
}

static void
open_listener(struct px_listener *l, int check)
{
	char host[256], port[8];
	struct sockaddr_storage ss;
	socklen_t sl;

	if (unix_path(l) != NULL) {
		open_unix(l, unix_path(l), check);
		return;
	}
	if (split(l, host, sizeof(host), port, sizeof(port)) != NULL)
		listen_fail(l, "bad address", check);
	if (host[0] == '\0') {
		/* ":PORT": every address, IPv6 and IPv4 on one socket when
		 * the host has IPv6, else IPv4 only. */
		struct sockaddr_in6 s6;
		struct sockaddr_in s4;

		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons((uint16_t)strtoul(port, NULL, 10));
		s6.sin6_addr = in6addr_any;
		l->fd = open_one((struct sockaddr *)&s6, sizeof(s6), 0);
		if (l->fd >= 0 || errno != EAFNOSUPPORT)
			goto done;
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_port = s6.sin6_port;
		s4.sin_addr.s_addr = htonl(INADDR_ANY);
		l->fd = open_one((struct sockaddr *)&s4, sizeof(s4), 0);
		goto done;
	}
	if (dns_host_addr(host, port, &ss, &sl) < 0)
		listen_fail(l, "not an IP address or a name in the hosts file",
		    check);
	/* An explicit [::] is IPv6 only, so 0.0.0.0 can be bound beside it. */
	l->fd = open_one((struct sockaddr *)&ss, sl, 1);
done:
	if (l->fd < 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "cannot bind: %s", strerror(errno));
		listen_fail(l, msg, check);
	}
}

void
listen_open(int check)
{
	int i;

	if (ninherited < 0)
		inherit_read();
	if (px_cfg.nlisten == 0) {
		/* Socket activation without --listen: take them all. */
		for (i = 0; i < ninherited && px_cfg.nlisten < PX_MAX_LISTENERS;
		    i++) {
			struct px_listener *l = &px_cfg.listen[px_cfg.nlisten++];
			char text[16];

			snprintf(text, sizeof(text), "fd:%d", inherited[i]);
			l->text = strdup(text);
			l->fd = inherited[i];
			l->tls = 0;
			inherited[i] = -1;
			(void)fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) |
			    O_NONBLOCK);
		}
	}
	for (i = 0; i < px_cfg.nlisten; i++)
		if (px_cfg.listen[i].fd < 0)
			open_listener(&px_cfg.listen[i], check);
	if (px_cfg.admin.text != NULL && px_cfg.admin.fd < 0)
		open_listener(&px_cfg.admin, check);
	for (i = 0; i < ninherited; i++)
		if (inherited[i] >= 0) {
			px_log(PX_LOG_WARN, "event=listen_unused fd=%d"
			    " msg=\"a handed-over socket no --listen asks for;"
			    " closed\"", inherited[i]);
			close(inherited[i]);
			inherited[i] = -1;
		}
	if (check) {
		for (i = 0; i < px_cfg.nlisten; i++) {
			close(px_cfg.listen[i].fd);
			px_cfg.listen[i].fd = -1;
		}
		if (px_cfg.admin.fd >= 0)
			close(px_cfg.admin.fd);
		px_cfg.admin.fd = -1;
		listen_unlink();
	}
}
