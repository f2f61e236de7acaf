#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 2: headers sent upstream.  Host of the upstream; the
client's end-to-end headers (Cookie, Origin, Authorization, User-Agent,
others) forwarded; hop-by-hop ones (Connection tokens other than Upgrade,
Keep-Alive, Proxy-*, TE, Trailer) not; Upgrade regenerated;
X-Forwarded-For (the client's address; a client's own value is dropped),
X-Forwarded-Proto: ws, X-Forwarded-Host; --header replaces a client header of that name, with
${VAR} taken from the environment at start-up."""
import lib
from lib import check

CLIENT = [
    ('Cookie', 'session=abc123; theme=dark'),
    ('Origin', 'https://app.example.com'),
    ('Authorization', 'Bearer client-token'),
    ('User-Agent', 'itest-agent/1.0'),
    ('X-Custom', 'custom value, with comma'),
    ('Accept-Language', 'fr'),
    ('Keep-Alive', 'timeout=5'),
    ('Proxy-Authorization', 'Basic c2VjcmV0'),
    ('Proxy-Connection', 'keep-alive'),
    ('TE', 'trailers'),
    ('Trailer', 'X-Checksum'),
    ('X-Replace-Me', 'from-client'),
]




def main(ctx):
    up = ctx.ws_upstream()
    env = {'ITEST_SECRET': 's3cr3t-value', 'ITEST_USER': 'alice'}
    px = ctx.proxy('--upstream', up.uri,
                   '--header', 'X-Api-Key: ${ITEST_SECRET}',
                   '-H', 'X-Who: user=${ITEST_USER}; fixed',
                   '-H', 'x-replace-me: from-flag',
                   '-H', 'Authorization: Bearer ${ITEST_SECRET}', env=env)
    with open('/proc/%d/cmdline' % px.pid, 'rb') as f:
        check(b's3cr3t-value' not in f.read(), 'secret visible in the command line (test bug)')

    c = lib.RawClient(px.port, '/h', host='front.example:8080', omit=['Connection'],
                      headers=[('Connection', 'keep-alive, Upgrade')] + CLIENT)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    check(up.wait_conns(1, 3) == 1, 'upstream saw no handshake')
    h = up.conns[0]['headers']

    def one(name):
        v = h.get_all(name)
        check(len(v) == 1, 'upstream got %d %s headers: %r' % (len(v), name, v))
        return v[0]

    check(one('Host') == '127.0.0.1:%d' % up.port, 'Host upstream %r, want 127.0.0.1:%d' % (one('Host'), up.port))
    for name in ['Cookie', 'Origin', 'User-Agent', 'X-Custom', 'Accept-Language']:
        want = dict(CLIENT)[name]
        check(one(name) == want, '%s upstream %r, want %r' % (name, one(name), want))
    for name in ['Keep-Alive', 'Proxy-Authorization', 'Proxy-Connection', 'TE', 'Trailer', 'Transfer-Encoding']:
        check(name not in h, 'hop-by-hop %s forwarded: %r' % (name, h.get_all(name)))
    conn = [t.strip().lower() for v in h.get_all('Connection') for t in v.split(',')]
    check(conn == ['upgrade'], 'Connection upstream %r, want just Upgrade' % h.get_all('Connection'))
    check([v.lower() for v in h.get_all('Upgrade')] == ['websocket'], 'Upgrade upstream %r' % h.get_all('Upgrade'))
    check(one('Sec-WebSocket-Version') == '13', 'Sec-WebSocket-Version upstream %r' % one('Sec-WebSocket-Version'))
    xff = one('X-Forwarded-For')
    check(xff == '127.0.0.1', 'X-Forwarded-For %r, want 127.0.0.1' % xff)
    check(one('X-Forwarded-Proto') == 'ws', 'X-Forwarded-Proto %r, want ws' % one('X-Forwarded-Proto'))
    check(one('X-Forwarded-Host') == 'front.example:8080', 'X-Forwarded-Host %r' % one('X-Forwarded-Host'))
    # --header
    check(one('X-Api-Key') == 's3cr3t-value', 'X-Api-Key %r, want the expanded ${ITEST_SECRET}' % one('X-Api-Key'))
    check(one('X-Who') == 'user=alice; fixed', 'X-Who %r' % one('X-Who'))
    check(one('X-Replace-Me') == 'from-flag', 'X-Replace-Me %r (client header not replaced)' % h.get_all('X-Replace-Me'))
    check(one('Authorization') == 'Bearer s3cr3t-value', 'Authorization %r (--header must replace)' % h.get_all('Authorization'))

    # without --header: Authorization passes; the client's X-Forwarded-For
    # is its own claim and is dropped (wsproxy(1) SECURITY): only the
    # address wsproxy saw goes upstream
    px2 = ctx.proxy('--upstream', up.uri)
    c = lib.RawClient(px2.port, '/h2', headers=[('Authorization', 'Basic dXNlcjpwYXNz'),
                                               ('X-Forwarded-For', '203.0.113.7'),
                                               ('User-Agent', 'ua-2')])
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    check(up.wait_conns(2, 3) == 2, 'upstream saw no second handshake')
    h = up.conns[1]['headers']
    check(one('Authorization') == 'Basic dXNlcjpwYXNz', 'Authorization %r' % h.get_all('Authorization'))
    check(one('User-Agent') == 'ua-2', 'User-Agent %r' % h.get_all('User-Agent'))
    xff = [x.strip() for v in h.get_all('X-Forwarded-For') for x in v.split(',')]
    check(xff == ['127.0.0.1'], 'X-Forwarded-For %r, want just 127.0.0.1' %
          h.get_all('X-Forwarded-For'))
    check(one('Host') == '127.0.0.1:%d' % up.port, 'Host %r' % one('Host'))
    check(one('X-Forwarded-Host') == 'localhost', 'X-Forwarded-Host %r' % one('X-Forwarded-Host'))

    # a websockets client end to end: its Origin/User-Agent arrive
    async def ws_client():
        async with lib.ws_connect('ws://127.0.0.1:%d/h3' % px2.port, origin='http://o.example',
                                  user_agent_header='pyws-itest', extra_headers={'Cookie': 'k=v'}) as ws:
            await ws.send('x')
            await ws.recv()
    lib.arun(ws_client(), 10)
    check(up.wait_conns(3, 3) == 3, 'upstream saw no third handshake')
    h = up.conns[2]['headers']
    check(one('Origin') == 'http://o.example', 'Origin %r' % h.get_all('Origin'))
    check(one('User-Agent') == 'pyws-itest', 'User-Agent %r' % h.get_all('User-Agent'))
    check(one('Cookie') == 'k=v', 'Cookie %r' % h.get_all('Cookie'))
    up.wait_done(3, 3)

    # ws:// without a port means port 80 (checked only if 80 can be bound here)
    seen = {}

    def h80(c):
        req = c.read_request()
        seen['host'] = req.get('Host')
        c.send_101()
        c.expect_close(1000)
    try:
        raw = ctx.raw_upstream(h80, port=80)
    except OSError:
        lib.log('port 80 not bindable, default port not checked')
        return
    px3 = ctx.proxy('--upstream', 'ws://127.0.0.1/p80')
    c = lib.RawClient(px3.port, '/')
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    raw.wait_done(5)
    check(seen.get('host') in ('127.0.0.1', '127.0.0.1:80'), 'Host for ws://127.0.0.1/ is %r' % seen.get('host'))


lib.run(main)
