/*
 * sock.h - sockets (sock.c): non-blocking sockets in one call where the
 * kernel allows, the options every connection gets, and addresses as
 * text for logs and X-Forwarded-For.  errno stays behind these calls
 * except where they return -1 like the system calls they wrap.
 */
#ifndef WSPROXY_SOCK_H
#define WSPROXY_SOCK_H

#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* A non-blocking, close-on-exec TCP socket; -1 with errno. */
int sock_new(int family);

/* accept() a non-blocking, close-on-exec client; -1 with errno.  A unix
 * client's path in sa ends where *len says (see sock_addr_text()). */
int sock_accept(int lfd, struct sockaddr *sa, socklen_t *len);

/* TCP_NODELAY: WebSocket messages are small and latency-bound. */
void sock_nodelay(int fd);

/*
 * TCP keepalive (wsproxy(1) SECURITY): first probe after secs of
 * silence, then six secs/6 apart, so a vanished peer is found in about
 * 2 x secs.  0 leaves it off.
 */
void sock_keepalive(int fd, unsigned secs);

/*
 * An accepted address as the peer it is: an IPv4 client of a dual-stack
 * listener ("::ffff:192.0.2.1") becomes the IPv4 address; a unix-socket
 * client keeps its family alone (AF_UNIX, no path).
 */
void sock_peer(struct sockaddr_in6 *out, const struct sockaddr_storage *ss,
    socklen_t len);

/*
 * "192.0.2.1:4000", "[2001:db8::1]:4000", or for AF_UNIX "unix:PATH" or
 * "unix" when the path is empty, into out; out.  A unix address must
 * hold a NUL-terminated path: a whole sockaddr_un, one from
 * sock_accept() or sock_peer().
 */
/*
 * A literal address (dotted-quad IPv4, or IPv6 text without a scope)
 * and a decimal port into ss: its length, or 0 when host or port is not
 * one.  No name service: names go through dns.c.
 */
socklen_t sock_literal(const char *host, const char *port,
    struct sockaddr_storage *ss);

const char *sock_addr_text(const struct sockaddr *sa, char *out, size_t len);

/*
 * The IP alone ("192.0.2.1", "2001:db8::1") into out; its length.  A
 * unix-socket peer is "unix:", as nginx names one (wsproxy(1) UNIX
 * SOCKETS).
 */
size_t sock_ip_text(const struct sockaddr *sa, char *out, size_t len);

/*
 * Read and drop what a peer already sent, at most SOCK_DRAIN_MAX bytes
 * (a peer that keeps sending cannot hold the loop), so that close()
 * sends a FIN, not a reset that could destroy an answer just written.
 */
#define SOCK_DRAIN_MAX (256 * 1024)
void sock_drain(int fd);

/* A short answer to a client that gets no slot: drain, one send (the
 * socket is new, its buffer empty), shut writing.  The caller closes. */
void sock_answer(int fd, const void *buf, size_t len);

#endif /* WSPROXY_SOCK_H */
