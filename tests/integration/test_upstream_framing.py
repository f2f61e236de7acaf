#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE: a non-101 upstream answer whose end is
ambiguous (RFC 9112 6.3) is a 502, never passed on: two different
Content-Length values (in two lines or one list), a Content-Length that
is not a number, or Content-Length together with Transfer-Encoding.  A
repeated identical Content-Length passes, as one line."""
import lib
from lib import check

ANSWERS = {
    '/cl2': (b'Content-Length: 4\r\nContent-Length: 40\r\n', b'body', 502),
    '/cllist': (b'Content-Length: 4, 40\r\n', b'body', 502),
    '/clte': (b'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n', b'4\r\nbody\r\n0\r\n\r\n', 502),
    '/tecl': (b'Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', b'4\r\nbody\r\n0\r\n\r\n', 502),
    '/clbad': (b'Content-Length: 4x\r\n', b'body', 502),
    '/clneg': (b'Content-Length: -1\r\n', b'body', 502),
    '/clhuge': (b'Content-Length: 99999999999999999999\r\n', b'body', 502),
    '/same': (b'Content-Length: 4\r\nContent-Length: 4\r\n', b'body', 403),
    '/samelist': (b'Content-Length: 4, 4\r\n', b'body', 403),
    '/te': (b'Transfer-Encoding: chunked\r\n', b'4\r\nbody\r\n0\r\n\r\n', 403),
}


def main(ctx):
    def handler(c):
        req = c.read_request()
        head, body, _ = ANSWERS[req.target]
        c.send(b'HTTP/1.1 403 Forbidden\r\n' + head + b'\r\n' + body)
        # a chunked body goes on until the upstream closes (wsproxy(1)
        # HANDSHAKE): close, as a server answering 403 to an upgrade does
        c.sock.shutdown(lib.socket.SHUT_WR)
        c.wait_eof(5)

    up = ctx.raw_upstream(handler)
    px = ctx.proxy('--upstream', up.uri)

    def one(path, head, body, want):
        r = lib.http_exchange(px.port, lib.upgrade_request(path))
        if want == 502:
            lib.check_error_response(r, 502, path)
            return
        check(r.status == 403, '%s: %d, want the upstream\'s 403' % (path, r.status))
        cls = r.get_all('Content-Length')
        if b'Content-Length' in head:
            check(cls == ['4'] and r.body == b'body', '%s: Content-Length %r body %r' % (path, cls, r.body))
        else:
            check(r.body == body, '%s: chunked body %r' % (path, r.body))
    lib.cases([(p,) + a for p, a in ANSWERS.items()], one)
    up.wait_done(10)


lib.run(main)
