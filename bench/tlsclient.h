/*
 * tlsclient.h - the TLS client side of the bench's load generator (wss://).
 *
 * Built only into loadgen-tls (cc -DBENCH_TLS ... tlsclient.c -lssl
 * -lcrypto); the plain loadgen gets the stubs below, which refuse --tls.
 * OpenSSL is a bench tool here, never a dependency of wsproxy.
 *
 * Every handshake is a full one: TLS 1.2 only, no session tickets, no
 * session cache, so the server pays for the key exchange and the signature
 * on every connection (issue 14 compares full handshakes).  Certificates
 * are not verified: the bench's own self-signed ones are served.
 *
 * The calls work on blocking and non-blocking sockets alike:
 *   tlsc_handshake  1 done, 0 wants more I/O, -1 failed
 *   tlsc_read       > 0 bytes, 0 end of stream (close_notify or TCP EOF),
 *                   -1 with errno EAGAIN (wait for the socket) or EIO
 *   tlsc_write      > 0 bytes taken (maybe fewer than asked), -1 with
 *                   errno EAGAIN or EIO
 */
#ifndef BENCH_TLSCLIENT_H
#define BENCH_TLSCLIENT_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

struct tlsc;

#ifdef BENCH_TLS
int tlsc_init(void);
struct tlsc *tlsc_new(int fd);
void tlsc_free(struct tlsc *t);
int tlsc_handshake(struct tlsc *t);
ssize_t tlsc_read(struct tlsc *t, void *buf, size_t n);
ssize_t tlsc_write(struct tlsc *t, const void *buf, size_t n);
/* "suite=NAME group=NAME" of an established connection */
void tlsc_describe(struct tlsc *t, char *out, size_t n);
/* the last OpenSSL error as text (for diagnostics) */
const char *tlsc_error(void);
#else
static inline int tlsc_init(void) { return -1; }
static inline struct tlsc *tlsc_new(int fd) { (void)fd; return NULL; }
static inline void tlsc_free(struct tlsc *t) { (void)t; }
static inline int tlsc_handshake(struct tlsc *t) { (void)t; return -1; }
static inline ssize_t tlsc_read(struct tlsc *t, void *b, size_t n)
{ (void)t; (void)b; (void)n; errno = EIO; return -1; }
static inline ssize_t tlsc_write(struct tlsc *t, const void *b, size_t n)
{ (void)t; (void)b; (void)n; errno = EIO; return -1; }
static inline void tlsc_describe(struct tlsc *t, char *out, size_t n)
{ (void)t; if (n) *out = 0; }
static inline const char *tlsc_error(void) { return "built without TLS"; }
#endif

#endif
