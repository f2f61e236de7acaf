#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY: HAProxy as the balancer in front of a
proxy: listener, the real PROXY peer:

  client (127.0.0.2) --> HAProxy mode tcp, server ... send-proxy-v2
         --> wsproxy proxy: listener, --trust-proxy 127.0.0.1
         --> python3-websockets upstream

  - a hand-written client bound to 127.0.0.2: the upstream's
    X-Forwarded-For is 127.0.0.2 (HAProxy's own address, the direct
    peer, is 127.0.0.1), and so is the close line's client=;
  - a python3-websockets client through HAProxy: echo, X-Forwarded-For
    127.0.0.1;
  - the same with HAProxy's v1 header (send-proxy).
"""
import lib
import pplib
from lib import check


def main(ctx):
    pplib.need_haproxy()
    up = ctx.ws_upstream()
    px = pplib.proxy(ctx, '--upstream', up.uri)
    n = 0
    for kw in ('send-proxy-v2', 'send-proxy'):
        hport = lib.free_port()
        pplib.haproxy(ctx, pplib.HAPROXY_GLOBAL + """
frontend f
    mode tcp
    bind 127.0.0.1:%d
    default_backend b
backend b
    mode tcp
    server s1 127.0.0.1:%d %s
""" % (hport, px.port, kw), hport)

        s = pplib.connect_from(hport, '127.0.0.2')
        cport = s.getsockname()[1]
        r, rest = pplib.handshake(s)
        check(r.status == 101, '%s: %d %s' % (kw, r.status, r.reason))
        pplib.finish(s, rest)
        n += 1
        check(up.wait_conns(n, 3) == n, 'the upstream saw no handshake')
        got = up.conns[n - 1]['headers'].get_all('X-Forwarded-For')
        check(got == ['127.0.0.2'], '%s: X-Forwarded-For %r, want 127.0.0.2' % (kw, got))
        pplib.wait_line(px, 'event=close', 'client=127.0.0.2:%d' % cport)

        async def ws_client():
            async with lib.ws_connect('ws://127.0.0.1:%d/w' % hport) as ws:
                await ws.send('through haproxy')
                return await ws.recv()
        check(lib.arun(ws_client()) == 'through haproxy', '%s: no echo' % kw)
        n += 1
        check(up.wait_conns(n, 3) == n, 'the upstream saw no handshake')
        got = up.conns[n - 1]['headers'].get_all('X-Forwarded-For')
        check(got == ['127.0.0.1'], '%s: websockets client X-Forwarded-For %r' % (kw, got))
    lib.check_log_grammar(px)


lib.run(main)
