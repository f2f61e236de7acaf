#!/usr/bin/python3
"""wsproxy(1) LIMITS --max-conns-per-ip: connections from one client
address, counted from the accept (handshakes, and sockets that send
nothing, included): one more from that address gets 503 at once, while
other addresses are served; a connection that ends gives its place back.

  - 3 silent sockets from 127.0.0.1 (--max-conns-per-ip 3): a 4th gets
    503 at once, with a warn reject line; 127.0.0.2 gets its 101 and
    relays; once one silent socket closes, 127.0.0.1 gets a 101 again;
  - open pairs (python3-websockets) count the same way;
  - 60 addresses with 2 connections each, closed in random order, then
    each address can hold exactly 3 again: the per-address table frees
    and reuses its entries;
  - IPv6 ::1 is its own address; bad values exit 64.
"""
import random
import socket
import time

import lib
from lib import check


def conn_from(port, src, host='127.0.0.1'):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((host, port))
    return s


def status_from(port, src, host='127.0.0.1'):
    s = conn_from(port, src, host)
    try:
        s.sendall(lib.upgrade_request('/'))
        r, _ = lib.read_response(s, 5, body=False)
        return r.status
    finally:
        s.close()


def settle(px, what, ok, timeout=3.0):
    end = time.time() + timeout
    while time.time() < end:
        if ok():
            return
        time.sleep(0.05)
    raise lib.Fail(what)


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--max-conns-per-ip', '3')

    silent = [conn_from(px.port, '127.0.0.1') for _ in range(3)]
    time.sleep(0.2)
    t0 = time.time()
    check(status_from(px.port, '127.0.0.1') == 503, 'a 4th connection from 127.0.0.1: 503')
    check(time.time() - t0 < 1.0, 'the 503 comes at once')
    px.wait_log('error="over --max-conns-per-ip"', 'the reject line')
    line = [ln for ln in px.stderr_text().splitlines() if 'over --max-conns-per-ip' in ln][0]
    d = lib.parse_log_line(line)
    check(d['level'] == 'warn' and d['status'] == '503' and d['client'].startswith('127.0.0.1:'),
          'reject line: %r' % d)
    check(status_from(px.port, '127.0.0.2') == 101, 'another address is not locked out')
    silent.pop().close()
    settle(px, '127.0.0.1 never got its place back',
           lambda: status_from(px.port, '127.0.0.1') == 101)
    for s in silent:
        s.close()
    time.sleep(0.3)

    # open pairs count too
    async def pairs():
        conns = [await lib.ws_connect('ws://127.0.0.1:%d/' % px.port).__aenter__()
                 for _ in range(3)]
        for ws in conns:
            await ws.send('x')
            check(await ws.recv() == 'x', 'echo')
        st = status_from(px.port, '127.0.0.1')
        for ws in conns:
            await ws.close()
        return st
    check(lib.arun(pairs(), 20) == 503, '3 open pairs from 127.0.0.1: the next gets 503')
    settle(px, 'the closed pairs did not give their places back',
           lambda: status_from(px.port, '127.0.0.1') == 101)

    # many addresses: entries removed and reused
    rnd = random.Random(7)
    addrs = ['127.0.1.%d' % i for i in range(1, 61)]
    held = [conn_from(px.port, a) for a in addrs for _ in range(2)]
    time.sleep(0.3)
    rnd.shuffle(held)
    for s in held:
        s.close()
    time.sleep(0.5)
    for a in rnd.sample(addrs, 20):
        three = [conn_from(px.port, a) for _ in range(3)]
        time.sleep(0.05)
        check(status_from(px.port, a) == 503, '%s: a 4th after reuse: 503' % a)
        for s in three:
            s.close()
    time.sleep(0.3)
    check(status_from(px.port, '127.0.1.9') == 101, 'after it all, a handshake')

    # IPv6: ::1 has its own count, beside 127.0.0.1 on a second listener
    try:
        t = socket.socket(socket.AF_INET6)
        t.bind(('::1', 0))
        t.close()
        v6 = True
    except OSError:
        v6 = False
    if v6:
        p6, p4 = lib.free_port(), lib.free_port()
        px6 = ctx.proxy('--listen', '[::1]:%d' % p6, '--listen', '127.0.0.1:%d' % p4,
                        '--upstream', up.uri, '--max-conns-per-ip', '1', listen=False,
                        wait=False)
        px6.port = p4
        px6.wait_listening()
        hold6 = conn_from(p6, '::1', '::1')
        hold4 = conn_from(p4, '127.0.0.1')
        time.sleep(0.2)
        check(status_from(p6, '::1', '::1') == 503, '::1: a 2nd connection gets 503')
        check(status_from(p4, '127.0.0.1') == 503, '127.0.0.1: a 2nd connection gets 503')
        check(status_from(p4, '127.0.0.2') == 101, '127.0.0.2 on the same proxy: 101')
        hold6.close()
        settle(px6, '::1 never got its place back',
               lambda: status_from(p6, '::1', '::1') == 101)
        hold4.close()
    else:
        lib.log('no IPv6 loopback: the ::1 part is left out')

    for bad in ('0', 'x', '-1', '1000001'):
        rc, out, err = lib.run_proxy_once(['--upstream', up.uri, '--max-conns-per-ip', bad])
        check(rc == 64 and '--max-conns-per-ip' in err, '--max-conns-per-ip %s: exit %d %r'
              % (bad, rc, err))


lib.run(main)
