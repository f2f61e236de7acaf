#!/usr/bin/python3
"""wsproxy(1) TLS, HANDSHAKE: the upstream TLS handshake counts against
--connect-timeout (an upstream that accepts TCP and never answers the
ClientHello -> 504 after about that long); a wss:// URI pointing at a
plain ws:// server -> 502 at once; on a tls: listener a client speaking
plain HTTP, a client sending garbage and one that connects and says
nothing are closed without an answer (after --request-timeout for the
silent one) and the proxy carries on; a TLS client that completes the
handshake but not its request head gets 408 over TLS."""
import socket
import time
import lib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)

    def silent(c):
        c.sock.settimeout(5)
        try:
            while c.sock.recv(4096):
                pass
        except OSError:
            pass
    mute = ctx.raw_upstream(silent)
    px = ctx.proxy('--upstream', 'wss://localhost:%d' % mute.port, '--tls-ca', pki.ca.crt,
                   '--connect-timeout', '600')
    t0 = time.time()
    r = tlslib.status_of(px.port)
    took = time.time() - t0
    lib.check_error_response(r, 504, 'TLS handshake timeout')
    check(0.5 <= took < 3, 'TLS handshake timeout answered after %.2fs (connect-timeout 0.6s)' % took)
    tlslib.wait_log(px, 'TLS handshake timeout', 'upstream that never answers the ClientHello')

    plain = ctx.ws_upstream()
    px2 = ctx.proxy('--upstream', 'wss://127.0.0.1:%d' % plain.port, '--tls-ca', pki.ca.crt)
    t0 = time.time()
    tlslib.expect_502(px2, what='wss:// to a plain server', reason='TLS')
    check(time.time() - t0 < 2, 'plain server behind wss:// took %.1fs' % (time.time() - t0))

    up = ctx.ws_upstream()
    px3 = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--listen-cert', pki.server.crt,
                           '--listen-key', pki.server.key, '--request-timeout', '800')
    for what, data in (('plain HTTP', lib.upgrade_request('/')),
                       ('garbage', b'\x16\x03\x01\xff\xff' + b'\x00' * 300),
                       ('nothing', b'')):
        s = lib.connect(px3.port)
        t0 = time.time()
        if data:
            s.sendall(data)
        got = lib.read_to_eof(s, 3)
        s.close()
        check(b'HTTP/' not in got, '%s on a tls: listener: got an HTTP answer %r' % (what, got[:80]))
        if what == 'nothing':
            check(time.time() - t0 >= 0.7, 'silent client closed after %.2fs' % (time.time() - t0))
    # handshake done, request head never finished: 408 over TLS
    s = tlslib.tls_connect(px3.port, tlslib.client_context(pki))
    s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n')
    r, _ = lib.read_response(s, 3)
    lib.check_error_response(r, 408, 'TLS client with half a head')
    s.close()
    check(tlslib.echo_once('wss://localhost:%d/' % px3.port, ssl=tlslib.client_context(pki)) == 'hello',
          'proxy does not work after the bad clients')
    check(len(up.conns) == 1, 'bad clients reached the upstream')
    up.wait_done(None, 5)


lib.run(main)
