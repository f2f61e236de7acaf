/*
 * sock.c - sockets: creation, the options every connection gets, and
 * addresses as text (see sock.h).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

/*
 * A unix-socket peer's path is as long as accept() said, and usually
 * empty (an unbound client): end it there, so that sock_addr_text()
 * never reads what the buffer held before.  cap is the buffer's size,
 * always more than a sockaddr_un's when it is a sockaddr_storage.
 */
static void
unix_terminate(struct sockaddr *sa, const socklen_t *len, socklen_t cap)
{
	if (sa != NULL && *len < cap && sa->sa_family == AF_UNIX)
		((char *)sa)[*len] = '\0';
}

/*
 * New sockets are non-blocking and close-on-exec; where the kernel can
 * do that in the socket()/accept4() call itself, it saves two syscalls
 * per connection.
 */
#ifdef SOCK_NONBLOCK
#define SOCK_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)

int
sock_new(int family)
{
	return socket(family, SOCK_STREAM | SOCK_FLAGS, 0);
}

int
sock_accept(int lfd, struct sockaddr *sa, socklen_t *len)
{
	socklen_t cap = len != NULL ? *len : 0;
	int fd = accept4(lfd, sa, len, SOCK_FLAGS);

	if (fd >= 0 && len != NULL)
		unix_terminate(sa, len, cap);
	return fd;
}
#else
static int
set_flags(int fd)
{
	int fl;

	if (fd < 0)
		return fd;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
sock_new(int family)
{
	return set_flags(socket(family, SOCK_STREAM, 0));
}

int
sock_accept(int lfd, struct sockaddr *sa, socklen_t *len)
{
	socklen_t cap = len != NULL ? *len : 0;
	int fd = set_flags(accept(lfd, sa, len));

	if (fd >= 0 && len != NULL)
		unix_terminate(sa, len, cap);
	return fd;
}
#endif

void
sock_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void
sock_keepalive(int fd, unsigned secs)
{
	int on = 1, idle = (int)secs, intvl, count = 6;

	if (secs == 0)
		return;
	intvl = idle / 6 > 0 ? idle / 6 : 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
#ifdef TCP_KEEPIDLE
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
#endif
#ifdef TCP_KEEPINTVL
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
#endif
#ifdef TCP_KEEPCNT
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
#endif
	(void)idle;
	(void)intvl;
	(void)count;
}

void
sock_peer(struct sockaddr_in6 *out, const struct sockaddr_storage *ss,
    socklen_t len)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	memset(out, 0, sizeof(*out));
	/* A unix client has no address worth keeping (and its path would
	 * not fit): the family alone, its "path" the empty string. */
	if (ss->ss_family == AF_UNIX) {
		out->sin6_family = AF_UNIX;
		return;
	}
	/* ss was filled in by accept(); the analyzer cannot see that. */
	if (ss->ss_family == AF_INET6 &&	/* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	    IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		struct sockaddr_in in4;

		memset(&in4, 0, sizeof(in4));
		in4.sin_family = AF_INET;
		in4.sin_port = in6->sin6_port;
		memcpy(&in4.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
		memcpy(out, &in4, sizeof(in4));
		return;
	}
	memcpy(out, ss, len < sizeof(*out) ? len : sizeof(*out));
}

socklen_t
sock_literal(const char *host, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
	unsigned long n = 0;
	const char *p;

	for (p = port; *p >= '0' && *p <= '9' && n <= 65535; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (*p != '\0' || p == port || n > 65535)
		return 0;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)n);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)n);
		return sizeof(*s6);
	}
	return 0;
}

const char *
sock_addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	/* Every caller passes an address filled in by accept(). */
	if (sa->sa_family == AF_INET) {	/* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		(void)sock_ip_text(sa, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		(void)sock_ip_text(sa, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (sa->sa_family == AF_UNIX) {
		const char *path = ((const struct sockaddr_un *)sa)->sun_path;

		if (path[0] == '\0')
			snprintf(out, len, "unix");
		else
			snprintf(out, len, "unix:%s", path);
	} else
		snprintf(out, len, "?");
	return out;
}

size_t
sock_ip_text(const struct sockaddr *sa, char *out, size_t len)
{
	if (len < INET6_ADDRSTRLEN)
		return 0;
	if (sa->sa_family == AF_UNIX) {
		memcpy(out, "unix:", 6);	/* as nginx's $remote_addr */
		return 5;
	}
	if (sa->sa_family == AF_INET) {
		/* By hand: inet_ntop() goes through sprintf (1k instructions
		 * per handshake in callgrind). */
		const uint8_t *a = (const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
		size_t n = 0;
		int i;

		for (i = 0; i < 4; i++) {
			if (a[i] >= 100)
				out[n++] = (char)('0' + a[i] / 100);
			if (a[i] >= 10)
				out[n++] = (char)('0' + a[i] / 10 % 10);
			out[n++] = (char)('0' + a[i] % 10);
			out[n++] = i < 3 ? '.' : '\0';
		}
		return n - 1;
	}
	if (sa->sa_family != AF_INET6 || inet_ntop(AF_INET6,
	    &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
	    (socklen_t)len) == NULL) {
		out[0] = '\0';
		return 0;
	}
	return strlen(out);
}

void
sock_drain(int fd)
{
	static char sink[16 * 1024];
	size_t total = 0;
	ssize_t n;

	while (total < SOCK_DRAIN_MAX &&
	    (n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
}

void
sock_answer(int fd, const void *buf, size_t len)
{
	ssize_t r;

	sock_drain(fd);
	r = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)r;
	(void)shutdown(fd, SHUT_WR);
}
