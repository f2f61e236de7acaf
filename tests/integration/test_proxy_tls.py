#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY, TLS: proxy: and tls: together, in either
order (proxy:tls:ADDR, tls:proxy:ADDR): the PROXY header comes in clear
before the TLS handshake.  A client writes the header raw, then does TLS
on the same socket (python ssl, verifying the test CA) and a WebSocket
handshake inside: 101, X-Forwarded-Proto wss, X-Forwarded-For the
header's source, echo.  The header and the ClientHello in one write work
too.  A ClientHello without a header: closed, "no PROXY header".
"""
import time

import lib
import pplib
import tlslib
from lib import check


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    cert = pki.cert('listener', kind='ec', chain=True)
    up = ctx.ws_upstream()
    cctx = tlslib.client_context(pki)
    n = 0
    for prefix in ('proxy:tls:', 'tls:proxy:'):
        px = pplib.proxy(ctx, '--upstream', up.uri, '--listen-cert', cert.crt,
                         '--listen-key', cert.key, prefix=prefix)
        for joined in (False, True):
            src = '203.0.113.%d' % (40 + n)
            raw = lib.connect(px.port)
            hdr = pplib.v2(src, '192.0.2.1', 5000 + n, 443)
            if not joined:
                raw.sendall(hdr)
                time.sleep(0.05)
                s = cctx.wrap_socket(raw, server_hostname='localhost')
            else:
                # the header in front of the ClientHello, one write: TLS
                # over memory BIOs, so the hello's bytes can be joined
                s = None
                raw.close()
                mem_in, mem_out = tlslib.ssl.MemoryBIO(), tlslib.ssl.MemoryBIO()
                obj = cctx.wrap_bio(mem_in, mem_out, server_hostname='localhost')
                sock = lib.connect(px.port)
                try:
                    obj.do_handshake()
                except tlslib.ssl.SSLWantReadError:
                    pass
                sock.sendall(hdr + mem_out.read())
                while True:
                    try:
                        obj.do_handshake()
                        break
                    except tlslib.ssl.SSLWantReadError:
                        if mem_out.pending:
                            sock.sendall(mem_out.read())
                        d = sock.recv(65536)
                        check(d, 'closed during the TLS handshake')
                        mem_in.write(d)
                if mem_out.pending:
                    sock.sendall(mem_out.read())
                obj.write(lib.upgrade_request('/'))
                sock.sendall(mem_out.read())
                buf = b''
                while b'\r\n\r\n' not in buf:
                    try:
                        buf += obj.read(65536)
                    except tlslib.ssl.SSLWantReadError:
                        d = sock.recv(65536)
                        check(d, 'closed before the 101')
                        mem_in.write(d)
                check(buf.startswith(b'HTTP/1.1 101'), '%s joined: %r' % (prefix, buf[:40]))
                sock.close()
            n += 1
            if s is not None:
                s.sendall(lib.upgrade_request('/'))
                r, rest = lib.read_response(s, body=False)
                check(r.status == 101, '%s: %d %s' % (prefix, r.status, r.reason))
                pplib.finish(s, rest)
            check(up.wait_conns(n, 3) == n, 'upstream saw no handshake')
            h = up.conns[n - 1]['headers']
            check(h.get_all('X-Forwarded-For') == [src], '%s: X-Forwarded-For %r'
                  % (prefix, h.get_all('X-Forwarded-For')))
            check(h.get('X-Forwarded-Proto') == 'wss', 'X-Forwarded-Proto %r'
                  % h.get('X-Forwarded-Proto'))
        # no header, straight TLS: refused
        raw = lib.connect(px.port)
        try:
            cctx.wrap_socket(raw, server_hostname='localhost')
            raise lib.Fail('%s: a TLS handshake without a PROXY header succeeded' % prefix)
        except (OSError, tlslib.ssl.SSLError):
            pass
        raw.close()
        pplib.wait_line(px, 'event=abort', 'no PROXY header')
        lib.check_log_grammar(px)


lib.run(main)
