#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 3: the upstream's Sec-WebSocket-Accept must match the key
sent upstream, else 502 (the client never gets a 101)."""
import lib
from lib import check


def main(ctx):
    mode = {}

    def handler(c):
        req = c.read_request()
        key = req.get('Sec-WebSocket-Key')
        c.rec['key'] = key
        m = mode['m']
        if m == 'wrong':
            c.send_101(accept=lib.accept_for('dGhlIHNhbXBsZSBub25jZQ=='))
        elif m == 'missing':
            c.send_101(accept=False)
        elif m == 'client-key':   # computed from the client's key, not the one sent upstream
            c.send_101(accept=lib.accept_for(mode['client_key']))
            if key == mode['client_key']:   # the proxy forwarded the client's key: a valid upgrade
                c.expect_close(1001)
                return
        elif m == 'garbage':
            c.send_101(accept='not-an-accept-value')
        elif m == 'two':
            c.send_101(extra=b'Sec-WebSocket-Accept: ' + lib.accept_for(key).encode() + b'\r\n')
        c.wait_eof(5)

    raw = ctx.raw_upstream(handler)
    px = ctx.proxy('--upstream', raw.uri)
    client_key = 'AQIDBAUGBwgJCgsMDQ4PEA=='
    for m in ['wrong', 'missing', 'garbage']:
        mode['m'] = m
        r = lib.http_exchange(px.port, lib.upgrade_request('/', key=client_key))
        lib.check_error_response(r, 502, 'Sec-WebSocket-Accept %s' % m)
    # if the proxy sends its own key upstream, an accept for the client's key is wrong
    mode['m'] = 'client-key'
    mode['client_key'] = client_key
    r = lib.http_exchange(px.port, lib.upgrade_request('/', key=client_key))
    sent_key = raw.conns[-1]['key']
    if sent_key != client_key:
        lib.check_error_response(r, 502, 'accept computed from the client key, not the upstream key')
    else:
        check(r.status == 101, 'right accept for the forwarded key got %d' % r.status)
    raw.wait_done(5)
    # a correct accept works (sanity)
    mode['m'] = 'ok'

    def good(c):
        c.handshake()
        f = c.recv_frame()
        c.send(lib.frame(lib.OP_CLOSE, f.payload, mask=False))
        c.wait_eof()
    raw2 = ctx.raw_upstream(good)
    px2 = ctx.proxy('--upstream', raw2.uri)
    c = lib.RawClient(px2.port, '/')
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    raw2.wait_done(5)


lib.run(main)
