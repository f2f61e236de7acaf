#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY: a proxy: listener takes a PROXY v1 header
from a --trust-proxy peer, and the client it names is the client:

  - "PROXY TCP4 203.0.113.7 ..." then the upgrade request in the same
    write: 101; the upstream's X-Forwarded-For is 203.0.113.7 and its
    Forwarded for=203.0.113.7; the close line says client=203.0.113.7:PORT
    (the header's source port), never the balancer's 127.0.0.1;
  - TCP6: for="[2001:db8::7]", client=[2001:db8::7]:PORT;
  - "PROXY UNKNOWN" (a balancer's own check) keeps the real peer,
    127.0.0.1.
"""
import lib
import pplib
from lib import check


def one(up, n):
    check(up.wait_conns(n, 3) == n, 'upstream saw no handshake')
    return up.conns[n - 1]['headers']


def main(ctx):
    up = ctx.ws_upstream()
    px = pplib.proxy(ctx, '--upstream', up.uri)

    s = lib.connect(px.port)
    r, rest = pplib.handshake(s, pplib.v1('203.0.113.7', '192.0.2.1', 56324, 443))
    check(r.status == 101, 'v1 TCP4: %d %s' % (r.status, r.reason))
    h = one(up, 1)
    check(h.get_all('X-Forwarded-For') == ['203.0.113.7'], 'X-Forwarded-For %r'
          % h.get_all('X-Forwarded-For'))
    check(h.get('Forwarded', '').startswith('for=203.0.113.7;'), 'Forwarded %r' % h.get('Forwarded'))
    pplib.finish(s, rest)
    d = pplib.wait_line(px, 'event=close', 'client=203.0.113.7:')
    check(d['client'] == '203.0.113.7:56324', 'close line client=%s' % d['client'])
    check('client=127.0.0.1' not in px.stderr_text(), 'the balancer address was logged: %s'
          % px.stderr_tail(400))

    s = lib.connect(px.port)
    r, rest = pplib.handshake(s, pplib.v1('2001:db8::7', '2001:db8::1', 4000, 443))
    check(r.status == 101, 'v1 TCP6: %d' % r.status)
    h = one(up, 2)
    check(h.get_all('X-Forwarded-For') == ['2001:db8::7'], 'TCP6 X-Forwarded-For %r'
          % h.get_all('X-Forwarded-For'))
    check(h.get('Forwarded', '').startswith('for="[2001:db8::7]";'), 'TCP6 Forwarded %r'
          % h.get('Forwarded'))
    pplib.finish(s, rest)
    pplib.wait_line(px, 'event=close', 'client=[2001:db8::7]:4000')

    s = lib.connect(px.port)
    r, rest = pplib.handshake(s, b'PROXY UNKNOWN\r\n')
    check(r.status == 101, 'v1 UNKNOWN: %d' % r.status)
    h = one(up, 3)
    check(h.get_all('X-Forwarded-For') == ['127.0.0.1'], 'UNKNOWN X-Forwarded-For %r'
          % h.get_all('X-Forwarded-For'))
    pplib.finish(s, rest)
    pplib.wait_line(px, 'event=close', 'client=127.0.0.1:')
    lib.check_log_grammar(px)


lib.run(main)
