#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION, HANDSHAKE (--max-conns, row 7): with the slab full one more client gets
503 (text/plain, Connection: close) and nothing goes upstream, while the
existing pairs keep working; a freed slot is reused."""
import asyncio
import lib
from lib import check

N = 3


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--max-conns', str(N))
    uri = 'ws://127.0.0.1:%d/' % px.port

    async def scenario():
        clients = []
        for i in range(N):
            clients.append(await lib.ws_connect(uri))
        for i, c in enumerate(clients):
            await c.send('hello %d' % i)
            check(await asyncio.wait_for(c.recv(), 5) == 'hello %d' % i, 'echo %d' % i)
        conns_before, bytes_before = up.tcp_conns, up.tcp_bytes

        # one more: 503, twice
        for _ in range(2):
            r = await asyncio.get_running_loop().run_in_executor(
                None, lib.http_exchange, px.port, lib.upgrade_request('/'))
            lib.check_error_response(r, 503, 'client %d of max %d' % (N + 1, N))
        check(up.tcp_conns == conns_before and up.tcp_bytes == bytes_before,
              'upstream contacted for a 503 (%d->%d conns, %d->%d bytes)' %
              (conns_before, up.tcp_conns, bytes_before, up.tcp_bytes))

        # existing pairs still work, in both directions, interleaved
        for rnd in range(3):
            for i, c in enumerate(clients):
                await c.send(b'x' * (1000 * (i + 1)) + bytes([rnd]))
            for i, c in enumerate(clients):
                m = await asyncio.wait_for(c.recv(), 5)
                check(m == b'x' * (1000 * (i + 1)) + bytes([rnd]), 'pair %d broken after 503' % i)

        # free one slot: a new client gets in
        await clients[0].close()
        ok = False
        for _ in range(40):
            try:
                c = await lib.ws_connect(uri)
                ok = True
                break
            except Exception as e:  # 503 until the proxy has released the slot
                if lib.invalid_status(e) != 503:
                    raise
                await asyncio.sleep(0.05)
        check(ok, 'freed slot not reused within 2 s')
        await c.send('again')
        check(await asyncio.wait_for(c.recv(), 5) == 'again', 'echo on reused slot')
        clients[0] = c
        for c in clients:
            await c.close()
            check(c.close_code == 1000, 'close code %s' % c.close_code)

    lib.arun(scenario(), 30)
    up.wait_done(N + 1, 3)


lib.run(main)
