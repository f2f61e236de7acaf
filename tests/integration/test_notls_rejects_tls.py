#!/usr/bin/python3
"""wsproxy(1) TLS: a binary built without TLS (make TLS=0; --version says
"(no TLS)") rejects every TLS flag, a wss:// upstream or route and a
tls: listener with exit 64 and one message saying it was built without
TLS, before any socket is opened.  Skipped for a TLS build (see
test_tls_flags for that one)."""
import lib
from lib import check


def main(ctx):
    st, out, err = lib.run_proxy_once(['--version'])
    check(st == 0, '--version: exit %d' % st)
    if '(no TLS)' not in out:
        raise lib.Skip('binary built with TLS (%s)' % out.strip())
    port = lib.free_port()
    lst = '127.0.0.1:%d' % port
    up = 'ws://127.0.0.1:9/'
    cases = [
        (['--listen', lst, '--upstream', 'wss://127.0.0.1:9/'], 'wss://'),
        (['--listen', lst, '--route', '/s=wss://example.com/socket'], 'wss://'),
        (['--listen', 'tls:' + lst, '--upstream', up], 'tls:'),
        (['--listen', lst, '--upstream', up, '--tls-ca', '/etc/hostname'], 'tls-ca'),
        (['--listen', lst, '--upstream', up, '--tls-cert', '/etc/hostname'], 'tls-cert'),
        (['--listen', lst, '--upstream', up, '--tls-key', '/etc/hostname'], 'tls-key'),
        (['--listen', lst, '--upstream', up, '--tls-servername', 'x.example'], 'tls-servername'),
        (['--listen', lst, '--upstream', up, '--tls-insecure'], 'tls-insecure'),
        (['--listen', lst, '--upstream', up, '--listen-cert', '/etc/hostname'], 'listen-cert'),
        (['--listen', lst, '--upstream', up, '--listen-key', '/etc/hostname'], 'listen-key'),
    ]
    for args, word in cases:
        st, out, err = lib.run_proxy_once(args)
        what = 'wsproxy %s' % ' '.join(args)
        check(st == 64, '%s: exit %d, want 64 (stderr %r)' % (what, st, err[:200]))
        check('built without tls' in err.lower(), '%s: message does not say built without TLS: %r' % (what, err[:200]))
        check(word in err, '%s: message does not name %s: %r' % (what, word, err[:200]))
        check(len(err.strip().splitlines()) <= 3, '%s: not one clear message: %r' % (what, err[:300]))
        check(port not in lib.listening_ports(), '%s: a socket was opened' % what)
    st, out, err = lib.run_proxy_once(['--help'])
    check(st == 0 and '--tls-ca' in out, '--help still documents the TLS flags')


lib.run(main)
