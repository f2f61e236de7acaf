#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS, Name resolution: the resolver's flags.  A
--resolv-conf or --hosts-file that cannot be read, a --dns-max-ttl below
--dns-min-ttl, a TTL of 0: exit 64 naming the flag.  A name that needs
DNS with no nameserver listed is asked of 127.0.0.1, as the C library
does, and that is logged.  --check reports a name that does not
resolve (a .invalid name: never sent, RFC 6761).
"""
import os

import lib
from lib import check


def main(ctx):
    base = ['--listen', '127.0.0.1:0', '--upstream', 'ws://app.test:4000/']
    bad = [
        (['--resolv-conf', '/nonexistent/resolv.conf'], '--resolv-conf'),
        (['--hosts-file', '/nonexistent/hosts'], '--hosts-file'),
        (['--dns-min-ttl', '10', '--dns-max-ttl', '5'], '--dns-max-ttl'),
        (['--dns-min-ttl', '0'], '--dns-min-ttl'),
        (['--dns-max-ttl', 'x'], '--dns-max-ttl'),
    ]

    def one(name, extra, word):
        st, out, err = lib.run_proxy_once(base + extra)
        check(st == 64, '%s: exit %d, want 64 (%s)' % (name, st, err.strip()))
        check(word in err, '%s: message %r does not name %s' % (name, err.strip(), word))
    lib.cases([(' '.join(a), a, w) for a, w in bad], one)

    st, out, err = lib.run_proxy_once(['--check', '--listen', '127.0.0.1:0',
                                       '--upstream', 'ws://no-such.invalid:4000/'])
    check(st == 64 and 'does not resolve' in err, '--check of a .invalid name: %d %s'
          % (st, err))

    resolv = os.path.join(ctx.tmp, 'resolv.conf')
    with open(resolv, 'w') as f:
        f.write('options timeout:1 attempts:1\n')
    px = ctx.proxy('--upstream', 'ws://app.test:4000/', '--resolv-conf', resolv,
                   '--hosts-file', '/dev/null')
    px.wait_log('event=dns_no_nameserver', 'no nameserver listed', timeout=5)
    px.wait_log('event=dns_failed upstream=ws://app.test:4000/', 'the lookup', timeout=8)
    r = lib.http_exchange(px.port, lib.upgrade_request('/'))
    lib.check_error_response(r, 502, 'no nameserver answers')


lib.run(main)
