#!/usr/bin/python3
"""wsproxy(1) WORKERS: --workers N under a supervisor.

1. --workers 2 --max-conns 20: 36 clients (python3-websockets) in
   bursts all open and echo; both workers hold pairs (the kernel wakes
   the first idle worker, which would take all and answer 503 past 20,
   but a worker low on room steps back from the shared listeners); the
   supervisor's /metrics is the sum (36 open pairs, wsproxy_pairs_max
   40) with per-worker series that add up to it.
2. SIGKILL to one worker: the supervisor logs why it ended and forks it
   again (wsproxy_worker_restarts_total 1); the other worker's pairs keep
   relaying; the new worker takes clients.
3. SIGHUP reloads the supervisor and each worker (three reload lines).
4. SIGUSR2: a new supervisor with new workers takes over the listeners;
   the old pairs get 1012, clients connect all along without a refusal,
   and every old process exits.
5. SIGTERM: every client gets 1001, the supervisor exits 0 after its
   workers; no wsproxy process is left.
6. SIGKILL to the supervisor: its workers drain (1001) and exit
   (PR_SET_PDEATHSIG, Linux).
7. Flags: --workers 0, 65 and x are exit 64 naming --workers; auto is one
   worker per CPU of sched_getaffinity (--check prints it).
"""
import asyncio
import os
import signal
import subprocess
import time

import lib
import promtext
from lib import check


def children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def wait_for(cond, what, timeout=5.0):
    if lib.VALGRIND:
        timeout *= 4
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise lib.Fail('timed out waiting for %s' % what)


def started_workers(px, n):
    wait_for(lambda: px.stderr_text().count('event=worker_start') >= n and
             len(children(px.pid)) >= n, '%d workers' % n)


class Clients:
    """n websockets clients held open on a loop thread."""

    def __init__(self, ctx, port):
        self.loop = lib.Loop()
        ctx.loops.append(self.loop)
        self.port = port
        self.conns = []

    def open(self, n):
        async def one():
            return await lib.ws_connect('ws://127.0.0.1:%d/' % self.port)

        async def many():
            return await asyncio.gather(*[one() for _ in range(n)],
                                        return_exceptions=True)
        res = self.loop.call(many(), 30)
        bad = [r for r in res if isinstance(r, BaseException)]
        check(not bad, '%d of %d clients failed to open: %r' %
              (len(bad), n, bad[:3]))
        self.conns += res
        return res

    def echo(self, conns, tag):
        async def one(i, ws):
            m = '%s-%d' % (tag, i)
            await ws.send(m)
            r = await asyncio.wait_for(ws.recv(), 10)
            check(r == m, 'echo %r came back as %r' % (m, r))

        async def all_():
            return await asyncio.gather(*[one(i, ws) for i, ws in
                                          enumerate(conns)],
                                        return_exceptions=True)
        res = self.loop.call(all_(), 30)
        return [r for r in res if isinstance(r, BaseException)]

    def closes(self, conns, timeout=15):
        async def one(ws):
            try:
                while True:
                    await ws.recv()
            except Exception:  # noqa: a close, as wanted
                pass
            return ws.close_code

        async def all_():
            return await asyncio.gather(*[one(ws) for ws in conns])
        return self.loop.call(all_(), timeout)


def metrics(aport):
    fams = promtext.scrape(aport)
    return fams, lambda name, **kw: promtext.value(fams, name, **kw)


def part_share_and_sum(ctx, up):
    aport = lib.free_port()
    px = ctx.proxy('-u', up.uri, '--workers', '2', '--max-conns', '20',
                   '--admin', '127.0.0.1:%d' % aport)
    started_workers(px, 2)
    cl = Clients(ctx, px.port)
    conns = []
    for _ in range(4):          # in bursts, as clients come
        conns += cl.open(9)
        time.sleep(0.1)
    bad = cl.echo(conns, 'a')
    check(not bad, '%d of 36 echoes failed: %r' % (len(bad), bad[:3]))
    _, v = metrics(aport)
    check(v('wsproxy_pairs', state='open') == 36,
          'summed open pairs %s, want 36' % v('wsproxy_pairs', state='open'))
    check(v('wsproxy_pairs_max') == 40, 'wsproxy_pairs_max %s, want 2 x 20'
          % v('wsproxy_pairs_max'))
    w0 = v('wsproxy_worker_pairs_open', worker='0')
    w1 = v('wsproxy_worker_pairs_open', worker='1')
    check(w0 + w1 == 36 and w0 > 0 and w1 > 0,
          'per-worker open pairs %s + %s, want both > 0 and 36 in all'
          % (w0, w1))
    check(v('wsproxy_worker_up', worker='0') == 1 and
          v('wsproxy_worker_up', worker='1') == 1, 'workers not up')
    check('status=503' not in px.stderr_text(), 'a client got 503: %s' %
          px.stderr_tail())
    check(px.stderr_text().count('event=start ') == 1,
          'start line not once (the supervisor\'s)')
    return px, aport, cl, conns


def part_worker_dies(ctx, px, aport, cl, conns):
    kids = children(px.pid)
    check(len(kids) == 2, 'supervisor has %d children, want 2' % len(kids))
    victim = kids[0]
    os.kill(victim, signal.SIGKILL)
    px.wait_log('event=worker_exit', 'worker killed')
    wait_for(lambda: len([k for k in children(px.pid) if k != victim]) == 2,
             'the worker forked again')
    line = [ln for ln in px.stderr_text().splitlines()
            if 'event=worker_exit' in ln][0]
    check('level=error' in line and 'pid=%d' % victim in line and
          'killed by signal 9' in line and 'restart_in_ms=' in line,
          'worker_exit line: %r' % line)
    # The survivor's pairs still relay; the dead one's are gone.
    survivors = [ws for ws in conns if ws.close_code is None]
    bad = cl.echo(survivors, 'b')
    alive = len(survivors) - len(bad)
    check(alive > 0, 'no pair of the surviving worker relays')
    _, v = metrics(aport)
    check(v('wsproxy_worker_restarts_total', worker='0') +
          v('wsproxy_worker_restarts_total', worker='1') == 1,
          'restarts_total does not say 1')
    wait_for(lambda: metrics(aport)[1]('wsproxy_pairs', state='open') ==
             alive, 'open pairs %d after the death' % alive)
    # The new worker takes clients too.
    more = cl.open(12)
    bad = cl.echo(more, 'c')
    check(not bad, 'clients after the restart failed: %r' % bad[:3])
    _, v = metrics(aport)
    check(v('wsproxy_worker_pairs_open', worker='0') > 0 and
          v('wsproxy_worker_pairs_open', worker='1') > 0,
          'the forked-again worker holds no pair')
    return conns + more


def part_reload(px):
    before = px.stderr_text().count('event=reload ok=yes')
    px.p.send_signal(signal.SIGHUP)
    wait_for(lambda: px.stderr_text().count('event=reload ok=yes') >=
             before + 3, 'three reload lines')
    time.sleep(0.2)
    t = px.stderr_text()
    check(t.count('event=reload ok=yes') == before + 3,
          'reload lines: %d, want 3' % (t.count('event=reload ok=yes') -
                                        before))
    for w in (0, 1):
        check('worker=%d event=reload' % w in t, 'worker %d did not reload'
              % w)


def two_workers(ctx, up, n):
    """A supervisor with 2 workers, its workers' pids, and n clients."""
    px = ctx.proxy('-u', up.uri, '--workers', '2')
    started_workers(px, 2)
    kids = children(px.pid)
    cl = Clients(ctx, px.port)
    return px, kids, cl, cl.open(n)


def part_restart(ctx, up):
    px, old_kids, cl, old = two_workers(ctx, up, 10)
    stop = []
    refused = []

    async def prober():
        n = 0
        while not stop:
            try:
                ws = await lib.ws_connect('ws://127.0.0.1:%d/' % px.port)
                await ws.send('p')
                await asyncio.wait_for(ws.recv(), 5)
                await ws.close()
                n += 1
            except Exception as e:  # noqa
                # Opened on the old processes just as they drain: a
                # close 1012 is the restart working, not a refusal.
                if getattr(e, 'code', None) != 1012:
                    refused.append(repr(e))
            await asyncio.sleep(0.02)
        return n

    fut = asyncio.run_coroutine_threadsafe(prober(), cl.loop.loop)
    px.p.send_signal(signal.SIGUSR2)
    codes = cl.closes(old)
    check(all(c == 1012 for c in codes), 'old pairs closed with %r, want'
          ' 1012' % sorted(set(codes)))
    try:
        px.p.wait(15)
    except subprocess.TimeoutExpired:
        raise lib.Fail('the old supervisor did not exit after the restart')
    check(px.p.returncode == 0, 'old supervisor exit %s' % px.p.returncode)
    px.baseline = None
    wait_for(lambda: not any(os.path.exists('/proc/%d' % k) and
                             open('/proc/%d/stat' % k).read().split()[2]
                             != 'Z' for k in old_kids),
             'the old workers to exit')
    t = px.stderr_text()
    check(t.count('event=worker_start') >= 4, 'the new supervisor did not'
          ' start two workers: %s' % px.stderr_tail(800))
    # Clients were served all along, then by the new processes.
    time.sleep(0.5)
    stop.append(1)
    served = fut.result(10)
    check(served > 0, 'no probe client was served')
    check(not refused, '%d probe connections failed during the restart: %s'
          % (len(refused), refused[:2]))
    new = cl.open(4)
    check(not cl.echo(new, 'n'), 'the new workers do not relay')
    for ws in new:
        cl.loop.call(ws.close(), 5)
    # The new supervisor (our child's child) is found by its listener.
    for line in t.splitlines():
        if 'event=restart pid=' in line:
            pid = int(line.split('event=restart pid=')[1].split()[0])
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not os.path.exists('/proc/%d/stat' % pid) or
                     open('/proc/%d/stat' % pid).read().split()[2] == 'Z',
                     'the new supervisor to exit')


def part_term(ctx, up):
    px, kids, cl, conns = two_workers(ctx, up, 12)
    px.p.send_signal(signal.SIGTERM)
    codes = cl.closes(conns)
    check(all(c == 1001 for c in codes), 'closes %r, want 1001' %
          sorted(set(codes)))
    try:
        px.p.wait(15)
    except subprocess.TimeoutExpired:
        raise lib.Fail('supervisor still running after the drain')
    check(px.p.returncode == 0, 'supervisor exit %s' % px.p.returncode)
    px.baseline = None          # ended on purpose: no fd check
    for k in kids:
        check(not os.path.exists('/proc/%d' % k), 'worker %d left behind' % k)
    t = px.stderr_text()
    check(t.count('event=drained') == 3, 'drained lines: %d, want 3' %
          t.count('event=drained'))


def part_orphans(ctx, up):
    px, kids, cl, conns = two_workers(ctx, up, 6)
    px.p.kill()
    px.p.wait()
    codes = cl.closes(conns)
    check(all(c == 1001 for c in codes), 'orphaned workers closed with %r,'
          ' want 1001' % sorted(set(codes)))
    wait_for(lambda: not any(os.path.exists('/proc/%d' % k) for k in kids),
             'orphaned workers to exit')
    px.baseline = None          # the supervisor was killed on purpose
    px.killed = True


def part_flags():
    for bad in ('0', '65', 'x', ''):
        st, out, err = lib.run_proxy_once(['-u', 'ws://127.0.0.1:1/',
                                           '--workers', bad])
        check(st == 64 and '--workers' in err, '--workers %r: exit %s, %r'
              % (bad, st, err))
    st, out, err = lib.run_proxy_once(['-u', 'ws://127.0.0.1:1/',
                                       '--workers', 'auto', '--check'])
    n = min(len(os.sched_getaffinity(0)), 64)
    check(st == 0 and 'workers=%d\n' % n in out, '--workers auto --check:'
          ' exit %s, want workers=%d in %r' % (st, n, out[-300:]))


def main(ctx):
    part_flags()
    up = ctx.ws_upstream()
    px, aport, cl, conns = part_share_and_sum(ctx, up)
    part_worker_dies(ctx, px, aport, cl, conns)
    part_reload(px)
    part_term(ctx, up)
    part_orphans(ctx, up)
    part_restart(ctx, up)


lib.run(main)
