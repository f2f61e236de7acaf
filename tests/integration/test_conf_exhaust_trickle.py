#!/usr/bin/python3
"""Exhaustion (issue 4): peers trickling one byte per second.  A request
head trickled 1 byte/s gets 408 at --request-timeout counted from the
connection (bytes arriving do not extend it); an open pair whose client
trickles a frame 1 byte/s, and one whose upstream does, relay the frame
intact once it is complete (no timeout on an open pair by default);
other pairs keep their latency meanwhile."""
import asyncio
import threading
import time
import lib
from lib import check, frame, OP_TEXT, OP_PING, OP_PONG, OP_CLOSE

REQ_MS = 3000
KEY = b'\x01\x02\x03\x04'


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--request-timeout', str(REQ_MS))
    res = {}

    def head_trickler():
        s = lib.connect(px.port)
        req = lib.upgrade_request('/')
        t0 = time.time()
        got = b''
        s.settimeout(1.0)
        for b in req[:-2]:
            try:
                s.send(bytes([b]))
            except OSError:
                break
            try:
                d = s.recv(4096)
                if not d:
                    break
                got += d
                if b'\r\n\r\n' in got:
                    break
            except lib.socket.timeout:
                pass
        res['head'] = (got, time.time() - t0)
        s.close()

    def frame_trickler():
        c = lib.RawClient(px.port, '/')
        data = lib.encode_frame(OP_PING, b'tr', mask=KEY)     # 8 bytes, 7 s
        for i in range(len(data)):
            c.send(data[i:i + 1])
            time.sleep(1.0)
        f = c.recv_frame(5)
        res['c2u'] = f
        c.send(frame(OP_CLOSE, lib.close_payload(1000)))
        c.expect_close(1000)
        c.close()

    def up_handler(conn):
        conn.handshake()
        f = conn.recv_frame(5)
        check(f is not None and f.payload == b'go', 'upstream got %r' % f)
        data = lib.encode_frame(OP_TEXT, b'slow')      # 6 bytes, 5 s
        for i in range(len(data)):
            conn.send(data[i:i + 1])
            time.sleep(1.0)
        conn.expect_close(1000)
    raw = ctx.raw_upstream(up_handler)
    px2 = ctx.proxy('--upstream', raw.uri)

    def up_trickle_client():
        c = lib.RawClient(px2.port, '/')
        c.send(frame(OP_TEXT, b'go'))
        t0 = time.time()
        res['u2c'] = (c.recv_frame(10), time.time() - t0)
        c.send(frame(OP_CLOSE, lib.close_payload(1000)))
        c.expect_close(1000)
        c.close()

    threads = [threading.Thread(target=t, daemon=True) for t in (head_trickler, frame_trickler, up_trickle_client)]
    for t in threads:
        t.start()
    time.sleep(0.5)

    async def quick(i):
        t0 = time.time()
        async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port) as ws:
            await ws.send('q%d' % i)
            check(await asyncio.wait_for(ws.recv(), 2) == 'q%d' % i, 'echo')
        return time.time() - t0

    async def rounds():
        worst = 0
        for r in range(5):
            worst = max([worst] + list(await asyncio.gather(*[quick(r * 5 + i) for i in range(5)])))
            await asyncio.sleep(0.5)
        return worst
    worst = lib.arun(rounds(), 30)
    check(worst < (3.0 if lib.VALGRIND else 0.5), 'a normal client took %.2fs beside the tricklers' % worst)
    for t in threads:
        t.join(20)
    got, dt = res.get('head', (b'', 0))
    check(got.startswith(b'HTTP/1.1 408'), 'trickled head got %r, want 408' % got[:40])
    check(REQ_MS / 1000 * 0.8 <= dt <= REQ_MS / 1000 + 2, 'trickled head answered after %.1fs' % dt)
    f = res.get('c2u')
    check(f is not None and f.opcode == OP_PONG and f.payload == b'tr',
          'frame trickled by the client: pong %r' % f)
    f, dt = res.get('u2c', (None, 0))
    check(f is not None and f.opcode == OP_TEXT and f.payload == b'slow',
          'frame trickled by the upstream: client got %r' % f)
    check(dt >= 4, 'upstream-trickled frame arrived after %.1fs, before it was complete' % dt)
    raw.wait_done(5)
    up.wait_done(None, 5)


lib.run(main)
