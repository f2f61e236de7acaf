#!/usr/bin/python3
"""wsproxy(1) RELAYING lifecycle: the client connection ends without a close frame ->
the upstream gets a masked close 1001 (python3-websockets upstream sees
1001; a raw upstream checks the masking), also when the client dies
mid-frame, inside a fragmented message, or with a reset."""
import socket
import struct
import time
import lib
from lib import check, frame, OP_TEXT, OP_BINARY


def vanish(c, how):
    if how == 'mid frame':
        c.send(frame(OP_BINARY, b'z' * 100)[:20])
    elif how == 'mid header':
        c.send(frame(OP_BINARY, b'z' * 300)[:3])
    elif how == 'inside fragmented message':
        c.send(frame(OP_TEXT, b'part one', fin=False))
    elif how == 'reset':
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    elif how == 'half-close':
        c.sock.shutdown(socket.SHUT_WR)
        time.sleep(0.3)
    time.sleep(0.05)
    c.close()


HOWS = ['plain close', 'mid frame', 'mid header', 'inside fragmented message', 'reset', 'half-close']


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri)
    for i, how in enumerate(HOWS):
        c = lib.RawClient(px.port, '/')
        c.send(frame(OP_TEXT, b'hello'))
        f = c.recv_frame()
        check(f and f.payload == b'hello', '%s: no echo' % how)
        vanish(c, how)
        up.wait_done(i + 1, 5)
        rec = up.conns[i]
        check(rec['close_code'] == 1001, 'client vanished (%s): upstream got close code %s, want 1001' %
              (how, rec['close_code']))
        check(rec['messages'] == ['hello'], '%s: upstream got %r' % (how, rec['messages']))

    # raw upstream: the close is masked, has code 1001, comes at a frame boundary
    def h(c):
        c.handshake()
        f = c.recv_frame()
        check(f and f.payload == b'hello' and f.masked, 'upstream got %r' % f)
        c.expect_close(1001, what='raw upstream after the client vanished')
        c.rec['ok'] = True
    raw = ctx.raw_upstream(h)
    px2 = ctx.proxy('--upstream', raw.uri)
    for i, how in enumerate(['plain close', 'mid frame', 'reset']):
        c = lib.RawClient(px2.port, '/')
        c.send(frame(OP_TEXT, b'hello'))
        time.sleep(0.1)
        vanish(c, how)
        raw.wait_done(5)
        check(raw.conns[i].get('ok'), '%s: raw upstream did not get its close' % how)


lib.run(main)
