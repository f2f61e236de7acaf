#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY: the PROXY header is read incrementally.
A v1 and a v2 header sent a byte or a few at a time, with pauses between
the pieces, and the request after them (in pieces too, and once in the
same write as the header's last byte): each gets its 101, and the
upstream's X-Forwarded-For is the header's source.
"""
import socket
import time

import lib
import pplib
from lib import check


def trickle(s, data, sizes, pause=0.03):
    i = k = 0
    while i < len(data):
        n = sizes[k % len(sizes)]
        s.sendall(data[i:i + n])
        i += n
        k += 1
        time.sleep(pause)


def main(ctx):
    up = ctx.ws_upstream()
    px = pplib.proxy(ctx, '--upstream', up.uri)
    cases = [
        (pplib.v1('203.0.113.21', '192.0.2.1', 1000, 80), [1], '203.0.113.21', False),
        (pplib.v2('203.0.113.22', '192.0.2.1', 1000, 80, b'\x04\x00\x05hello'), [1, 2, 5],
         '203.0.113.22', False),
        (pplib.v2('2001:db8::23', '2001:db8::1', 1000, 80), [3, 7], '2001:db8::23', True),
        (pplib.v1('203.0.113.24', '192.0.2.1', 1000, 80), [13], '203.0.113.24', True),
    ]
    for n, (hdr, sizes, want, joined) in enumerate(cases, 1):
        s = lib.connect(px.port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        req = lib.upgrade_request('/')
        if joined:
            # the header's last piece and the request in one write
            trickle(s, hdr[:-1], sizes)
            s.sendall(hdr[-1:] + req)
        else:
            trickle(s, hdr, sizes)
            trickle(s, req, [40])
        r, rest = lib.read_response(s, body=False)
        check(r.status == 101, '%s: %d %s' % (want, r.status, r.reason))
        check(up.wait_conns(n, 3) == n, 'upstream saw no handshake')
        got = up.conns[n - 1]['headers'].get_all('X-Forwarded-For')
        check(got == [want], '%s: X-Forwarded-For %r' % (want, got))
        pplib.finish(s, rest)
    lib.check_log_grammar(px)


lib.run(main)
