#!/usr/bin/python3
"""wsproxy(1) LIMITS, TLS memory: TLS state comes from its own pool, so (1) on a
proxy that serves TLS, plain pairs still cost at most 1 KiB each when
idle (500 idle plain pairs beside a tls: listener), and (2) an idle TLS
pair costs at most its pool entry (about 39 KiB: BearSSL's engine and
the 33 KiB record buffer) plus the plain pair's share (200 idle pairs on
the tls: listener).  RSS is not meaningful under ASan: skipped there."""
import os
import resource
import lib
import tlslib
from lib import check

N_PLAIN = int(os.environ.get('TLS_IDLE_PLAIN', '500'))
N_TLS = int(os.environ.get('TLS_IDLE_TLS', '200'))
ALLOW_KIB = 2048
TLS_ENTRY_KIB = 40208 / 1024.0


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
    lib.log('%d idle TLS pairs: RSS +%d KiB (%.2f KiB per pair; pool entry %.1f KiB)'
            % (N_TLS, grown, per, TLS_ENTRY_KIB))
    check(grown <= N_TLS * (TLS_ENTRY_KIB + 1) + ALLOW_KIB,
          'idle TLS pairs: +%d KiB for %d (%.2f KiB each), more than a pool entry each' % (grown, N_TLS, per))
    for c in clients[::25]:
        echo(c, b'again')
    for c in clients:
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    for c in clients:
        c.expect_close(1000)
        c.close()
    up.wait_done(n + 2, 30)


lib.run(main)
