#!/usr/bin/python3
"""wsproxy(1) TLS: mutual TLS.  An upstream that demands a client certificate
from its CA: without --tls-cert the handshake fails with the upstream's
alert -> 502 and a log line naming the alert; with --tls-cert/--tls-key
it works, for RSA and EC keys in PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA
PRIVATE KEY") and SEC1 ("EC PRIVATE KEY") PEM, and the upstream sees
the certificate's subject.  A certificate from a CA the upstream does
not trust is refused the same way.  (asyncio's TLS drops the alert and
just closes, so the log says the connection was closed or failed during
the handshake; a blocking Python ssl upstream sends the alert, and the
log names it.)"""
import socket
import ssl
import time
import lib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    client_ca = pki.make_ca('client-ca', kind='ec')

    async def handler(ws, rec):
        so = ws.transport.get_extra_info('ssl_object')
        cert = so.getpeercert()
        rec['peer'] = dict(x[0] for x in cert['subject']) if cert else None
        async for m in ws:
            await ws.send(m)

    up = tlslib.wss_upstream(ctx, pki.server, handler, client_ca=client_ca)
    px = ctx.proxy('--upstream', up.uri, '--tls-ca', pki.ca.crt)
    tlslib.expect_502(px, what='no client certificate', reason='during the handshake')
    check(len(up.conns) == 0, 'upstream accepted a WebSocket without a client certificate')

    # a blocking ssl upstream: its alert reaches the proxy
    sctx = pki.server.server_context(client_ca)
    outcome = []

    def tls_handler(c):
        s = sctx.wrap_socket(c.sock, server_side=True, do_handshake_on_connect=False)
        try:
            s.do_handshake()
            outcome.append('handshake done')
        except ssl.SSLError as e:
            outcome.append(str(e))
            # Read what the proxy sent after our alert until it closes, so
            # our close is a FIN: closing with unread bytes would be a
            # reset, which may reach the proxy before the alert does.
            s.settimeout(5)
            try:
                while socket.socket.recv(s, 65536):
                    pass
            except OSError:
                pass
        s.close()
    raw = ctx.raw_upstream(tls_handler)
    pxa = ctx.proxy('--upstream', 'wss://localhost:%d' % raw.port, '--tls-ca', pki.ca.crt)
    tlslib.expect_502(pxa, what='no client certificate (blocking upstream)', reason='alert=')
    # The handler thread records its outcome after sending the alert, so
    # the proxy's 502 can come first: wait for it.
    end = time.time() + 5
    while not outcome and time.time() < end:
        time.sleep(0.02)
    check(outcome and 'handshake done' not in outcome, 'raw upstream: %r' % outcome)
    lib.log('raw upstream said %r; proxy: %s' % (outcome, pxa.stderr_tail(300)))

    n = 0
    for kind in ('rsa', 'rsa-traditional', 'ec', 'ec-sec1'):
        cc = pki.cert('client-' + kind, cn='wsproxy-' + kind, san=None, kind=kind,
                      usage='client', ca=client_ca)
        pxc = ctx.proxy('--upstream', up.uri, '--tls-ca', pki.ca.crt,
                        '--tls-cert', cc.crt, '--tls-key', cc.key)
        r = tlslib.echo_once('ws://127.0.0.1:%d/' % pxc.port, kind)
        check(r == kind, '%s client key: echo %r' % (kind, r))
        n += 1
        check(up.wait_conns(n, 3) == n, '%s: no upstream connection' % kind)
        peer = up.conns[n - 1]['peer']
        check(peer and peer.get('commonName') == 'wsproxy-' + kind,
              '%s: upstream saw client certificate %r' % (kind, peer))

    untrusted = pki.cert('client-untrusted', cn='nobody', san=None, usage='client')
    pxu = ctx.proxy('--upstream', up.uri, '--tls-ca', pki.ca.crt,
                    '--tls-cert', untrusted.crt, '--tls-key', untrusted.key)
    tlslib.expect_502(pxu, what='client certificate from an untrusted CA', reason='TLS:')
    check(len(up.conns) == n, 'upstream accepted an untrusted client certificate')
    up.wait_done(None, 5)


lib.run(main)
