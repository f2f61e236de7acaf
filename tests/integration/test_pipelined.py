#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE, RELAYING: bytes that arrive together with a handshake head are not lost
and keep their order: frames a client sends right after its request (same
packet, before its 101) reach the upstream after the upgrade; frames an
upstream sends in the same packet as its 101 reach the client after the
client's 101."""
import lib
from lib import check, frame, OP_TEXT, OP_BINARY, OP_CLOSE


def main(ctx):
    def h(c):
        c.read_request()
        c.send_101()
        for want in [b'first', b'second' * 1000]:
            f = c.recv_frame()
            check(f is not None and f.payload == want and f.masked, 'upstream got %r, want %r' % (f, want[:20]))
        c.send(frame(OP_TEXT, b'reply', mask=False))
        c.expect_close(1000)
    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri)
    s = lib.connect(px.port)
    key = lib.ws_key()
    s.sendall(lib.upgrade_request('/', key=key) + frame(OP_TEXT, b'first') + frame(OP_BINARY, b'second' * 1000))
    r, rest = lib.read_response(s)
    check(r.status == 101, 'pipelined request got %d' % r.status)
    c = lib.Conn(s, rest)
    f = c.recv_frame()
    check(f is not None and f.payload == b'reply', 'client got %r' % f)
    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    f = c.recv_frame()
    check(f is not None and f.opcode == OP_CLOSE, 'close echo %r' % f)
    c.wait_eof()
    c.close()
    raw.wait_done(5)

    # upstream: 101 and frames in one write
    def h2(c):
        req = c.read_request()
        key2 = req.get('Sec-WebSocket-Key')
        head = ('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                'Sec-WebSocket-Accept: %s\r\n\r\n' % lib.accept_for(key2)).encode()
        c.send(head + frame(OP_TEXT, b'hello early', mask=False) + frame(OP_BINARY, b'\x00' * 70000, mask=False))
        c.expect_close(1000)
    raw2 = ctx.raw_upstream(h2)
    px2 = ctx.proxy('--upstream', raw2.uri)
    c = lib.RawClient(px2.port, '/')
    f = c.recv_frame()
    check(f is not None and f.payload == b'hello early', 'client got %r, want the frame sent with the 101' % f)
    f = c.recv_frame()
    check(f is not None and f.payload == b'\x00' * 70000, 'client got %r, want the 70000-byte frame' % f)
    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    c.expect_close(1000)
    c.close()
    raw2.wait_done(5)


lib.run(main)
