#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS, Name resolution: an answer with another id is
ignored and the query goes on waiting for the real one.

The test server sends every UDP answer twice: first with a wrong id and
127.0.0.2 (a spoofer's guess), then the real one with 127.0.0.1.  No
pair ever reaches 127.0.0.2, and -v logs each forgery as ignored.
"""
import lib
from lib import check
import dnsserver


def main(ctx):
    one, two = dnsserver.two_upstreams(ctx)
    dns = dnsserver.DnsServer(ctx)
    dns.set('app.test', a=['127.0.0.1'], spoof=['127.0.0.2'], ttl=1)
    uri = 'ws://app.test:%d/' % one.port
    px = ctx.proxy('-v', '--upstream', uri, '--resolv-conf', dns.resolv_conf(ctx),
                   '--dns-min-ttl', '1', '--hosts-file', '/dev/null')
    check(dnsserver.wait_count(px, 'event=dns_update upstream=%s addrs=1' % uri, 1) == 1,
          'no dns_update at start-up: %s' % px.stderr_tail())
    check(dnsserver.wait_count(px, 'event=dns_ignored upstream=%s error="id mismatch"'
                               % uri, 1) >= 1,
          'the forged answer was not logged as ignored: %s' % px.stderr_tail())
    px.baseline = px.settled_fd_count()
    for i in range(4):
        c = lib.RawClient(px.port, '/p%d' % i)
        dnsserver.echo(c, b'real %d' % i)
        c.close()
    check(one.wait_conns(4) == 4, 'pairs did not reach the real address')
    check(len(two.conns) == 0, 'a pair reached the address of a forged answer')
    check('addrs=1' in px.stderr_text() and 'addrs=2' not in px.stderr_text(),
          'the forged address was merged in: %s' % px.stderr_tail())


lib.run(main)
