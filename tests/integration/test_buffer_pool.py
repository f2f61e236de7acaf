#!/usr/bin/python3
"""wsproxy(1) RELAYING backpressure / wsproxy(1) LIMITS bounded buffer pool: 200 pairs whose
upstreams all push 2 MiB at once to clients that do not read for 2 s
(every pair has bytes in flight, so the pool runs dry): no pair is closed
or corrupted, every client then receives all its bytes in order, and the
proxy's RSS stays bounded (< +128 MiB for 400 MiB pushed)."""
import os
import threading
import time
import lib
from lib import check, frame, OP_TEXT, OP_BINARY, OP_CLOSE

N = 200
CHUNK = 64 * 1024
CHUNKS = 32
LIMIT_KIB = 128 * 1024


def main(ctx):
    async def pusher(ws, rec):
        await ws.recv()
        tag = int(ws.path[1:])
        for k in range(CHUNKS):
            await ws.send(bytes([(tag + k) & 0xff]) * CHUNK)
        await ws.send('end')
        try:
            await ws.recv()
        except Exception:  # noqa
            pass
    up = ctx.ws_upstream(pusher, compression=None)
    px = ctx.proxy('--upstream', up.uri)
    base = lib.rss_kib(px.pid)
    clients = [lib.RawClient(px.port, '/%d' % i) for i in range(N)]
    for c in clients:
        c.send(frame(OP_TEXT, b'go'))
    peak = base
    end = time.time() + 2.0
    while time.time() < end:
        peak = max(peak, lib.rss_kib(px.pid))
        time.sleep(0.05)
    errors = []

    def reader(i, c):
        try:
            for k in range(CHUNKS):
                f = c.recv_frame(30)
                if f is None or f.opcode != OP_BINARY or f.payload != bytes([(i + k) & 0xff]) * CHUNK:
                    errors.append('pair %d chunk %d: %r' % (i, k, f))
                    return
            f = c.recv_frame(30)
            if f is None or f.payload != b'end':
                errors.append('pair %d: end %r' % (i, f))
                return
            c.send(frame(OP_CLOSE, lib.close_payload(1000)))
            while True:
                f = c.recv_frame(10)
                if f is None or f.opcode == OP_CLOSE:
                    break
            c.wait_eof(10)
        except Exception as e:  # noqa
            errors.append('pair %d: %s' % (i, e))
    threads = [threading.Thread(target=reader, args=(i, c), daemon=True) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak = max(peak, lib.rss_kib(px.pid))
        time.sleep(0.05)
        if time.time() > end + 60:
            break
    check(not any(t.is_alive() for t in threads), 'readers still running after 60 s')
    check(not errors, '%d pairs failed, e.g. %s' % (len(errors), errors[0] if errors else ''))
    lib.log('peak RSS growth %d KiB for %d pairs x %d MiB' % (peak - base, N, CHUNK * CHUNKS >> 20))
    if 'asan' not in os.path.basename(lib.WSPROXY):
        check(peak - base < LIMIT_KIB, 'proxy RSS grew by %d KiB' % (peak - base))
    for c in clients:
        c.close()
    up.wait_done(N, 10)


lib.run(main)
