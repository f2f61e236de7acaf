#!/usr/bin/python3
"""wsproxy(1) RELAYING row 6 / --max-message: a message larger than the limit (sum of
its frames) -> 1009 to the sender (1001 / 1014 to the other side); a
message of exactly the limit passes; no limit by default."""
import asyncio
import lib
from lib import check, frame, OP_TEXT, OP_BINARY, OP_CONT, OP_PING

LIMIT = 1000


def main(ctx):
    b = lib.RuleBench(ctx, proxy_args=('--max-message', str(LIMIT)))
    b.client_breaks('single frame of %d' % (LIMIT + 1), frame(OP_BINARY, b'x' * (LIMIT + 1)), code=1009)
    b.client_breaks('frames 600+401', [frame(OP_TEXT, b'a' * 600, fin=False), frame(OP_PING, b''),
                                       frame(OP_CONT, b'b' * 401)], code=1009)
    b.client_breaks('large frame header only', frame(OP_BINARY, b'', length=1 << 20)[:14], code=1009)
    b.upstream_breaks('single frame of %d' % (LIMIT + 1), frame(OP_BINARY, b'x' * (LIMIT + 1), mask=False), code=1009)
    b.upstream_breaks('frames 500+500+1', [frame(OP_BINARY, b'a' * 500, fin=False, mask=False),
                                           frame(OP_CONT, b'b' * 500, fin=False, mask=False),
                                           frame(OP_CONT, b'c', mask=False)], code=1009)

    # exactly the limit, single and fragmented, in both directions (echo), and many such messages
    async def ok():
        async with lib.ws_connect('ws://127.0.0.1:%d/' % b.px_c.port, compression=None) as ws:
            for i in range(5):
                await ws.send(b'z' * LIMIT)
                check(await asyncio.wait_for(ws.recv(), 5) == b'z' * LIMIT, 'limit-sized echo')
            await ws.send([b'q' * 400, b'r' * 600])
            check(await asyncio.wait_for(ws.recv(), 5) == b'q' * 400 + b'r' * 600, 'fragmented limit-sized echo')
            await ws.close(1000)
    lib.arun(ok(), 20)

    # default: no limit (4 MiB passes)
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri)

    async def big():
        async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port, compression=None) as ws:
            m = b'\x01' * (4 << 20)
            await ws.send(m)
            check(await asyncio.wait_for(ws.recv(), 20) == m, '4 MiB echo without --max-message')
    lib.arun(big(), 30)
    b.up.wait_done(None, 3)
    up.wait_done(None, 3)


lib.run(main)
