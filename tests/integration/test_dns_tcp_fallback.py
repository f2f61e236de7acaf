#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS, Name resolution: a truncated UDP answer (TC) is
asked again over TCP, and the TCP answer is the one used.

The server's UDP answers have TC set and carry 127.0.0.1; its TCP
answers carry 127.0.0.2 (length and message in two writes, so the
reader must put them together).  Pairs go to 127.0.0.2 only.
"""
import lib
from lib import check
import dnsserver


def main(ctx):
    one, two = dnsserver.two_upstreams(ctx)
    dns = dnsserver.DnsServer(ctx)
    dns.set('app.test', tc=True, tc_a=['127.0.0.1'], a=['127.0.0.2'], ttl=30)
    uri = 'ws://app.test:%d/' % one.port
    px = ctx.proxy('--upstream', uri, '--resolv-conf', dns.resolv_conf(ctx),
                   '--dns-min-ttl', '1', '--hosts-file', '/dev/null')
    check(dnsserver.wait_count(px, 'event=dns_update upstream=%s addrs=1 ttl=30' % uri,
                               1) == 1, 'no dns_update from TCP: %s' % px.stderr_tail())
    check(dns.count('tcp', 'app.test') >= 2, 'not asked over TCP (A and AAAA): %r'
          % dns.queries)
    px.baseline = px.settled_fd_count()
    for i in range(3):
        c = lib.RawClient(px.port, '/t%d' % i)
        dnsserver.echo(c, b'over tcp %d' % i)
        c.close()
    check(two.wait_conns(3) == 3, 'pairs did not reach the TCP answer\'s address')
    check(len(one.conns) == 0, 'a pair reached the truncated answer\'s address')


lib.run(main)
