#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION --route PATH=URI: repeatable, the longest matching path wins
(whatever the command-line order); -u/-p is one route."""
import lib
from lib import check


def which(ups, port, path):
    before = [len(u.conns) for u in ups]
    c = lib.RawClient(port, path, expect=None)
    st = c.response.status
    if st == 101:
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
    c.close()
    if st != 101:
        return st
    for i, u in enumerate(ups):
        if u.wait_conns(before[i] + 1, 0.01) > before[i]:
            return i
    raise lib.Fail('101 for %s but no upstream saw it' % path)


def main(ctx):
    ups = [ctx.ws_upstream() for _ in range(4)]
    cases = [('/a', 1), ('/a/x', 1), ('/a/b', 2), ('/a/b/c', 2), ('/a/bc', 1), ('/a/b/c/d', 3),
             ('/a/b/c/de', 2), ('/x', 0), ('/', 0), ('/ab', 0)]
    orders = [
        ['-u', ups[0].uri, '--route', '/a=' + ups[1].uri, '--route', '/a/b=' + ups[2].uri,
         '--route', '/a/b/c/d=' + ups[3].uri],
        ['--route', '/a/b/c/d=' + ups[3].uri, '-r', '/a/b=' + ups[2].uri, '-r', '/a=' + ups[1].uri,
         '--upstream', ups[0].uri, '--path', '/'],
    ]
    for args in orders:
        px = ctx.proxy(*args)
        for path, want in cases:
            got = which(ups, px.port, path)
            check(got == want, 'routes %s: %s went to %s, want upstream %d' % (' '.join(args), path, got, want))
    # -p narrower than a route
    px = ctx.proxy('-u', ups[0].uri, '-p', '/a/b', '-r', '/a=' + ups[1].uri)
    for path, want in [('/a/b/x', 0), ('/a/x', 1), ('/a', 1), ('/b', 404)]:
        got = which(ups, px.port, path)
        check(got == want, '-p /a/b -r /a: %s went to %s, want %s' % (path, got, want))
    for u in ups:
        u.wait_done(None, 3)


lib.run(main)
