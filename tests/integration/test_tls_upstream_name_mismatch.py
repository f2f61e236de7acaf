#!/usr/bin/python3
"""wsproxy(1) TLS: the upstream certificate is from the right CA but for another
name -> 502 with "name mismatch" in the log: a DNS name not in the
certificate, --tls-servername naming another host, and an IP literal
URI whose certificate has the name only as dNSName (no iPAddress SAN)
or another address."""
import lib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    wrong = pki.cert('wrong', cn='wrong.example', san='DNS:wrong.example')
    up = tlslib.wss_upstream(ctx, wrong)
    px = ctx.proxy('--upstream', up.uri, '--tls-ca', pki.ca.crt)
    tlslib.expect_502(px, what='wrong DNS name', reason='name mismatch')
    check('bearssl_error=56' in px.stderr_text(), 'no BearSSL error code: %s' % px.stderr_tail())

    good = tlslib.wss_upstream(ctx, pki.server)
    px2 = ctx.proxy('--upstream', good.uri, '--tls-ca', pki.ca.crt,
                    '--tls-servername', 'elsewhere.example')
    tlslib.expect_502(px2, what='--tls-servername elsewhere', reason='name mismatch')

    dns_only = pki.cert('dnsonly', san='DNS:localhost,DNS:127.0.0.1.example')
    up3 = tlslib.wss_upstream(ctx, dns_only)
    px3 = ctx.proxy('--upstream', up3.ip_uri, '--tls-ca', pki.ca.crt)
    tlslib.expect_502(px3, what='IP URI, no iPAddress SAN', reason='name mismatch')

    other_ip = pki.cert('otherip', san='DNS:localhost,IP:127.0.0.2,IP:::1')
    up4 = tlslib.wss_upstream(ctx, other_ip)
    px4 = ctx.proxy('--upstream', up4.ip_uri, '--tls-ca', pki.ca.crt)
    tlslib.expect_502(px4, what='IP URI, other addresses', reason='name mismatch')
    # but the same certificate is good by its DNS name
    r = tlslib.echo_once('ws://127.0.0.1:%d/' % ctx.proxy('--upstream', up4.uri, '--tls-ca', pki.ca.crt).port)
    check(r == 'hello', 'DNS name of the same certificate: %r' % r)
    check(len(up.conns) + len(good.conns) + len(up3.conns) == 0,
          'a WebSocket handshake reached a mismatched upstream')


lib.run(main)
