#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE row 6: Sec-WebSocket-Key missing or not base64 of 16 bytes -> 400
(text/plain, Connection: close), nothing upstream."""
import base64
import lib
from lib import check

CASES = [
    ('key missing', dict(omit=['Sec-WebSocket-Key'])),
    ('key empty', dict(omit=['Sec-WebSocket-Key'], headers=[('Sec-WebSocket-Key', '')])),
    ('key short', dict(key='abc')),
    ('base64 of 15 bytes', dict(key=base64.b64encode(b'x' * 15).decode())),
    ('base64 of 17 bytes', dict(key=base64.b64encode(b'x' * 17).decode())),
    ('24 chars, not base64', dict(key='!!!!!!!!!!!!!!!!!!!!!!==')),
    ('24 chars, no padding', dict(key='dGhlIHNhbXBsZSBub25jZQAA')),
]


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri)
    for what, kw in CASES:
        r = lib.http_exchange(px.port, lib.upgrade_request('/', **kw))
        lib.check_error_response(r, 400, what)
    check(up.tcp_conns == 0 and up.tcp_bytes == 0,
          'upstream got %d connections / %d bytes for 400s' % (up.tcp_conns, up.tcp_bytes))
    c = lib.RawClient(px.port, '/', key='dGhlIHNhbXBsZSBub25jZQ==')
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    up.wait_done(1, 3)


lib.run(main)
