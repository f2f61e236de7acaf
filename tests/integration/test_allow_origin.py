#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE --allow-origin: with a list, a request whose Origin
is absent, repeated or not on it gets 403 (cross-site WebSocket
hijacking); without one, any Origin or none passes.

Entries are [SCHEME://]HOST[:PORT]: scheme and host compared without
case, the port exactly (none written: none in the Origin), no scheme:
http or https; "*.example.com" stands for exactly one more label.
Allowed Origins are sent by python3-websockets (origin=), refused ones
by a raw client, so every byte of the header is the test's.
"""
import time

import lib
from lib import check

ALLOW = ['https://chat.example.com', '*.apps.example.com', 'http://localhost:3000',
         'https://[::1]:8443']

GOOD = ['https://chat.example.com', 'HTTPS://Chat.Example.COM', 'https://x.apps.example.com',
        'http://x-1.apps.example.com', 'http://localhost:3000', 'https://[::1]:8443']

BAD = ['https://evil.example.com', 'https://a.b.apps.example.com', 'https://apps.example.com',
       'https://chat.example.com:8443', 'http://chat.example.com', 'http://localhost:3001',
       'http://localhost', 'null', 'https://chat.example.com.evil.net',
       'ws://x.apps.example.com', 'https://chat.example.com/', 'chat.example.com',
       'https://x.apps.example.com.', 'https://[::1]:8444', '']


def status(port, origins):
    extra = [('Origin', o) for o in origins]
    r = lib.http_exchange(port, lib.upgrade_request('/', headers=extra))
    return r.status


def main(ctx):
    up = ctx.ws_upstream()
    args = ['--upstream', up.uri]
    for a in ALLOW:
        args += ['--allow-origin', a]
    px = ctx.proxy(*args)
    for o in GOOD:
        async def go(o=o):
            async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port, origin=o) as ws:
                await ws.send('hi')
                return await ws.recv()
        check(lib.arun(go(), 10) == 'hi', 'Origin %r should pass' % o)
    got = {o: status(px.port, [o]) for o in BAD}
    wrong = {o: s for o, s in got.items() if s != 403}
    check(not wrong, 'these Origins should get 403: %r' % wrong)
    check(status(px.port, []) == 403, 'no Origin at all: 403')
    check(status(px.port, ['https://chat.example.com', 'https://chat.example.com']) == 403,
          'two Origin lines: 403')
    # (a reject line is written when the connection ends, after the 403
    # went out: wait for all of them, slowly under valgrind)
    def reject_lines():
        return [lib.parse_log_line(ln) for ln in px.stderr_text().splitlines()
                if 'event=reject' in ln]
    end = time.time() + (30 if lib.VALGRIND else 5)
    while len(reject_lines()) < len(BAD) + 2 and time.time() < end:
        time.sleep(0.05)
    rejects = reject_lines()
    check(all(d['status'] == '403' and d['level'] == 'info' for d in rejects) and
          len(rejects) == len(BAD) + 2, 'one info reject line per 403: %d' % len(rejects))

    # no list: anything goes, no Origin too
    px2 = ctx.proxy('--upstream', up.uri)
    for o in (['https://evil.example.com'], [], ['null']):
        check(status(px2.port, o) == 101, 'without --allow-origin, Origin %r passes' % o)

    # flag errors: exit 64 naming the flag
    for bad in ('*', 'https://a.example/x', 'https://', '*.', 'https://a.example:99999',
                'https://*.*.example.com', 'a b'):
        rc, out, err = lib.run_proxy_once(['--upstream', up.uri, '--allow-origin', bad, '--check'])
        check(rc == 64 and '--allow-origin' in err, '--allow-origin %r: exit %d %r' % (bad, rc, err))
    rc, out, err = lib.run_proxy_once(['--upstream', up.uri, '--allow-origin', '*.example.com',
                                       '--check'])
    check(rc == 0 and 'allow_origin=*.example.com' in out, '--check prints it: %r' % out)


lib.run(main)
