#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY, SECURITY: --trust-proxy decides whether a
client's X-Forwarded-For and Forwarded are believed (a plain listener).

  - from 127.0.0.1 inside --trust-proxy 127.0.0.0/8: its X-Forwarded-For
    lines (two of them) are kept and the peer appended, in one line
    "198.51.100.1, 198.51.100.2, 127.0.0.1"; its Forwarded likewise
    ("for=198.51.100.1;proto=https, for=127.0.0.1;proto=ws;host=...");
    X-Real-IP, X-Forwarded-Host/-Proto and '_' spellings are still
    replaced or dropped;
  - from 127.0.0.1 outside --trust-proxy 10.0.0.0/8: dropped and
    replaced, as without --trust-proxy;
  - behind a proxy: listener, the client the PROXY header names is the
    one judged: 203.0.113.7 is not trusted, so its X-Forwarded-For is
    dropped even though the balancer is.
"""
import lib
import pplib
from lib import check

CLAIMS = [('X-Forwarded-For', '198.51.100.1'), ('X-Forwarded-For', '198.51.100.2'),
          ('Forwarded', 'for=198.51.100.1;proto=https'), ('X-Real-IP', '6.6.6.6'),
          ('X_Forwarded_For', '6.6.6.6'), ('X-Forwarded-Proto', 'https'),
          ('X-Forwarded-Host', 'evil.example')]


def seen(up, port, header=b''):
    n = len(up.conns)
    s = lib.connect(port)
    r, rest = pplib.handshake(s, header, headers=CLAIMS)
    check(r.status == 101, 'handshake: %d' % r.status)
    pplib.finish(s, rest)
    check(up.wait_conns(n + 1, 3) == n + 1, 'upstream saw no handshake')
    return up.conns[n]['headers']


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--trust-proxy', '127.0.0.0/8')
    h = seen(up, px.port)
    check(h.get_all('X-Forwarded-For') == ['198.51.100.1, 198.51.100.2, 127.0.0.1'],
          'trusted X-Forwarded-For %r' % h.get_all('X-Forwarded-For'))
    check(h.get_all('Forwarded') == ['for=198.51.100.1;proto=https, for=127.0.0.1;proto=ws;'
                                     'host="localhost"'],
          'trusted Forwarded %r' % h.get_all('Forwarded'))
    check(h.get('X-Real-IP') is None and '6.6.6.6' not in str(h), 'X-Real-IP or a twin passed: %s' % h)
    check(h.get_all('X-Forwarded-Proto') == ['ws'], 'X-Forwarded-Proto %r' % h.get_all('X-Forwarded-Proto'))
    check(h.get_all('X-Forwarded-Host') == ['localhost'], 'X-Forwarded-Host %r'
          % h.get_all('X-Forwarded-Host'))

    px2 = ctx.proxy('--upstream', up.uri, '--trust-proxy', '10.0.0.0/8')
    h = seen(up, px2.port)
    check(h.get_all('X-Forwarded-For') == ['127.0.0.1'], 'untrusted X-Forwarded-For %r'
          % h.get_all('X-Forwarded-For'))
    check(h.get_all('Forwarded') == ['for=127.0.0.1;proto=ws;host="localhost"'],
          'untrusted Forwarded %r' % h.get_all('Forwarded'))

    px3 = pplib.proxy(ctx, '--upstream', up.uri, trust=('127.0.0.1',))
    h = seen(up, px3.port, pplib.v1('203.0.113.7', '127.0.0.1', 1, 2))
    check(h.get_all('X-Forwarded-For') == ['203.0.113.7'], 'behind PROXY, untrusted client: %r'
          % h.get_all('X-Forwarded-For'))
    px4 = pplib.proxy(ctx, '--upstream', up.uri, trust=('127.0.0.1', '203.0.113.0/24'))
    h = seen(up, px4.port, pplib.v1('203.0.113.7', '127.0.0.1', 1, 2))
    check(h.get_all('X-Forwarded-For') == ['198.51.100.1, 198.51.100.2, 203.0.113.7'],
          'behind PROXY, trusted client: %r' % h.get_all('X-Forwarded-For'))


lib.run(main)
