#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE: 1xx interim answers before the upstream's 101
(100 Continue, 102 Processing, 103 Early Hints) are skipped, not taken as
the answer: the client gets the 101 that follows and frames relay, or
the final non-101 answer that follows.  More than 8 interim answers are
a 502, so an upstream cannot hold a pair in its handshake."""
import lib
from lib import check


def main(ctx):
    plans = {}

    def handler(c):
        req = c.read_request()
        plan = plans[req.target]
        interim = b''.join(b'HTTP/1.1 %d Interim\r\n%s\r\n' % (s, h) for s, h in plan['interim'])
        if plan.get('split'):
            for i in range(0, len(interim)):
                c.send(interim[i:i + 1])
        else:
            c.send(interim)
        if plan['final'] == 101:
            c.send_101()
            f = c.recv_frame(5)
            check(f is not None and f.opcode == lib.OP_TEXT, 'upstream: no text frame, %r' % f)
            c.send_frame(lib.OP_TEXT, b'echo:' + f.payload)
            c.expect_close(1000)
        elif plan['final']:
            c.send(b'HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\nnope')
        else:
            c.recv_frame(10)     # hold: the proxy gives up

    up = ctx.raw_upstream(handler)
    px = ctx.proxy('--upstream', up.uri)
    plans['/100'] = {'interim': [(100, b'')], 'final': 101}
    plans['/103'] = {'interim': [(103, b'Link: </a.css>; rel=preload\r\n'), (100, b'')], 'final': 101}
    plans['/split'] = {'interim': [(102, b''), (103, b'Link: </b>\r\n')], 'final': 101, 'split': True}
    plans['/404'] = {'interim': [(100, b'')], 'final': 404}
    plans['/flood'] = {'interim': [(103, b'')] * 9, 'final': None}

    for path in ['/100', '/103', '/split']:
        c = lib.RawClient(px.port, path)
        check(c.response.get('Link') is None, '%s: an interim header reached the 101: %r' % (path, c.response))
        c.send_frame(lib.OP_TEXT, b'hi')
        f = c.recv_frame()
        check(f is not None and f.payload == b'echo:hi', '%s: relay after interim answers: %r' % (path, f))
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()
    r = lib.http_exchange(px.port, lib.upgrade_request('/404'))
    check(r.status == 404 and r.body == b'nope', '1xx then 404: %r' % r)
    r = lib.http_exchange(px.port, lib.upgrade_request('/flood'))
    lib.check_error_response(r, 502, 'nine interim answers')
    px.wait_log('too many interim upstream responses', 'nine interim answers')
    up.wait_done(15)


lib.run(main)
