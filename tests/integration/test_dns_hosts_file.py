#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS, Name resolution: the hosts file is asked first,
so a name in it needs no DNS server at all: with an empty resolv.conf
(no nameserver) wsproxy neither asks one nor warns about it.  Names
match without regard to case, aliases count, and --check prints the
address from the hosts file.
"""
import os

import lib
from lib import check
import dnsserver


def main(ctx):
    one, two = dnsserver.two_upstreams(ctx)
    hosts = os.path.join(ctx.tmp, 'hosts')
    with open(hosts, 'w') as f:
        f.write('# a comment line\n127.0.0.9 other.test\n'
                '127.0.0.2   web.test APP.Test   # the one\n')
    resolv = os.path.join(ctx.tmp, 'resolv.conf')
    open(resolv, 'w').close()
    uri = 'ws://app.test:%d/' % one.port
    args = ['--upstream', uri, '--resolv-conf', resolv, '--hosts-file', hosts]
    px = ctx.proxy(*args)
    check(dnsserver.wait_count(px, 'event=dns_update upstream=%s addrs=1 ttl=300' % uri,
                               1) == 1, 'no dns_update from the hosts file: %s'
          % px.stderr_tail())
    for i in range(2):
        c = lib.RawClient(px.port, '/h%d' % i)
        dnsserver.echo(c, b'from hosts %d' % i)
        c.close()
    check(two.wait_conns(2) == 2 and len(one.conns) == 0,
          'pairs did not reach the hosts file\'s address')
    check('dns_no_nameserver' not in px.stderr_text(),
          'warned about a nameserver it did not need: %s' % px.stderr_tail())

    st, out, err = lib.run_proxy_once(['--check', '--listen', '127.0.0.1:0'] + args)
    check(st == 0, '--check: exit %d: %s' % (st, err))
    check('upstream_addr=%s 127.0.0.2:%d' % (uri, one.port) in out,
          '--check does not print the hosts file\'s address: %s' % out)
    check('hosts_file=%s' % hosts in out and 'dns_min_ttl=5s' in out and
          'dns_max_ttl=300s' in out, '--check does not print the DNS settings: %s' % out)


lib.run(main)
