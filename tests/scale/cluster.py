"""tests/scale/cluster.py - the roles of make check-scale (tests/scale/cluster.sh).

cluster.sh builds the network namespaces and runs, inside the balancer's
namespace:

    cluster.py run DIR WSPROXY NS_CLIENT NS_A NS_B NS_UP

which starts every other role in its own namespace with `ip netns exec`:

    cluster.py upstream DIR        the upstream host: a python3-websockets
                                   echo server that records every message
                                   and the headers of every connection
    cluster.py clients DIR NAME N  the client host: N clients that keep
                                   sending "M id conn seq" and reconnect
                                   through the balancer when closed

then HAProxy (mode tcp, send-proxy-v2) on this host in front of two
wsproxy hosts (--listen proxy:), a rolling restart (wsproxy(1) SIGNALS:
SIGTERM drains with 1001), and checks what the upstream got against what
the clients sent.  Exit 0 on pass, 1 on fail; every line says why.
"""

import asyncio
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time

PYTHON = '/usr/bin/python3'
NET = '10.77.0.'
IP = {'client': NET + '10', 'lb': NET + '2', 'a': NET + '11', 'b': NET + '12',
      'up': NET + '20'}
PORT = 8080		# the balancer's and each wsproxy's client port
ADMIN = 9090		# each wsproxy's --admin port (/readyz for HAProxy)
UP_PORT = 9000
DRAIN_TIMEOUT_MS = 5000
SEND_EVERY = 0.02	# seconds between one client's messages
FIRST_WAVE = 20		# clients held through the whole rolling restart
LAST_WAVE = 6		# clients that connect once both wsproxy are back
# wsproxy B runs as a supervisor with this many workers (wsproxy(1)
# WORKERS), A as one process: the rolling restart drains both kinds.
WORKERS_B = 2


def log(msg):
    print('cluster: ' + msg, flush=True)


# ---------------------------------------------------------------------
# The upstream host


def upstream(workdir):
    import websockets

    conns = []	# one dict per connection, in accept order
    msgs = []	# [cid, conn, seq, peer] in arrival order

    async def handler(ws, path=None):
        h = ws.request_headers
        rec = {'peer': ws.remote_address[0],
               'xff': h.get_all('X-Forwarded-For'),
               'fwd': h.get_all('Forwarded'), 'cid': None, 'conn': None,
               't': time.time()}
        conns.append(rec)
        try:
            async for m in ws:
                f = m.split()
                if f[0] == 'H':		# hello: who this connection is
                    rec['cid'], rec['conn'] = f[1], int(f[2])
                elif f[0] == 'M':
                    msgs.append([f[1], int(f[2]), int(f[3]), rec['peer']])
                await ws.send(m)
        except websockets.ConnectionClosed:
            pass
        rec['close'] = ws.close_code

    async def main():
        stop = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGTERM, stop.set_result, None)
        async with websockets.serve(handler, IP['up'], UP_PORT,
                                    ping_interval=None, max_queue=None):
            print('listening', flush=True)
            await stop
        with open(os.path.join(workdir, 'upstream.json'), 'w') as f:
            json.dump({'conns': conns, 'msgs': msgs}, f)

    asyncio.run(main())


# ---------------------------------------------------------------------
# The client host


def clients(workdir, name, n):
    import websockets

    url = 'ws://%s:%d/' % (IP['lb'], PORT)
    stopfile = os.path.join(workdir, 'stop')
    out = {'sent': [], 'conns': [], 'failures': []}

    async def one(cid):
        seq = 0
        conn = 0
        while not os.path.exists(stopfile):
            conn += 1
            t0 = time.time()
            try:
                ws = await websockets.connect(url, open_timeout=5,
                                              close_timeout=5,
                                              ping_interval=None,
                                              max_queue=None)
                await ws.send('H %s %d' % (cid, conn))
                echo = await asyncio.wait_for(ws.recv(), 5)
                if echo != 'H %s %d' % (cid, conn):
                    raise RuntimeError('hello echo %r' % echo)
            except Exception as e:	# refused, reset, no 101, no echo
                out['failures'].append([cid, conn, t0, repr(e)])
                await asyncio.sleep(0.2)
                continue
            rec = {'cid': cid, 'conn': conn, 't_open': t0}
            out['conns'].append(rec)
            echoed = []

            async def receiver():
                try:
                    async for m in ws:
                        echoed.append(m)
                except websockets.ConnectionClosed:
                    pass
            rtask = asyncio.create_task(receiver())
            voluntary = False
            try:
                while not rtask.done():
                    if os.path.exists(stopfile):
                        voluntary = True
                        break
                    t = time.time()
                    await ws.send('M %s %d %d' % (cid, conn, seq))
                    out['sent'].append([cid, conn, seq, t])
                    seq += 1
                    await asyncio.sleep(SEND_EVERY)
            except websockets.ConnectionClosed:
                pass
            if voluntary:
                # Every echo back before a clean close of our own.
                want = sum(1 for s in out['sent']
                               if s[0] == cid and s[1] == conn)
                for _ in range(250):
                    if len(echoed) >= want or rtask.done():
                        break
                    await asyncio.sleep(0.02)
                rec['echoes_missing'] = want - len(echoed)
                await ws.close(1000)
            await rtask
            rec['t_close'] = time.time()
            rec['voluntary'] = voluntary
            rec['rcvd'] = ws.close_rcvd.code if ws.close_rcvd else None
            rec['sent_close'] = ws.close_sent.code if ws.close_sent else None
            rec['rcvd_then_sent'] = ws.close_rcvd_then_sent

    async def main():
        await asyncio.gather(*(one('%s%d' % (name, i)) for i in range(n)))
        with open(os.path.join(workdir, 'clients-%s.json' % name), 'w') as f:
            json.dump(out, f)

    asyncio.run(main())


# ---------------------------------------------------------------------
# The balancer host: the orchestration and the checks


class Cluster:
    def __init__(self, workdir, wsproxy, ns):
        self.dir = workdir
        self.wsproxy = wsproxy
        self.ns = ns		# role -> namespace
        self.procs = []
        self.px = {}		# 'a'/'b' -> Popen of the running wsproxy
        self.events = []	# (what, host, time)
        self.generation = {'a': 0, 'b': 0}

    def spawn(self, role, argv, logname):
        logf = open(os.path.join(self.dir, logname), 'ab')
        p = subprocess.Popen(['ip', 'netns', 'exec', self.ns[role]] + argv,
                             stdout=subprocess.PIPE if role == 'up' else logf,
                             stderr=logf)
        self.procs.append(p)
        return p

    def start_wsproxy(self, host):
        self.generation[host] += 1
        p = self.spawn(host, [
            self.wsproxy, '--listen', 'proxy:%s:%d' % (IP[host], PORT),
            '--trust-proxy', IP['lb'] + '/32',
            '--upstream', 'ws://%s:%d/' % (IP['up'], UP_PORT),
            '--admin', '%s:%d' % (IP[host], ADMIN),
            '--drain-timeout', '%dms' % DRAIN_TIMEOUT_MS,
            '--workers', '%d' % (WORKERS_B if host == 'b' else 1)],
            'wsproxy-%s.log' % host)
        self.px[host] = p
        self.events.append(('start', host, time.time()))

    def haproxy_config(self):
        return '''global
    stats socket %(dir)s/haproxy.sock mode 600 level admin
    log stdout format raw local0 info
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A connection refused by a draining or stopped wsproxy is tried
    # again, on the other server (redispatch on every retry).
    retries 3
    option redispatch 1
frontend clients
    bind %(lb)s:%(port)d
    default_backend wsproxy
backend wsproxy
    balance roundrobin
    # wsproxy(1) ADMIN: /readyz is 503 from a drain's first moment.
    option httpchk GET /readyz
    http-check expect status 200
    default-server send-proxy-v2 check port %(admin)d inter 200ms fall 1 rise 2
    server a %(a)s:%(port)d
    server b %(b)s:%(port)d
''' % {'dir': self.dir, 'lb': IP['lb'], 'port': PORT, 'admin': ADMIN,
            'a': IP['a'], 'b': IP['b']}

    def haproxy_stat(self):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(os.path.join(self.dir, 'haproxy.sock'))
        s.sendall(b'show stat\n')
        buf = b''
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
        text = buf.decode().lstrip('# ')
        return {r['svname']: r for r in csv.DictReader(io.StringIO(text))
                if r['pxname'] == 'wsproxy'}

    def wait_up(self, host, timeout=10):
        """Until HAProxy's health check says host is UP."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                if self.haproxy_stat()[host]['status'] == 'UP':
                    self.events.append(('up', host, time.time()))
                    return True
            except (OSError, KeyError):
                pass
            time.sleep(0.05)
        return False

    def drain(self, host):
        p = self.px[host]
        self.events.append(('drain', host, time.time()))
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(DRAIN_TIMEOUT_MS / 1000 + 5)
        except subprocess.TimeoutExpired:
            rc = None
        self.events.append(('exit', host, time.time()))
        return rc

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def run(workdir, wsproxy, ns_client, ns_a, ns_b, ns_up):
    c = Cluster(workdir, wsproxy, {'client': ns_client, 'a': ns_a,
                                   'b': ns_b, 'up': ns_up})
    here = os.path.abspath(__file__)
    fails = []

    def check(ok, what):
        if not ok:
            fails.append(what)
            log('FAIL ' + what)
        return ok
    try:
        up = c.spawn('up', [PYTHON, here, 'upstream', workdir], 'upstream.log')
        if up.stdout.readline().strip() != b'listening':
            log('FAIL the upstream did not start (upstream.log)')
            return 1
        c.start_wsproxy('a')
        c.start_wsproxy('b')
        with open(os.path.join(workdir, 'haproxy.cfg'), 'w') as f:
            f.write(c.haproxy_config())
        hap = subprocess.Popen(['haproxy', '-db', '-f',
                                os.path.join(workdir, 'haproxy.cfg')],
                               stdout=open(os.path.join(workdir, 'haproxy.log'),
                                           'ab'),
                               stderr=subprocess.STDOUT)
        c.procs.append(hap)
        if not (c.wait_up('a') and c.wait_up('b')):
            log('FAIL HAProxy never saw both wsproxy up (haproxy.log, '
                'wsproxy-*.log)')
            return 1
        log('cluster up: client %s -> HAProxy %s -> wsproxy %s, %s -> '
            'upstream %s' % (IP['client'], IP['lb'], IP['a'], IP['b'],
                             IP['up']))

        first = c.spawn('client', [PYTHON, here, 'clients', workdir, 'c',
                                   str(FIRST_WAVE)], 'clients-c.log')
        time.sleep(3)
        for host in ('a', 'b'):
            rc = c.drain(host)
            check(rc == 0, 'wsproxy %s: drain exit status %r, want 0 within '
                  '--drain-timeout' % (host, rc))
            time.sleep(0.5)
            c.start_wsproxy(host)
            check(c.wait_up(host), 'wsproxy %s restarted but never UP in '
                  'HAProxy' % host)
            log('rolling restart: wsproxy %s drained (exit %r) and back'
                % (host, rc))
            time.sleep(2)
        c.events.append(('both-back', '', time.time()))
        last = c.spawn('client', [PYTHON, here, 'clients', workdir, 'w',
                                  str(LAST_WAVE)], 'clients-w.log')
        time.sleep(3)
        open(os.path.join(workdir, 'stop'), 'w').close()
        for p in (first, last):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                check(False, 'clients did not stop within 20 s')
        stat = c.haproxy_stat()
        up.send_signal(signal.SIGTERM)
        up.wait(10)
        for host in ('a', 'b'):
            check(c.px[host].poll() is None, 'wsproxy %s died (wsproxy-%s.log)'
                  % (host, host))
        verify(c, stat, check)
    finally:
        c.stop_all()
    if fails:
        log('FAIL %d check(s) failed; logs in %s' % (len(fails), workdir))
        return 1
    log('PASS')
    return 0


def verify(c, stat, check):
    """What the upstream got against what the clients sent."""
    def load(name):
        with open(os.path.join(c.dir, name)) as f:
            return json.load(f)
    up = load('upstream.json')
    cl = {'sent': [], 'conns': [], 'failures': []}
    for name in ('c', 'w'):
        d = load('clients-%s.json' % name)
        for k in cl:
            cl[k] += d[k]
    ev = c.events
    drained = {h: t for what, h, t in ev if what == 'drain'}
    back = {h: max(t for what, hh, t in ev if what == 'up' and hh == h)
            for h in ('a', 'b')}
    both_back = [t for what, h, t in ev if what == 'both-back'][0]
    host_of = {IP['a']: 'a', IP['b']: 'b'}

    # No connection through the balancer failed or was refused.
    check(not cl['failures'], '%d connection(s) failed through the balancer, '
          'first %r' % (len(cl['failures']), cl['failures'][:3]))

    # The upstream saw the client host, not the balancer (PROXY v2 in,
    # X-Forwarded-For and Forwarded out: wsproxy(1) CLIENT IDENTITY).
    via = {}
    for r in up['conns']:
        if r['cid'] is None:
            continue
        via[(r['cid'], r['conn'])] = host_of.get(r['peer'])
        check(r['peer'] in host_of, 'upstream connection from %s, not a '
              'wsproxy host' % r['peer'])
        check(r['xff'] == [IP['client']], '%s/%d: X-Forwarded-For %r, want '
              '[%r]' % (r['cid'], r['conn'], r['xff'], IP['client']))
        check(len(r['fwd']) == 1 and r['fwd'][0].startswith(
            'for=%s;' % IP['client']), '%s/%d: Forwarded %r, want for=%s'
              % (r['cid'], r['conn'], r['fwd'], IP['client']))
    conns = {(r['cid'], r['conn']): r for r in cl['conns']}
    for k in conns:
        check(k in via, '%s/%d: the client opened it, the upstream never '
              'saw its hello' % k)

    # Every close the clients did not ask for is a drain's 1001, with
    # the close handshake completed.
    drain_closes = 0
    for k, r in conns.items():
        if r.get('voluntary'):
            check(r['sent_close'] == 1000 and r['rcvd'] == 1000 and
                  r.get('echoes_missing') == 0, '%s/%d: clean close %r'
                  % (k[0], k[1], r))
            continue
        drain_closes += 1
        check(r['rcvd'] == 1001 and r['sent_close'] == 1001 and
              r['rcvd_then_sent'], '%s/%d: closed with %r/%r, want 1001 '
              'received then sent' % (k[0], k[1], r['rcvd'], r['sent_close']))
        h = via.get(k)
        check(h in drained and drained[h] <= r['t_close'], '%s/%d: closed '
              'while its wsproxy (%s) was not draining' % (k[0], k[1], h))
    for i in range(FIRST_WAVE):
        check(any(not r.get('voluntary') for k, r in conns.items()
                  if k[0] == 'c%d' % i),
              'c%d never got a drain close: the rolling restart missed it' % i)

    # Exactly once: no message twice, none the clients did not send, in
    # order; a message missing only if sent after its wsproxy's drain
    # began (wsproxy(1) SIGNALS: later client frames are not relayed).
    sent = {(s[0], s[2]): s for s in cl['sent']}
    seen = set()
    last = {}
    dups = phantoms = disorder = 0
    for cid, conn, seq, peer in up['msgs']:
        k = (cid, seq)
        if k in seen:
            dups += 1
        seen.add(k)
        if k not in sent or sent[k][1] != conn:
            phantoms += 1
        if last.get(cid, -1) >= seq:
            disorder += 1
        last[cid] = seq
    check(dups == 0, '%d message(s) reached the upstream twice' % dups)
    check(phantoms == 0, '%d message(s) at the upstream the clients did not '
          'send on that connection' % phantoms)
    check(disorder == 0, '%d message(s) out of order' % disorder)
    lost_before = []
    in_window = 0
    late = []
    for k, s in sent.items():
        if k in seen:
            continue
        h = via.get((s[0], s[1]))
        r = conns.get((s[0], s[1]), {})
        if (h in drained and s[3] >= drained[h] and not r.get('voluntary')
                and s[3] <= r.get('t_close', 0)):
            in_window += 1
            late.append(s[3] - drained[h])
        else:
            lost_before.append(s)
    # wsproxy(1) SIGNALS: what a client sent before its close answer
    # reaches the upstream, even after the drain began.
    check(not in_window, '%d message(s) sent after their drain began, '
          'before the client closed, were not relayed' % in_window)
    check(not lost_before, '%d message(s) lost that were sent before their '
          'wsproxy began draining, first %r' % (len(lost_before),
                                                lost_before[:3]))

    # Both wsproxy carried pairs before the restarts and after them.
    def hosts(t0, t1):
        return {via.get(k) for k, r in conns.items() if t0 <= r['t_open'] < t1}
    before = hosts(0, drained['a'])
    after = hosts(both_back, float('inf'))
    check(before == {'a', 'b'}, 'before the restarts, pairs went through %r, '
          'want both' % sorted(before))
    check(after == {'a', 'b'}, 'after both restarts, pairs went through %r, '
          'want both' % sorted(after))
    check('a' in hosts(back['a'], drained['b']) or
          'a' in hosts(drained['b'], both_back),
          'the restarted wsproxy a took no pairs')

    # Each drain ended cleanly: every close handshake done, none cut; and
    # wsproxy's own close lines name the client host too.
    for h in ('a', 'b'):
        with open(os.path.join(c.dir, 'wsproxy-%s.log' % h)) as f:
            text = f.readlines()
        # One summary per process: the supervisor's and each worker's.
        lines = [ln for ln in text if 'event=drained' in ln]
        want = 1 + (WORKERS_B if h == 'b' else 0)
        check(len(lines) == want and all(' cut=0 ' in ln for ln in lines),
              'wsproxy %s: drain summaries %r, want %d with cut=0'
              % (h, lines, want))
        if h == 'b':
            for wk in range(WORKERS_B):
                check(any(' worker=%d event=close ' % wk in ln for ln in text),
                      'wsproxy b: worker %d relayed no pair' % wk)
        closes = [ln for ln in text if 'event=close ' in ln]
        other = [ln for ln in closes if ' client=%s:' % IP['client'] not in ln]
        check(closes and not other, 'wsproxy %s: %d close line(s), %d not '
              'naming client=%s, first %r' % (h, len(closes), len(other),
                                                IP['client'], other[:1]))

    if late:
        log('%d message(s) sent %.1f to %.1f ms after SIGTERM was sent to their '
            'wsproxy, before the client read its close, were not relayed '
            '(wsproxy(1) SIGNALS)' % (len(late), min(late) * 1000,
                                      max(late) * 1000))
    retries = sum(int(stat[s]['wretr'] or 0) for s in ('a', 'b'))
    redisp = sum(int(stat[s]['wredis'] or 0) for s in ('a', 'b'))
    econ = sum(int(stat[s]['econ'] or 0) for s in ('a', 'b'))
    log('%d clients, %d connections (%d closed by a drain with 1001), '
        '%d messages sent, %d at the upstream exactly once, %d dropped '
        'after their drain began; HAProxy retries %d, redispatches %d, '
        'connect errors %d' % (FIRST_WAVE + LAST_WAVE, len(conns),
                               drain_closes, len(sent), len(seen), in_window,
                               retries, redisp, econ))
    check(len(sent) > 1000, 'only %d messages sent' % len(sent))


if __name__ == '__main__':
    role = sys.argv[1]
    if role == 'upstream':
        upstream(sys.argv[2])
    elif role == 'clients':
        clients(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif role == 'run':
        sys.exit(run(*sys.argv[2:8]))
    else:
        sys.exit('usage: cluster.py run|upstream|clients ...')
