#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS, Name resolution: a name that does not resolve at
start-up does not stop wsproxy from starting; its route answers 502
(logged "upstream name not resolved") until the name resolves, then
101, without a reload.
"""
import lib
from lib import check
import dnsserver


def main(ctx):
    up = lib.RawUpstream(ctx, lib.raw_echo_handler, host='127.0.0.1')
    dns = dnsserver.DnsServer(ctx)          # app.test: NXDOMAIN for now
    uri = 'ws://app.test:%d/' % up.port
    px = ctx.proxy('--upstream', uri, '--resolv-conf', dns.resolv_conf(ctx),
                   '--dns-min-ttl', '1', '--hosts-file', '/dev/null')
    check(dnsserver.wait_count(px, 'level=warn event=dns_failed upstream=%s'
                               ' error="NXDOMAIN"' % uri, 1) == 1,
          'no dns_failed warning at start-up: %s' % px.stderr_tail())
    px.baseline = px.settled_fd_count()
    r = lib.http_exchange(px.port, lib.upgrade_request('/'))
    lib.check_error_response(r, 502, 'a name not resolved yet')
    px.wait_log('upstream name not resolved', 'the 502')
    check(len(up.conns) == 0, 'something reached the upstream')

    dns.set('app.test', a=['127.0.0.1'], ttl=60)
    check(dnsserver.wait_count(px, 'event=dns_update upstream=%s addrs=1 ttl=60' % uri,
                               1, timeout=5) == 1,
          'the name was not asked again: %s' % px.stderr_tail())
    c = lib.RawClient(px.port, '/late')
    dnsserver.echo(c, b'resolved at last')
    c.close()
    check(up.wait_conns(1) == 1, 'the pair did not reach the upstream')
    lib.check_log_grammar(px)


lib.run(main)
