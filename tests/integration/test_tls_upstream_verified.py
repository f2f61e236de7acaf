#!/usr/bin/python3
"""wsproxy(1) TLS: a wss:// upstream (python3-websockets over Python's ssl) whose
certificate chains to --tls-ca is verified and used: by DNS name
(wss://localhost, checked against the certificate's dNSName), by IP
literal (wss://127.0.0.1 and wss://[::1], checked against its iPAddress
SANs, no SNI), with --tls-servername on an IP URI, and with the CA
bundle taken from SSL_CERT_FILE.  SNI reaches the upstream; a second connection resumes
the TLS session; X-Forwarded-Proto is ws for a plain client."""
import socket
import ssl
import lib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    snis = []

    async def handler(ws, rec):
        so = ws.transport.get_extra_info('ssl_object')
        rec['reused'] = so.session_reused
        rec['version'] = so.version()
        async for m in ws:
            await ws.send(m)

    up = tlslib.wss_upstream(ctx, pki.server, handler, sni=snis)

    cases = [
        ('dns name', ['--upstream', up.uri, '--tls-ca', pki.ca.crt], None, 'localhost'),
        ('ip literal', ['--upstream', up.ip_uri, '--tls-ca', pki.ca.crt], None, None),
        ('servername', ['--upstream', up.ip_uri, '--tls-ca', pki.ca.crt,
                        '--tls-servername', 'localhost'], None, 'localhost'),
        ('SSL_CERT_FILE', ['--upstream', up.uri], {'SSL_CERT_FILE': pki.ca.crt}, 'localhost'),
    ]
    n = 0
    for what, args, env, sni in cases:
        px = ctx.proxy(*args, env=env)
        for i in range(2):
            r = tlslib.echo_once('ws://127.0.0.1:%d/x?y=1' % px.port, '%s %d' % (what, i))
            check(r == '%s %d' % (what, i), '%s: echo %r' % (what, r))
            n += 1
            check(up.wait_conns(n, 3) == n, '%s: upstream saw no connection' % what)
            rec = up.conns[n - 1]
            check(rec['path'] == '/x?y=1', '%s: path %r' % (what, rec['path']))
            check(rec['headers'].get('X-Forwarded-Proto') == 'ws',
                  '%s: X-Forwarded-Proto %r' % (what, rec['headers'].get('X-Forwarded-Proto')))
            check(rec['version'] == 'TLSv1.2', '%s: TLS version %r' % (what, rec['version']))
            check(snis and snis[-1] == sni, '%s: upstream saw SNI %r, want %r' % (what, snis[-1:], sni))
            if i == 1:
                check(rec['reused'], '%s: second connection did not resume the TLS session' % what)
        check('tls_error' not in px.stderr_text(), '%s: TLS error logged: %s' % (what, px.stderr_tail()))
    up.wait_done(None, 5)

    # an IPv6 literal, matched against an iPAddress SAN of 16 bytes
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(('::1', 0))
        s.close()
    except OSError:
        lib.log('no IPv6 loopback: IPv6 literal not checked')
        return
    v6 = pki.cert('v6', san='DNS:localhost,IP:127.0.0.1,IP:::1')
    sctx = v6.server_context()

    def tls_echo(c):
        c.sock = sctx.wrap_socket(c.sock, server_side=True)
        c.handshake()
        f = c.recv_frame()
        c.send(lib.frame(lib.OP_TEXT, f.payload, mask=False))
        c.expect_close(1000)
    raw = ctx.raw_upstream(tls_echo, host='::1')
    px6 = ctx.proxy('--upstream', 'wss://[::1]:%d' % raw.port, '--tls-ca', pki.ca.crt)
    r = tlslib.echo_once('ws://127.0.0.1:%d/' % px6.port, 'v6')
    check(r == 'v6', 'IPv6 literal upstream: echo %r' % r)
    raw.wait_done(5)
    px_bad = ctx.proxy('--upstream', 'wss://[::1]:%d' % up6_other(ctx, pki), '--tls-ca', pki.ca.crt)
    tlslib.expect_502(px_bad, what='IPv6 literal not in the certificate', reason='name mismatch')


def up6_other(ctx, pki):
    """A TLS upstream on ::1 whose certificate names 127.0.0.1 only."""
    sctx = pki.server.server_context()

    def h(c):
        try:
            c.sock = sctx.wrap_socket(c.sock, server_side=True)
            c.read_request()
        except (ssl.SSLError, OSError, lib.Fail):
            pass
    return ctx.raw_upstream(h, host='::1').port


lib.run(main)
