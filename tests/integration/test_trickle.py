#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE-4 incremental parsing: a client request head, an upstream
response head and frames in both directions delivered one byte at a time
are all handled (parsers resume at any byte)."""
import time
import lib
from lib import check, frame, OP_TEXT, OP_BINARY, OP_PING, OP_PONG, OP_CLOSE


def trickle(sock, data, delay=0.001):
    for i in range(len(data)):
        sock.sendall(data[i:i + 1])
        time.sleep(delay)


def main(ctx):
    def h(c):
        req = c.read_request()
        key = req.get('Sec-WebSocket-Key')
        head = ('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                'Sec-WebSocket-Accept: %s\r\nX-Extra: %s\r\n\r\n' % (lib.accept_for(key), 'e' * 50)).encode()
        trickle(c.sock, head)
        for want in [(OP_TEXT, b'a' * 10), (OP_BINARY, b'b' * 300), (OP_PING, b'p'), (OP_BINARY, b'c' * 70000)]:
            f = c.recv_frame()
            check(f is not None and (f.opcode, f.payload) == want, 'upstream got %r' % f)
        trickle(c.sock, frame(OP_TEXT, b'x' * 10, mask=False) + frame(OP_BINARY, b'y' * 300, mask=False) +
                frame(OP_PONG, b'p', mask=False))
        c.sock.sendall(frame(OP_BINARY, b'z' * 70000, mask=False)[:4])
        time.sleep(0.05)
        trickle(c.sock, frame(OP_BINARY, b'z' * 70000, mask=False)[4:12])
        c.sock.sendall(frame(OP_BINARY, b'z' * 70000, mask=False)[12:])
        c.expect_close(1000)
        c.rec['ok'] = True
    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri)
    s = lib.connect(px.port)
    key = lib.ws_key()
    trickle(s, lib.upgrade_request('/', key=key, headers=[('X-Long', 'l' * 100)]))
    r, rest = lib.read_response(s, 10)
    check(r.status == 101, 'trickled request got %d' % r.status)
    check(r.get('Sec-WebSocket-Accept') == lib.accept_for(key), 'accept %r' % r.get('Sec-WebSocket-Accept'))
    c = lib.Conn(s, rest)
    trickle(s, frame(OP_TEXT, b'a' * 10) + frame(OP_BINARY, b'b' * 300) + frame(OP_PING, b'p'))
    big = frame(OP_BINARY, b'c' * 70000)
    trickle(s, big[:14])
    s.sendall(big[14:])
    for want in [(OP_TEXT, b'x' * 10), (OP_BINARY, b'y' * 300), (OP_PONG, b'p'), (OP_BINARY, b'z' * 70000)]:
        f = c.recv_frame(10)
        check(f is not None and (f.opcode, f.payload) == want and not f.masked, 'client got %r' % f)
    trickle(s, frame(OP_CLOSE, lib.close_payload(1000, 'trickled')))
    f = c.recv_frame()
    check(f is not None and f.opcode == OP_CLOSE and f.close_code == 1000, 'close %r' % f)
    c.wait_eof()
    s.close()
    raw.wait_done(10)
    check(raw.conns[0].get('ok'), 'upstream did not finish')


lib.run(main)
