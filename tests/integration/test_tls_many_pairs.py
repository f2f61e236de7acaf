#!/usr/bin/python3
"""wsproxy(1) LIMITS, TLS: TLS state comes from a fixed pool sized at start-up and
goes back when a pair ends.  With --max-conns 40 and TLS on both legs,
three rounds of 40 concurrent python3-websockets clients each exchange
messages (every pool entry used and reused); one more client while 40
are open gets 503 over TLS; afterwards fds are back at the baseline and
the proxy still serves."""
import asyncio
import lib
import tlslib
from lib import check

N = 40


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    up = tlslib.wss_upstream(ctx, pki.server)
    px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--tls-ca', pki.ca.crt,
                          '--listen-cert', pki.server.crt, '--listen-key', pki.server.key,
                          '--max-conns', str(N))
    cctx = tlslib.client_context(pki)
    uri = 'wss://127.0.0.1:%d/' % px.port

    async def one(i, hold):
        async with lib.ws_connect(uri, ssl=cctx) as ws:
            for j in range(3):
                m = 'client %d message %d' % (i, j)
                await ws.send(m)
                r = await ws.recv()
                check(r == m, 'client %d: echo %r' % (i, r))
            await hold.wait()
            await ws.close(1000)

    async def round_(k):
        hold = asyncio.Event()
        tasks = [asyncio.create_task(one(i, hold)) for i in range(N)]
        while up.wait_conns(0, 0) < (k + 1) * N:
            await asyncio.sleep(0.05)
        if k == 0:
            # all N slots taken: one more gets 503, over TLS
            r = await asyncio.get_running_loop().run_in_executor(
                None, lambda: tlslib.status_of(px.port, cctx))
            lib.check_error_response(r, 503, 'client %d over TLS' % (N + 1))
        hold.set()
        await asyncio.gather(*tasks)

    async def go():
        for k in range(3):
            await round_(k)
    lib.arun(go(), 90)
    up.wait_done(3 * N, 10)
    px.check_fds()
    check(tlslib.echo_once(uri, ssl=cctx) == 'hello', 'proxy does not serve after the rounds')


lib.run(main)
