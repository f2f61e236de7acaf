#!/usr/bin/python3
"""wsproxy(1) TLS: a wss:// upstream whose certificate does not chain to --tls-ca
(signed by another CA, or self-signed) -> 502 for the client, nothing
relayed, and a log line naming the reason (unknown CA) with BearSSL's
error code.  The default trust store (SSL_CERT_FILE pointing at another
CA) is verified the same way."""
import lib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    other = pki.make_ca('other-ca')
    stranger = pki.cert('stranger', ca=other)
    up = tlslib.wss_upstream(ctx, stranger)
    px = ctx.proxy('--upstream', up.uri, '--tls-ca', pki.ca.crt)
    tlslib.expect_502(px, what='other CA', reason='unknown CA')
    check('bearssl_error=62' in px.stderr_text(), 'no BearSSL error code in the log: %s' % px.stderr_tail())
    px2 = ctx.proxy('--upstream', up.uri, env={'SSL_CERT_FILE': pki.ca.crt})
    tlslib.expect_502(px2, what='SSL_CERT_FILE', reason='unknown CA')
    # the proxy still works for the next client with a good upstream
    good = tlslib.wss_upstream(ctx, pki.server)
    px3 = ctx.proxy('--upstream', good.uri, '--tls-ca', other.crt)
    tlslib.expect_502(px3, what='server cert vs other CA', reason='unknown CA')
    check(len(up.conns) == 0 and len(good.conns) == 0,
          'a WebSocket handshake reached an unverified upstream')


lib.run(main)
