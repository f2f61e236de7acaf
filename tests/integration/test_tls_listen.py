#!/usr/bin/python3
"""wsproxy(1) TLS: --listen tls:ADDR with --listen-cert (full chain) and
--listen-key.  A python3-websockets client verifying the test CA
(check_hostname on, by name and by IP) exchanges messages through it;
ALPN http/1.1 is selected when offered (and a client offering only h2
still connects, without ALPN); a plain listener works beside it
on the same proxy; X-Forwarded-Proto is wss for the TLS listener and ws
for the plain one; a client reconnecting resumes its TLS session; the
server certificate may be RSA or EC."""
import lib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    up = ctx.ws_upstream()
    n = 0
    for kind in ('ec', 'rsa'):
        cert = pki.cert('listener-' + kind, kind=kind, chain=True)
        px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--listen-cert', cert.crt,
                              '--listen-key', cert.key, plain_listen=True)
        cctx = tlslib.client_context(pki)
        for uri in ('wss://localhost:%d/a' % px.port, 'wss://127.0.0.1:%d/a' % px.port):
            r = tlslib.echo_once(uri, 'via ' + uri, ssl=cctx)
            check(r == 'via ' + uri, '%s %s: echo %r' % (kind, uri, r))
            n += 1
            check(up.wait_conns(n, 3) == n, 'no upstream connection')
            xfp = up.conns[n - 1]['headers'].get('X-Forwarded-Proto')
            check(xfp == 'wss', '%s: X-Forwarded-Proto %r for a TLS client' % (kind, xfp))
        r = tlslib.echo_once('ws://127.0.0.1:%d/p' % px.plain_port, 'plain')
        check(r == 'plain', 'plain listener beside TLS: echo %r' % r)
        n += 1
        check(up.wait_conns(n, 3) == n, 'no upstream connection')
        xfp = up.conns[n - 1]['headers'].get('X-Forwarded-Proto')
        check(xfp == 'ws', 'X-Forwarded-Proto %r for a plain client' % xfp)

        # ALPN, TLS version, session resumption, by hand
        actx = tlslib.client_context(pki, alpn=['h2', 'http/1.1'])
        s = tlslib.tls_connect(px.port, actx)
        check(s.selected_alpn_protocol() == 'http/1.1',
              'ALPN: proxy selected %r' % s.selected_alpn_protocol())
        check(s.version() == 'TLSv1.2', 'TLS version %r' % s.version())
        sess = s.session
        s.close()
        sock = lib.socket.create_connection(('127.0.0.1', px.port), 5)
        s2 = actx.wrap_socket(sock, server_hostname='localhost', session=sess)
        check(s2.session_reused, 'TLS session not resumed on reconnect')
        # a client offering only h2: no ALPN answer, but it still works
        h2 = tlslib.tls_connect(px.port, tlslib.client_context(pki, alpn=['h2']))
        check(h2.selected_alpn_protocol() is None, 'ALPN h2 only: proxy selected %r' %
              h2.selected_alpn_protocol())
        h2.sendall(lib.upgrade_request('/h2'))
        resp, _ = lib.read_response(h2)
        check(resp.status == 101, 'upgrade after an h2-only ALPN offer: %r' % resp)
        n += 1
        h2.close()
        s2.sendall(lib.upgrade_request('/r'))
        resp, _ = lib.read_response(s2)
        check(resp.status == 101, 'upgrade over a resumed session: %r' % resp)
        n += 1
        s2.close()
        px.check_fds()
    up.wait_done(None, 5)


lib.run(main)
