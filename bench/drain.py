#!/usr/bin/python3
"""bench/drain.py - the measured drain of N pairs (a measurement, not a
test; tests/integration/test_drain.py is the test).

    /usr/bin/python3 bench/drain.py [N] [WSPROXY]     (default 1000 ./wsproxy)

N pairs through wsproxy to an upstream on loopback, all in one asyncio
loop.  Every client has echoed a few messages, and every one is half-way
through sending a 100 KB message (a single streamed frame) when SIGTERM
comes; a tenth of the upstreams are half-way through a fragmented message
to their client.  After the signal each side finishes its message, then
answers the close.  Prints the time from SIGTERM to wsproxy's exit, the
close codes seen, and the messages lost: in-flight messages that did not
arrive whole, and echoes that did not come back (the goal is 0).
"""
import asyncio
import base64
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
WSPROXY = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'wsproxy')
BIG = 100 * 1024


def frame(op, payload, fin=True, mask=True):
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    m = 0x80 if mask else 0
    h = struct.pack('!BB', b0, m | n) if n < 126 else struct.pack('!BBH', b0, m | 126, n) \
        if n < 65536 else struct.pack('!BBQ', b0, m | 127, n)
    if not mask:
        return h + payload
    key = os.urandom(4)
    a = int.from_bytes(payload, 'little') if payload else 0
    k = int.from_bytes((key * (n // 4 + 1))[:n], 'little') if n else 0
    return h + key + ((a ^ k).to_bytes(n, 'little') if n else b'')


async def read_frame(r):
    h = await r.readexactly(2)
    n = h[1] & 0x7f
    if n == 126:
        n = struct.unpack('!H', await r.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack('!Q', await r.readexactly(8))[0]
    key = await r.readexactly(4) if h[1] & 0x80 else None
    p = await r.readexactly(n)
    if key:
        a = int.from_bytes(p, 'little') if p else 0
        k = int.from_bytes((key * (n // 4 + 1))[:n], 'little') if n else 0
        p = (a ^ k).to_bytes(n, 'little') if n else b''
    return h[0] & 0x80, h[0] & 0x0f, p


stats = {'up_whole': 0, 'up_close': {}, 'cl_close': {}, 'echo_lost': 0, 'down_whole': 0,
         'errors': []}
signalled = None


async def upstream(r, w):
    head = await r.readuntil(b'\r\n\r\n')
    key = [l.split(b':', 1)[1].strip() for l in head.split(b'\r\n')
           if l.lower().startswith(b'sec-websocket-key:')][0]
    import hashlib
    acc = base64.b64encode(hashlib.sha1(key + b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest())
    w.write(b'HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            b'Sec-WebSocket-Accept: ' + acc + b'\r\n\r\n')
    parts = []
    try:
        while True:
            fin, op, p = await read_frame(r)
            if op == 8:
                code = struct.unpack('!H', p[:2])[0] if len(p) >= 2 else None
                stats['up_close'][code] = stats['up_close'].get(code, 0) + 1
                w.write(frame(8, p[:2], mask=False))
                await w.drain()
                break
            parts.append(p)
            if not fin:
                continue
            m = b''.join(parts)
            parts = []
            if m.startswith(b'echo'):
                w.write(frame(1, m, mask=False))
            elif m == b'SEND-HALF':
                w.write(frame(1, b'first-half ', fin=False, mask=False))
                await w.drain()
                await signalled.wait()
                w.write(frame(0, b'second-half', mask=False))
            elif len(m) == BIG and m == bytes([m[0]]) * BIG:
                stats['up_whole'] += 1
    except asyncio.IncompleteReadError:
        stats['errors'].append('upstream: EOF without close')
    w.close()


async def client(i, port):
    r, w = await asyncio.open_connection('127.0.0.1', port, limit=1 << 20)
    key = base64.b64encode(os.urandom(16))
    w.write(b'GET /p%d HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            b'Sec-WebSocket-Key: ' % i + key + b'\r\nSec-WebSocket-Version: 13\r\n\r\n')
    head = await r.readuntil(b'\r\n\r\n')
    assert b' 101 ' in head.split(b'\r\n')[0], head
    for k in range(3):
        w.write(frame(1, b'echo %d %d' % (i, k)))
        fin, op, p = await read_frame(r)
        if p != b'echo %d %d' % (i, k):
            stats['echo_lost'] += 1
    down = i % 10 == 0
    if down:
        w.write(frame(1, b'SEND-HALF'))
        fin, op, p = await read_frame(r)
        assert p == b'first-half ' and not fin
    whole = frame(2, bytes([i % 256]) * BIG)
    w.write(whole[:BIG // 2])
    await w.drain()
    return r, w, whole[BIG // 2:], down


async def finish(r, w, rest, down):
    await signalled.wait()
    w.write(rest)
    await w.drain()
    parts = [b'first-half '] if down else []    # read before the signal
    try:
        while True:
            fin, op, p = await read_frame(r)
            if op == 8:
                code = struct.unpack('!H', p[:2])[0] if len(p) >= 2 else None
                stats['cl_close'][code] = stats['cl_close'].get(code, 0) + 1
                w.write(frame(8, p[:2]))
                await w.drain()
                await r.read()
                break
            parts.append(p)
            if fin and b''.join(parts) == b'first-half second-half':
                stats['down_whole'] += 1
            if fin:
                parts = []
    except (asyncio.IncompleteReadError, ConnectionResetError) as e:
        stats['errors'].append('client: %s' % e)
    w.close()


async def main():
    global signalled
    signalled = asyncio.Event()
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    srv = await asyncio.start_server(upstream, '127.0.0.1', 0, backlog=2048, limit=1 << 20)
    uport = srv.sockets[0].getsockname()[1]
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    import tempfile
    logf = tempfile.TemporaryFile()
    px = subprocess.Popen([WSPROXY, '--listen', '127.0.0.1:%d' % port, '--upstream',
                           'ws://127.0.0.1:%d' % uport, '--max-conns', str(N + 100)],
                          stderr=logf)
    await asyncio.sleep(0.5)
    conns = []
    for start in range(0, N, 100):
        conns += await asyncio.gather(*[client(i, port) for i in range(start, min(N, start + 100))])
    await asyncio.sleep(0.5)
    t0 = time.time()
    px.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.05)
    signalled.set()
    await asyncio.gather(*[finish(*c) for c in conns])
    while px.poll() is None and time.time() - t0 < 60:
        await asyncio.sleep(0.01)
    took = time.time() - t0
    logf.seek(0)
    err = logf.read().decode()
    lost = (N - stats['up_whole']) + (N // 10 - stats['down_whole']) + stats['echo_lost']
    print('pairs=%d drain_s=%.3f exit=%s in_flight_up_whole=%d/%d in_flight_down_whole=%d/%d'
          ' echo_lost=%d lost=%d client_close=%s upstream_close=%s errors=%d'
          % (N, took, px.returncode, stats['up_whole'], N, stats['down_whole'], N // 10,
             stats['echo_lost'], lost, stats['cl_close'], stats['up_close'],
             len(stats['errors'])))
    print([l for l in err.splitlines() if 'drained' in l or 'drain ' in l])
    srv.close()


asyncio.run(main())
