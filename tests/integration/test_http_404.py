#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE row 3: a path matching no route -> 404 (text/plain, Connection:
close), nothing upstream.  The query is not part of the path."""
import lib
from lib import check


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--path', '/socket')
    for path in ['/', '/other', '/socketx', '/sock', '/socke', '/x/socket', '/Socket', '/other?p=/socket']:
        r = lib.http_exchange(px.port, lib.upgrade_request(path))
        lib.check_error_response(r, 404, 'path %s with --path /socket' % path)
    # only --route given
    px2 = ctx.proxy('--route', '/a=' + up.uri, '--route', '/b/c=' + up.uri)
    for path in ['/', '/b', '/ab', '/c', '/b/cd']:
        r = lib.http_exchange(px2.port, lib.upgrade_request(path))
        lib.check_error_response(r, 404, 'path %s with routes /a and /b/c' % path)
    check(up.tcp_conns == 0 and up.tcp_bytes == 0,
          'upstream got %d connections / %d bytes for 404s' % (up.tcp_conns, up.tcp_bytes))
    for port, path in [(px.port, '/socket'), (px2.port, '/b/c/d')]:
        c = lib.RawClient(port, path)
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()
    up.wait_done(2, 3)


lib.run(main)
