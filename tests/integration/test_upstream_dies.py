#!/usr/bin/python3
"""wsproxy(1) RELAYING lifecycle: the upstream connection ends or fails without a close
frame -> the client gets close 1014, then the connection is closed.  A
partial small frame is not forwarded (frames that fit the buffer go out
only when complete).  Dying inside a large streamed frame leaves the
client without a close frame: its connection is just closed."""
import socket
import struct
import time
import lib
from lib import check, frame, OP_TEXT, OP_BINARY, OP_CLOSE


def main(ctx):
    mode = {}

    def h(c):
        c.handshake()
        f = c.recv_frame()
        check(f and f.payload == b'go', 'upstream expected go, got %r' % f)
        m = mode['m']
        if m == 'after message':
            c.send(frame(OP_TEXT, b'last words', mask=False))
        elif m == 'mid small frame':
            c.send(frame(OP_TEXT, b'complete', mask=False))
            c.send(frame(OP_BINARY, b'0123456789' * 10, mask=False)[:12])
        elif m == 'mid header':
            c.send(frame(OP_BINARY, b'y' * 300, mask=False)[:3])
        elif m == 'inside fragmented message':
            c.send(frame(OP_TEXT, b'first part ', fin=False, mask=False))
        elif m == 'reset':
            c.send(frame(OP_TEXT, b'before reset', mask=False))
            time.sleep(0.1)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        elif m == 'inside streamed frame':
            c.send(frame(OP_BINARY, b'', mask=False, length=16 << 20))
            c.send(b'\x00' * (2 << 20))
        time.sleep(0.1)
        c.close()

    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri)
    expect = {
        'after message': [(OP_TEXT, b'last words')],
        'mid small frame': [(OP_TEXT, b'complete')],
        'mid header': [],
        'inside fragmented message': [(OP_TEXT, b'first part ')],
        'reset': [(OP_TEXT, b'before reset')],
        'silent': [],
    }
    for m, frames in expect.items():
        mode['m'] = m
        c = lib.RawClient(px.port, '/')
        c.send(frame(OP_TEXT, b'go'))
        for op, p in frames:
            f = c.recv_frame()
            check(f is not None and (f.opcode, f.payload) == (op, p), '%s: got %r before the close' % (m, f))
        f = c.recv_frame()
        check(f is not None, '%s: connection closed without a close frame' % m)
        check(f.opcode == OP_CLOSE and f.close_code == 1014 and not f.masked,
              '%s: got %r, want close 1014' % (m, f))
        c.try_send(frame(OP_CLOSE, lib.close_payload(1014)))
        c.wait_eof(3)
        c.close()
    raw.wait_done(5)

    # dying inside a large streamed frame: no close frame possible, the client's TCP connection is closed
    mode['m'] = 'inside streamed frame'
    c = lib.RawClient(px.port, '/')
    c.send(frame(OP_TEXT, b'go'))
    try:
        f = c.recv_frame(10)
        check(False, 'inside streamed frame: got a whole frame %r' % f)
    except lib.Fail as e:
        check('EOF inside a frame' in str(e), 'inside streamed frame: %s' % e)
    c.close()
    raw.wait_done(5)

    # python3-websockets client sees 1014
    mode['m'] = 'after message'
    import asyncio

    async def go():
        async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port) as ws:
            await ws.send('go')
            check(await ws.recv() == 'last words', 'message before the death')
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except Exception:  # noqa
                pass
            await ws.wait_closed()
            return ws.close_code
    code = lib.arun(go(), 10)
    check(code == 1014, 'websockets client saw close code %s, want 1014' % code)
    raw.wait_done(5)


lib.run(main)
