#!/usr/bin/python3
"""wsproxy(1) UNIX SOCKETS with TLS.

  - a wss+unix: upstream (python3-websockets unix_serve over Python's
    ssl): verified against the name "localhost", which is also the SNI
    sent; a certificate for another name is a 502 "name mismatch" unless
    --tls-servername names it;
  - a tls:unix: listener: a TLS client over the unix socket relays to a
    TCP upstream, which sees X-Forwarded-Proto: wss and
    X-Forwarded-For: unix:."""
import os
import lib
import tlslib
from lib import check


def echo(uri, msg, **kw):
    async def go():
        async with lib.ws_connect(uri, **kw) as ws:
            await ws.send(msg)
            r = await ws.recv()
            await ws.close(1000)
            return r
    return lib.arun(go(), 20)


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)

    # wss+unix: upstream, verified as localhost
    snis = []
    sctx = pki.server.server_context()
    sctx.sni_callback = lambda sslobj, name, c: snis.append(name)
    path = os.path.join(ctx.tmp, 'tls-up.sock')
    up = ctx.ws_upstream(unix=path, ssl=sctx)
    px = ctx.proxy('--upstream', 'wss+unix:%s:/t' % path, '--tls-ca', pki.ca.crt)
    r = echo('ws://127.0.0.1:%d/x' % px.port, 'over tls+unix')
    check(r == 'over tls+unix', 'wss+unix: echo %r' % r)
    check(up.wait_conns(1) == 1 and up.conns[0]['path'] == '/t/x', 'upstream path %r' % up.conns[:1])
    check(up.conns[0]['headers'].get('Host') == 'localhost', 'Host %r' % up.conns[0]['headers'].get('Host'))
    check(snis and snis[-1] == 'localhost', 'SNI %r' % snis)
    px.wait_log('upstream_addr=unix:%s ' % path, 'close line')

    # a certificate for another name: mismatch, then --tls-servername
    other = pki.cert('other', cn='app.internal', san='DNS:app.internal')
    path2 = os.path.join(ctx.tmp, 'tls-other.sock')
    up2 = ctx.ws_upstream(unix=path2, ssl=other.server_context())
    px2 = ctx.proxy('--upstream', 'wss+unix:%s' % path2, '--tls-ca', pki.ca.crt)
    tlslib.expect_502(px2, what='wss+unix: other name', reason='name mismatch')
    px3 = ctx.proxy('--upstream', 'wss+unix:%s' % path2, '--tls-ca', pki.ca.crt,
                    '--tls-servername', 'app.internal')
    r = echo('ws://127.0.0.1:%d/' % px3.port, 'servername')
    check(r == 'servername', '--tls-servername: echo %r' % r)
    up2.wait_conns(1)

    # tls:unix: listener
    tcp_up = ctx.ws_upstream()
    lpath = os.path.join(ctx.tmp, 'tls-listen.sock')
    px4 = ctx.unix_proxy(lpath, '--upstream', tcp_up.uri, '--listen-cert', pki.server.crt,
                         '--listen-key', pki.server.key, tls=True)
    r = echo('wss://localhost/l', 'tls listener', unix=lpath, ssl=tlslib.client_context(pki),
             server_hostname='localhost')
    check(r == 'tls listener', 'tls:unix: echo %r' % r)
    check(tcp_up.wait_conns(1) == 1, 'TCP upstream saw no connection')
    h = tcp_up.conns[0]['headers']
    check(h.get('X-Forwarded-Proto') == 'wss', 'X-Forwarded-Proto %r' % h.get('X-Forwarded-Proto'))
    check(h.get('X-Forwarded-For') == 'unix:', 'X-Forwarded-For %r' % h.get('X-Forwarded-For'))
    px4.wait_log('event=close client=unix id=', 'close line')


lib.run(main)
