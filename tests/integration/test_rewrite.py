#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 1: request target sent upstream.  Upstream URI without a
path: the client's path and query unchanged.  With a path: the matched
route prefix is replaced by it, the rest of the path and the query kept
(nginx proxy_pass rule); a query in the URI is appended."""
import lib
from lib import check


def target_seen(up, port, path):
    n = len(up.conns)
    c = lib.RawClient(port, path)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    check(up.wait_conns(n + 1, 3) == n + 1, 'upstream saw no handshake for %s' % path)
    return up.conns[n]['path']


def split(t):
    p, _, q = t.partition('?')
    return p, sorted(x for x in q.split('&') if x), ('?' in t)


def main(ctx):
    up = ctx.ws_upstream()
    base = up.uri

    # 1. no path in the URI: unchanged
    px = ctx.proxy('--upstream', base, '--path', '/socket')
    for path in ['/socket', '/socket/', '/socket/a/b', '/socket?x=1', '/socket/a?x=1&y=%20z']:
        got = target_seen(up, px.port, path)
        check(got == path, 'no-path upstream: client %s -> upstream %s' % (path, got))
    px2 = ctx.proxy('--upstream', base)
    for path in ['/', '/any/thing?q=1']:
        got = target_seen(up, px2.port, path)
        check(got == path, 'no-path upstream, default --path: client %s -> upstream %s' % (path, got))

    # 2. path in the URI replaces the matched prefix
    px3 = ctx.proxy('--upstream', base + '/app', '--path', '/socket')
    for path, want in [('/socket', '/app'), ('/socket/', '/app/'), ('/socket/a/b', '/app/a/b'),
                       ('/socket?x=1', '/app?x=1'), ('/socket/a?x=1&y=2', '/app/a?x=1&y=2')]:
        got = target_seen(up, px3.port, path)
        check(got == want, 'upstream /app: client %s -> upstream %s, want %s' % (path, got, want))
    px4 = ctx.proxy('--upstream', base + '/deep/er', '--path', '/ws')
    for path, want in [('/ws', '/deep/er'), ('/ws/x', '/deep/er/x'), ('/ws/x/y?z=1', '/deep/er/x/y?z=1')]:
        got = target_seen(up, px4.port, path)
        check(got == want, 'upstream /deep/er, --path /ws: client %s -> upstream %s, want %s' % (path, got, want))

    # 3. query in the URI is appended (to the client's query, if any)
    px5 = ctx.proxy('--upstream', base + '/app?token=abc', '--path', '/socket')
    for path, want in [('/socket', '/app?token=abc'), ('/socket/x', '/app/x?token=abc'),
                       ('/socket/x?a=1', '/app/x?a=1&token=abc'), ('/socket?a=1&b=2', '/app?a=1&b=2&token=abc')]:
        got = target_seen(up, px5.port, path)
        gp, gq, _ = split(got)
        wp, wq, _ = split(want)
        check(gp == wp and gq == wq and '&&' not in got and not got.endswith(('&', '?')),
              'upstream /app?token=abc: client %s -> upstream %s, want %s' % (path, got, want))
        if path.find('?') > 0:
            check(got == want or got == wp + '?token=abc&' + path.split('?', 1)[1],
                  'query merge order odd: %s' % got)
    # URI with a query but no path
    px6 = ctx.proxy('--upstream', base + '/?k=v', '--path', '/s')
    got = target_seen(up, px6.port, '/s/t?a=1')
    gp, gq, _ = split(got)
    check(gq == ['a=1', 'k=v'], 'upstream /?k=v: client /s/t?a=1 -> upstream %s' % got)

    # 4. routes: each its own rewrite
    px7 = ctx.proxy('--route', '/a=' + base + '/one', '--route', '/a/b=' + base + '/two',
                    '--route', '/c=' + base)
    for path, want in [('/a/x', '/one/x'), ('/a/b/x?q=1', '/two/x?q=1'), ('/a/b', '/two'), ('/c/d?e', '/c/d?e')]:
        got = target_seen(up, px7.port, path)
        check(got == want, 'routes: client %s -> upstream %s, want %s' % (path, got, want))
    up.wait_done(None, 3)


lib.run(main)
