#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY: PROXY v2 (binary) on a proxy: listener.

  - TCP4 from 203.0.113.9:40000, with TLVs after the addresses (skipped):
    the upstream's X-Forwarded-For is 203.0.113.9, the close line says
    client=203.0.113.9:40000;
  - TCP6 2001:db8::9: X-Forwarded-For 2001:db8::9;
  - TCP6 carrying a v4-mapped ::ffff:198.51.100.4: logged and forwarded
    as the IPv4 address, as wsproxy keeps every IPv4 client;
  - LOCAL (the balancer's health check): the real peer, 127.0.0.1.
"""
import lib
import pplib
from lib import check


def xff(up, n):
    check(up.wait_conns(n, 3) == n, 'upstream saw no handshake')
    return up.conns[n - 1]['headers'].get_all('X-Forwarded-For')


def main(ctx):
    up = ctx.ws_upstream()
    px = pplib.proxy(ctx, '--upstream', up.uri)
    tlvs = b'\x04\x00\x03abc' + b'\xe0\x00\x00'
    cases = [
        (pplib.v2('203.0.113.9', '192.0.2.1', 40000, 443, tlvs), '203.0.113.9',
         'client=203.0.113.9:40000'),
        (pplib.v2('2001:db8::9', '2001:db8::1', 40001, 443), '2001:db8::9',
         'client=[2001:db8::9]:40001'),
        (pplib.v2('::ffff:198.51.100.4', '::1', 40002, 443), '198.51.100.4',
         'client=198.51.100.4:40002'),
        (pplib.v2('', '', 0, 0, local=True), '127.0.0.1', 'client=127.0.0.1:'),
    ]
    for n, (hdr, want, logged) in enumerate(cases, 1):
        s = lib.connect(px.port)
        r, rest = pplib.handshake(s, hdr)
        check(r.status == 101, '%s: %d %s' % (want, r.status, r.reason))
        check(xff(up, n) == [want], '%s: X-Forwarded-For %r' % (want, xff(up, n)))
        pplib.finish(s, rest)
        pplib.wait_line(px, 'event=close', logged)
    lib.check_log_grammar(px)


lib.run(main)
