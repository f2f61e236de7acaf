#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS: balance=roundrobin (the default) spreads new pairs
evenly over a pool, and in proportion to weights (ws://a weight=3)."""
import collections

import lib
from lib import check
from pools import which


def main(ctx):
    ups = [ctx.ws_upstream() for _ in range(3)]
    px = ctx.proxy('--route', '/=%s' % ','.join(u.uri for u in ups))
    got = collections.Counter(which(ups, px.port) for _ in range(30))
    check(sorted(got.items()) == [(0, 10), (1, 10), (2, 10)], 'round robin over 3, 30 pairs: %r' % got)
    # Even while pairs stay open: the open ones do not matter to round robin.
    held = [which(ups, px.port, hold=True) for _ in range(6)]
    got = collections.Counter(i for i, _ in held)
    check(sorted(got.values()) == [2, 2, 2], 'round robin with pairs held: %r' % got)
    for _, c in held:
        c.close()
    # Weights 3:1:1 give 3:1:1 of every 5, smoothly (never 3 in a row).
    px2 = ctx.proxy('--route', '/=%s weight=3,%s,%s' % (ups[0].uri, ups[1].uri, ups[2].uri))
    seq = [which(ups, px2.port) for _ in range(25)]
    got = collections.Counter(seq)
    check(sorted(got.items()) == [(0, 15), (1, 5), (2, 5)], 'weights 3:1:1 over 25: %r' % got)
    runs = max(len(list(g)) for _, g in __import__('itertools').groupby(seq))
    check(runs <= 2, 'weighted round robin is not smooth: %r' % seq)
    lib.log('round robin: 10/10/10 of 30; weights 3:1:1 gave %r, longest run %d' % (dict(got), runs))


lib.run(main)
