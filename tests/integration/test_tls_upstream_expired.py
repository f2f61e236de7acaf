#!/usr/bin/python3
"""wsproxy(1) TLS: an upstream certificate that has expired (valid 2020-01-01 to
2020-01-02, made with `openssl ca -startdate/-enddate`) or is not valid
yet -> 502, the log says expired."""
import lib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    old = pki.cert('expired', start='20200101000000Z', end='20200102000000Z')
    up = tlslib.wss_upstream(ctx, old)
    px = ctx.proxy('--upstream', up.uri, '--tls-ca', pki.ca.crt)
    tlslib.expect_502(px, what='expired', reason='expired')
    check('bearssl_error=54' in px.stderr_text(), 'no BearSSL error code: %s' % px.stderr_tail())
    future = pki.cert('future', start='20990101000000Z', end='20991231000000Z')
    up2 = tlslib.wss_upstream(ctx, future)
    px2 = ctx.proxy('--upstream', up2.uri, '--tls-ca', pki.ca.crt)
    tlslib.expect_502(px2, what='not yet valid', reason='not yet valid')
    check(len(up.conns) + len(up2.conns) == 0, 'a WebSocket handshake reached an expired upstream')


lib.run(main)
