#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE row 2: malformed request line or header, obs-fold, NUL/CR/LF in a
value, Content-Length or Transfer-Encoding on the upgrade request -> 400
(text/plain, Connection: close, closed), nothing sent upstream."""
import lib
from lib import check


def good_headers(extra=b''):
    return (b'Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' + extra)


CASES = [
    ('garbage request line', b'HELLO\r\n' + good_headers() + b'\r\n'),
    ('request line with extra token', b'GET / HTTP/1.1 x\r\n' + good_headers() + b'\r\n'),
    ('request line without version', b'GET /\r\n' + good_headers() + b'\r\n'),
    ('bad protocol name', b'GET / HTTQ/1.1\r\n' + good_headers() + b'\r\n'),
    ('header without colon', b'GET / HTTP/1.1\r\n' + good_headers(b'NoColonHere\r\n') + b'\r\n'),
    ('space before colon', b'GET / HTTP/1.1\r\n' + good_headers(b'X-A : b\r\n') + b'\r\n'),
    ('empty header name', b'GET / HTTP/1.1\r\n' + good_headers(b': b\r\n') + b'\r\n'),
    ('non-token header name', b'GET / HTTP/1.1\r\n' + good_headers(b'X(A): b\r\n') + b'\r\n'),
    ('obs-fold (space)', b'GET / HTTP/1.1\r\n' + good_headers(b'X-A: b\r\n c\r\n') + b'\r\n'),
    ('obs-fold (tab)', b'GET / HTTP/1.1\r\n' + good_headers(b'X-A: b\r\n\tc\r\n') + b'\r\n'),
    ('NUL in value', b'GET / HTTP/1.1\r\n' + good_headers(b'X-A: b\x00c\r\n') + b'\r\n'),
    ('bare LF in value', b'GET / HTTP/1.1\r\n' + good_headers(b'X-A: b\nc\r\n') + b'\r\n'),
    ('DEL in value', b'GET / HTTP/1.1\r\n' + good_headers(b'X-A: b\x7fc\r\n') + b'\r\n'),
    ('bare CR in value', b'GET / HTTP/1.1\r\n' + good_headers(b'X-A: b\rc\r\n') + b'\r\n'),
    ('Content-Length: 0', b'GET / HTTP/1.1\r\n' + good_headers(b'Content-Length: 0\r\n') + b'\r\n'),
    ('Content-Length: 5 with body', b'GET / HTTP/1.1\r\n' + good_headers(b'Content-Length: 5\r\n') + b'\r\nhello'),
    ('Transfer-Encoding: chunked', b'GET / HTTP/1.1\r\n' + good_headers(b'Transfer-Encoding: chunked\r\n') + b'\r\n0\r\n\r\n'),
    ('transfer-encoding lower case', b'GET / HTTP/1.1\r\n' + good_headers(b'transfer-encoding: identity\r\n') + b'\r\n'),
]


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri)
    for what, req in CASES:
        r = lib.http_exchange(px.port, req)
        lib.check_error_response(r, 400, what)
    check(up.tcp_conns == 0 and up.tcp_bytes == 0,
          'upstream got %d connections / %d bytes for rejected requests' % (up.tcp_conns, up.tcp_bytes))
    # the same head without the defect is accepted
    r = lib.http_exchange(px.port, b'GET / HTTP/1.1\r\n' + good_headers(b'X-A: b c\r\n') + b'\r\n')
    check(r.status == 101, 'well-formed request got %d' % r.status)
    up.wait_done(1, 3)


lib.run(main)
