#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY: the flags.  A bad --trust-proxy is exit
64 naming the flag; a proxy: listener without any --trust-proxy is exit
64 (nobody could use it); --admin proxy:ADDR is refused, and so is a
proxy: listener without an address; --check prints each trust_proxy
block normalised (host bits cleared) and the listener as given; a
trailing ";send-proxy=v2" on a route is taken, any other option is exit
64.
"""
import lib
from lib import check


def main(ctx):
    up = 'ws://127.0.0.1:9/'
    for bad in ('10.0.0.0/33', '10.0.0.0/', 'example.com', '::/129', '10.0.0.0/08', ''):
        st, out, err = lib.run_proxy_once(['--upstream', up, '--trust-proxy', bad])
        check(st == 64 and '--trust-proxy' in err, '--trust-proxy %r: exit %d %r' % (bad, st, err))
    st, out, err = lib.run_proxy_once(['--upstream', up, '--listen', 'proxy:127.0.0.1:1'])
    check(st == 64 and '--trust-proxy' in err and 'proxy:127.0.0.1:1' in err,
          'proxy: without --trust-proxy: exit %d %r' % (st, err))
    st, out, err = lib.run_proxy_once(['--upstream', up, '--admin', 'proxy:127.0.0.1:1'])
    check(st == 64 and '--admin' in err, '--admin proxy:: exit %d %r' % (st, err))
    for bad in ('proxy:127.0.0.1', 'proxy:', 'proxy:tls:proxy'):
        st, out, err = lib.run_proxy_once(['--upstream', up, '--trust-proxy', '10.0.0.1',
                                           '--listen', bad])
        check(st == 64 and '--listen' in err, '--listen %s: exit %d %r' % (bad, st, err))
    p1, p2 = lib.free_port(), lib.free_port()
    st, out, err = lib.run_proxy_once(['--upstream', up, '--trust-proxy', '10.1.2.3/8',
                                       '--trust-proxy', '2001:db8::1', '--trust-proxy', '::1',
                                       '--listen', 'proxy:127.0.0.1:%d' % p1,
                                       '--route', '/s=ws://127.0.0.1:9;send-proxy=v2',
                                       '--listen', '127.0.0.1:%d' % p2, '--check'])
    check(st == 0, '--check: exit %d %r' % (st, err))
    for line in ('trust_proxy=10.0.0.0/8', 'trust_proxy=2001:db8::1/128', 'trust_proxy=::1/128',
                 'listen=proxy:127.0.0.1:%d' % p1, 'route=/s ws://127.0.0.1:9;send-proxy=v2'):
        check(line + '\n' in out, '--check does not print %r: %s' % (line, out))
    st, out, err = lib.run_proxy_once(['--route', '/=ws://127.0.0.1:9;send-proxy=v1'])
    check(st == 64 and '--route' in err, 'send-proxy=v1: exit %d %r' % (st, err))


lib.run(main)
