#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 4: the client's Sec-WebSocket-Protocol offer, narrowed to
--protocol when given, goes upstream; the upstream's choice is returned in
the 101; an upstream choice that was not offered -> 502."""
import lib
from lib import check


def offer_seen(up, n):
    check(up.wait_conns(n, 3) >= n, 'upstream saw no handshake')
    h = up.conns[n - 1]['headers']
    return [t.strip() for v in h.get_all('Sec-WebSocket-Protocol') for t in v.split(',') if t.strip()]


def ws_session(port, offer):
    async def go():
        async with lib.ws_connect('ws://127.0.0.1:%d/' % port, subprotocols=offer) as ws:
            await ws.send('ping')
            check(await ws.recv() == 'ping', 'no echo')
            return ws.subprotocol
    return lib.arun(go(), 10)


def main(ctx):
    up = ctx.ws_upstream(subprotocols=['chat', 'superchat', 'v2.proto'])
    n = 0
    # no --protocol: the whole offer goes upstream, the choice comes back
    px = ctx.proxy('--upstream', up.uri)
    got = ws_session(px.port, ['superchat', 'chat'])
    n += 1
    check(offer_seen(up, n) == ['superchat', 'chat'], 'offer upstream %r' % offer_seen(up, n))
    check(got == up.conns[n - 1]['subprotocol'] and got in ('chat', 'superchat'),
          'client got %r, upstream chose %r' % (got, up.conns[n - 1]['subprotocol']))
    # no offer: no header upstream, none back
    got = ws_session(px.port, None)
    n += 1
    check(offer_seen(up, n) == [], 'offer upstream %r for a client offering nothing' % offer_seen(up, n))
    check(got is None, 'client got subprotocol %r without offering' % got)

    # --protocol narrows (comma list and repeated flag)
    for flags in (['--protocol', 'chat,v2.proto'], ['-P', 'chat', '-P', 'v2.proto']):
        px = ctx.proxy('--upstream', up.uri, *flags)
        got = ws_session(px.port, ['superchat', 'chat', 'other'])
        n += 1
        check(offer_seen(up, n) == ['chat'], '%s: offer upstream %r, want [chat]' % (flags, offer_seen(up, n)))
        check(got == 'chat', '%s: client got %r, want chat' % (flags, got))
        got = ws_session(px.port, ['v2.proto', 'superchat', 'chat'])
        n += 1
        check(offer_seen(up, n) == ['v2.proto', 'chat'], '%s: offer upstream %r' % (flags, offer_seen(up, n)))
        check(got in ('v2.proto', 'chat'), '%s: client got %r' % (flags, got))
        # nothing of the offer allowed: no header upstream
        got = ws_session(px.port, ['superchat'])
        n += 1
        check(offer_seen(up, n) == [], '%s: offer upstream %r, want none' % (flags, offer_seen(up, n)))
        check(got is None, '%s: client got %r, want none' % (flags, got))

    # an offer split over two header lines counts as one list
    px = ctx.proxy('--upstream', up.uri, '--protocol', 'chat,superchat')
    c = lib.RawClient(px.port, '/', headers=[('Sec-WebSocket-Protocol', 'x-none, superchat'),
                                             ('Sec-WebSocket-Protocol', 'chat')])
    n += 1
    check(offer_seen(up, n) == ['superchat', 'chat'], 'two offer lines: upstream saw %r' % offer_seen(up, n))
    check(c.response.get('Sec-WebSocket-Protocol') == up.conns[n - 1]['subprotocol'],
          '101 to the client has %r, upstream chose %r' % (c.response.get('Sec-WebSocket-Protocol'),
                                                          up.conns[n - 1]['subprotocol']))
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()

    # upstream choosing something not offered -> 502
    choice = {}

    def bad(c):
        req = c.read_request()
        c.send_101(protocol=choice['p'])
        c.rec['offer'] = req.get_all('Sec-WebSocket-Protocol')
        c.wait_eof(5)

    raw = ctx.raw_upstream(bad)
    px = ctx.proxy('--upstream', raw.uri)
    pxn = ctx.proxy('--upstream', raw.uri, '--protocol', 'chat')
    for port, offer, p, what in [
            (px.port, ['chat'], 'evil', 'offered chat, upstream chose evil'),
            (px.port, None, 'chat', 'offered nothing, upstream chose chat'),
            (px.port, ['chat', 'superchat'], 'chat, superchat', 'upstream chose two'),
            (pxn.port, ['chat', 'superchat'], 'superchat', 'upstream chose one --protocol removed')]:
        choice['p'] = p
        hs = [('Sec-WebSocket-Protocol', ', '.join(offer))] if offer else []
        r = lib.http_exchange(port, lib.upgrade_request('/', headers=hs))
        lib.check_error_response(r, 502, what)
    raw.wait_done(5)
    up.wait_done(None, 3)


lib.run(main)
