#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION, TLS for a TLS build: TLS flags that are wrong, contradictory or
name files that cannot be used -> exit 64 with one message naming the
flag, before any socket is opened (files are loaded and checked at
start-up, including that a key matches its certificate).  Valid TLS
flags start; --version says "(TLS: BearSSL)"."""
import os
import lib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    srv = pki.server
    other = pki.cert('other', kind='rsa')
    junk = os.path.join(ctx.tmp, 'junk.pem')
    with open(junk, 'w') as f:
        f.write('this is not PEM\n')
    empty = os.path.join(ctx.tmp, 'empty.pem')
    open(empty, 'w').close()
    enc = os.path.join(ctx.tmp, 'enc.key')
    pki.run('pkey', '-in', srv.key, '-aes128', '-passout', 'pass:x', '-out', enc)
    port = lib.free_port()
    lst = '127.0.0.1:%d' % port
    tls_lst = 'tls:' + lst
    wss = 'wss://localhost:9/'
    ws = 'ws://127.0.0.1:9/'
    missing = os.path.join(ctx.tmp, 'missing.pem')
    L = ['--listen-cert', srv.crt, '--listen-key', srv.key]
    cases = [
        (['--listen', lst, '-u', wss, '--tls-ca', missing], '--tls-ca'),
        (['--listen', lst, '-u', wss, '--tls-ca', junk], '--tls-ca'),
        (['--listen', lst, '-u', wss, '--tls-ca', empty], '--tls-ca'),
        (['--listen', lst, '-u', wss, '--tls-ca', srv.key], '--tls-ca'),
        (['--listen', lst, '-u', wss, '--tls-ca', ''], 'tls-ca'),
        (['--listen', lst, '-u', wss, '--tls-ca', pki.ca.crt, '--tls-ca', pki.ca.crt], 'tls-ca'),
        (['--listen', lst, '-u', wss], 'SSL_CERT_FILE'),   # set to a missing file below
        (['--listen', lst, '-u', wss, '--tls-cert', srv.crt], '--tls-key'),
        (['--listen', lst, '-u', wss, '--tls-key', srv.key], '--tls-cert'),
        (['--listen', lst, '-u', wss, '--tls-cert', srv.crt, '--tls-key', other.key], '--tls-key'),
        (['--listen', lst, '-u', wss, '--tls-cert', srv.crt, '--tls-key', enc], '--tls-key'),
        (['--listen', lst, '-u', wss, '--tls-cert', srv.key, '--tls-key', srv.key], '--tls-cert'),
        (['--listen', lst, '-u', wss, '--tls-cert', srv.crt, '--tls-key', srv.crt], '--tls-key'),
        (['--listen', lst, '-u', wss, '--tls-cert', missing, '--tls-key', srv.key], '--tls-cert'),
        (['--listen', lst, '-u', wss, '--tls-servername', 'a b'], 'tls-servername'),
        (['--listen', lst, '-u', wss, '--tls-servername', ''], 'tls-servername'),
        (['--listen', lst, '-u', wss, '--tls-insecure', '--tls-ca', pki.ca.crt], 'tls-insecure'),
        (['--listen', lst, '-u', ws, '--tls-insecure'], 'tls-insecure'),
        (['--listen', lst, '-u', ws, '--tls-cert', srv.crt, '--tls-key', srv.key], 'tls-cert'),
        (['--listen', lst, '-u', ws, '--tls-servername', 'x.example'], 'tls-servername'),
        (['--listen', tls_lst, '-u', ws], 'listen-cert'),
        (['--listen', tls_lst, '-u', ws, '--listen-cert', srv.crt], '--listen-key'),
        (['--listen', tls_lst, '-u', ws, '--listen-key', srv.key], '--listen-cert'),
        (['--listen', lst, '-u', ws] + L, 'listen-cert'),
        (['--listen', tls_lst, '-u', ws, '--listen-cert', srv.crt, '--listen-key', other.key], '--listen-key'),
        (['--listen', tls_lst, '-u', ws, '--listen-cert', junk, '--listen-key', srv.key], '--listen-cert'),
        (['--listen', tls_lst, '-u', ws, '--listen-cert', srv.crt, '--listen-key', missing], '--listen-key'),
        (['--listen', tls_lst, '-u', ws, '--listen-cert', srv.crt, '--listen-key', enc], '--listen-key'),
    ]
    for args, word in cases:
        env = {'SSL_CERT_FILE': missing if word == 'SSL_CERT_FILE' else pki.ca.crt}
        st, out, err = lib.run_proxy_once(args, env=env)
        what = 'wsproxy %s' % ' '.join(a.replace(ctx.tmp, '') for a in args)
        check(st == 64, '%s: exit %d, want 64 (stderr %r)' % (what, st, err[:300]))
        check(word in err, '%s: message does not name %s: %r' % (what, word, err[:300]))
        check(len(err.strip().splitlines()) <= 3, '%s: not one clear message: %r' % (what, err[:300]))
        check(port not in lib.listening_ports(), '%s: a socket was opened' % what)

    st, out, err = lib.run_proxy_once(['--version'])
    check(st == 0 and '(TLS: BearSSL)' in out, '--version: %r' % out)
    # every TLS flag together starts fine
    client = pki.cert('client', kind='rsa', usage='client', san=None)
    px = tlslib.tls_proxy(ctx, '-u', 'wss://localhost:9/', '--tls-ca', pki.ca.crt,
                          '--tls-cert', client.crt, '--tls-key', client.key,
                          '--tls-servername', 'localhost', '--listen-cert', srv.crt,
                          '--listen-key', srv.key, plain_listen=True)
    check(px.alive(), 'proxy with every TLS flag exited')


lib.run(main)
