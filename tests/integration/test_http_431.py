#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE row 1: a request head larger than --max-header-bytes gets 431
(text/plain, Connection: close, then closed) and nothing goes upstream.
Default limit 8192; a head within the limit still works."""
import lib
from lib import check


def main(ctx):
    up = ctx.ws_upstream()
    # explicit limit
    px = ctx.proxy('--upstream', up.uri, '--max-header-bytes', '1024')
    big = lib.upgrade_request('/', headers=[('X-Filler', 'a' * 1500)])
    r = lib.http_exchange(px.port, big)
    lib.check_error_response(r, 431, '1500-byte header, limit 1024')
    # many small header lines adding up past the limit
    many = lib.upgrade_request('/', headers=[('X-H%d' % i, 'v' * 40) for i in range(40)])
    check(len(many) > 1024, 'test bug')
    r = lib.http_exchange(px.port, many)
    lib.check_error_response(r, 431, '40 header lines, limit 1024')
    # sent all in one go, with more bytes than the limit arriving before the end
    s = lib.connect(px.port)
    s.sendall(b'GET / HTTP/1.1\r\nX-Long: ' + b'b' * 4000)
    r, rest = lib.read_response(s)
    lib.check_error_response(r, 431, 'unterminated 4000-byte head')
    lib.read_to_eof(s)
    s.close()
    check(up.tcp_conns == 0 and up.tcp_bytes == 0,
          'upstream got %d connections / %d bytes for rejected requests' % (up.tcp_conns, up.tcp_bytes))
    # within the limit: accepted
    c = lib.RawClient(px.port, '/', headers=[('X-Filler', 'c' * 500)])
    c.send_frame(lib.OP_TEXT, b'hi')
    f = c.recv_frame()
    check(f and f.payload == b'hi', 'echo through proxy failed: %r' % f)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    px.check_fds()

    # a head of exactly the limit is not larger than it
    exact = lib.upgrade_request('/', headers=[('X-Pad', '')])
    exact = exact[:-4] + b'p' * (1024 - len(exact)) + b'\r\n\r\n'
    check(len(exact) == 1024, 'test bug %d' % len(exact))
    c = lib.RawClient(px.port, '/', expect=None, headers=[('X-Pad', 'p' * (1024 - len(lib.upgrade_request('/', headers=[('X-Pad', '')]))))])
    check(c.response.status == 101, 'head of exactly --max-header-bytes (1024) got %d' % c.response.status)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()

    # default 8192
    px2 = ctx.proxy('--upstream', up.uri)
    n0 = up.tcp_conns
    r = lib.http_exchange(px2.port, lib.upgrade_request('/', headers=[('X-Filler', 'd' * 9000)]))
    lib.check_error_response(r, 431, '9000-byte header, default limit')
    check(up.tcp_conns == n0, 'upstream contacted for a 431')
    c = lib.RawClient(px2.port, '/', headers=[('X-Filler-%d' % i, 'e' * 1000) for i in range(7)])
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    up.wait_done(2)


lib.run(main)
