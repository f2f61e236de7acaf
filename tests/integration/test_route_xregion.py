#!/usr/bin/python3
"""wsproxy(1) ROUTING, and the README's example: the original library's
"Dynamic Upstream Selection" picks the upstream from the x-region header
(us-east, eu-west, anything else or none: the default).  The same three
outcomes through wsproxy, with Debian's python3-websockets as the client."""
import lib
from lib import check


def main(ctx):
    us, eu, default = ctx.ws_upstream(), ctx.ws_upstream(), ctx.ws_upstream()
    px = ctx.proxy(
        '--route', '/socket[x-region=us-east]=%s/socket' % us.uri,
        '--route', '/socket[x-region=eu-west]=%s/socket' % eu.uri,
        '--route', '/socket=%s/socket' % default.uri)
    ups = {'us': us, 'eu': eu, 'default': default}

    async def talk(headers):
        async with lib.ws_connect('ws://127.0.0.1:%d/socket' % px.port,
                                  extra_headers=headers) as ws:
            await ws.send('hello')
            return await ws.recv()

    for headers, want in [({'x-region': 'us-east'}, 'us'),
                          ({'x-region': 'eu-west'}, 'eu'),
                          ({'X-Region': 'eu-west'}, 'eu'),
                          ({'x-region': 'ap-south'}, 'default'),
                          ({'x-region': 'EU-WEST'}, 'default'),
                          ({}, 'default')]:
        before = {k: len(u.conns) for k, u in ups.items()}
        check(lib.arun(talk(headers)) == 'hello', 'no echo for %r' % headers)
        got = [k for k, u in ups.items() if u.wait_conns(before[k] + 1, 0.2) > before[k]]
        check(got == [want], 'x-region %r went to %s, want %s' % (headers, got, want))
        rec = ups[want].conns[-1]
        check(rec['path'] == '/socket', 'upstream path %r' % rec['path'])
        check(rec['messages'] == ['hello'], 'upstream got %r' % rec['messages'])
    lib.log('x-region: us-east, eu-west and the default each got their own requests')


lib.run(main)
