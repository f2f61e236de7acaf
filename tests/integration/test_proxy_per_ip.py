#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY, LIMITS: on a proxy: listener
--max-conns-per-ip counts the client the PROXY header names, not the
balancer every connection comes from.  With --max-conns-per-ip 2 and
everything from 127.0.0.1:

  - five open pairs for five different header sources: all 101 (the
    balancer's own address is not counted);
  - two open pairs claiming 203.0.113.7: a third claiming it gets 503,
    with a warn reject line client=203.0.113.7:... state=proxy;
  - once one of them closes, 203.0.113.7 gets its 101 again;
  - on a proxy:tls: listener (--max-conns-per-ip 1) the 503 comes over
    TLS, after the handshake.
"""
import time

import lib
import pplib
import tlslib
from lib import check


def opened(port, src, sport):
    s = lib.connect(port)
    r, rest = pplib.handshake(s, pplib.v1(src, '192.0.2.1', sport, 80))
    return s, r, rest


def main(ctx):
    up = ctx.ws_upstream()
    px = pplib.proxy(ctx, '--upstream', up.uri, '--max-conns-per-ip', '2')
    held = []
    for i in range(5):
        s, r, _ = opened(px.port, '198.51.100.%d' % (i + 1), 1000 + i)
        check(r.status == 101, 'source %d of 5: %d' % (i + 1, r.status))
        held.append(s)
    two = []
    for i in range(2):
        s, r, _ = opened(px.port, '203.0.113.7', 2000 + i)
        check(r.status == 101, '203.0.113.7 #%d: %d' % (i + 1, r.status))
        two.append(s)
    s, r, _ = opened(px.port, '203.0.113.7', 2002)
    check(r.status == 503, 'a third from 203.0.113.7: %d' % r.status)
    s.close()
    d = pplib.wait_line(px, 'over --max-conns-per-ip')
    check(d['level'] == 'warn' and d['client'] == '203.0.113.7:2002' and d['status'] == '503',
          'reject line %r' % d)
    two.pop().close()
    end = time.time() + 3
    while True:
        s, r, rest = opened(px.port, '203.0.113.7', 2003)
        if r.status == 101 or time.time() > end:
            break
        s.close()
        time.sleep(0.1)
    check(r.status == 101, '203.0.113.7 after one closed: %d' % r.status)
    pplib.finish(s, rest)
    for s in held + two:
        s.close()
    lib.check_log_grammar(px)

    if not tlslib.tls_built_in():
        return
    pki = tlslib.Pki(ctx)
    cert = pki.cert('listener', kind='ec')
    cctx = tlslib.client_context(pki)
    pt = pplib.proxy(ctx, '--upstream', up.uri, '--max-conns-per-ip', '1', '--listen-cert',
                     cert.crt, '--listen-key', cert.key, prefix='proxy:tls:')
    tls = []
    for i in range(2):
        raw = lib.connect(pt.port)
        raw.sendall(pplib.v1('203.0.113.50', '192.0.2.1', 3000 + i, 443))
        s = cctx.wrap_socket(raw, server_hostname='localhost')
        r, _ = pplib.handshake(s)
        tls.append((s, r.status))
    check([st for _, st in tls] == [101, 503], 'proxy:tls:, one allowed: %r'
          % [st for _, st in tls])
    pplib.wait_line(pt, 'over --max-conns-per-ip', 'client=203.0.113.50:3001')
    for s, _ in tls:
        s.close()


lib.run(main)
