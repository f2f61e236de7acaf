#!/usr/bin/python3
"""wsproxy(1) RELAYING lifecycle: a close frame passes through unchanged, code and
reason, in both directions (client closes 4001 'bye' -> the upstream sees
4001 'bye'; the upstream closes 4002 'ciao' -> the client sees it); after
both closes the TCP connections are closed."""
import asyncio
import lib
from lib import check


def main(ctx):
    async def handler(ws, rec):
        async for m in ws:
            if m.startswith('close:'):
                _, code, reason = m.split(':', 2)
                await ws.close(int(code), reason)
                return
            await ws.send(m)
    up = ctx.ws_upstream(handler)
    px = ctx.proxy('--upstream', up.uri)
    uri = 'ws://127.0.0.1:%d/' % px.port
    n = 0
    # client-initiated
    for code, reason in [(4001, 'bye'), (1000, ''), (1001, 'going away'), (3000, 'r\u00e9sum\u00e9 \u2713'),
                         (4999, 'x' * 120)]:
        async def go():
            async with lib.ws_connect(uri) as ws:
                await ws.send('hi')
                await ws.recv()
                await ws.close(code, reason)
                return ws.close_code, ws.close_reason
        cc, cr = lib.arun(go(), 10)
        n += 1
        up.wait_done(n, 5)
        rec = up.conns[n - 1]
        check((rec['close_code'], rec['close_reason']) == (code, reason),
              'client closed %d %r: upstream saw %r %r' % (code, reason, rec['close_code'], rec['close_reason']))
        check((cc, cr) == (code, reason), 'client closed %d %r: its close echo was %r %r' % (code, reason, cc, cr))
    # upstream-initiated
    for code, reason in [(4002, 'ciao'), (1000, 'normal'), (1011, 'internal'), (1008, 'policy')]:
        async def go2():
            async with lib.ws_connect(uri) as ws:
                await ws.send('close:%d:%s' % (code, reason))
                try:
                    await asyncio.wait_for(ws.recv(), 5)
                except Exception:  # noqa
                    pass
                await ws.wait_closed()
                return ws.close_code, ws.close_reason
        cc, cr = lib.arun(go2(), 10)
        n += 1
        up.wait_done(n, 5)
        check((cc, cr) == (code, reason), 'upstream closed %d %r: client saw %r %r' % (code, reason, cc, cr))
    # after the client's close the upstream may still send data before its own close: relayed
    def late(c):
        c.handshake()
        f = c.recv_frame()
        check(f is not None and f.opcode == lib.OP_CLOSE and f.close_code == 4003, 'upstream got %r' % f)
        c.send(lib.frame(lib.OP_TEXT, b'late 1', mask=False))
        c.send(lib.frame(lib.OP_BINARY, b'late 2' * 5000, mask=False))
        c.send(lib.frame(lib.OP_CLOSE, lib.close_payload(4003, 'ack'), mask=False))
        c.wait_eof()
        c.rec['ok'] = True
    raw0 = ctx.raw_upstream(late)
    px0 = ctx.proxy('--upstream', raw0.uri)
    c = lib.RawClient(px0.port, '/')
    c.send_frame(lib.OP_CLOSE, lib.close_payload(4003, 'leaving'))
    got = [c.recv_frame() for _ in range(3)]
    check([(f.opcode, f.payload[:6]) for f in got if f] ==
          [(lib.OP_TEXT, b'late 1'), (lib.OP_BINARY, b'late 2'), (lib.OP_CLOSE, lib.close_payload(4003, 'ack'))],
          'after its close the client got %r' % got)
    c.wait_eof()
    c.close()
    raw0.wait_done(5)
    check(raw0.conns[0].get('ok'), 'upstream did not see the TCP close')

    # a side that sends its close and drops the TCP connection at once: the other side still gets
    # that close (its code), not 1014/1001
    def close_and_go(c):
        c.handshake()
        f = c.recv_frame()
        check(f is not None and f.payload == b'bye now', 'upstream got %r' % f)
        c.send(lib.frame(lib.OP_CLOSE, lib.close_payload(4005, 'gone'), mask=False))
        c.close()
    raw1 = ctx.raw_upstream(close_and_go)
    px1 = ctx.proxy('--upstream', raw1.uri)
    c = lib.RawClient(px1.port, '/')
    c.send_frame(lib.OP_TEXT, b'bye now')
    f = c.recv_frame()
    check(f is not None and f.opcode == lib.OP_CLOSE and f.close_code == 4005 and f.close_reason == b'gone',
          'upstream closed 4005 and dropped TCP: client got %r' % f)
    c.try_send(lib.frame(lib.OP_CLOSE, lib.close_payload(4005)))
    c.wait_eof()
    c.close()
    raw1.wait_done(5)
    n0 = len(up.conns)
    c = lib.RawClient(px.port, '/')
    c.send_frame(lib.OP_CLOSE, lib.close_payload(4006, 'dropping'))
    c.close()
    up.wait_done(n0 + 1, 5)
    rec = up.conns[n0]
    check((rec['close_code'], rec['close_reason']) == (4006, 'dropping'),
          'client closed 4006 and dropped TCP: upstream got %r %r' % (rec['close_code'], rec['close_reason']))

    # close without a code (empty payload) passes as is, raw on both sides
    seen = {}

    def h(c):
        c.handshake()
        f = c.recv_frame()
        seen['f'] = f
        c.send(lib.frame(lib.OP_CLOSE, b'', mask=False))
        c.wait_eof()
    raw = ctx.raw_upstream(h)
    px2 = ctx.proxy('--upstream', raw.uri)
    c = lib.RawClient(px2.port, '/')
    c.send_frame(lib.OP_CLOSE, b'')
    f = c.recv_frame()
    check(f is not None and f.opcode == lib.OP_CLOSE and f.payload == b'', 'empty close echo %r' % f)
    c.wait_eof()
    c.close()
    raw.wait_done(5)
    check(seen['f'].opcode == lib.OP_CLOSE and seen['f'].payload == b'', 'upstream got %r for an empty close' % seen['f'])


lib.run(main)
