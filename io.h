/*
 * io.h - the transport seam (tls.c): every byte a pair reads or writes
 * goes through io_read()/io_write(), one recv()/send() for a plain TCP
 * end, BearSSL's sans-I/O engine for a TLS end (builds with
 * -DWSPROXY_TLS); and the TLS set-up, pool and sessions behind it.
 */
#ifndef WSPROXY_IO_H
#define WSPROXY_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct px_upstream;

/* Tri-state results of every I/O helper; callers never look at errno. */
#define PX_IO_AGAIN (-1)	/* would block: wait for readiness */
#define PX_IO_CLOSED (-2)	/* orderly end of stream */
#define PX_IO_ERROR (-3)	/* reset or other failure */

struct tls_conn;		/* opaque; NULL for plain TCP */

/*
 * Read up to len bytes: > 0 bytes read, or PX_IO_AGAIN / PX_IO_CLOSED /
 * PX_IO_ERROR.  For plain ends this is one recv().  For TLS ends it also
 * sends what the engine has to send (handshake, alerts); PX_IO_AGAIN
 * means a socket call really said EAGAIN, so another edge will come.
 */
ssize_t io_read(int fd, struct tls_conn *t, void *buf, size_t len);

/*
 * Write up to len bytes: > 0 written, PX_IO_AGAIN or PX_IO_ERROR.  Plain
 * ends: one send().  TLS ends report bytes written only once their record
 * is on the socket, so after PX_IO_AGAIN the caller must offer the same
 * bytes again (at least as many); it may not switch to other data.
 */
ssize_t io_write(int fd, struct tls_conn *t, const void *buf, size_t len);

/* Was this binary built with TLS support? */
int tls_built_in(void);

/*
 * Start-up, after the flags are parsed: load and check the files named
 * by px_cfg's TLS fields (CA bundle, client and listener certificates and
 * keys).  0, or -1 with a message naming the flag in err.
 */
int tls_setup(char *err, size_t len);

/*
 * SIGHUP: read every TLS file again.  New TLS ends use what was read;
 * the ones open keep theirs.  0, or -1 with why in err, the old files'
 * contents kept.
 */
int tls_reload(char *err, size_t len);

/*
 * Ready the TLS state pool: at most slots entries for each side that
 * can be TLS (any tls: listener, any wss:// route); nothing when
 * neither.  Entries are mapped in chunks as ends open (wsproxy(1)
 * SMALL SYSTEMS).  0, or -1.
 */
int tls_pool_init(uint32_t slots);

/* TLS ends open now (wsproxy_tls_sessions_in_use). */
uint32_t tls_in_use(void);

/* Unmap TLS state chunks unused for a while (about once a second). */
void tls_pool_trim(uint64_t now_ms);

/* Address space the TLS state pool holds now. */
uint64_t tls_pool_bytes(void);

/*
 * A TLS end for the connected socket fd to upstream up: SNI and the
 * verified name are --tls-servername or up's host; up's session is
 * offered for resumption and kept.  NULL with errno ENOMEM when no
 * state can be had, EPROTO when the engine refuses to start.
 */
struct tls_conn *tls_client_new(int fd, struct px_upstream *up);

/* A TLS end for a client accepted on a tls: listener; NULL (errno as
 * for tls_client_new()) if none can be had. */
struct tls_conn *tls_server_new(int fd);

/*
 * Drive an upstream end's handshake: 1 when done, PX_IO_AGAIN (a socket
 * said EAGAIN), or PX_IO_ERROR (see tls_error()).
 */
int tls_handshake(struct tls_conn *t);

/*
 * Why a TLS end failed: a fixed reason for the log and the 502 ("TLS:
 * certificate not trusted (unknown CA)"...), or NULL when TLS did not
 * fail.  detail gets "bearssl_error=N [alert=N(name)]".
 */
const char *tls_error(const struct tls_conn *t, char *detail, size_t len);

/*
 * No more writes to this end: shutdown(SHUT_WR), after a close_notify
 * for TLS ends (sent when the socket has room).
 */
void tls_shutdown(int fd, struct tls_conn *t);

/* Free the TLS state of an end after a best-effort close_notify (NULL
 * is fine).  The caller closes fd after it. */
void tls_close(struct tls_conn *t);

#endif /* WSPROXY_IO_H */
