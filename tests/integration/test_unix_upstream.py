#!/usr/bin/python3
"""wsproxy(1) UNIX SOCKETS: an upstream on a unix socket
(ws+unix:/PATH:/target), served by python3-websockets' unix_serve.

A message goes each way, a close code from each side reaches the other,
the upstream sees Host: localhost and the URI's path and query composed
with the client's, the close line says upstream_addr=unix:PATH, --check
prints that address, a socket nobody listens on is a 502, and a
relative, too long or badly followed socket path is exit 64."""
import asyncio
import os
import lib
from lib import check


def main(ctx):
    path = os.path.join(ctx.tmp, 'app.sock')

    async def handler(ws, rec):
        first = await ws.recv()
        rec['messages'].append(first)
        await ws.send('up:' + first)
        if first == 'upstream closes':
            await ws.close(4002, 'from upstream')
            return
        async for m in ws:
            rec['messages'].append(m)

    up = ctx.ws_upstream(handler, unix=path)
    uri = 'ws+unix:%s:/base?k=v' % path
    px = ctx.proxy('--upstream', uri)

    # 1. client -> upstream message, upstream -> client message, client close
    async def client_closes():
        async with lib.ws_connect('ws://127.0.0.1:%d/room?x=1' % px.port) as ws:
            await ws.send('client closes')
            got = await ws.recv()
            await ws.close(4001, 'from client')
            return got
    got = lib.arun(client_closes(), 20)
    check(got == 'up:client closes', 'upstream -> client: %r' % got)
    rec = up.wait_done(1)[0]
    check(rec['messages'] == ['client closes'], 'client -> upstream: %r' % rec['messages'])
    check(rec['close_code'] == 4001 and rec['close_reason'] == 'from client',
          'upstream saw close %r %r' % (rec['close_code'], rec['close_reason']))
    check(rec['headers'].get('Host') == 'localhost', 'Host %r' % rec['headers'].get('Host'))
    check(rec['path'] == '/base/room?k=v&x=1', 'upstream path %r' % rec['path'])
    px.wait_log('upstream_addr=unix:%s ' % path, 'close line')
    px.wait_log('close_code=4001', 'close line')

    # 2. the upstream closes
    async def upstream_closes():
        async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port) as ws:
            await ws.send('upstream closes')
            got = await ws.recv()
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except Exception:  # noqa: ConnectionClosed is the point
                pass
            return got, ws.close_code, ws.close_reason
    got, code, reason = lib.arun(upstream_closes(), 20)
    check(got == 'up:upstream closes', 'upstream -> client: %r' % got)
    check(code == 4002 and reason == 'from upstream', 'client saw close %r %r' % (code, reason))
    up.wait_done(2)

    # 3. --check prints the socket as the upstream's address
    st, out, err = lib.run_proxy_once(['--check', '--listen', '127.0.0.1:%d' % lib.free_port(),
                                       '--upstream', uri])
    check(st == 0, '--check exit %s: %s' % (st, err))
    check('upstream_addr=%s unix:%s\n' % (uri, path) in out, '--check output: %r' % out)

    # 4. nothing listens on the socket: 502, logged
    dead = os.path.join(ctx.tmp, 'dead.sock')
    px2 = ctx.proxy('--upstream', 'ws+unix:%s' % dead)
    r = lib.http_exchange(px2.port, lib.upgrade_request('/'))
    lib.check_error_response(r, 502, 'no socket')
    px2.wait_log('upstream_addr=unix:%s ' % dead, 'refused line')


    # 5. bad socket paths: exit 64 naming the flag, nothing started
    for args, flag in ((['--upstream', 'ws+unix:relative.sock'], '--upstream'),
                       (['--upstream', 'ws+unix:/' + 'x' * 107], '--upstream'),
                       (['--upstream', 'ws+unix:/a.sock:path'], '--upstream'),
                       (['--upstream', 'ws+unix:/a"b.sock'], '--upstream'),
                       (['--route', '/r=ws+unix:/a:b:c'], '--route')):
        st, out, err = lib.run_proxy_once(['--listen', '127.0.0.1:%d' % lib.free_port()] + args)
        check(st == 64 and err.startswith('wsproxy: %s: ' % flag), '%r: exit %s %r' % (args, st, err))
    # the longest path that fits is fine
    st, out, err = lib.run_proxy_once(['--check', '--listen', '127.0.0.1:%d' % lib.free_port(),
                                       '--upstream', 'ws+unix:/' + 'x' * 106])
    check(st == 0, '107-byte socket path: exit %s %r' % (st, err))


lib.run(main)
