#!/usr/bin/python3
"""wsproxy(1) RELAYING: wsproxy never holds a whole message: a frame that fits its
buffer is forwarded once complete (not before), a large frame (4 MiB) is
streamed as its bytes arrive, and each fragment of a message is forwarded
before the message is finished.  Both directions, raw peers."""
import socket
import threading
import time
import lib
from lib import check, frame, OP_TEXT, OP_BINARY, OP_CONT, OP_CLOSE

BIG = 4 << 20


def recv_some(sock, timeout):
    """Bytes that arrive within timeout (b'' if none)."""
    sock.settimeout(timeout)
    got = b''
    end = time.time() + timeout
    while time.time() < end:
        try:
            sock.settimeout(max(0.01, end - time.time()))
            d = sock.recv(1 << 20)
            if not d:
                break
            got += d
        except socket.timeout:
            break
    return got


def main(ctx):
    box = {}
    ready = threading.Event()
    go_on = threading.Event()

    def h(c):
        c.handshake()
        box['up'] = c
        ready.set()
        go_on.wait(30)
    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri)
    c = lib.RawClient(px.port, '/')
    check(ready.wait(5), 'upstream not connected')
    u = box['up']
    # client -> upstream
    # 1. small frame: nothing forwarded until complete
    f = frame(OP_TEXT, b'0123456789' * 100)
    c.send(f[:500])
    got = recv_some(u.sock, 0.3)
    check(got == b'', 'upstream got %d bytes of an incomplete 1000-byte frame' % len(got))
    c.send(f[500:])
    u.buf += recv_some(u.sock, 0.3)
    g = u.recv_frame(3)
    check(g is not None and g.payload == b'0123456789' * 100, 'small frame: %r' % g)
    # 2. large frame streamed: most of the first half arrives before the second half is sent
    payload = bytes(range(256)) * (BIG // 256)
    f = frame(OP_BINARY, payload)
    half = len(f) // 2
    c.send(f[:half])
    got = recv_some(u.sock, 1.0)
    check(len(got) >= half // 2, 'upstream got only %d of the first %d bytes of a 4 MiB frame: not streamed' %
          (len(got), half))
    u.buf += got
    c.send(f[half:])
    g = u.recv_frame(10)
    check(g is not None and g.payload == payload and g.masked, 'large frame differs after streaming')
    # 3. fragments forwarded before the message ends
    c.send(frame(OP_TEXT, b'part-1', fin=False))
    u.buf += recv_some(u.sock, 0.5)
    g = u.recv_frame(0.1)
    check(g is not None and g.payload == b'part-1' and not g.fin, 'first fragment not forwarded on its own: %r' % g)
    c.send(frame(OP_CONT, b'part-2'))
    g = u.recv_frame(3)
    check(g is not None and g.opcode == OP_CONT and g.payload == b'part-2' and g.fin, 'last fragment %r' % g)

    # upstream -> client
    f = frame(OP_TEXT, b'abcdefghij' * 100, mask=False)
    u.send(f[:700])
    got = recv_some(c.sock, 0.3)
    check(got == b'', 'client got %d bytes of an incomplete 1000-byte frame' % len(got))
    u.send(f[700:])
    g = c.recv_frame(3)
    check(g is not None and g.payload == b'abcdefghij' * 100, 'small frame to client: %r' % g)
    f = frame(OP_BINARY, payload, mask=False)
    half = len(f) // 2
    u.send(f[:half])
    got = recv_some(c.sock, 1.0)
    check(len(got) >= half // 2, 'client got only %d of the first %d bytes of a 4 MiB frame: not streamed' %
          (len(got), half))
    c.buf += got
    u.send(f[half:])
    g = c.recv_frame(10)
    check(g is not None and g.payload == payload and not g.masked, 'large frame to client differs')
    u.send(frame(OP_BINARY, b'frag-a', fin=False, mask=False))
    g = c.recv_frame(1)
    check(g is not None and g.payload == b'frag-a' and not g.fin, 'first fragment to client %r' % g)
    u.send(frame(OP_CONT, b'frag-b', mask=False))
    g = c.recv_frame(3)
    check(g is not None and g.payload == b'frag-b' and g.fin, 'last fragment to client %r' % g)

    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    g = u.recv_frame(3)
    check(g is not None and g.opcode == OP_CLOSE and g.close_code == 1000, 'close to upstream %r' % g)
    u.send(frame(OP_CLOSE, lib.close_payload(1000), mask=False))
    g = c.recv_frame(3)
    check(g is not None and g.opcode == OP_CLOSE, 'close to client %r' % g)
    c.wait_eof()
    u.wait_eof()
    c.close()
    go_on.set()
    raw.wait_done(5)


lib.run(main)
