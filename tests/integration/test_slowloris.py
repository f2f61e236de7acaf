#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE, RELAYING: slowloris clients trickling a request head (and an open pair
trickling a frame byte by byte) do not delay other clients; the trickling
heads get 408 after --request-timeout."""
import asyncio
import threading
import time
import lib
from lib import check, frame, OP_TEXT

REQ_TIMEOUT = 3000


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--request-timeout', str(REQ_TIMEOUT))
    stop = threading.Event()
    results = {}

    def loris(i):
        s = lib.connect(px.port)
        req = lib.upgrade_request('/', headers=[('X-Slow', 'a' * 200)])
        t0 = time.time()
        got = b''
        s.settimeout(0.05)
        for b in req[:-2]:
            if stop.is_set():
                break
            try:
                s.send(bytes([b]))
            except OSError:
                break
            try:
                d = s.recv(4096)
                if not d:
                    break
                got += d
            except OSError:
                pass
            time.sleep(0.05)
        s.settimeout(3)
        try:
            while b'\r\n\r\n' not in got:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except OSError:
            pass
        results[i] = (got[:12], time.time() - t0)
        s.close()

    # an open pair trickling a 2000-byte frame, one byte every 10 ms
    trickle_done = {}

    def frame_trickler():
        c = lib.RawClient(px.port, '/')
        data = frame(OP_TEXT, b't' * 2000)
        for i in range(len(data)):
            if stop.is_set():
                break
            c.send(data[i:i + 1])
            time.sleep(0.001)
        f = c.recv_frame(10)
        trickle_done['ok'] = f is not None and f.payload == b't' * 2000
        c.send(frame(lib.OP_CLOSE, lib.close_payload(1000)))
        c.expect_close(1000)
        c.close()

    threads = [threading.Thread(target=loris, args=(i,), daemon=True) for i in range(8)]
    threads.append(threading.Thread(target=frame_trickler, daemon=True))
    for t in threads:
        t.start()
    time.sleep(0.3)

    async def quick(i):
        t0 = time.time()
        async with lib.ws_connect('ws://127.0.0.1:%d/q%d' % (px.port, i)) as ws:
            await ws.send('m%d' % i)
            check(await asyncio.wait_for(ws.recv(), 2) == 'm%d' % i, 'echo %d' % i)
        return time.time() - t0

    async def many():
        worst = 0
        for rnd in range(4):
            times = await asyncio.gather(*[quick(rnd * 10 + i) for i in range(10)])
            worst = max(worst, max(times))
            await asyncio.sleep(0.2)
        return worst
    worst = lib.arun(many(), 20)
    check(worst < 1.0, 'a normal client took %.2fs while slowloris clients trickled' % worst)
    for t in threads:
        t.join(15)
    stop.set()
    for i in range(8):
        check(i in results, 'slowloris %d did not finish' % i)
        st, dt = results[i]
        check(st.startswith(b'HTTP/1.1 408'), 'slowloris %d got %r, want 408' % (i, st))
        check(dt < REQ_TIMEOUT / 1000 + 2.5, 'slowloris %d answered after %.1fs' % (i, dt))
    check(trickle_done.get('ok'), 'trickled frame not echoed intact')
    up.wait_done(None, 5)


lib.run(main)
