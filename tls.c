/*
 * tls.c - the transport seam.
 *
 * Every byte a pair moves goes through tls_read() and tls_write().  For
 * a plain TCP end (t == NULL) they are one recv()/send() each; the TLS
 * build (BearSSL, sans-I/O) slots in here without the relay knowing.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>

#include "proxy.h"

ssize_t
tls_read(int fd, struct tls_conn *t, void *buf, size_t len)
{
	ssize_t n;

	(void)t;
	do
		n = recv(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n == 0)
		return PX_IO_CLOSED;
	return errno == EAGAIN || errno == EWOULDBLOCK ? PX_IO_AGAIN :
	    PX_IO_ERROR;
}

ssize_t
tls_write(int fd, struct tls_conn *t, const void *buf, size_t len)
{
	ssize_t n;

	(void)t;
	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	return errno == EAGAIN || errno == EWOULDBLOCK ? PX_IO_AGAIN :
	    PX_IO_ERROR;
}

void
tls_close(struct tls_conn *t)
{
	(void)t;
}

int
tls_built_in(void)
{
	return 0;
}
