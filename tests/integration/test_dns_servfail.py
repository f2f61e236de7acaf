#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS, Name resolution: a lookup that fails keeps the
last good answer.

app.test answers 127.0.0.2 (TTL 1), then SERVFAIL: the failure is
logged once at warn as event=dns_failed error="SERVFAIL" (repeats at
debug), new pairs still reach 127.0.0.2, and once the server answers
again with the same address nothing is logged at info.
"""
import time

import lib
from lib import check
import dnsserver


def main(ctx):
    one, two = dnsserver.two_upstreams(ctx)
    dns = dnsserver.DnsServer(ctx)
    dns.set('app.test', a=['127.0.0.2'], ttl=1)
    uri = 'ws://app.test:%d/' % one.port
    px = ctx.proxy('--upstream', uri, '--resolv-conf', dns.resolv_conf(ctx),
                   '--dns-min-ttl', '1', '--hosts-file', '/dev/null')
    check(dnsserver.wait_count(px, 'event=dns_update upstream=%s addrs=1' % uri, 1) == 1,
          'no dns_update at start-up: %s' % px.stderr_tail())
    px.baseline = px.settled_fd_count()

    dns.set('app.test', rcode=2, ttl=1)
    failed = 'level=warn event=dns_failed upstream=%s error="SERVFAIL"' % uri
    check(dnsserver.wait_count(px, failed, 1) == 1,
          'no dns_failed SERVFAIL line: %s' % px.stderr_tail())
    n = dns.count('udp', 'app.test')
    time.sleep(2.5)             # more failed lookups, one a second
    check(dns.count('udp', 'app.test') > n, 'a failed name is not asked again')
    check(px.stderr_text().count('event=dns_failed') == 1,
          'a repeated failure was logged at warn again: %s' % px.stderr_tail())
    for i in range(3):
        c = lib.RawClient(px.port, '/after-servfail/%d' % i)
        dnsserver.echo(c, b'kept %d' % i)
        c.close()
    check(two.wait_conns(3) == 3 and len(one.conns) == 0,
          'pairs after SERVFAIL did not keep the last good address')

    dns.set('app.test', a=['127.0.0.2'], ttl=1)
    time.sleep(2)
    check(px.stderr_text().count('event=dns_update') == 1,
          'the same address again was logged as a change: %s' % px.stderr_tail())
    lib.check_log_grammar(px)


lib.run(main)
