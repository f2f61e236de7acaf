#!/usr/bin/python3
"""wsproxy(1) SMALL SYSTEMS: under `ulimit -v 32768` (a 32 MiB address
space) with the default --max-conns, wsproxy starts and relays.  Pairs
are let in while their two buffers can be mapped; after that a newcomer
gets 503 and the log says "no memory for buffers", while every pair
already in goes on relaying both ways.  wsproxy_pool_bytes follows the
pairs, and once pairs close newcomers are let in again."""
import asyncio
import os
import urllib.request
import lib
from lib import check

LIMIT = 32 * 1024 * 1024
MOST = 1500


def pool_bytes(aport):
    text = urllib.request.urlopen('http://127.0.0.1:%d/metrics' % aport,
                                  timeout=5).read().decode()
    for line in text.split('\n'):
        if line.startswith('wsproxy_pool_bytes{pool="buffers"}'):
            return int(line.split()[-1])
    raise lib.Fail('no wsproxy_pool_bytes in /metrics')


def main(ctx):
    lib.skip_under_valgrind('an address-space limit under memcheck is moot')
    if 'asan' in os.path.basename(lib.WSPROXY):
        raise lib.Skip('ASan reserves terabytes of shadow: RLIMIT_AS is moot')
    up = ctx.ws_upstream()
    aport = lib.free_port()
    px = ctx.proxy('--upstream', up.uri, '--admin', '127.0.0.1:%d' % aport,
                   aslimit=LIMIT)
    px.wait_log('event=start')
    conns = int(px.stderr_text().split('max_conns=')[1].split()[0])
    check(conns >= 5000, 'default --max-conns is %d, want the fd-derived one' % conns)
    check(pool_bytes(aport) == 0, 'buffers mapped before any client')
    uri = 'ws://127.0.0.1:%d/' % px.port

    async def scenario():
        clients = []
        refused = None
        while len(clients) < MOST:
            try:
                clients.append(await lib.ws_connect(uri))
            except Exception as e:  # noqa
                refused = lib.invalid_status(e)
                break
        n = len(clients)
        check(refused == 503, 'after %d pairs: %r, want 503' % (n, refused))
        check(50 <= n < MOST, '%d pairs in 32 MiB' % n)
        mapped = pool_bytes(aport)
        check(mapped >= 2 * 32768 * n,
              'pool holds %d bytes for %d pairs' % (mapped, n))
        # Every pair let in still relays, both ways.
        for rnd in range(2):
            for i, c in enumerate(clients):
                await c.send('m%d-%d' % (i, rnd))
            for i, c in enumerate(clients):
                got = await asyncio.wait_for(c.recv(), 10)
                check(got == 'm%d-%d' % (i, rnd), 'pair %d: %r' % (i, got))
        # Close half: newcomers get in again.
        for c in clients[:n // 2]:
            await c.close()
        again = None
        for _ in range(40):
            try:
                again = await lib.ws_connect(uri)
                break
            except Exception as e:  # noqa
                if lib.invalid_status(e) != 503:
                    raise
                await asyncio.sleep(0.05)
        check(again is not None, 'no newcomer let in after %d pairs closed' % (n // 2))
        await again.send('again')
        check(await asyncio.wait_for(again.recv(), 5) == 'again', 'echo after refusal')
        await again.close()
        for c in clients[n // 2:]:
            await c.close()
        return n

    n = lib.arun(scenario(), 90)
    px.wait_log('no memory for buffers')
    print('%d pairs under a 32 MiB address space' % n)


lib.run(main)
