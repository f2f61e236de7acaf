#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION --path: proxy requests whose path is PATH or starts with PATH/
(a missing leading / is added); the default / takes everything.  PATHX
does not match; the query is not part of the path."""
import lib
from lib import check


def status(port, path):
    c = lib.RawClient(port, path, expect=None)
    st = c.response.status
    if st == 101:
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
    else:
        lib.check_error_response(c.response, st, path)
    c.close()
    return st


def main(ctx):
    up = ctx.ws_upstream()
    for flag in ['/chat', 'chat']:
        px = ctx.proxy('--upstream', up.uri, '--path', flag)
        for path, want in [('/chat', 101), ('/chat/', 101), ('/chat/room/1', 101), ('/chat?x=1', 101),
                           ('/chat/?x=/y', 101), ('/chatx', 404), ('/chat.x', 404), ('/cha', 404),
                           ('/', 404), ('/other/chat', 404), ('/chatroom?x=/chat', 404)]:
            got = status(px.port, path)
            check(got == want, '--path %s: %s got %d, want %d' % (flag, path, got, want))
    px = ctx.proxy('--upstream', up.uri, '-p', '/a/b')
    for path, want in [('/a/b', 101), ('/a/b/c', 101), ('/a', 404), ('/a/bc', 404), ('/a/', 404)]:
        got = status(px.port, path)
        check(got == want, '-p /a/b: %s got %d, want %d' % (path, got, want))
    px = ctx.proxy('--upstream', up.uri)
    for path in ['/', '/x', '/x/y/z?q', '/chat']:
        got = status(px.port, path)
        check(got == 101, 'default --path /: %s got %d' % (path, got))
    px = ctx.proxy('-u', up.uri, '-p', '/')
    got = status(px.port, '/deep/path')
    check(got == 101, '-p /: /deep/path got %d' % got)
    up.wait_done(None, 3)


lib.run(main)
