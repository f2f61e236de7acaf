#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE row 5: Sec-WebSocket-Version not 13 -> 426 with
Sec-WebSocket-Version: 13 (text/plain, Connection: close), nothing
upstream."""
import lib
from lib import check

CASES = [
    ('version 8', dict(version='8')),
    ('version 12', dict(version='12')),
    ('version 14', dict(version='14')),
    ('version missing', dict(omit=['Sec-WebSocket-Version'])),
    ('version garbage', dict(version='thirteen')),
]


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri)
    for what, kw in CASES:
        r = lib.http_exchange(px.port, lib.upgrade_request('/', **kw))
        lib.check_error_response(r, 426, what)
        check('13' in r.tokens('Sec-WebSocket-Version'),
              '%s: 426 without Sec-WebSocket-Version: 13 (%r)' % (what, r.headers))
    check(up.tcp_conns == 0 and up.tcp_bytes == 0,
          'upstream got %d connections / %d bytes for 426s' % (up.tcp_conns, up.tcp_bytes))
    c = lib.RawClient(px.port, '/', version='13')
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    up.wait_done(1, 3)


lib.run(main)
