#!/usr/bin/python3
"""Conformance matrix, handshake (issue 4): the request-head cases the
older test_http_*.py files do not cover, one reported case each.

Rejected before anything goes upstream: 100+ header lines (431, the
documented limit of 100 lines), a head one byte over --max-header-bytes,
bare LF line ends, NUL in a name or the target, duplicate or conflicting
Content-Length / Transfer-Encoding, two Host or Sec-WebSocket-Key lines,
versions other than HTTP/1.0 and 1.1 (400), HTTP/1.0 (426, documented:
it cannot upgrade).  Accepted: exactly 100 header lines, absolute-form
targets (their path is used).  After the head: body bytes or a second
pipelined request are frame bytes to wsproxy (so they break the frame
rules: client 1002, upstream 1001, and none of them reach the upstream);
a real frame in the same segment is relayed.  Upstream side: a 101 with
more than 100 header lines is a 502."""
import lib
from lib import check, frame, OP_TEXT, OP_CLOSE

KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
STD = [('Host', 'localhost'), ('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
       ('Sec-WebSocket-Key', KEY), ('Sec-WebSocket-Version', '13')]


def head(lines, first=b'GET / HTTP/1.1', eol=b'\r\n'):
    out = first + eol
    for n, v in lines:
        out += (n if isinstance(n, bytes) else n.encode()) + b': ' + \
            (v if isinstance(v, bytes) else v.encode()) + eol
    return out + eol


def n_lines(total):
    """A valid upgrade head with exactly `total` header lines."""
    return head(STD + [('X-H%d' % i, 'v') for i in range(total - len(STD))])


REJECT = [
    # name, request bytes, status, proxy ('small' has --max-header-bytes 1024)
    ('200 header lines', n_lines(200), 431, 'main'),
    ('101 header lines', n_lines(101), 431, 'main'),
    ('head of max-header-bytes + 1', None, 431, 'small'),
    ('bare LF line ends', head(STD, eol=b'\n'), 400, 'main'),
    ('bare LF after the request line', b'GET / HTTP/1.1\n' + head(STD)[len(b'GET / HTTP/1.1\r\n'):], 400, 'main'),
    ('bare LF ending one header', head(STD)[:-2].replace(b'Upgrade\r\n', b'Upgrade\n') + b'\r\n', 400, 'main'),
    ('head ended by CRLF LF', head(STD)[:-2] + b'\n', 400, 'main'),
    ('NUL in a header name', head(STD + [(b'X-\x00A', 'b')]), 400, 'main'),
    ('NUL in the request target', head(STD, first=b'GET /a\x00b HTTP/1.1'), 400, 'main'),
    ('NUL as a whole value', head(STD + [('X-A', b'\x00')]), 400, 'main'),
    ('duplicate Content-Length', head(STD + [('Content-Length', '0'), ('Content-Length', '0')]), 400, 'main'),
    ('Content-Length list "0, 0"', head(STD + [('Content-Length', '0, 0')]), 400, 'main'),
    ('Content-Length and Transfer-Encoding',
     head(STD + [('Content-Length', '4'), ('Transfer-Encoding', 'chunked')]) + b'0\r\n\r\n', 400, 'main'),
    ('Transfer-Encoding twice', head(STD + [('Transfer-Encoding', 'chunked'), ('Transfer-Encoding', 'identity')]),
     400, 'main'),
    ('two Host lines', head(STD + [('Host', 'other')]), 400, 'main'),
    ('two Sec-WebSocket-Key lines', head(STD + [('Sec-WebSocket-Key', KEY)]), 400, 'main'),
    ('Sec-WebSocket-Version twice', head(STD + [('Sec-WebSocket-Version', '13')]), 426, 'main'),
    ('HTTP/1.2', head(STD, first=b'GET / HTTP/1.2'), 400, 'main'),
    ('HTTP/2.0', head(STD, first=b'GET / HTTP/2.0'), 400, 'main'),
    ('HTTP/1.0 with every upgrade header', head(STD, first=b'GET / HTTP/1.0'), 426, 'main'),
    ('HTTP/1.0 without Host', head(STD[1:], first=b'GET / HTTP/1.0'), 426, 'main'),
    ('asterisk-form target', head(STD, first=b'GET * HTTP/1.1'), 400, 'main'),
    ('authority-form target', head(STD, first=b'GET localhost:80 HTTP/1.1'), 400, 'main'),
]


def main(ctx):
    mode = {'m': 'echo'}

    def handler(c):
        req = c.read_request()
        c.rec['target'] = req.target
        m = mode['m']
        if m == 'many headers':
            key = req.get('Sec-WebSocket-Key')
            h = ('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                 'Sec-WebSocket-Accept: %s\r\n' % lib.accept_for(key))
            h += ''.join('X-U%d: v\r\n' % i for i in range(mode['n'] - 4))
            c.send(h.encode() + b'\r\n')
        else:
            c.send_101()
        frames = []
        while True:
            f = c.recv_frame(10)
            if f is None:
                break
            frames.append(f)
            if f.opcode == OP_CLOSE:
                c.try_send(frame(OP_CLOSE, f.payload[:2], mask=False))
                c.wait_eof(3)
                break
        c.rec['frames'] = frames
        c.rec['extra'] = bytes(c.buf)

    raw = ctx.raw_upstream(handler)
    px = {'main': ctx.proxy('--upstream', raw.uri),
          'small': ctx.proxy('--upstream', raw.uri, '--max-header-bytes', '1024')}

    def reject(name, req, status, which):
        if req is None:    # exactly one byte over the limit of 1024
            base = head(STD + [('X-Pad', '')])
            req = head(STD + [('X-Pad', 'p' * (1025 - len(base)))])
            check(len(req) == 1025, 'test bug: %d' % len(req))
        n = len(raw.conns)
        r = lib.http_exchange(px[which].port, req)
        lib.check_error_response(r, status, name)
        if status == 426:
            check('websocket' in r.tokens('Upgrade'), '426 without Upgrade: websocket (%r)' % r.headers)
        check(len(raw.conns) == n, 'the upstream was contacted for a %d' % status)

    lib.cases(REJECT, reject)

    def opened(req, port=None):
        """Send req on a raw socket, expect a 101, return (Conn, upstream record)."""
        n = len(raw.conns)
        s = lib.connect(port or px['main'].port)
        s.sendall(req)
        r, rest = lib.read_response(s)
        check(r.status == 101, 'got %d %s, want 101' % (r.status, r.reason))
        check(r.get('Sec-WebSocket-Accept') == lib.accept_for(KEY), 'bad accept %r' % r.get('Sec-WebSocket-Accept'))
        check(raw.wait_conns(n + 1, 3) == n + 1, 'no upstream connection')
        return lib.Conn(s, rest), raw.conns[n]

    def finish(c, rec, code_client=1000, code_up=1000):
        if code_client == 1000:
            c.send(frame(OP_CLOSE, lib.close_payload(1000)))
        f = c.recv_frame()
        check(f is not None and f.opcode == OP_CLOSE and f.close_code == code_client,
              'client got %r, want close %d' % (f, code_client))
        if code_client != 1000:
            c.try_send(frame(OP_CLOSE, lib.close_payload(code_client)))
        c.wait_eof(5)
        c.close()
        raw.wait_done(5)
        got = [(f.opcode, f.close_code) for f in rec.get('frames', [])]
        check(got[-1:] == [(OP_CLOSE, code_up)], 'upstream got %r, want only close %d at the end' % (got, code_up))
        return rec['frames']

    def accepted(name, req, target):
        c, rec = opened(req)
        f = finish(c, rec)
        check(rec['target'] == target, 'upstream got target %r, want %r' % (rec['target'], target))
        check(len(f) == 1, 'upstream got %r' % f)

    def after_head(name, extra, want_frames):
        c, rec = opened(n_lines(5) + extra)
        if want_frames:
            frames = finish(c, rec)
            got = [(f.opcode, f.payload) for f in frames]
            check(got[:-1] == want_frames, 'upstream got %r, want %r' % (got[:-1], want_frames))
            return
        frames = finish(c, rec, 1002, 1001)
        check(len(frames) == 1, 'upstream got more than the close: %r' % frames)
        check(not rec['extra'], 'upstream got stray bytes %r' % rec['extra'][:40])

    def upstream_head(name, nheaders, status):
        mode.update(m='many headers', n=nheaders)
        try:
            r = lib.http_exchange(px['main'].port, n_lines(5))
            if status == 101:
                check(r.status == 101, 'got %d, want 101' % r.status)
            else:
                lib.check_error_response(r, status, name)
        finally:
            mode['m'] = 'echo'
        raw.wait_done(5)

    lib.cases([
        ('exactly 100 header lines', n_lines(100), '/'),
        ('absolute-form target', head(STD, first=b'GET http://localhost/chat?x=1 HTTP/1.1'), '/chat?x=1'),
        ('absolute-form target with a port', head(STD, first=b'GET http://localhost:8080/a/b HTTP/1.1'), '/a/b'),
    ], accepted)
    lib.cases([
        ('body bytes after the head', b'hello', None),
        ('second request pipelined after the head', n_lines(5), None),
        ('frame in the same segment as the head', frame(OP_TEXT, b'early', mask=b'abcd'),
         [(OP_TEXT, b'early')]),
    ], after_head)
    lib.cases([
        ('upstream 101 with 100 header lines', 100, 101),
        ('upstream 101 with 150 header lines', 150, 502),
    ], upstream_head)


lib.run(main)
