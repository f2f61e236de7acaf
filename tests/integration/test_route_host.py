#!/usr/bin/python3
"""wsproxy(1) ROUTING: routes on the Host (case-insensitive, without the
port, "*.example.com" for exactly one more label) and on request headers;
the most specific route wins: host, then header conditions, then the
longest path; ties keep the command-line order."""
import lib
from lib import check
from pools import which


def main(ctx):
    ups = [ctx.ws_upstream() for _ in range(7)]
    px = ctx.proxy(
        '--route', '/=%s' % ups[0].uri,
        '--route', 'chat.example.com/=%s' % ups[1].uri,
        '--route', '*.example.com/=%s' % ups[2].uri,
        '--route', '/api/v1=%s' % ups[3].uri,
        '--route', '/[x-team=blue]=%s' % ups[4].uri,
        '--route', '/[x-team=blue][x-tier=gold]=%s' % ups[5].uri,
        '--route', '/[x-tier=gold]=%s' % ups[6].uri)
    H = lambda *kv: [tuple(x.split(': ', 1)) for x in kv]
    table = [
        # (host, path, headers, want, why)
        ('chat.example.com', '/x', [], 1, 'exact host'),
        ('CHAT.Example.COM:8080', '/x', [], 1, 'host case and port'),
        ('chat.example.com.', '/x', [], 1, 'trailing dot'),
        ('eu.example.com', '/x', [], 2, 'wildcard: one label'),
        ('a.b.example.com', '/x', [], 0, 'wildcard is one label only'),
        ('example.com', '/x', [], 0, 'wildcard needs a label'),
        ('localhost', '/x', [], 0, 'no host route'),
        ('chat.example.com', '/api/v1/x', [], 1, 'host beats a longer path'),
        ('chat.example.com', '/x', H('x-team: blue'), 1, 'host beats conditions'),
        ('localhost', '/api/v1/x', [], 3, 'longest path'),
        ('localhost', '/api/v1/x', H('x-team: blue'), 4, 'conditions beat a longer path'),
        ('localhost', '/x', H('X-Team: blue'), 4, 'header name case-insensitive'),
        ('localhost', '/x', H('x-team: Blue'), 0, 'header value exact'),
        ('localhost', '/x', H('x-team: blue', 'x-tier: gold'), 5, 'two conditions beat one'),
        ('localhost', '/x', H('x-tier: gold'), 6, 'one condition'),
        ('localhost', '/x', H('x-team: red', 'x-team: blue'), 4, 'any line of a header'),
    ]
    for host, path, headers, want, why in table:
        got = which(ups, px.port, path, headers=headers, host=host)
        check(got == want, '%s: Host %s %s %r went to %s, want %s' % (why, host, path, headers, got, want))
    # Ties: the same specificity, both match: the first on the command line.
    px2 = ctx.proxy('--route', '/[x-a=1]=%s' % ups[0].uri, '--route', '/[x-b=1]=%s' % ups[1].uri)
    got = which(ups, px2.port, '/', headers=H('x-b: 1', 'x-a: 1'))
    check(got == 0, 'tie: went to %s, want the first route' % got)
    px3 = ctx.proxy('--route', '/[x-b=1]=%s' % ups[1].uri, '--route', '/[x-a=1]=%s' % ups[0].uri)
    got = which(ups, px3.port, '/', headers=H('x-a: 1', 'x-b: 1'))
    check(got == 1, 'tie, order swapped: went to %s, want the first route' % got)
    # Nothing matches: 404.
    px4 = ctx.proxy('--route', 'chat.example.com/=%s' % ups[1].uri)
    check(which(ups, px4.port, '/', host='other.example.com') == 404, 'no matching host: want 404')
    lib.log('host routing: %d cases and two ties as the precedence says' % len(table))


lib.run(main)
