#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS: a member that refuses is skipped within the same
client request, so a pool with one dead member shows no failure at all over
1,000 handshakes; the dead member then sits out its back-off instead of
being tried again.  A member's non-101 answer is passed on, never retried.
All members down: 502, and the log and metrics name each one's reason."""
import http
import time

import lib
from lib import check
from pools import which, closed_port, metric


def main(ctx):
    good = ctx.ws_upstream()
    dead = 'ws://127.0.0.1:%d' % closed_port()
    aport = lib.free_port()
    px = ctx.proxy('--route', '/=%s,%s' % (dead, good.uri), '--admin', '127.0.0.1:%d' % aport)
    t0 = time.time()
    statuses = [which([good], px.port) for _ in range(1000)]
    elapsed = time.time() - t0
    bad = [s for s in statuses if s != 0]
    check(not bad, '%d of 1000 handshakes failed: %r' % (len(bad), bad[:5]))
    tries = px.stderr_text().count('event=upstream_failed')
    # One try, then a back-off (10s, doubling): one more try per 10s at most.
    check(1 <= tries <= 1 + int(elapsed / 10) + 1, '%d tries at the dead member in %.1fs' % (tries, elapsed))
    check(metric(aport, 'wsproxy_upstream_failures_total', route='/', upstream=dead, reason='refused') == tries,
          'failures metric for the dead member')
    check(metric(aport, 'wsproxy_upstream_up', route='/', upstream=dead) == 0, 'dead member shown up')
    check(metric(aport, 'wsproxy_upstream_up', route='/', upstream=good.uri) == 1, 'good member shown down')
    lib.log('failover: 1000 handshakes with one refusing member: 0 failed, %d tries at it, %.1fs' %
            (tries, elapsed))

    # A member's own HTTP answer is its answer: passed on, not retried.
    async def refuse(path, headers):
        return (http.HTTPStatus.FORBIDDEN, [('X-Who', 'a')], b'no\n')
    a = ctx.ws_upstream(process_request=refuse)
    b = ctx.ws_upstream()
    px2 = ctx.proxy('--route', '/=%s,%s' % (a.uri, b.uri))
    got = [which([b], px2.port) for _ in range(10)]
    check(sorted(got) == [0] * 5 + [403] * 5, 'non-101 answers: %r' % got)
    check(len(b.conns) == 5, 'the upstream after a 403 got %d pairs, want 5 (no retry)' % len(b.conns))

    # Every member down: 502, one log line naming each reason.
    dead2 = 'ws://127.0.0.1:%d' % closed_port()
    px3 = ctx.proxy('--route', '/api=%s,%s' % (dead, dead2))
    r = lib.http_exchange(px3.port, lib.upgrade_request('/api'))
    lib.check_error_response(r, 502, 'all members refuse')
    px3.wait_log('event=pool_failed', 'the pool failure line')
    line = [l for l in px3.stderr_text().splitlines() if 'event=pool_failed' in l][0]
    check('status=502' in line and dead in line and dead2 in line and line.count('Connection refused') == 2,
          'pool failure line: %r' % line)
    px3.wait_log('event=reject', 'the close line')
    end = [l for l in px3.stderr_text().splitlines() if 'status=502' in l and 'event=pool' not in l][0]
    check('every upstream failed' in end, 'close line: %r' % end)
    lib.log('all down: %s' % line.strip())


lib.run(main)
