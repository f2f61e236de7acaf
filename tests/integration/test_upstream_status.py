#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 6: an upstream answering anything but 101 -> that status
line and its body are passed to the client, with Connection: close (e.g. a
403 from the application)."""
import http
import lib
from lib import check


def main(ctx):
    async def process_request(path, headers):
        if path.startswith('/forbidden'):
            return http.HTTPStatus.FORBIDDEN, [('Content-Type', 'text/plain')], b'no entry for you\n'
        if path.startswith('/missing'):
            return http.HTTPStatus.NOT_FOUND, [('Content-Type', 'application/json')], b'{"error":"nope"}'
        return None
    up = ctx.ws_upstream(process_request=process_request)
    px = ctx.proxy('--upstream', up.uri)
    r = lib.http_exchange(px.port, lib.upgrade_request('/forbidden'))
    check(r.status == 403 and r.reason == 'Forbidden', 'got %d %s, want 403 Forbidden' % (r.status, r.reason))
    check(r.body == b'no entry for you\n', '403 body %r' % r.body)
    check('close' in r.tokens('Connection'), '403 without Connection: close: %r' % r.headers)
    r = lib.http_exchange(px.port, lib.upgrade_request('/missing/x'))
    check(r.status == 404 and r.reason == 'Not Found', 'got %d %s, want 404 Not Found' % (r.status, r.reason))
    check(r.body == b'{"error":"nope"}', '404 body %r' % r.body)
    check('close' in r.tokens('Connection'), '404 without Connection: close')

    async def client():
        try:
            async with lib.ws_connect('ws://127.0.0.1:%d/forbidden' % px.port):
                pass
        except Exception as e:  # noqa
            return lib.invalid_status(e)
    st = lib.arun(client(), 10)
    check(st == 403, 'websockets client saw %r, want 403' % st)

    # a raw upstream: 401 with a custom reason and headers, body by Content-Length
    def h401(c):
        c.read_request()
        body = b'{"auth":"required"}'
        c.send(b'HTTP/1.1 401 Login First\r\nWWW-Authenticate: Bearer realm="x"\r\n'
               b'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
        c.wait_eof(5)
    raw = ctx.raw_upstream(h401)
    px2 = ctx.proxy('--upstream', raw.uri)
    r = lib.http_exchange(px2.port, lib.upgrade_request('/'))
    check(r.status == 401 and r.reason == 'Login First', 'got %d %s, want 401 Login First' % (r.status, r.reason))
    check(r.body == b'{"auth":"required"}', '401 body %r' % r.body)
    check('close' in r.tokens('Connection'), '401 without Connection: close')

    # body delimited by the upstream closing
    def h500(c):
        c.read_request()
        c.send(b'HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nboom')
        c.close()
    raw2 = ctx.raw_upstream(h500)
    px3 = ctx.proxy('--upstream', raw2.uri)
    r = lib.http_exchange(px3.port, lib.upgrade_request('/'))
    check(r.status == 500, 'got %d, want 500' % r.status)
    check(r.body == b'boom', '500 body (until upstream EOF) %r' % r.body)
    raw.wait_done(5)
    raw2.wait_done(5)


lib.run(main)
