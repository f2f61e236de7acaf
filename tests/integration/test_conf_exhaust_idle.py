#!/usr/bin/python3
"""Exhaustion (issue 4): a client opening many connections and sending
nothing.  300 silent connections: normal clients keep working with
normal latency meanwhile; after --request-timeout each silent one is
closed without an answer (wsproxy(1) HANDSHAKE: "just close if nothing arrived"),
each logged once (event=abort), and every fd is back."""
import asyncio
import re
import time
import lib
from lib import check

N = 300
TIMEOUT_MS = 2000


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--request-timeout', str(TIMEOUT_MS))
    t0 = time.time()
    silent = []
    for _ in range(N):
        silent.append(lib.connect(px.port))
    ports = {s.getsockname()[1] for s in silent}

    async def quick(i):
        s = time.time()
        async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port) as ws:
            await ws.send('m%d' % i)
            check(await asyncio.wait_for(ws.recv(), 2) == 'm%d' % i, 'echo %d' % i)
        return time.time() - s

    async def many():
        worst = 0
        for rnd in range(3):
            worst = max([worst] + list(await asyncio.gather(*[quick(rnd * 10 + i) for i in range(10)])))
        return worst
    worst = lib.arun(many(), 20)
    lib.log('worst handshake+echo with %d silent connections: %.3fs' % (N, worst))
    check(worst < (3.0 if lib.VALGRIND else 0.5), 'a normal client took %.2fs beside %d silent connections'
          % (worst, N))
    # each silent connection: closed without an answer, after the timeout
    for s in silent:
        data = lib.read_to_eof(s, TIMEOUT_MS / 1000 + 5)
        check(not data, 'a silent connection got %r' % data[:40])
        s.close()
    dt = time.time() - t0
    check(dt >= TIMEOUT_MS / 1000 * 0.8, 'silent connections closed after %.2fs, before the timeout' % dt)
    # one abort line each
    end = time.time() + 3
    while True:
        lines = [ln for ln in px.stderr_text().splitlines() if 'event=' in ln]
        seen = {}
        for ln in lines:
            m = re.search(r'event=(close|abort|reject) client=127\.0\.0\.1:(\d+)', ln)
            if m and int(m.group(2)) in ports:
                seen[int(m.group(2))] = seen.get(int(m.group(2)), []) + [m.group(1)]
        if len(seen) == N or time.time() > end:
            break
        time.sleep(0.1)
    check(len(seen) == N, '%d of %d silent connections logged' % (len(seen), N))
    bad = {p: e for p, e in seen.items() if e != ['abort']}
    check(not bad, 'silent connections logged as %r' % list(bad.items())[:3])
    up.wait_done(None, 5)


lib.run(main)
