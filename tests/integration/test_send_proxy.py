#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY: a route with ";send-proxy=v2" writes a
PROXY v2 header as the first bytes of each upstream connection, before
the upgrade request and, for wss://, before the TLS handshake.

A hand-written upstream reads the header byte-exact, checks it, then
speaks WebSocket (over TLS for wss://):
  - a plain client from 127.0.0.1: TCP4 src 127.0.0.1:<client port>,
    dst 127.0.0.1:<wsproxy port>;
  - through a proxy: listener fed "PROXY TCP4 203.0.113.7 ... 4711":
    src 203.0.113.7:4711 (the client as wsproxy sees it), dst the
    address the balancer connected to;
  - wss:// upstream: the same header in clear, then TLS, then 101;
  - a route without the option sends no header (the request comes
    first).
(The route option grammar is the lead's --route PATH=UPSTREAM;OPTION;
until it lands routes.c takes a trailing ";send-proxy=v2" itself.)
"""
import socket

import lib
import pplib
import tlslib
from lib import check


def read_exact(sock, n):
    b = b''
    while len(b) < n:
        d = sock.recv(n - len(b))
        check(d, 'upstream: closed after %d bytes of %d' % (len(b), n))
        b += d
    return b


def make_handler(seen, sslctx=None, expect_header=True):
    def handler(c):
        s = c.sock
        s.settimeout(5)
        if expect_header:
            head = read_exact(s, 16)
            head += read_exact(s, (head[14] << 8) | head[15])
            seen.append(pplib.parse_v2(head))
        else:
            first = s.recv(5, socket.MSG_PEEK)
            seen.append(first)
        if sslctx is not None:
            c.sock = sslctx.wrap_socket(s, server_side=True)
        c.handshake()
        echo(c)
    return handler


def echo(c):
    while True:
        f = c.recv_frame(10)
        if f is None:
            return
        if f.opcode == lib.OP_CLOSE:
            c.try_send(lib.frame(lib.OP_CLOSE, f.payload, mask=False))
            return
        c.send(lib.frame(f.opcode, f.payload, mask=False))


def via(port, header=b'', path='/'):
    s = lib.connect(port)
    cport = s.getsockname()[1]
    r, rest = pplib.handshake(s, header, path=path)
    check(r.status == 101, '%s: %d %s' % (path, r.status, r.reason))
    pplib.finish(s, rest)
    return cport


def main(ctx):
    seen, seen_tls, seen_none = [], [], []
    up = ctx.raw_upstream(make_handler(seen))
    up_none = ctx.raw_upstream(make_handler(seen_none, expect_header=False))
    routes = ['--route', '/=ws://127.0.0.1:%d;send-proxy=v2' % up.port,
              '--route', '/none=ws://127.0.0.1:%d' % up_none.port]
    tls_args = []
    if tlslib.tls_built_in():
        pki = tlslib.Pki(ctx)
        cert = pki.cert('upstream')
        up_tls = ctx.raw_upstream(make_handler(seen_tls, cert.server_context()))
        routes += ['--route', '/tls=wss://localhost:%d;send-proxy=v2' % up_tls.port]
        tls_args = ['--tls-ca', pki.ca.crt]
    plain = lib.free_port()
    px = pplib.proxy(ctx, *(routes + tls_args), extra_listen=('--listen', '127.0.0.1:%d' % plain))

    cport = via(plain)
    check(up.wait_conns(1, 3) == 1, 'no upstream connection')
    up.wait_done()
    check(seen[0][:4] == ('127.0.0.1', cport, '127.0.0.1', plain),
          'plain client: header %r, want 127.0.0.1:%d -> 127.0.0.1:%d' % (seen[0], cport, plain))

    via(px.port, pplib.v1('203.0.113.7', '192.0.2.1', 4711, 443))
    check(up.wait_conns(2, 3) == 2, 'no upstream connection')
    up.wait_done()
    check(seen[1][:4] == ('203.0.113.7', 4711, '127.0.0.1', px.port),
          'behind PROXY: header %r' % (seen[1],))

    via(plain, path='/none')
    check(up_none.wait_conns(1, 3) == 1, 'no upstream connection')
    up_none.wait_done()
    check(seen_none[0] == b'GET /', 'a route without send-proxy: first bytes %r' % seen_none[0])

    if tls_args:
        cport = via(plain, path='/tls')
        check(up_tls.wait_conns(1, 3) == 1, 'no wss upstream connection')
        up_tls.wait_done()
        check(seen_tls[0][:4] == ('127.0.0.1', cport, '127.0.0.1', plain),
              'wss: header %r' % (seen_tls[0],))
    else:
        lib.log('no TLS in this build: the wss:// part is left out')
    lib.check_log_grammar(px)


lib.run(main)
