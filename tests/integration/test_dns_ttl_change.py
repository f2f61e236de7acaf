#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS, Name resolution: an answer's TTL runs out, the
name is asked again, and a changed answer moves NEW pairs to the new
address while a pair already open keeps relaying to the old one.

app.test is 127.0.0.1 (TTL 1) and then 127.0.0.2; two echo upstreams
listen on both, same port.  The change is logged once as
event=dns_update, and the name keeps being asked (each TTL).
"""
import lib
from lib import check
import dnsserver


def main(ctx):
    one, two = dnsserver.two_upstreams(ctx)
    dns = dnsserver.DnsServer(ctx)
    dns.set('app.test', a=['127.0.0.1'], ttl=1)
    px = ctx.proxy('--upstream', 'ws://app.test:%d/' % one.port,
                   '--resolv-conf', dns.resolv_conf(ctx), '--dns-min-ttl', '1',
                   '--hosts-file', '/dev/null')
    check(dnsserver.wait_count(px, 'event=dns_update upstream=ws://app.test:%d/ addrs=1'
                               % one.port, 1) == 1, 'no dns_update at start-up: %s'
          % px.stderr_tail())
    px.baseline = px.settled_fd_count()
    old = lib.RawClient(px.port, '/old')
    check(one.wait_conns(1) == 1 and len(two.conns) == 0,
          'the first pair did not go to 127.0.0.1')
    dnsserver.echo(old, b'before')

    dns.set('app.test', a=['127.0.0.2'], ttl=1)
    check(dnsserver.wait_count(px, 'event=dns_update', 2) == 2,
          'the new answer was not taken: %s' % px.stderr_tail())
    new = lib.RawClient(px.port, '/new')
    check(two.wait_conns(1) == 1, 'the new pair did not go to 127.0.0.2')
    check(len(one.conns) == 1, 'a new pair went to the old address')
    dnsserver.echo(old, b'the old pair still relays')
    dnsserver.echo(new, b'and the new one')
    for c in (old, new):
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        f = c.recv_frame()
        check(f is not None and f.opcode == lib.OP_CLOSE, 'no close answer: %r' % f)
        c.close()
    n = dns.count('udp', 'app.test')
    check(dnsserver.wait_count(px, 'event=dns_update', 3, timeout=1.5) == 2,
          'an unchanged answer was logged at info: %s' % px.stderr_tail())
    check(dns.count('udp', 'app.test') > n, 'the name is not asked again each TTL')
    lib.check_log_grammar(px)


lib.run(main)
