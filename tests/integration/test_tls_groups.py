#!/usr/bin/python3
"""wsproxy(1) TLS: the ECDHE groups, each alone.  X25519 is x25519.c's
own code, P-256, P-384 and P-521 BearSSL's.  openssl s_client, offering
one group only (Debian's Python cannot restrict a client to X25519),
gets that group from a listener with an RSA certificate, and X25519 or
P-256 from one with a P-256 certificate (over TLS 1.2 the client's
groups also bound the certificate's curve, so P-256 must be offered for
it, and BearSSL then takes P-256 over P-384 and P-521); and a WebSocket upgrade and closing handshake run over the keys it
made; repeated for
X25519, so that a rare wrong shared secret would show as a failed
handshake.  Toward a wss:// upstream, openssl s_server accepting one
group only reads wsproxy's upgrade request over the keys agreed."""
import os
import subprocess
import time
import lib
import tlslib
from lib import check

# (the name openssl takes, what s_client prints for it)
GROUPS = (('X25519', 'X25519'), ('P-256', 'prime256v1'),
          ('P-384', 'secp384r1'), ('P-521', 'secp521r1'))


def s_client(port, group, ec_cert, n):
    """Upgrade, a text frame and a close through openssl s_client
    offering group only: (suite, server key, what the server sent).
    The upstream sees the close with the text, so only the close comes
    back."""
    groups = group if not ec_cert or group == 'P-256' else group + ':P-256'
    msg = b'group %s %d' % (group.encode(), n)
    data = (lib.upgrade_request('/') + lib.frame(lib.OP_TEXT, msg) +
            lib.frame(lib.OP_CLOSE, lib.close_payload(1000)))
    r = subprocess.run([tlslib.OPENSSL, 's_client', '-connect', '127.0.0.1:%d' % port,
                        '-tls1_2', '-servername', 'localhost', '-groups', groups,
                        '-ign_eof'],
                       input=data, capture_output=True, timeout=20)
    suite = temp = None
    for line in r.stdout.decode(errors='replace').splitlines():
        if 'Cipher is ' in line and suite is None:
            suite = line.split('Cipher is ', 1)[1].strip()
        if line.startswith('Server Temp Key:'):
            temp = line.split(':', 1)[1].strip()
    return suite, temp, r.stdout


def main(ctx):
    tlslib.need_tls()
    tlslib.need_openssl()
    pki = tlslib.Pki(ctx)
    rsa = pki.cert('rsa-server', kind='rsa')
    up = ctx.ws_upstream()
    for kind, cert in (('ECDSA', pki.server), ('RSA', rsa)):
        px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--listen-cert', cert.crt,
                              '--listen-key', cert.key)
        for group, shown in GROUPS:
            if kind == 'ECDSA' and group not in ('X25519', 'P-256'):
                continue
            for n in range(8 if group == 'X25519' else 2):
                suite, temp, out = s_client(px.port, group, kind == 'ECDSA', n)
                if n == 0:
                    lib.log('%s, %s: %s, %s' % (kind, group, suite, temp))
                check(suite is not None and suite.startswith('ECDHE-%s-' % kind),
                      '%s, %s: openssl s_client suite %r' % (kind, group, suite))
                check(temp is not None and shown in temp,
                      '%s, %s: server key %r' % (kind, group, temp))
                check(b'HTTP/1.1 101' in out and
                      lib.frame(lib.OP_CLOSE, lib.close_payload(1000), mask=False) in out,
                      '%s, %s: no upgrade and close over the keys: %r' % (kind, group, out[-300:]))

    # toward the upstream: s_server takes one group and one connection,
    # and prints what it decrypted
    for group, shown in GROUPS:
        port = lib.free_port()
        srv = subprocess.Popen([tlslib.OPENSSL, 's_server', '-accept', '127.0.0.1:%d' % port,
                                '-cert', pki.server.crt, '-key', pki.server.key,
                                '-tls1_2', '-groups', group, '-naccept', '1'],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        try:
            end = time.time() + 5
            while port not in lib.listening_ports() and time.time() < end:
                time.sleep(0.02)
            px = ctx.proxy('--upstream', 'wss://localhost:%d' % port,
                           '--upgrade-timeout', '1000',
                           env={'SSL_CERT_FILE': pki.ca.crt})
            st = lib.http_exchange(px.port, lib.upgrade_request('/'), timeout=8)
            out = srv.communicate(timeout=10)[0]
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
        check(b'Upgrade: websocket' in out or b'upgrade: websocket' in out.lower(),
              'upstream with %s only: s_server read no upgrade request: %r (client got %r)'
              % (group, out[-400:], st))
    up.wait_done(None, 5)


lib.run(main)
