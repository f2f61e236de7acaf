#!/usr/bin/python3
"""wsproxy(1) SIGNALS, UPSTREAMS Name resolution: SIGHUP reads
resolv.conf again and asks every name again at once, in the background,
long before the TTL runs out; open pairs keep relaying.

app.test is 127.0.0.1 for 300 s at the first nameserver; resolv.conf
is then rewritten to name a second server that answers 127.0.0.2.
After SIGHUP the reload line comes, the second server is asked, and
new pairs go to 127.0.0.2.
"""
import signal
import time

import lib
from lib import check
import dnsserver


def main(ctx):
    one, two = dnsserver.two_upstreams(ctx)
    first = dnsserver.DnsServer(ctx)
    first.set('app.test', a=['127.0.0.1'], ttl=300)
    second = dnsserver.DnsServer(ctx)
    second.set('app.test', a=['127.0.0.2'], ttl=300)
    resolv = first.resolv_conf(ctx)
    uri = 'ws://app.test:%d/' % one.port
    px = ctx.proxy('--upstream', uri, '--resolv-conf', resolv, '--hosts-file', '/dev/null')
    check(dnsserver.wait_count(px, 'event=dns_update upstream=%s addrs=1 ttl=300' % uri,
                               1) == 1, 'no dns_update at start-up: %s' % px.stderr_tail())
    px.baseline = px.settled_fd_count()
    old = lib.RawClient(px.port, '/old')
    dnsserver.echo(old, b'before')
    check(one.wait_conns(1) == 1, 'the first pair did not reach 127.0.0.1')

    second.resolv_conf(ctx)          # same path: now names the second server
    t0 = time.time()
    px.p.send_signal(signal.SIGHUP)
    px.wait_log('event=reload ok=yes', 'the reload')
    check(dnsserver.wait_count(px, 'event=dns_update', 2, timeout=3) == 2,
          'SIGHUP did not ask the name again: %s' % px.stderr_tail())
    check(time.time() - t0 < 3, 'the new answer took %.1fs' % (time.time() - t0))
    check(second.count('udp', 'app.test') >= 2, 'the new nameserver was not asked')
    new = lib.RawClient(px.port, '/new')
    dnsserver.echo(new, b'after')
    check(two.wait_conns(1) == 1, 'a new pair did not reach 127.0.0.2')
    dnsserver.echo(old, b'the old pair still relays')
    old.close()
    new.close()


lib.run(main)
