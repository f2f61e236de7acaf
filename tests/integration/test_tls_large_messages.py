#!/usr/bin/python3
"""wsproxy(1) RELAYING over TLS on both legs: a python3-websockets client on a tls:
listener and a wss:// upstream (Python ssl); messages of 0, 125, 126,
65535, 65536, 65537, 1 MiB and 16 MiB, binary and text, relayed intact
both ways (the TLS records and the proxy's frame buffers split them at
unrelated places), plus a 16 MiB raw frame streamed through the proxy
by a hand-written TLS client.  The proxy's RSS stays bounded."""
import asyncio
import hashlib
import os
import lib
import tlslib
from lib import check

SIZES = [0, 1, 125, 126, 65535, 65536, 65537, 1 << 20, 16 << 20]


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)

    async def handler(ws, rec):
        async for m in ws:
            b = m if isinstance(m, bytes) else m.encode()
            rec['messages'].append(hashlib.sha256(b).hexdigest())
            await ws.send(m[::-1])
    up = tlslib.wss_upstream(ctx, pki.server, handler, compression=None)
    px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--tls-ca', pki.ca.crt,
                          '--listen-cert', pki.server.crt, '--listen-key', pki.server.key)
    base = lib.rss_kib(px.pid)
    sent = []

    async def go():
        async with lib.ws_connect('wss://127.0.0.1:%d/' % px.port, compression=None,
                                  ssl=tlslib.client_context(pki)) as ws:
            for n in SIZES:
                m = os.urandom(n)
                sent.append(hashlib.sha256(m).hexdigest())
                await ws.send(m)
                r = await asyncio.wait_for(ws.recv(), 60)
                check(r == m[::-1], 'binary %d: reply differs (len %d)' % (n, len(r)))
            for n in (0, 126, 65536, 16 << 20):
                t = ('abcdefghijklmnopqrstuvwxyz\u00e9' * (n // 28 + 1))[:n]
                sent.append(hashlib.sha256(t.encode()).hexdigest())
                await ws.send(t)
                r = await asyncio.wait_for(ws.recv(), 60)
                check(r == t[::-1], 'text %d: reply differs' % n)
            await ws.close(1000)
    lib.arun(go(), 150)
    up.wait_done(1, 10)
    check(up.conns[0]['messages'] == sent, 'upstream received different messages')

    c = tlslib.TlsRawClient(px.port, tlslib.client_context(pki))
    p = os.urandom(16 << 20)
    c.send_frame(lib.OP_BINARY, p)
    f = c.recv_frame(60)
    check(f is not None and f.opcode == lib.OP_BINARY and f.payload == p[::-1],
          'raw 16 MiB frame: %r' % f)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    grown = lib.rss_kib(px.pid) - base
    lib.log('RSS grew by %d KiB' % grown)
    check(grown < 16 * 1024, 'proxy RSS grew by %d KiB relaying 16 MiB messages' % grown)


lib.run(main)
