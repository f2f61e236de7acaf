#!/usr/bin/python3
"""wsproxy(1) SMALL SYSTEMS, Running out: a tls: listener under
`ulimit -v 32768` with the default --max-conns.  TLS clients are let in
while their buffers and TLS state can be mapped; after that a newcomer
is closed without an answer (there is no TLS state to answer with) and
the log says "no memory for ...", while every TLS pair already in goes
on relaying both ways; once pairs close, newcomers are let in again."""
import os
import time
import lib
import tlslib
from lib import check, frame, OP_TEXT

LIMIT = 32 * 1024 * 1024
MOST = 1500


def echo(c, payload):
    c.send(frame(OP_TEXT, payload, mask=True))
    f = c.recv_frame(10)
    check(f is not None and f.payload == payload, 'echo: %r' % (f,))


def main(ctx):
    lib.skip_under_valgrind('an address-space limit under memcheck is moot')
    tlslib.need_tls()
    if 'asan' in os.path.basename(lib.WSPROXY):
        raise lib.Skip('ASan reserves terabytes of shadow: RLIMIT_AS is moot')
    pki = tlslib.Pki(ctx)
    cctx = tlslib.client_context(pki)
    up = ctx.ws_upstream()
    px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--listen-cert',
                          pki.server.crt, '--listen-key', pki.server.key,
                          aslimit=LIMIT)
    clients, refused = [], None
    while len(clients) < MOST:
        try:
            c = tlslib.TlsRawClient(px.port, cctx, timeout=10)
            echo(c, b'in %d' % len(clients))
            clients.append(c)
        except Exception as e:  # noqa: closed without an answer
            refused = e
            break
    n = len(clients)
    check(refused is not None and 30 <= n < MOST,
          '%d TLS pairs under 32 MiB, then %r' % (n, refused))
    px.wait_log('error="no memory for', 'the refusal')
    check(px.alive(), 'wsproxy died when memory ran out')
    for rnd in range(2):
        for i, c in enumerate(clients):
            echo(c, b'pair %d round %d' % (i, rnd))
    for c in clients[:n // 2]:
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()
    again = None
    end = time.time() + 5
    while again is None and time.time() < end:
        try:
            again = tlslib.TlsRawClient(px.port, cctx)
        except Exception:  # noqa
            time.sleep(0.1)
    check(again is not None, 'no TLS newcomer let in after %d pairs closed' % (n // 2))
    echo(again, b'again')
    again.close()
    for c in clients[n // 2:]:
        c.close()
    print('%d TLS pairs under a 32 MiB address space; then: %r' % (n, refused))


lib.run(main)
