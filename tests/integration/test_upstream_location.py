#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE: a Location in a non-101 upstream answer that
points at the upstream itself (any of http, https, ws, wss with the
upstream's host and port) is rewritten to a path on the client's origin,
the URI's path replaced by the route's prefix (nginx's proxy_redirect
default); a Location elsewhere, or a relative one, passes unchanged."""
import lib
from lib import check


def main(ctx):
    where = {}

    def handler(c):
        req = c.read_request()
        c.send(b'HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n'
               % where[req.target].encode())
        c.wait_eof(5)

    up = ctx.raw_upstream(handler)
    a = '127.0.0.1:%d' % up.port
    px = ctx.proxy('--route', '/chat=%s/internal/chat' % up.uri, '--route', '/=%s' % up.uri)
    CASES = [
        ('/chat/a', 'http://%s/internal/chat/login' % a, '/chat/login'),
        ('/chat/b', 'HTTP://%s/internal/chat' % a.upper(), '/chat'),
        ('/chat/c', 'ws://%s/internal/chat?x=1' % a, '/chat?x=1'),
        ('/chat/d', 'wss://%s/elsewhere' % a, '/elsewhere'),
        ('/chat/e', 'http://%s' % a, '/'),
        ('/chat/f', 'http://other.example/internal/chat/x', 'http://other.example/internal/chat/x'),
        ('/chat/g', 'http://127.0.0.1:1/internal/chat/x', 'http://127.0.0.1:1/internal/chat/x'),
        ('/chat/h', '/relative/path', '/relative/path'),
        ('/chat/i', 'login', 'login'),
        ('/x', 'http://%s/y' % a, '/y'),
    ]

    def one(path, loc, want):
        where['/internal' + path if path.startswith('/chat') else path] = loc
        r = lib.http_exchange(px.port, lib.upgrade_request(path))
        check(r.status == 302, '%s: %d' % (path, r.status))
        check(r.get_all('Location') == [want], '%s: Location %r -> %r, want %r'
              % (path, loc, r.get_all('Location'), want))
    lib.cases(CASES, one)
    up.wait_done(10)


lib.run(main)
