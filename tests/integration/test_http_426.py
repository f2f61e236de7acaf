#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE row 4: not GET, or Upgrade: websocket / Connection: upgrade
missing -> 426 with Upgrade: websocket and Connection: Upgrade (and the
error-response rules: text/plain, Connection: close).  Tokens are
case-insensitive and may be in comma lists ("keep-alive, Upgrade")."""
import lib
from lib import check

REJECT = [
    ('POST', dict(method='POST')),
    ('HEAD', dict(method='HEAD')),
    ('PUT', dict(method='PUT')),
    ('no Upgrade', dict(omit=['Upgrade'])),
    ('no Connection', dict(omit=['Connection'])),
    ('Upgrade: h2c', dict(omit=['Upgrade'], headers=[('Upgrade', 'h2c')])),
    ('Connection: keep-alive only', dict(omit=['Connection'], headers=[('Connection', 'keep-alive')])),
    ('Connection: upgrades (not the token)', dict(omit=['Connection'], headers=[('Connection', 'upgrades')])),
    ('neither Upgrade nor Connection', dict(omit=['Upgrade', 'Connection'])),
]

ACCEPT = [
    ('Connection: keep-alive, Upgrade', dict(omit=['Connection'], headers=[('Connection', 'keep-alive, Upgrade')])),
    ('Connection: upgrade (lower case)', dict(omit=['Connection'], headers=[('Connection', 'upgrade')])),
    ('Connection: UPGRADE,keep-alive', dict(omit=['Connection'], headers=[('Connection', 'UPGRADE,keep-alive')])),
    ('Upgrade: WebSocket', dict(omit=['Upgrade'], headers=[('Upgrade', 'WebSocket')])),
    ('lower-case header names', dict(omit=['Upgrade', 'Connection', 'Sec-WebSocket-Version'],
                                     headers=[('upgrade', 'websocket'), ('connection', 'upgrade'),
                                              ('sec-websocket-version', '13')])),
    ('two Connection lines', dict(omit=['Connection'], headers=[('Connection', 'keep-alive'), ('Connection', 'Upgrade')])),
]


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri)
    for what, kw in REJECT:
        r = lib.http_exchange(px.port, lib.upgrade_request('/', **kw))
        lib.check_error_response(r, 426, what)
        check('websocket' in r.tokens('Upgrade'), '%s: 426 without Upgrade: websocket (%r)' % (what, r.headers))
        check('upgrade' in r.tokens('Connection'), '%s: 426 without Connection: Upgrade (%r)' % (what, r.headers))
    check(up.tcp_conns == 0 and up.tcp_bytes == 0,
          'upstream got %d connections / %d bytes for 426s' % (up.tcp_conns, up.tcp_bytes))
    for what, kw in ACCEPT:
        c = lib.RawClient(px.port, '/', expect=None, **kw)
        check(c.response.status == 101, '%s: got %d, want 101' % (what, c.response.status))
        c.send_frame(lib.OP_TEXT, b'x')
        f = c.recv_frame()
        check(f and f.payload == b'x', '%s: no echo (%r)' % (what, f))
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()
    up.wait_done(len(ACCEPT), 3)


lib.run(main)
