#!/usr/bin/python3
"""wsproxy(1) RELAYING, LIMITS: many concurrent pairs (300) relay independently and
correctly, messages interleaved; all fds are released afterwards."""
import asyncio
import os
import lib
from lib import check

N = 300


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri)

    async def one(i):
        async with lib.ws_connect('ws://127.0.0.1:%d/c%d' % (px.port, i), compression=None) as ws:
            for k in range(5):
                m = os.urandom(1 + (i * 37 + k * 1001) % 20000)
                await ws.send(m)
                r = await asyncio.wait_for(ws.recv(), 20)
                check(r == m, 'pair %d message %d differs' % (i, k))
            await ws.close(4000 + i % 100, 'c%d' % i)
        return i

    async def all_():
        res = await asyncio.gather(*[one(i) for i in range(N)])
        return res
    res = lib.arun(all_(), 60)
    check(sorted(res) == list(range(N)), 'not all pairs finished')
    up.wait_done(N, 10)
    for rec in up.conns:
        i = int(rec['path'][2:])
        check(rec['close_code'] == 4000 + i % 100 and rec['close_reason'] == 'c%d' % i,
              'pair %d: upstream close %r %r' % (i, rec['close_code'], rec['close_reason']))
        check(len(rec['messages']) == 5, 'pair %d: upstream got %d messages' % (i, len(rec['messages'])))


lib.run(main)
