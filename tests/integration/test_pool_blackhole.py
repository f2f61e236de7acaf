#!/usr/bin/python3
"""wsproxy(1) UPSTREAMS: a member that drops SYNs (a listener whose queue is
full, so the kernel answers nothing) costs a client at most half of
--connect-timeout: the next member is tried and the client gets its 101
within --connect-timeout.  A pool that is all blackholed answers 504 once
--connect-timeout has passed, naming each member's reason."""
import socket
import time

import lib
from lib import check
from pools import which


def blackhole():
    """A listening socket that never accepts, its queue filled: further
    SYNs are dropped.  Returns (listener, fillers, uri)."""
    ls = socket.socket()
    ls.bind(('127.0.0.1', 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    fill = []
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(('127.0.0.1', port))
        except BlockingIOError:
            pass
        fill.append(s)
    time.sleep(0.2)
    # Sure it drops: a fresh connect must not complete in 0.5s.
    probe = socket.socket()
    probe.settimeout(0.5)
    try:
        probe.connect(('127.0.0.1', port))
        raise lib.Skip('the kernel did not drop SYNs to a full listen queue')
    except socket.timeout:
        pass
    finally:
        probe.close()
    return ls, fill, 'ws://127.0.0.1:%d' % port


def main(ctx):
    ls, fill, hole = blackhole()
    good = ctx.ws_upstream()
    px = ctx.proxy('--connect-timeout', '2s', '--route', '/=%s,%s' % (hole, good.uri))
    t0 = time.time()
    got = which([good], px.port)       # round robin tries the hole first
    first = time.time() - t0
    check(got == 0, 'first handshake: %r' % got)
    check(0.8 <= first < 2.0, 'failover took %.2fs; want half of --connect-timeout (1s), under 2s' % first)
    px.wait_log('event=upstream_failed', 'the timed-out try')
    check('upstream connect timeout' in px.stderr_text(), 'the try\'s reason')
    t0 = time.time()
    for _ in range(5):
        check(which([good], px.port) == 0, 'later handshakes')
    later = (time.time() - t0) / 5
    check(later < 0.5, 'the blackholed member was tried again (%.2fs a handshake)' % later)
    lib.log('blackhole: failover in %.2fs (--connect-timeout 2s), then %.3fs a handshake' % (first, later))
    # Every member blackholed: 504 after --connect-timeout, with reasons.
    ls2, fill2, hole2 = blackhole()
    px2 = ctx.proxy('--connect-timeout', '2s', '--route', '/=%s,%s' % (hole, hole2))
    t0 = time.time()
    r = lib.http_exchange(px2.port, lib.upgrade_request('/'), timeout=10)
    took = time.time() - t0
    lib.check_error_response(r, 504, 'all blackholed')
    check(1.8 <= took < 3.0, '504 after %.2fs, want --connect-timeout (2s)' % took)
    px2.wait_log('event=pool_failed', 'the pool failure line')
    line = [l for l in px2.stderr_text().splitlines() if 'event=pool_failed' in l][0]
    check(line.count('upstream connect timeout') == 2 and 'status=504' in line, 'pool line: %r' % line)
    lib.log('all blackholed: 504 after %.2fs' % took)
    # A refusing member, then a blackholed one: the last try timed out,
    # so 504, once its half of --connect-timeout is over.
    px3 = ctx.proxy('--connect-timeout', '2s', '--route', '/=ws://127.0.0.1:%d,%s' % (lib.free_port(), hole))
    t0 = time.time()
    r = lib.http_exchange(px3.port, lib.upgrade_request('/'), timeout=10)
    took = time.time() - t0
    lib.check_error_response(r, 504, 'refused then blackholed')
    check(0.8 <= took < 1.8, 'refused then blackholed: 504 after %.2fs, want about 1s' % took)
    for s in fill + fill2 + [ls, ls2]:
        s.close()


lib.run(main)
