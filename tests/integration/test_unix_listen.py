#!/usr/bin/python3
"""wsproxy(1) UNIX SOCKETS: --listen unix:PATH with --listen-mode 0660,
a python3-websockets client (unix_connect) relaying to a TCP upstream.

The socket file gets exactly mode 0660; a message goes each way and a
close code from each side reaches the other; the upstream sees
X-Forwarded-For: unix: and Forwarded: for=_unix; the close line says
client=unix; --max-conns-per-ip does not count unix clients (two at
once pass --max-conns-per-ip 1)."""
import asyncio
import os
import stat
import lib
from lib import check


def main(ctx):
    async def handler(ws, rec):
        async for m in ws:
            rec['messages'].append(m)
            if m == 'close please':
                await ws.close(4002, 'from upstream')
                return
            await ws.send('up:' + m)

    up = ctx.ws_upstream(handler)
    path = os.path.join(ctx.tmp, 'px.sock')
    px = ctx.unix_proxy(path, '--listen-mode', '0660', '--upstream', up.uri,
                        '--max-conns-per-ip', '1')
    st = os.stat(path)
    check(stat.S_ISSOCK(st.st_mode), 'not a socket: %o' % st.st_mode)
    check(stat.S_IMODE(st.st_mode) == 0o660, 'mode %o, want 660' % stat.S_IMODE(st.st_mode))

    async def two_clients():
        async with lib.ws_connect('ws://front.example/a', unix=path) as a, \
                lib.ws_connect('ws://front.example/b', unix=path) as b:
            await a.send('hello a')
            await b.send('hello b')
            ga, gb = await a.recv(), await b.recv()
            await a.close(4001, 'from client')
            await b.send('close please')
            try:
                await asyncio.wait_for(b.recv(), 5)
            except Exception:  # noqa: ConnectionClosed is the point
                pass
            return ga, gb, b.close_code, b.close_reason
    ga, gb, code, reason = lib.arun(two_clients(), 20)
    check(ga == 'up:hello a' and gb == 'up:hello b', 'echoes %r %r' % (ga, gb))
    check(code == 4002 and reason == 'from upstream', 'client saw close %r %r' % (code, reason))
    recs = sorted(up.wait_done(2), key=lambda r: r['path'])
    check(recs[0]['path'] == '/a' and recs[0]['messages'] == ['hello a'],
          'upstream a: %r %r' % (recs[0]['path'], recs[0]['messages']))
    check(recs[0]['close_code'] == 4001 and recs[0]['close_reason'] == 'from client',
          'upstream saw close %r %r' % (recs[0]['close_code'], recs[0]['close_reason']))
    for rec in recs:
        h = rec['headers']
        check(h.get_all('X-Forwarded-For') == ['unix:'], 'X-Forwarded-For %r' % h.get_all('X-Forwarded-For'))
        check(h.get('Forwarded') == 'for=_unix;proto=ws;host="front.example"',
              'Forwarded %r' % h.get('Forwarded'))
        check(h.get('Host') == '127.0.0.1:%d' % up.port, 'Host %r' % h.get('Host'))
    px.wait_log('event=close client=unix id=', 'close line')
    check('over --max-conns-per-ip' not in px.stderr_text(), 'unix client counted per IP')
    px.check_fds()


lib.run(main)
