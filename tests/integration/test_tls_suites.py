#!/usr/bin/python3
"""wsproxy(1) TLS, Protocol: the cipher suites and their order.

On a listener the server's order is enforced: AES-128-GCM first on a CPU
with AES-NI and PCLMULQDQ, ChaCha20-Poly1305 first elsewhere, and the
same ChaCha-first order on any CPU with WSPROXY_TEST_NO_AESNI=1 (the
test-only switch), with an EC and with an RSA certificate.  AES-256-GCM
is there for a client that wants only it; a client offering only CBC
suites is refused and the refusal logged.  openssl s_client, an
independent peer, sees the same suite and an X25519 key exchange.
Toward a wss:// upstream that follows the client's order (OpenSSL
without SSL_OP_CIPHER_SERVER_PREFERENCE), the suite agreed on is
wsproxy's first choice in the same way."""
import os
import platform
import ssl
import subprocess
import lib
import tlslib
from lib import check


def aes_hardware():
    if platform.machine() not in ('x86_64', 'i386', 'i686'):
        return False
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('flags'):
                flags = line.split(':', 1)[1].split()
                return 'aes' in flags and 'pclmulqdq' in flags
    return False


def suite_of(port, ciphers=None):
    c = tlslib.client_context()
    c.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers:
        c.set_ciphers(ciphers)
    cl = tlslib.TlsRawClient(port, c)
    name = cl.sock.cipher()[0]
    cl.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    cl.expect_close(1000)
    cl.close()
    return name


def openssl_view(port):
    r = subprocess.run([tlslib.OPENSSL, 's_client', '-connect', '127.0.0.1:%d' % port,
                        '-tls1_2', '-servername', 'localhost'],
                       input=b'', capture_output=True, timeout=20)
    out = r.stdout.decode(errors='replace')
    suite = temp = None
    for line in out.splitlines():
        if 'Cipher is ' in line:
            suite = line.split('Cipher is ', 1)[1].strip()
        if line.startswith('Server Temp Key:'):
            temp = line.split(':', 1)[1].strip()
    return suite, temp


def main(ctx):
    tlslib.need_tls()
    tlslib.need_openssl()
    pki = tlslib.Pki(ctx)
    rsa = pki.cert('rsa-server', kind='rsa')
    fast = aes_hardware()
    lib.log('CPU with AES-NI and PCLMULQDQ: %s' % fast)
    up = ctx.ws_upstream()
    for kind, cert in (('ECDSA', pki.server), ('RSA', rsa)):
        for forced in (False, True):
            env = {'WSPROXY_TEST_NO_AESNI': '1'} if forced else None
            px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--listen-cert', cert.crt,
                                  '--listen-key', cert.key, env=env)
            aes = fast and not forced
            want = 'ECDHE-%s-%s' % (kind, 'AES128-GCM-SHA256' if aes else 'CHACHA20-POLY1305')
            got = suite_of(px.port)
            lib.log('%s, switch %s: %s' % (kind, forced, got))
            check(got == want, '%s certificate, switch %s: suite %s, want %s' % (kind, forced, got, want))
            suite, temp = openssl_view(px.port)
            check(suite == want, 'openssl s_client: suite %r, want %s' % (suite, want))
            check(temp is not None and temp.startswith('X25519'),
                  'openssl s_client: key exchange %r, want X25519' % temp)
            # the other AEAD suites are there for clients that want them
            for only, name in (('ECDHE+AESGCM+AES256', 'ECDHE-%s-AES256-GCM-SHA384' % kind),
                               ('ECDHE+CHACHA20', 'ECDHE-%s-CHACHA20-POLY1305' % kind),
                               ('ECDHE+AESGCM+AES128', 'ECDHE-%s-AES128-GCM-SHA256' % kind)):
                got = suite_of(px.port, only)
                check(got == name, 'client offering %s: got %s' % (only, got))
            if not forced:
                # CBC only: refused, and said so in the log
                c = tlslib.client_context()
                c.maximum_version = ssl.TLSVersion.TLSv1_2
                c.set_ciphers('ECDHE+AES+SHA1:ECDHE+AES+SHA256:ECDHE+AES+SHA384:!AESGCM')
                try:
                    tlslib.tls_connect(px.port, c).close()
                    check(False, '%s: a CBC-only client got a handshake' % kind)
                except (ssl.SSLError, OSError):
                    pass
                tlslib.wait_log(px, 'event=abort', 'CBC-only client')

    # upstream side: the order wsproxy offers, seen by a server that
    # follows the client's order
    for forced in (False, True):
        seen = []

        async def handler(ws, rec):
            seen.append(ws.transport.get_extra_info('ssl_object').cipher()[0])
            async for m in ws:
                await ws.send(m)

        sctx = pki.server.server_context()
        sctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        sctx.maximum_version = ssl.TLSVersion.TLSv1_2
        wss = ctx.ws_upstream(handler, ssl=sctx)
        env = {'WSPROXY_TEST_NO_AESNI': '1'} if forced else {}
        env['SSL_CERT_FILE'] = pki.ca.crt
        px = ctx.proxy('--upstream', 'wss://localhost:%d' % wss.port, env=env)
        r = tlslib.echo_once('ws://127.0.0.1:%d/' % px.port, 'suite')
        check(r == 'suite', 'echo through wss:// %r' % r)
        wss.wait_conns(1, 3)
        want = 'ECDHE-ECDSA-%s' % ('AES128-GCM-SHA256' if fast and not forced else 'CHACHA20-POLY1305')
        check(seen and seen[0] == want, 'upstream, switch %s: suite %r, want %s' % (forced, seen, want))
        wss.wait_done(None, 5)
    up.wait_done(None, 5)


lib.run(main)
