#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 5: permessage-deflate offers pass through unchanged and
the upstream's answer is returned, so compression works end to end
(compressing python3-websockets client and upstream); other extensions
are stripped."""
import os
import lib
from lib import check


def ext_tokens(values):
    return [v.strip() for x in values for v in x.split(',') if v.strip()]


def main(ctx):
    up = ctx.ws_upstream(compression='deflate')
    px = ctx.proxy('--upstream', up.uri)

    big = ('all work and no play makes jack a dull boy ' * 30000)[:1 << 20]
    rnd = os.urandom(200000)

    async def go():
        async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port, compression='deflate') as ws:
            exts = [type(e).__name__ for e in ws.extensions]
            check(exts == ['PerMessageDeflate'], 'client negotiated %r, want permessage-deflate' % exts)
            for i in range(3):
                await ws.send(big)
                check(await ws.recv() == big, 'compressible text echo %d differs' % i)
            await ws.send(rnd)
            check(await ws.recv() == rnd, 'random binary echo differs')
            await ws.send('')
            check(await ws.recv() == '', 'empty message echo differs')
            await ws.close(1000, 'done')
    b0 = up.tcp_bytes
    lib.arun(go(), 30)
    up.wait_done(1, 3)
    rec = up.conns[0]
    check([type(e).__name__ for e in rec['extensions']] == ['PerMessageDeflate'],
          'upstream negotiated %r' % rec['extensions'])
    check(len(rec['messages']) == 5, 'upstream got %d messages' % len(rec['messages']))
    sent = up.tcp_bytes - b0
    check(sent < 3 * len(big) // 20 + len(rnd) + 20000,
          'upstream received %d bytes for 3 MiB of compressible text: not compressed end to end' % sent)
    check(rec['close_code'] == 1000 and rec['close_reason'] == 'done', 'close %r %r' % (rec['close_code'], rec['close_reason']))

    # raw offers: pmd passes unchanged, others stripped
    cases = [
        ('x-webkit-deflate-frame, permessage-deflate; client_max_window_bits',
         ['permessage-deflate; client_max_window_bits']),
        ('permessage-deflate; client_max_window_bits=10; server_no_context_takeover, permessage-deflate',
         ['permessage-deflate; client_max_window_bits=10; server_no_context_takeover', 'permessage-deflate']),
        ('foo; bar=1', []),
        ('foo, mux', []),
    ]
    n = 1
    for offer, want in cases:
        c = lib.RawClient(px.port, '/', headers=[('Sec-WebSocket-Extensions', offer)])
        n += 1
        check(up.wait_conns(n, 3) == n, 'no upstream handshake')
        seen = ext_tokens(up.conns[n - 1]['headers'].get_all('Sec-WebSocket-Extensions'))
        norm = [' '.join(s.replace(';', ' ; ').split()) for s in seen]
        wnorm = [' '.join(s.replace(';', ' ; ').split()) for s in want]
        check(norm == wnorm, 'client offered %r: upstream saw %r, want %r' % (offer, seen, want))
        answer = ext_tokens(c.response.get_all('Sec-WebSocket-Extensions'))
        if want:
            check(answer and answer[0].startswith('permessage-deflate'),
                  'offer %r: 101 to client has extensions %r, want the upstream\'s permessage-deflate' % (offer, answer))
        else:
            check(answer == [], 'offer %r: 101 to client has extensions %r' % (offer, answer))
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()

    # upstream without compression: no extension back, plain messages work
    up2 = ctx.ws_upstream(compression=None)
    px2 = ctx.proxy('--upstream', up2.uri)

    async def go2():
        async with lib.ws_connect('ws://127.0.0.1:%d/' % px2.port, compression='deflate') as ws:
            check(ws.extensions == [], 'client negotiated %r with a non-compressing upstream' % ws.extensions)
            await ws.send(big)
            check(await ws.recv() == big, 'echo differs')
    lib.arun(go2(), 30)
    check('permessage-deflate' in ' '.join(up2.conns[0]['headers'].get_all('Sec-WebSocket-Extensions')),
          'pmd offer not forwarded to the non-compressing upstream')
    up.wait_done(None, 3)
    up2.wait_done(None, 3)


lib.run(main)
