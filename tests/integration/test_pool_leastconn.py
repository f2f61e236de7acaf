#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS: balance=leastconn sends a new pair to the member
with the fewest open pairs (per unit of weight)."""
import lib
from lib import check
from pools import which


def main(ctx):
    ups = [ctx.ws_upstream() for _ in range(3)]
    px = ctx.proxy('--route', '/=%s;balance=leastconn' % ','.join(u.uri for u in ups))
    held = [which(ups, px.port, hold=True) for _ in range(6)]
    count = [sum(1 for i, _ in held if i == k) for k in range(3)]
    check(count == [2, 2, 2], 'leastconn, 6 pairs held: %r' % count)
    # Close both pairs of member 1: the next two go there.
    for i, c in held:
        if i == 1:
            c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
            c.expect_close(1000)
            c.close()
    ups[1].wait_done(2, 5)
    nxt = [which(ups, px.port, hold=True) for _ in range(2)]
    check([i for i, _ in nxt] == [1, 1], 'leastconn after member 1 emptied: %r' % [i for i, _ in nxt])
    # Weights: weight 2 holds twice the pairs.
    px2 = ctx.proxy('--route', '/=%s weight=2,%s;balance=leastconn' % (ups[0].uri, ups[1].uri))
    held2 = [which(ups[:2], px2.port, hold=True) for _ in range(9)]
    count = [sum(1 for i, _ in held2 if i == k) for k in range(2)]
    check(count == [6, 3], 'leastconn with weights 2:1, 9 held: %r' % count)
    lib.log('leastconn: 2/2/2 held, refilled the emptied member, 6:3 with weights 2:1')
    for _, c in held + nxt + held2:
        c.close()


lib.run(main)
