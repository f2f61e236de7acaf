#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS, Failover: a wss:// member whose TLS handshake fails
(its certificate does not chain to --tls-ca) is skipped like a refusing one:
the next member serves the same request, and the failed member sits out its
back-off.  No WebSocket handshake ever reaches the unverified member."""
import lib
import tlslib
from lib import check
from pools import which


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    other = pki.make_ca('other-ca')
    bad = tlslib.wss_upstream(ctx, pki.cert('stranger', ca=other))
    good = tlslib.wss_upstream(ctx, pki.server)
    px = ctx.proxy('--tls-ca', pki.ca.crt, '--route', '/=%s,%s' % (bad.uri, good.uri))
    got = [which([good], px.port) for _ in range(20)]
    check(got == [0] * 20, 'handshakes with one untrusted member: %r' % got)
    check(len(bad.conns) == 0, 'a WebSocket handshake reached the untrusted member')
    fails = [l for l in px.stderr_text().splitlines() if 'event=upstream_failed' in l]
    check(len(fails) == 1 and 'unknown CA' in fails[0], 'tries at the untrusted member: %r' % fails)
    lib.log('TLS failover: 20 handshakes, 0 failed, 1 try at the untrusted member')


lib.run(main)
