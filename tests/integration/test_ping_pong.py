#!/usr/bin/python3
"""wsproxy(1) RELAYING: ping and pong pass through end to end, in both directions
(python3-websockets on both sides: each side's ping is answered by the
other side's pong, with the same payload)."""
import asyncio
import lib
from lib import check


def main(ctx):
    got = {}

    async def handler(ws, rec):
        # upstream pings the client, waits for its pong
        waiter = await ws.ping(b'from-upstream')
        await asyncio.wait_for(waiter, 5)
        rec['pong'] = True
        async for m in ws:
            await ws.send(m)
    up = ctx.ws_upstream(handler)
    px = ctx.proxy('--upstream', up.uri)

    async def go():
        async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port) as ws:
            for payload in [b'', b'a', b'z' * 125, b'\x00\xff binary']:
                waiter = await ws.ping(payload)
                await asyncio.wait_for(waiter, 5)
            await ws.send('msg')
            check(await asyncio.wait_for(ws.recv(), 5) == 'msg', 'echo after pings')
            got['ok'] = True
    lib.arun(go(), 20)
    up.wait_done(1, 3)
    check(up.conns[0].get('pong'), 'upstream ping not answered through the proxy')
    check(got.get('ok'), 'client pings not answered')


lib.run(main)
