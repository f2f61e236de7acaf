#!/usr/bin/python3
"""wsproxy(1) TLS: wsproxy ends TLS connections with close_notify, not a bare
TCP FIN: after a WebSocket close handshake the TLS client and the TLS
upstream (Python ssl with suppress_ragged_eofs=False, which raises on a
FIN without close_notify) both see a clean TLS end; so does a client
whose request is answered with wsproxy's own error (404) on a tls:
listener."""
import ssl
import lib
import tlslib
from lib import check, frame, OP_CLOSE, OP_TEXT


def clean_eof(sock, what):
    """Read to the end; Fail if it was not a close_notify."""
    sock.settimeout(5)
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                return
    except ssl.SSLEOFError as e:
        raise lib.Fail('%s: TCP closed without close_notify (%s)' % (what, e))
    except (ssl.SSLError, OSError) as e:
        raise lib.Fail('%s: %s' % (what, e))


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    sctx = pki.server.server_context()
    seen = {}

    def tls_echo(c):
        c.sock = sctx.wrap_socket(c.sock, server_side=True, suppress_ragged_eofs=False)
        c.handshake()
        while True:
            f = c.recv_frame(10)
            check(f is not None, 'upstream: EOF before a close frame')
            if f.opcode == OP_CLOSE:
                c.send(frame(OP_CLOSE, f.payload, mask=False))
                break
            c.send(frame(f.opcode, f.payload, mask=False))
        try:
            clean_eof(c.sock, 'upstream leg')
            seen['upstream'] = 'clean'
        except lib.Fail as e:
            seen['upstream'] = str(e)
    raw = ctx.raw_upstream(tls_echo)
    px = tlslib.tls_proxy(ctx, '--route', '/ok=wss://localhost:%d' % raw.port,
                          '--tls-ca', pki.ca.crt, '--listen-cert', pki.server.crt,
                          '--listen-key', pki.server.key)
    cctx = tlslib.client_context(pki)
    c = tlslib.TlsRawClient(px.port, cctx, path='/ok', ragged_ok=False)
    c.send_frame(OP_TEXT, b'hi')
    f = c.recv_frame()
    check(f is not None and f.payload == b'hi', 'echo %r' % f)
    c.send_frame(OP_CLOSE, lib.close_payload(1000))
    f = c.recv_frame()
    check(f is not None and f.opcode == OP_CLOSE and f.close_code == 1000, 'close echo %r' % f)
    clean_eof(c.sock, 'client leg')
    c.close()
    raw.wait_done(5)
    check(seen.get('upstream') == 'clean', seen.get('upstream'))

    # wsproxy's own answer on a tls: listener
    s = tlslib.tls_connect(px.port, cctx, ragged_ok=False)
    s.sendall(lib.upgrade_request('/nowhere'))
    r, rest = lib.read_response(s, body=False)
    check(r.status == 404, 'expected 404, got %r' % r)
    clean_eof(s, 'after 404')
    s.close()


lib.run(main)
