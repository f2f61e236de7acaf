#!/usr/bin/python3
"""wsproxy(1) RELAYING: a flood of tiny frames (20000 per direction, written in large
batches) is relayed completely and in order, each frame intact."""
import struct
import threading
import lib
from lib import check, frame, OP_BINARY, OP_CLOSE

N = 20000


def main(ctx):
    def h(c):
        c.handshake()
        for i in range(N):
            f = c.recv_frame(20)
            check(f is not None and f.payload == struct.pack('!I', i), 'upstream frame %d: %r' % (i, f))
        c.rec['in'] = True
        out = b''.join(frame(OP_BINARY, struct.pack('!I', i) + b'u' * (i % 7), mask=False) for i in range(N))
        c.sock.sendall(out)
        c.expect_close(1000)
        c.rec['ok'] = True
    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri)
    c = lib.RawClient(px.port, '/')
    data = b''.join(frame(OP_BINARY, struct.pack('!I', i), mask=b'\x01\x02\x03\x04') for i in range(N))
    t = threading.Thread(target=lambda: c.sock.sendall(data), daemon=True)
    t.start()
    for i in range(N):
        f = c.recv_frame(20)
        check(f is not None and f.payload == struct.pack('!I', i) + b'u' * (i % 7), 'client frame %d: %r' % (i, f))
    t.join(5)
    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    f = c.recv_frame()
    check(f is not None and f.opcode == OP_CLOSE, 'close %r' % f)
    c.wait_eof()
    c.close()
    raw.wait_done(10)
    check(raw.conns[0].get('ok'), 'upstream did not finish')


lib.run(main)
