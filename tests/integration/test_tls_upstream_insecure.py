#!/usr/bin/python3
"""wsproxy(1) TLS: --tls-insecure accepts any upstream certificate (unknown CA,
wrong name, expired, self-signed) and warns at start-up; without it the
same upstream is a 502."""
import lib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    other = pki.make_ca('other-ca')
    certs = {
        'unknown CA': pki.cert('stranger', ca=other),
        'wrong name': pki.cert('wrong', cn='wrong.example', san='DNS:wrong.example', kind='rsa'),
        'expired': pki.cert('expired', start='20200101000000Z', end='20200102000000Z'),
        'self-signed': other,
    }
    for what, cert in certs.items():
        up = tlslib.wss_upstream(ctx, cert)
        px = ctx.proxy('--upstream', up.uri, '--tls-insecure')
        err = px.stderr_text()
        check('insecure' in err.lower() and 'level=warn' in err,
              '%s: no start-up warning for --tls-insecure: %r' % (what, err[:300]))
        r = tlslib.echo_once('ws://127.0.0.1:%d/' % px.port, what)
        check(r == what, '%s: echo %r' % (what, r))
        strict = ctx.proxy('--upstream', up.uri, '--tls-ca', pki.ca.crt)
        tlslib.expect_502(strict, what='%s without --tls-insecure' % what)


lib.run(main)
