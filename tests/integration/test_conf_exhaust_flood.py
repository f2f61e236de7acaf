#!/usr/bin/python3
"""Exhaustion (issue 4): a client that never reads while its upstream
floods it.  wsproxy stops reading that upstream (backpressure), its RSS
stays flat (bounded by the pair's buffers), and the other pairs through
the same proxy keep their latency: echo round trips measured before and
during the flood are compared.  Then the flooded client resets and
everything is released."""
import asyncio
import socket
import statistics
import struct
import threading
import time
import lib
from lib import check

MSG = 256 * 1024


def main(ctx):
    lib.skip_under_valgrind()
    state = {'sent': 0}

    async def handler(ws, rec):
        if ws.path == '/flood':
            await ws.recv()
            blob = b'f' * MSG
            while True:
                await ws.send(blob)
                state['sent'] += 1
        else:
            async for m in ws:
                await ws.send(m)
    up = ctx.ws_upstream(handler, compression=None, write_limit=1 << 16)
    px = ctx.proxy('--upstream', up.uri)

    async def latencies(n_clients=5, rounds=60):
        out = []

        async def one(i):
            async with lib.ws_connect('ws://127.0.0.1:%d/echo%d' % (px.port, i), compression=None) as ws:
                for r in range(rounds):
                    t0 = time.perf_counter()
                    await ws.send(b'%d-%d' % (i, r))
                    await asyncio.wait_for(ws.recv(), 5)
                    out.append(time.perf_counter() - t0)
        await asyncio.gather(*[one(i) for i in range(n_clients)])
        return sorted(out)

    base = lib.arun(latencies(), 30)
    rss0 = lib.rss_kib(px.pid)

    c = lib.RawClient(px.port, '/flood')
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 14)
    c.send_frame(lib.OP_TEXT, b'start')
    time.sleep(1.5)
    stalled = state['sent']
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], lib.rss_kib(px.pid))
            time.sleep(0.02)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    during = lib.arun(latencies(), 30)
    time.sleep(0.5)
    stop.set()
    t.join()
    after = state['sent']
    b50, d50 = statistics.median(base), statistics.median(during)
    lib.log('echo latency before: p50 %.2f ms max %.2f ms; during the flood: p50 %.2f ms max %.2f ms; '
            'upstream sent %d then %d messages of %d KiB; RSS %d -> peak %d KiB'
            % (b50 * 1e3, base[-1] * 1e3, d50 * 1e3, during[-1] * 1e3, stalled, after, MSG >> 10, rss0, peak[0]))
    check(after - stalled <= 2, 'upstream kept sending (%d -> %d messages) to a client that does not read'
          % (stalled, after))
    check(stalled * MSG < 64 << 20, 'upstream sent %d MiB before being held back' % (stalled * MSG >> 20))
    check(peak[0] - rss0 < 8 * 1024, 'proxy RSS grew by %d KiB during the flood' % (peak[0] - rss0))
    check(d50 <= max(4 * b50, 0.010), 'median echo latency %.2f ms during the flood, %.2f ms before'
          % (d50 * 1e3, b50 * 1e3))
    check(during[-1] < 0.5, 'slowest echo %.0f ms during the flood' % (during[-1] * 1e3))

    # the flooded client resets; its pair is released
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    c.close()
    up.wait_done(None, 10)


lib.run(main)
