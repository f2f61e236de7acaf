#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY: send-proxy=v2 as HAProxy reads it.  The
chain, end to end:

  client --"PROXY TCP4 203.0.113.7"--> wsproxy proxy: listener
         --send-proxy=v2--> HAProxy (mode http, bind ... accept-proxy,
         option forwardfor header X-HAProxy-Client)
         --> python3-websockets upstream

The upstream sees X-HAProxy-Client: 203.0.113.7, written by HAProxy
from wsproxy's v2 header alone (HAProxy's own peer is 127.0.0.1), and
wsproxy's X-Forwarded-For 203.0.113.7; messages echo through.  The same
for a client 2001:db8::7 (a TCP6 header with an IPv4 local address:
wsproxy writes the IPv4 one v4-mapped).
"""
import lib
import pplib
from lib import check


def main(ctx):
    pplib.need_haproxy()
    up = ctx.ws_upstream()
    hport = lib.free_port()
    pplib.haproxy(ctx, pplib.HAPROXY_GLOBAL + """
frontend f
    mode http
    bind 127.0.0.1:%d accept-proxy
    option forwardfor header X-HAProxy-Client
    default_backend b
backend b
    mode http
    server s1 127.0.0.1:%d
""" % (hport, up.port), hport)
    px = pplib.proxy(ctx, '--route', '/=ws://127.0.0.1:%d;send-proxy=v2' % hport)

    for n, (src, dst) in enumerate((('203.0.113.7', '192.0.2.1'),
                                    ('2001:db8::7', '2001:db8::1')), 1):
        s = lib.connect(px.port)
        r, rest = pplib.handshake(s, pplib.v1(src, dst, 4711, 443))
        check(r.status == 101, '%s through HAProxy: %d %s' % (src, r.status, r.reason))
        pplib.finish(s, rest)
        check(up.wait_conns(n, 3) == n, 'the upstream saw no handshake')
        h = up.conns[n - 1]['headers']
        check(h.get_all('X-HAProxy-Client') == [src], 'HAProxy read the client as %r, want %s'
              % (h.get_all('X-HAProxy-Client'), src))
        check(h.get_all('X-Forwarded-For') == [src], "wsproxy's X-Forwarded-For %r"
              % h.get_all('X-Forwarded-For'))
    lib.check_log_grammar(px)


lib.run(main)
