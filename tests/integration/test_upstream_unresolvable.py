#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 6: an upstream that cannot be resolved -> 502 for the
client (the proxy starts and answers; it must not hang or crash)."""
import time
import lib
from lib import check


def main(ctx):
    px = ctx.proxy('--upstream', 'ws://no-such-host.invalid:4000/')
    t0 = time.time()
    r = lib.http_exchange(px.port, lib.upgrade_request('/'), timeout=8)
    lib.check_error_response(r, 502, 'unresolvable upstream')
    check(time.time() - t0 < 6, '502 took %.1fs' % (time.time() - t0))


lib.run(main)
