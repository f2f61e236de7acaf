#!/usr/bin/python3
"""wsproxy(1) METRICS: /metrics is valid exposition text whose counters
say exactly what happened.

A scripted scenario against python3-websockets peers (compression off, so
every byte is known):
  - 3 clean pairs: "hello" and a 100,000-byte binary message each way,
    close 1000 from the client;
  - 1 client to a route whose upstream refuses the connection (502);
  - 1 client that sends one message and drops its TCP connection without
    a close frame (the upstream gets 1001 and answers it);
  - 1 pair whose upstream closes with 1011;
  - 1 client that never answers wsproxy's ping (--ping-interval 2s,
    --ping-timeout 1s): it is cut, the upstream gets 1001.
Then every counter equals what the scenario implies: handshakes by route
and status, upstream errors by reason, closes by code and initiator,
frames, messages and bytes by direction, pings sent and timed out,
histogram counts, the pair gauges back at free; the close lines' counts
add up to the same totals.

The text passes a strict parser of the format (promtext.py), Debian's
promtool (prometheus package) "check metrics", and a real Prometheus
server scrapes it and reports the same values.
"""
import asyncio
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import lib
import promtext
from lib import check


scrape = promtext.scrape_text


async def upstream(ws, rec):
    async for m in ws:
        if m == 'close1011':
            await ws.close(1011)
            return
        await ws.send(m)


def clean_pair(port):
    async def go():
        ws = await lib._ws().connect('ws://127.0.0.1:%d/' % port, compression=None,
                                     ping_interval=None, max_size=None)
        await ws.send('hello')
        check(await ws.recv() == 'hello', 'echo of hello')
        big = os.urandom(100000)
        await ws.send(big)
        check(await ws.recv() == big, 'echo of 100,000 bytes')
        await ws.close(1000)
    lib.arun(go(), 20)


def upstream_1011(port):
    async def go():
        ws = await lib._ws().connect('ws://127.0.0.1:%d/' % port, compression=None,
                                     ping_interval=None)
        await ws.send('close1011')
        try:
            await ws.recv()
        except Exception:  # noqa: the close
            pass
        check(ws.close_code == 1011, 'the client got %r, not 1011' % ws.close_code)
    lib.arun(go(), 20)


def main(ctx):
    up = ctx.ws_upstream(upstream, compression=None)
    dead = lib.free_port()          # nothing listens there: refused
    aport = lib.free_port()
    px = ctx.proxy('--route', '/=%s' % up.uri, '--route', '/dead=ws://127.0.0.1:%d' % dead,
                   '--admin', '127.0.0.1:%d' % aport, '--ping-interval', '2s',
                   '--ping-timeout', '1s')
    before = promtext.parse(scrape(aport))
    check(promtext.value(before, 'wsproxy_handshakes_total', route='/', status='101') == 0,
          'counts before anything happened')

    for _ in range(3):
        clean_pair(px.port)
    r = lib.http_exchange(px.port, lib.upgrade_request('/dead'))
    check(r.status == 502, 'refused upstream: %r' % r)
    # a client that drops its connection after one message
    c = lib.RawClient(px.port, '/')
    c.send_frame(lib.OP_TEXT, b'x')
    check(c.recv_frame(5).payload == b'x', 'echo before the abort')
    c.close()
    upstream_1011(px.port)
    # a client that never answers: pinged after 2 s, cut 1 s later
    t0 = time.time()
    quiet = lib.RawClient(px.port, '/')
    f = quiet.recv_frame(10)
    check(f is not None and f.opcode == lib.OP_PING and not f.masked and len(f.payload) == 8,
          'the silent client got an unmasked 8-byte ping: %r' % f)
    end = time.time() + 10
    while 'error="ping timeout"' not in px.stderr_text() and time.time() < end:
        time.sleep(0.05)
    took = time.time() - t0
    check('error="ping timeout" side=client' in px.stderr_text(), 'no ping timeout logged')
    lib.log('metrics: the silent client was cut after %.2f s (interval 2 s + timeout 1 s)' % took)
    quiet.close()
    up.wait_done(6, 10)
    time.sleep(0.3)

    text = scrape(aport)
    fams = promtext.parse(text)
    V = lambda name, **kw: promtext.value(fams, name, **kw)  # noqa: E731
    want = {
        ('wsproxy_handshakes_total', (('route', '/'), ('status', '101'))): 6,
        ('wsproxy_handshakes_total', (('route', '/dead'), ('status', '502'))): 1,
        ('wsproxy_upstream_errors_total', (('route', '/dead'), ('reason', 'refused'))): 1,
        ('wsproxy_closes_total', (('route', '/'), ('code', '1000'), ('initiator', 'client'))): 3,
        ('wsproxy_closes_total', (('route', '/'), ('code', '1006'), ('initiator', 'client'))): 1,
        ('wsproxy_closes_total', (('route', '/'), ('code', '1011'), ('initiator', 'upstream'))): 1,
        ('wsproxy_closes_total', (('route', '/'), ('code', '1001'), ('initiator', 'proxy'))): 1,
        # frames: clean 3 x (2 data + close) each way; abort: 1 up, its
        # echo and the upstream's close answer down; 1011: message and
        # the client's close answer up, the close down; ping pair: the
        # upstream's close answer (its pong is wsproxy's, not counted)
        ('wsproxy_frames_total', (('direction', 'client_to_upstream'),)): 9 + 1 + 2,
        ('wsproxy_frames_total', (('direction', 'upstream_to_client'),)): 9 + 2 + 1 + 1,
        ('wsproxy_messages_total', (('direction', 'client_to_upstream'),)): 6 + 1 + 1,
        ('wsproxy_messages_total', (('direction', 'upstream_to_client'),)): 6 + 1,
        # bytes: masked 11 + 100014 + 8 up, 7 + 100010 + 4 down per clean
        # pair; abort 7 up, 3 + 4 down; 1011: 15 + 8 up, 4 down; ping
        # pair: pong 10 + close 4 down
        ('wsproxy_bytes_total', (('direction', 'client_to_upstream'),)): 3 * 100033 + 7 + 23,
        ('wsproxy_bytes_total', (('direction', 'upstream_to_client'),)): 3 * 100021 + 7 + 4 + 14,
        ('wsproxy_pings_sent_total', ()): 2,
        ('wsproxy_ping_timeouts_total', ()): 1,
        ('wsproxy_upstream_connect_seconds_count', (('route', '/'),)): 6,
        ('wsproxy_upstream_connect_seconds_count', (('route', '/dead'),)): 0,
        ('wsproxy_upstream_upgrade_seconds_count', (('route', '/'),)): 6,
        ('wsproxy_pair_duration_seconds_count', (('route', '/'),)): 6,
        ('wsproxy_pairs', (('state', 'open'),)): 0,
        ('wsproxy_pairs', (('state', 'closing'),)): 0,
        ('wsproxy_pairs', (('state', 'request'),)): 0,
        ('wsproxy_accept_paused_total', ()): 0,
        ('wsproxy_ready', ()): 1,
        ('wsproxy_buffers_in_use', ()): 0,
        ('wsproxy_tls_sessions_in_use', ()): 0,
    }
    wrong = []
    for (name, labels), v in want.items():
        got = V(name, **dict(labels))
        if got != v:
            wrong.append('%s%r = %r, want %r' % (name, dict(labels), got, v))
    # every other series of the counters is 0: nothing else happened
    for fam in ('wsproxy_handshakes_total', 'wsproxy_upstream_errors_total', 'wsproxy_closes_total'):
        for (n, labels), v in fams[fam]['samples'].items():
            if (n, labels) not in want and v != 0:
                wrong.append('unexpected %s%r = %r' % (n, dict(labels), v))
    check(not wrong, 'metrics after the scenario:\n  ' + '\n  '.join(wrong))
    free = V('wsproxy_pairs', state='free')
    total = sum(v for (n, _), v in fams['wsproxy_pairs']['samples'].items())
    check(free == total and free > 0, 'pair gauges: free %r of %r' % (free, total))
    check(V('wsproxy_build_info', version=re.search(r'version="([^"]+)"', text).group(1),
            tls='yes' if 'TLS: BearSSL' in subprocess.run([lib.WSPROXY, '--version'],
                                                          capture_output=True, text=True).stdout
            else 'no') == 1, 'wsproxy_build_info')
    check(abs(V('wsproxy_start_time_seconds') - time.time()) < 600, 'start time')

    # the close lines add up to the same totals
    sums = {'c2u_bytes': 0, 'u2c_bytes': 0, 'c2u_msgs': 0, 'u2c_msgs': 0}
    for line in px.stderr_text().splitlines():
        if 'event=close ' in line:
            d = lib.parse_log_line(line)
            for k in sums:
                sums[k] += int(d[k])
    check(sums['c2u_bytes'] == V('wsproxy_bytes_total', direction='client_to_upstream') and
          sums['u2c_bytes'] == V('wsproxy_bytes_total', direction='upstream_to_client') and
          sums['c2u_msgs'] == V('wsproxy_messages_total', direction='client_to_upstream') and
          sums['u2c_msgs'] == V('wsproxy_messages_total', direction='upstream_to_client'),
          'close lines %r disagree with the metrics' % sums)
    lib.log('metrics: %d families, %d series; every scenario counter exact' %
            (len(fams), sum(len(f['samples']) for f in fams.values())))

    # Debian's promtool
    promtool = shutil.which('promtool')
    check(promtool, 'promtool is not installed (Debian package prometheus, tests/packages.txt)')
    p = subprocess.run([promtool, 'check', 'metrics'], input=text, capture_output=True, text=True)
    check(p.returncode == 0, 'promtool check metrics: %s %s' % (p.stdout, p.stderr))
    lib.log('metrics: promtool check metrics: clean')
    prometheus_scrape(ctx, aport, V)


def prometheus_scrape(ctx, aport, V):
    """A real Prometheus scrapes the admin port; its view matches ours."""
    exe = shutil.which('prometheus')
    check(exe, 'prometheus is not installed (tests/packages.txt)')
    wport = lib.free_port()
    d = os.path.join(ctx.tmp, 'prom')
    os.makedirs(d)
    with open(os.path.join(d, 'prometheus.yml'), 'w') as f:
        f.write('global:\n  scrape_interval: 1s\nscrape_configs:\n'
                '  - job_name: wsproxy\n    static_configs:\n'
                '      - targets: ["127.0.0.1:%d"]\n' % aport)
    log = open(os.path.join(d, 'log'), 'wb')
    ctx.popen([exe, '--config.file=' + os.path.join(d, 'prometheus.yml'),
               '--storage.tsdb.path=' + os.path.join(d, 'data'),
               '--web.listen-address=127.0.0.1:%d' % wport], stdout=log, stderr=log)

    def query(q):
        u = 'http://127.0.0.1:%d/api/v1/query?query=%s' % (wport, urllib.parse.quote(q))
        with urllib.request.urlopen(u, timeout=5) as r:
            return json.loads(r.read())['data']['result']

    end = time.time() + 60
    res = []
    while time.time() < end:
        try:
            res = query('wsproxy_closes_total{code="1000"}')
            if res:
                break
        except Exception:  # noqa: not up yet
            pass
        time.sleep(0.5)
    check(res, 'Prometheus did not scrape wsproxy within 60 s')
    up = query('up{job="wsproxy"}')
    check(up and up[0]['value'][1] == '1', 'Prometheus: up = %r' % up)
    got = float(res[0]['value'][1])
    check(got == V('wsproxy_closes_total', route='/', code='1000', initiator='client'),
          'Prometheus has closes %r' % got)
    b = query('sum(wsproxy_bytes_total)')
    check(b and float(b[0]['value'][1]) == V('wsproxy_bytes_total', direction='client_to_upstream') +
          V('wsproxy_bytes_total', direction='upstream_to_client'), 'Prometheus bytes %r' % b)
    q = query('histogram_quantile(0.5, wsproxy_upstream_connect_seconds_bucket{route="/"})')
    check(q and float(q[0]['value'][1]) >= 0, 'Prometheus computes a quantile: %r' % q)
    lib.log('metrics: Prometheus %s scraped the admin port: up 1, same counters' %
            subprocess.run([exe, '--version'], capture_output=True, text=True).stdout.split()[2])


lib.run(main)
