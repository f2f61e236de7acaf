#!/usr/bin/python3
"""wsproxy(1) LIMITS: an idle pair holds no I/O buffer; goal: at most 1 KiB of
user-space memory per idle pair.  1000 pairs are opened one after another,
each exchanges a message (so its buffers were used and given back), then
all sit idle: the proxy's RSS growth must stay within 1000 x 1 KiB plus a
small allowance for the buffer pool pages in use during the handshakes
(2 MiB).  All pairs still work afterwards."""
import os
import resource
import lib
from lib import check

N = int(os.environ.get('IDLE_PAIRS', '1000'))
ALLOW_KIB = 2048


def main(ctx):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 3 * N + 100:
        raise lib.Skip('RLIMIT_NOFILE %d too low for %d pairs' % (hard, N))
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 3 * N + 200)), hard))
    if 'asan' in os.path.basename(lib.WSPROXY):
        raise lib.Skip('RSS is not meaningful under ASan')
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--max-conns', str(N + 10))
    # warm up: one pair through, so the pool's first buffers and code pages are resident
    w = lib.RawClient(px.port, '/')
    w.send_frame(lib.OP_TEXT, b'w' * 1000)
    w.recv_frame()
    w.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    w.expect_close(1000)
    w.close()
    base = lib.rss_kib(px.pid)
    clients = []
    for i in range(N):
        c = lib.RawClient(px.port, '/')
        c.send_frame(lib.OP_TEXT, b'm' * 200)
        f = c.recv_frame()
        check(f is not None and f.payload == b'm' * 200, 'pair %d: %r' % (i, f))
        clients.append(c)
    grown = lib.rss_kib(px.pid) - base
    lib.log('%d idle pairs: proxy RSS +%d KiB (%.2f KiB per pair)' % (N, grown, grown / N))
    check(grown <= N + ALLOW_KIB, '%d idle pairs grew the proxy RSS by %d KiB (%.2f KiB per pair), goal <= 1 KiB per pair'
          % (N, grown, grown / N))
    for i, c in enumerate(clients[::50]):
        c.send_frame(lib.OP_TEXT, b'again')
        f = c.recv_frame()
        check(f is not None and f.payload == b'again', 'idle pair %d broken' % i)
    for c in clients:
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    for c in clients:
        c.expect_close(1000)
        c.close()
    up.wait_done(N + 1, 20)


lib.run(main)
