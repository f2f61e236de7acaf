#!/usr/bin/python3
"""wsproxy(1) SIGNALS, the ones test_drain, test_reload and test_restart
do not cover:

  - SIGINT drains like SIGTERM (close 1001, exit 0);
  - a second SIGTERM while draining exits at once, even with a pair that
    never answers its close, and says so in the log;
  - SIGHUP reloads (logged) and SIGUSR1 without --log-file changes
    nothing: pairs stay open and relaying through both;
  - a peer that resets while wsproxy writes to it (SIGPIPE territory)
    ends that pair only.
"""
import signal
import time

import lib
from lib import check


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri)
    c = lib.RawClient(px.port, '/')
    for sig in (signal.SIGHUP, signal.SIGUSR1):
        px.p.send_signal(sig)
        time.sleep(0.3)
        c.send_frame(lib.OP_TEXT, b'after %d' % sig)
        f = c.recv_frame()
        check(f is not None and f.payload == b'after %d' % sig, 'relay after signal %d: %r' % (sig, f))
    check('event=reload ok=yes' in px.stderr_text(), 'SIGHUP not logged: %s' % px.stderr_tail())
    # a peer that resets: only its pair ends
    r = lib.RawClient(px.port, '/reset')
    r.sock.setsockopt(lib.socket.SOL_SOCKET, lib.socket.SO_LINGER, b'\x01\x00\x00\x00\x00\x00\x00\x00')
    r.send_frame(lib.OP_TEXT, b'x' * 100000)
    r.close()
    time.sleep(0.3)
    check(px.alive(), 'wsproxy died when a peer reset')
    c.send_frame(lib.OP_TEXT, b'still')
    check(c.recv_frame().payload == b'still', 'the other pair stopped')
    # SIGINT drains like SIGTERM
    px.p.send_signal(signal.SIGINT)
    f = c.next_close(5)
    check(f is not None and f.close_code == 1001, 'SIGINT: close %r' % f)
    c.try_send(lib.frame(lib.OP_CLOSE, f.payload[:2], mask=True))
    c.wait_eof(3)
    px.p.wait(5)
    check(px.p.returncode == 0, 'SIGINT: exit %s' % px.p.returncode)
    px.baseline = None

    # a second SIGTERM exits at once
    px2 = ctx.proxy('--upstream', up.uri, '--drain-timeout', '30s')
    deaf = lib.RawClient(px2.port, '/deaf')
    px2.p.send_signal(signal.SIGTERM)
    f = deaf.recv_frame(5)
    check(f is not None and f.opcode == lib.OP_CLOSE, 'first SIGTERM: %r' % f)
    t0 = time.time()
    px2.p.send_signal(signal.SIGTERM)
    px2.p.wait(5)
    took = time.time() - t0
    check(took < 1.0, 'second SIGTERM took %.2f s to exit' % took)
    check('second signal' in px2.stderr_text(), 'not logged: %s' % px2.stderr_tail())
    px2.baseline = None
    up.wait_done(None, 5)


lib.run(main)
