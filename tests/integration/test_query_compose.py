#!/usr/bin/python3
"""wsproxy(1) REWRITING: the upstream URI's query parameters
cannot be shadowed or replaced by the client's.

The operator's parameters go first, and every client parameter of the
same name is dropped (names compared as a form decoder reads them, and
';'-separated parts too).  Whatever query parser the upstream uses, it
reads the operator's value: first-value-wins and last-value-wins, with
'&' alone or with ';' as a separator too (old CGI and Python parsers).
"""
import urllib.parse

import lib
from lib import check


def readings(query):
    """name -> values, four ways."""
    out = []
    for seps in ('&', '&;'):
        parts = [query]
        for s in seps:
            parts = [p for x in parts for p in x.split(s)]
        pairs = []
        for p in parts:
            if not p:
                continue
            n, _, v = p.partition('=')
            pairs.append((urllib.parse.unquote_plus(n), urllib.parse.unquote_plus(v)))
        first, last = {}, {}
        for n, v in pairs:
            first.setdefault(n, v)
            last[n] = v
        out += [('first,%s' % seps, first), ('last,%s' % seps, last)]
    return out


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri + '/app?token=abc&role=user', '--path', '/s')

    def target(path):
        n = len(up.conns)
        c = lib.RawClient(px.port, path)
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()
        check(up.wait_conns(n + 1, 3) == n + 1, 'upstream saw no handshake for %s' % path)
        return up.conns[n]['path']

    CASES = [
        ('/s', '/app?token=abc&role=user'),
        ('/s?room=1', '/app?token=abc&role=user&room=1'),
        ('/s/x?token=evil', '/app/x?token=abc&role=user'),
        ('/s?token=evil&room=2&role=admin', '/app?token=abc&role=user&room=2'),
        ('/s?t%6Fken=evil', '/app?token=abc&role=user'),
        ('/s?role=admin;token=evil&room=3', '/app?token=abc&role=user&room=3'),
        ('/s?room=4;role=admin', '/app?token=abc&role=user'),
        ('/s?token', '/app?token=abc&role=user'),
        ('/s?tokens=1&Token=2', '/app?token=abc&role=user&tokens=1&Token=2'),
    ]

    def one(path, want):
        got = target(path)
        check(got == want, 'client %s -> upstream %s, want %s' % (path, got, want))
        q = got.split('?', 1)[1]
        for name, d in readings(q):
            check(d.get('token') == 'abc' and d.get('role') == 'user',
                  '%s parser reads %r from %s' % (name, d, got))
    lib.cases(CASES, one)
    up.wait_done(None, 3)


lib.run(main)
