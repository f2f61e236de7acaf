#!/usr/bin/python3
"""wsproxy(1) RELAYING: fragmented messages with pings interleaved between their frames
pass through (frames forwarded as they are, in order); ping and pong pass
end to end.  Raw client -> python3-websockets upstream (which reassembles
and answers the pings), and raw upstream -> raw client (frame sequence
checked exactly)."""
import lib
from lib import check, frame, OP_TEXT, OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_CLOSE


def main(ctx):
    up = ctx.ws_upstream(compression=None)
    px = ctx.proxy('--upstream', up.uri)
    c = lib.RawClient(px.port, '/')
    c.send(frame(OP_TEXT, b'hel', fin=False))
    c.send(frame(OP_PING, b'p1'))
    c.send(frame(OP_CONT, b'lo ', fin=False))
    c.send(frame(OP_PING, b'p2'))
    c.send(frame(OP_CONT, b'', fin=False))
    c.send(frame(OP_PONG, b'unsolicited'))
    c.send(frame(OP_CONT, b'world'))
    got = [c.recv_frame() for _ in range(3)]
    check([(f.opcode, f.payload) for f in got] == [(OP_PONG, b'p1'), (OP_PONG, b'p2'), (OP_TEXT, b'hello world')],
          'client got %r, want pong p1, pong p2, text "hello world"' % got)
    # binary message in 200 one-byte fragments with a ping every 50
    parts = [bytes([i]) for i in range(200)]
    for i, p in enumerate(parts):
        op = OP_BINARY if i == 0 else OP_CONT
        c.send(frame(op, p, fin=(i == 199)))
        if i % 50 == 25:
            c.send(frame(OP_PING, b'x%d' % i))
    got = [c.recv_frame() for _ in range(5)]
    pongs = [f.payload for f in got if f.opcode == OP_PONG]
    msgs = [f.payload for f in got if f.opcode == OP_BINARY]
    check(pongs == [b'x25', b'x75', b'x125', b'x175'], 'pongs %r' % pongs)
    check(msgs == [bytes(range(200))], 'binary message %r' % msgs)
    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    c.expect_close(1000)
    c.close()
    up.wait_done(1, 3)
    msgs = up.conns[0]['messages']
    check(msgs == ['hello world', bytes(range(200))], 'upstream got %r' % msgs)

    # upstream -> client: exact frame sequence preserved, pings from the upstream reach the client
    seq = [frame(OP_TEXT, b'frag-1 ', fin=False, mask=False),
           frame(OP_PING, b'up-ping', mask=False),
           frame(OP_CONT, b'frag-2 ', fin=False, mask=False),
           frame(OP_PONG, b'up-pong', mask=False),
           frame(OP_CONT, b'x' * 70000, fin=False, mask=False),
           frame(OP_PING, b'', mask=False),
           frame(OP_CONT, b'end', mask=False)]

    def h(conn):
        conn.handshake()
        f = conn.recv_frame()
        check(f.payload == b'go', 'upstream got %r' % f)
        for s in seq:
            conn.send(s)
        f = conn.recv_frame()
        check(f and f.opcode == OP_PONG and f.payload == b'up-ping' and f.masked,
              'upstream wanted the client\'s pong, got %r' % f)
        f = conn.recv_frame()
        check(f and f.opcode == OP_PONG and f.payload == b'' and f.masked, 'second pong %r' % f)
        conn.expect_close(1000)
    raw = ctx.raw_upstream(h)
    px2 = ctx.proxy('--upstream', raw.uri)
    c = lib.RawClient(px2.port, '/')
    c.send(frame(OP_TEXT, b'go'))
    want = [(OP_TEXT, False, b'frag-1 '), (OP_PING, True, b'up-ping'), (OP_CONT, False, b'frag-2 '),
            (OP_PONG, True, b'up-pong'), (OP_CONT, False, b'x' * 70000), (OP_PING, True, b''),
            (OP_CONT, True, b'end')]
    for i, w in enumerate(want):
        f = c.recv_frame()
        check(f is not None and (f.opcode, f.fin, f.payload) == w and not f.masked,
              'frame %d from upstream: got %r, want op=%d fin=%d len=%d' % (i, f, w[0], w[1], len(w[2])))
        if f.opcode == OP_PING:
            c.send(frame(OP_PONG, f.payload))
    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    c.expect_close(1000)
    c.close()
    raw.wait_done(5)


lib.run(main)
