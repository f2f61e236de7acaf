#!/usr/bin/python3
"""wsproxy(1) RELAYING: messages of 0, 125, 126, 65535, 65536 bytes and 16 MiB relayed
intact in both directions (python3-websockets client and upstream, text
and binary), and the same sizes as single raw frames with each length
encoding, checked byte for byte."""
import asyncio
import hashlib
import os
import time
import lib
from lib import check

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 16 << 20]


def main(ctx):
    async def handler(ws, rec):
        # upstream checks what arrives and sends back a fresh payload of the same size
        async for m in ws:
            b = m if isinstance(m, bytes) else m.encode()
            rec['messages'].append((type(m), len(b), hashlib.sha256(b).hexdigest()))
            if isinstance(m, bytes):
                n = len(m)
                seed = m[:8]
                reply = hashlib.sha256(seed).digest() * (n // 32 + 1)
                await ws.send(reply[:n])
            else:
                await ws.send(m[::-1])
    up = ctx.ws_upstream(handler, compression=None)
    px = ctx.proxy('--upstream', up.uri)

    sent = []

    async def go():
        async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port, compression=None) as ws:
            for n in SIZES:
                m = os.urandom(n)
                sent.append((bytes, n, hashlib.sha256(m).hexdigest()))
                t0 = time.time()
                await ws.send(m)
                r = await asyncio.wait_for(ws.recv(), 60)
                want = (hashlib.sha256(m[:8]).digest() * (n // 32 + 1))[:n]
                check(isinstance(r, bytes) and len(r) == n, 'binary %d: reply length %d' % (n, len(r)))
                check(r == want, 'binary %d: reply content differs' % n)
                if n >= 1 << 20:
                    lib.log('%d bytes round trip %.2fs' % (n, time.time() - t0))
            for n in [0, 125, 126, 65535, 65536, 16 << 20]:
                t = ''.join(chr(0x41 + (i % 26)) for i in range(min(n, 4096)))
                t = (t * (n // 4096 + 1))[:n] if n else ''
                t = t[:-1] + '\u00e9' if n >= 2 else t   # 2-byte UTF-8 at the end
                sent.append((str, len(t.encode()), hashlib.sha256(t.encode()).hexdigest()))
                await ws.send(t)
                r = await asyncio.wait_for(ws.recv(), 60)
                check(r == t[::-1], 'text %d: reply differs' % n)
            await ws.close(1000)
    lib.arun(go(), 100)
    up.wait_done(1, 5)
    got = up.conns[0]['messages']
    check(len(got) == len(sent), 'upstream got %d messages, sent %d' % (len(got), len(sent)))
    for s, g in zip(sent, got):
        check(s == g, 'upstream received %r for sent %r' % (g[:2], s[:2]))

    # raw frames: each length encoding, exact bytes both ways
    def raw_handler(c):
        c.handshake()
        while True:
            f = c.recv_frame(30)
            if f is None:
                return
            check(f.masked, 'upstream got an unmasked frame')
            if f.opcode == lib.OP_CLOSE:
                c.send(lib.frame(lib.OP_CLOSE, f.payload, mask=False))
                c.wait_eof()
                return
            c.send(lib.frame(lib.OP_BINARY, f.payload[::-1], mask=False))
    raw = ctx.raw_upstream(raw_handler)
    px2 = ctx.proxy('--upstream', raw.uri)
    c = lib.RawClient(px2.port, '/')
    for n in [0, 125, 126, 65535, 65536, 16 << 20]:
        p = os.urandom(n)
        c.send_frame(lib.OP_BINARY, p)
        f = c.recv_frame(60)
        check(f is not None and f.fin and not f.masked and f.opcode == lib.OP_BINARY,
              'raw %d: got %r' % (n, f))
        check(f.payload == p[::-1], 'raw %d: payload differs (len %d)' % (n, len(f.payload)))
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    raw.wait_done(5)


lib.run(main)
