#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION --max-conns default "from RLIMIT_NOFILE": with a file limit of
100, the default slab fits the fds (two per pair): clients beyond it get
a clean 503 -- never a hang, a reset or a crash -- the admitted pairs all
work, and everything is released afterwards."""
import lib
from lib import check

NOFILE = 100


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, nofile=NOFILE)
    held = []
    rejected = 0
    for i in range(60):
        c = lib.RawClient(px.port, '/', expect=None)
        st = c.response.status
        check(st in (101, 503), 'client %d got %d' % (i, st))
        if st == 101:
            check(rejected == 0, 'client %d admitted after an earlier 503' % i)
            held.append(c)
        else:
            lib.check_error_response(c.response, 503, 'client %d' % i)
            c.close()
            rejected += 1
    k = len(held)
    lib.log('admitted %d pairs with RLIMIT_NOFILE %d (baseline %d fds)' % (k, NOFILE, px.baseline))
    check(k >= 1, 'no pair admitted')
    check(rejected > 0, 'all 60 pairs admitted with only %d fds' % NOFILE)
    check(px.baseline + 2 * k <= NOFILE, '%d pairs cannot fit in %d fds' % (k, NOFILE))
    for i, c in enumerate(held):
        c.send_frame(lib.OP_TEXT, b'pair %d' % i)
    for i, c in enumerate(held):
        f = c.recv_frame()
        check(f is not None and f.payload == b'pair %d' % i, 'pair %d: %r' % (i, f))
    for c in held:
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()
    up.wait_done(k, 5)


lib.run(main)
