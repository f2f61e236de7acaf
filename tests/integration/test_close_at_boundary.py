#!/usr/bin/python3
"""wsproxy(1) RELAYING: frames wsproxy sends itself (closes) are only put between
frames, never inside one; a side dying inside a large streamed frame
leaves the other without a close frame (its TCP connection is closed).
The client breaks a rule while the upstream is half-way through a 4 MiB
frame to it: what the client receives must still be well-formed frames
(the whole frame then a close, or a bare TCP close) -- never close bytes
inside the payload.  Likewise towards the upstream when the client dies
mid-frame."""
import threading
import time
import lib
from lib import check, frame, OP_BINARY, OP_CLOSE, OP_TEXT

BIG = 4 << 20


def main(ctx):
    box = {}
    ready = threading.Event()
    finish = threading.Event()

    def h(c):
        c.handshake()
        box['up'] = c
        ready.set()
        finish.wait(30)
    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri)

    # 1. upstream streaming to the client; the client breaks a rule mid-way
    c = lib.RawClient(px.port, '/')
    check(ready.wait(5), 'upstream not connected')
    u = box['up']
    payload = b'A' * BIG
    f = frame(OP_BINARY, payload, mask=False)
    u.send(f[:len(f) // 2])
    time.sleep(0.3)
    c.send(frame(OP_TEXT, b'bad', mask=False))   # unmasked: 1002 due to the client
    time.sleep(0.2)
    try:
        u.sock.settimeout(5)
        u.sock.sendall(f[len(f) // 2:])          # the proxy may or may not take the rest
    except OSError:
        pass
    frames = []
    err = None
    try:
        while True:
            g = c.recv_frame(5)
            if g is None:
                break
            frames.append(g)
            if g.opcode == OP_CLOSE:
                break
    except lib.Fail as e:
        err = str(e)
    if frames and frames[0].opcode == OP_BINARY:
        check(frames[0].payload == payload, 'client frame payload altered (close bytes inside a frame?)')
        check(len(frames) == 2 and frames[1].opcode == OP_CLOSE and frames[1].close_code == 1002,
              'after the whole frame the client got %r, want close 1002' % frames[1:])
    else:
        # the frame was cut: then no close frame can follow, only EOF
        check(not frames, 'client got %r' % frames)
        check(err and 'EOF inside a frame' in err, 'client: %s' % err)
        check(b'\x88' not in bytes(c.buf), 'close frame bytes inside the payload')
    c.try_send(frame(OP_CLOSE, lib.close_payload(1002)))
    c.wait_eof(5)
    c.close()
    # what the upstream sees: a masked close 1001, then EOF (or EOF only)
    while True:
        try:
            g = u.recv_frame(5)
        except lib.Fail:
            g = None
        if g is None or g.opcode == OP_CLOSE:
            break
    if g is not None:
        check(g.masked and g.close_code == 1001, 'upstream got %r, want masked close 1001' % g)
        u.try_send(frame(OP_CLOSE, g.payload, mask=False))
    u.wait_eof(5)
    finish.set()
    raw.wait_done(5)

    # 2. the client dies inside a large streamed frame: the upstream gets the prefix then EOF,
    #    with no close frame spliced in
    ready.clear()
    finish.clear()
    c = lib.RawClient(px.port, '/')
    check(ready.wait(5), 'upstream not connected (2)')
    u = box['up']
    key = b'\x00\x00\x00\x00'   # zero mask: payload bytes appear as sent
    f = frame(OP_BINARY, b'B' * BIG, mask=key)
    c.send(f[:len(f) // 2])
    time.sleep(0.3)
    c.close()
    try:
        g = u.recv_frame(5)
        check(False, 'upstream got a whole frame %r' % g)
    except lib.Fail as e:
        check('EOF inside a frame' in str(e), 'upstream: %s' % e)
    data = bytes(u.buf)
    check(data[:14] == f[:14], 'frame header altered')
    check(set(data[14:]) <= {ord('B')}, 'foreign bytes inside the streamed payload: %r' %
          sorted(set(data[14:]) - {ord('B')})[:5])
    finish.set()
    raw.wait_done(5)


lib.run(main)
