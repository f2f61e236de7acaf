#!/usr/bin/python3
"""wsproxy(1) LIMITS: the slab of --max-conns slots is reused: with --max-conns 2,
hundreds of sequential pairs ending in every way (normal close, client
vanishing, upstream vanishing, protocol error, rejected handshake) each
get a working slot, and no fd is leaked."""
import socket
import struct
import time
import lib
from lib import check, frame, OP_TEXT, OP_CLOSE

ROUNDS = 60


def get_client(port, path='/'):
    """A RawClient, retrying briefly on 503 while the previous pair's slot is released."""
    end = time.time() + 3
    while True:
        c = lib.RawClient(port, path, expect=None)
        if c.response.status == 101:
            return c
        c.close()
        check(c.response.status == 503, 'got %d' % c.response.status)
        check(time.time() < end, 'slot not released within 3 s (503)')
        time.sleep(0.02)


def main(ctx):
    def h(c):
        c.handshake()
        while True:
            f = c.recv_frame(10)
            if f is None:
                return
            if f.opcode == OP_CLOSE:
                c.try_send(frame(OP_CLOSE, f.payload, mask=False))
                c.wait_eof(5)
                return
            if f.payload == b'die':
                c.close()
                return
            c.send(frame(f.opcode, f.payload, mask=False))
    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri, '--max-conns', '2')
    kinds = ['normal', 'vanish', 'upstream-dies', 'violation', 'reset', 'bad-request']
    for r in range(ROUNDS):
        kind = kinds[r % len(kinds)]
        if kind == 'bad-request':
            resp = lib.http_exchange(px.port, lib.upgrade_request('/', version='8'))
            check(resp.status in (426, 503), 'round %d: bad request got %d' % (r, resp.status))
            continue
        c = get_client(px.port)
        c.send(frame(OP_TEXT, b'round %d' % r))
        f = c.recv_frame()
        check(f is not None and f.payload == b'round %d' % r, 'round %d (%s): echo %r' % (r, kind, f))
        if kind == 'normal':
            c.send(frame(OP_CLOSE, lib.close_payload(1000)))
            c.expect_close(1000)
        elif kind == 'vanish':
            pass
        elif kind == 'reset':
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        elif kind == 'upstream-dies':
            c.send(frame(OP_TEXT, b'die'))
            c.expect_close(1014)
        elif kind == 'violation':
            c.send(frame(OP_TEXT, b'x', mask=False))
            c.expect_close(1002)
        c.close()
    # both slots usable at once at the end
    a = get_client(px.port)
    b = get_client(px.port)
    for c in (a, b):
        c.send(frame(OP_TEXT, b'end'))
        f = c.recv_frame()
        check(f is not None and f.payload == b'end', 'final echo %r' % f)
    r = lib.http_exchange(px.port, lib.upgrade_request('/'))
    check(r.status == 503, 'third client with 2 slots busy got %d' % r.status)
    for c in (a, b):
        c.send(frame(OP_CLOSE, lib.close_payload(1000)))
        c.expect_close(1000)
        c.close()
    raw.wait_done(5)


lib.run(main)
