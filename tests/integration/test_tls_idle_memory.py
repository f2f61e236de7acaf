#!/usr/bin/python3
"""wsproxy(1) LIMITS, TLS memory: TLS state comes from its own pools, so (1) on
a proxy that serves TLS, plain pairs still cost at most 1 KiB each when
idle (500 idle plain pairs beside a tls: listener); (2) an idle TLS pair
costs its engine's entry (4.1 KiB) and the plain pair's share, not a
record buffer (200 idle pairs on the tls: listener, at most 9 KiB each);
and (3) it stays so after every pair has moved a full 16 KiB record
each way at once: the record buffers went back to their pool as each
engine came to rest, and the pages the burst touched are given back
within two trim intervals.  RSS is not meaningful under ASan: skipped
there."""
import os
import resource
import time
import lib
import tlslib
from lib import check

N_PLAIN = int(os.environ.get('TLS_IDLE_PLAIN', '500'))
N_TLS = int(os.environ.get('TLS_IDLE_TLS', '200'))
ALLOW_KIB = 2048
IDLE_TLS_KIB = 9.0       # wsproxy(1) LIMITS: at most, per idle TLS pair


def echo(c, payload):
    c.send_frame(lib.OP_TEXT, payload)
    f = c.recv_frame()
    check(f is not None and f.payload == payload, 'echo %r' % f)


def main(ctx):
    lib.skip_under_valgrind("RSS, and TLS handshakes under valgrind outlast the client's timeouts")
    tlslib.need_tls()
    if 'asan' in os.path.basename(lib.WSPROXY):
        raise lib.Skip('RSS is not meaningful under ASan')
    n = N_PLAIN + N_TLS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 3 * n + 100:
        raise lib.Skip('RLIMIT_NOFILE %d too low' % hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 3 * n + 200)), hard))
    pki = tlslib.Pki(ctx)
    cctx = tlslib.client_context(pki)
    up = ctx.ws_upstream()
    px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--listen-cert', pki.server.crt,
                          '--listen-key', pki.server.key, '--max-conns', str(n + 10),
                          plain_listen=True)
    # warm up both kinds, so code pages and the first buffers are resident
    for c in (lib.RawClient(px.plain_port, '/'), tlslib.TlsRawClient(px.port, cctx)):
        echo(c, b'w' * 1000)
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()
    clients = []
    base = lib.rss_kib(px.pid)
    for i in range(N_PLAIN):
        c = lib.RawClient(px.plain_port, '/')
        echo(c, b'm' * 200)
        clients.append(c)
    grown = lib.rss_kib(px.pid) - base
    lib.log('%d idle plain pairs beside a tls: listener: RSS +%d KiB (%.2f KiB per pair)'
            % (N_PLAIN, grown, grown / N_PLAIN))
    check(grown <= N_PLAIN + ALLOW_KIB, 'plain pairs on a TLS proxy: +%d KiB for %d (%.2f KiB each), goal <= 1 KiB'
          % (grown, N_PLAIN, grown / N_PLAIN))

    base = lib.rss_kib(px.pid)
    for i in range(N_TLS):
        c = tlslib.TlsRawClient(px.port, cctx)
        echo(c, b't' * 200)
        clients.append(c)
    grown = lib.rss_kib(px.pid) - base
    per = grown / N_TLS
    lib.log('%d idle TLS pairs: RSS +%d KiB (%.2f KiB per pair)' % (N_TLS, grown, per))
    check(per <= IDLE_TLS_KIB,
          'idle TLS pairs: +%d KiB for %d (%.2f KiB each), goal <= %.0f' % (grown, N_TLS, per, IDLE_TLS_KIB))

    # every TLS pair moves a 16 KiB message each way, all in flight at once
    big = b'B' * 16384
    tls_clients = clients[N_PLAIN:]
    for c in tls_clients:
        c.send_frame(lib.OP_BINARY, big)
    for c in tls_clients:
        f = c.recv_frame()
        check(f is not None and f.payload == big, '16 KiB echo %r' % (f and len(f.payload)))
    time.sleep(2.5)     # two trim intervals: untouched free pages go back
    grown = lib.rss_kib(px.pid) - base
    per = grown / N_TLS
    lib.log('%d idle TLS pairs after a 16 KiB message each way: RSS +%d KiB (%.2f KiB per pair)'
            % (N_TLS, grown, per))
    check(per <= IDLE_TLS_KIB,
          'idle TLS pairs after 16 KiB each: +%d KiB for %d (%.2f KiB each), goal <= %.0f'
          % (grown, N_TLS, per, IDLE_TLS_KIB))
    for c in clients[::25]:
        echo(c, b'again')
    for c in clients:
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    for c in clients:
        c.expect_close(1000)
        c.close()
    up.wait_done(n + 2, 30)


lib.run(main)
