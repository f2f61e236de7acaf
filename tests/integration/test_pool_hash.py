#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS: balance=hash(header:NAME|cookie:NAME|ip) is a
consistent hash with bounded loads: the same key reaches the same member
(on every wsproxy with the same route); adding a member moves only about
1/N of the keys, all to the new member; no member holds more than
hash-factor times its share of the open pairs; a request without the key
is balanced round robin."""
import collections

import lib
from lib import check
from pools import which

KEYS = ['user-%d' % i for i in range(240)]


def mapping(ups, port, name='x-user'):
    return {k: which(ups, port, headers=[(name, k)]) for k in KEYS}


def main(ctx):
    ups = [ctx.ws_upstream() for _ in range(4)]
    three = ','.join(u.uri for u in ups[:3])
    px = ctx.proxy('--route', '/=%s;balance=hash(header:x-user)' % three)
    m1 = mapping(ups, px.port)
    m2 = mapping(ups, px.port)
    check(m1 == m2, 'the same key went to different members: %d of %d differ' %
          (sum(m1[k] != m2[k] for k in KEYS), len(KEYS)))
    spread = collections.Counter(m1.values())
    check(len(spread) == 3 and min(spread.values()) >= len(KEYS) // 6,
          'keys spread badly over 3 members: %r' % spread)
    # Another wsproxy with the same route: the same choices.
    pxb = ctx.proxy('--route', '/=%s;balance=hash(header:x-user)' % three)
    check(mapping(ups, pxb.port) == m1, 'a second wsproxy chose differently')
    # A fourth member: only keys that now go to it move.
    px4 = ctx.proxy('--route', '/=%s,%s;balance=hash(header:x-user)' % (three, ups[3].uri))
    m4 = mapping(ups, px4.port)
    moved = [k for k in KEYS if m4[k] != m1[k]]
    check(all(m4[k] == 3 for k in moved), 'a key moved between old members: %r' %
          [(k, m1[k], m4[k]) for k in moved if m4[k] != 3][:5])
    frac = len(moved) / len(KEYS)
    check(0.15 <= frac <= 0.35, 'adding a 4th member moved %.3f of the keys (want about 1/4)' % frac)
    lib.log('hash: %d keys sticky; spread %r; adding a 4th member moved %d/%d = %.3f of the keys,'
            ' all to it (ideal 0.25)' % (len(KEYS), dict(spread), len(moved), len(KEYS), frac))
    # Bounded loads: 12 open pairs with one key never pile up on one member.
    held = [which(ups, px.port, headers=[('x-user', 'hot')], hold=True) for _ in range(12)]
    count = collections.Counter(i for i, _ in held)
    check(max(count.values()) <= 5, 'hash-factor 1.25 over 3 members, 12 pairs: %r (max 5)' % count)
    check(count.most_common(1)[0][0] == held[0][0], 'the key\'s own member is not the fullest: %r' % count)
    for _, c in held:
        c.close()
    lib.log('bounded load: 12 pairs of one key held as %r (cap ceil(1.25*12/3) = 5)' % dict(count))
    # Cookie and ip keys.
    pxc = ctx.proxy('--route', '/=%s;balance=hash(cookie:sid)' % three)
    firsts = [which(ups, pxc.port, headers=[('Cookie', 'a=1; sid=s%d; b=2' % i)]) for i in range(20)]
    again = [which(ups, pxc.port, headers=[('Cookie', 'sid=s%d' % i)]) for i in range(20)]
    check(firsts == again, 'cookie key not sticky: %r vs %r' % (firsts, again))
    check(len(set(firsts)) > 1, 'cookie keys all on one member: %r' % firsts)
    pxi = ctx.proxy('--route', '/=%s;balance=hash(ip)' % three)
    got = {which(ups, pxi.port) for _ in range(10)}
    check(len(got) == 1, 'hash(ip) from one address spread over %r' % got)
    # Without the key: round robin.
    got = collections.Counter(which(ups, px.port) for _ in range(9))
    check(sorted(got.values()) == [3, 3, 3], 'no key: not round robin: %r' % got)


lib.run(main)
