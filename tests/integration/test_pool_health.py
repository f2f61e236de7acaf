#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS: active health.  health=ws:PATH probes each member
with an upgrade request; two failures take it out (no new pairs, and no
client's try is spent on it), one success brings it back.  on-down=close
also closes its open pairs with 1001 both ways, as HAProxy's
on-marked-down shutdown-sessions does.  health=tcp: a member that stops
listening is taken out the same way."""
import http

import lib
from lib import check
from pools import which, metric


def main(ctx):
    sick = {'on': False}

    async def probe(path, headers):
        if path == '/health':
            if sick['on']:
                return http.HTTPStatus.SERVICE_UNAVAILABLE, [], b'sick\n'
        return None
    a = ctx.ws_upstream(process_request=probe)
    b = ctx.ws_upstream()
    ups = [a, b]
    aport = lib.free_port()
    px = ctx.proxy('--admin', '127.0.0.1:%d' % aport, '--route',
                   '/=%s,%s;health=ws:/health;health-interval=200ms;on-down=close' % (a.uri, b.uri))
    held = [which(ups, px.port, hold=True) for _ in range(4)]
    on_a = [c for i, c in held if i == 0]
    check(len(on_a) == 2, 'round robin: %r' % [i for i, _ in held])
    sick['on'] = True
    px.wait_log('event=upstream_down', 'member a probed down', timeout=5)
    line = [l for l in px.stderr_text().splitlines() if 'event=upstream_down' in l][0]
    check(a.uri in line and 'open_pairs=2' in line, 'down line: %r' % line)
    for c in on_a:
        c.expect_close(1001, what='a pair on the member taken out')
    for i, c in held:
        if i == 1:
            c.send_frame(lib.OP_TEXT, b'still here')
            f = c.recv_frame()
            check(f.payload == b'still here', 'a pair on the healthy member was touched: %r' % f)
    check(metric(aport, 'wsproxy_upstream_up', route='/', upstream=a.uri) == 0, 'metric: a still up')
    before = px.stderr_text().count('event=upstream_failed')
    got = [which(ups, px.port) for _ in range(6)]
    check(got == [1] * 6, 'pairs while a is down: %r' % got)
    check(px.stderr_text().count('event=upstream_failed') == before, 'a client try was spent on a')
    sick['on'] = False
    px.wait_log('event=upstream_up', 'member a back', timeout=5)
    got = sorted(which(ups, px.port) for _ in range(6))
    check(got == [0, 0, 0, 1, 1, 1], 'pairs after a came back: %r' % got)
    for i, c in held:
        if i == 1:
            c.close()
    lib.log('health=ws: a taken out after its probes failed, its 2 pairs closed with 1001, back after one good probe')

    # health=tcp: a member that stops listening.
    c_up, d_up = ctx.ws_upstream(), ctx.ws_upstream()
    px2 = ctx.proxy('--route', '/=%s,%s;health=tcp;health-interval=200ms' % (c_up.uri, d_up.uri))
    c_up.stop()
    px2.wait_log('event=upstream_down', 'tcp probe', timeout=5)
    before = px2.stderr_text().count('event=upstream_failed')
    got = [which([c_up, d_up], px2.port) for _ in range(4)]
    check(got == [1] * 4, 'health=tcp: pairs went to %r' % got)
    check(px2.stderr_text().count('event=upstream_failed') == before, 'a client try was spent on the down member')


lib.run(main)
