#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 6: connect timeout or upgrade timeout -> 504 (text/plain,
Connection: close), after the configured time, with no fd left behind.
Connect timeout: an upstream listener with its backlog full (SYNs
dropped).  Upgrade timeout: an upstream that accepts and never answers."""
import socket
import time
import lib
from lib import check


def main(ctx):
    # --upgrade-timeout: accepts TCP, reads the request, never answers
    def silent(c):
        c.read_request()
        c.rec['got_request'] = True
        c.wait_eof(10)
    raw = ctx.raw_upstream(silent)
    px = ctx.proxy('--upstream', raw.uri, '--upgrade-timeout', '700')
    t0 = time.time()
    r = lib.http_exchange(px.port, lib.upgrade_request('/'), timeout=6)
    dt = time.time() - t0
    lib.check_error_response(r, 504, 'upstream silent after connect')
    check(0.5 <= dt <= 3.0, '504 after %.2fs with --upgrade-timeout 700' % dt)
    raw.wait_done(3)   # the proxy closed the upstream connection
    check(raw.conns and raw.conns[0].get('got_request'), 'upstream never got the upgrade request')

    # --connect-timeout: listener with a full backlog
    ls = socket.socket()
    ls.bind(('127.0.0.1', 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):   # fill the accept queue; later SYNs are dropped
            f = socket.socket()
            f.setblocking(False)
            try:
                f.connect(('127.0.0.1', port))
            except BlockingIOError:
                pass
            fillers.append(f)
        time.sleep(0.1)
        probe = socket.socket()
        probe.settimeout(0.5)
        try:
            probe.connect(('127.0.0.1', port))
            raise lib.Skip('cannot make a blackhole listener here (backlog not enforced)')
        except socket.timeout:
            pass
        finally:
            probe.close()
        px2 = ctx.proxy('--upstream', 'ws://127.0.0.1:%d/' % port, '--connect-timeout', '600',
                        '--upgrade-timeout', '5000')
        t0 = time.time()
        r = lib.http_exchange(px2.port, lib.upgrade_request('/'), timeout=6)
        dt = time.time() - t0
        lib.check_error_response(r, 504, 'connect to a full backlog')
        check(0.4 <= dt <= 3.0, '504 after %.2fs with --connect-timeout 600' % dt)
        # the default --connect-timeout is 5000: still pending after 3 s
        px3 = ctx.proxy('--upstream', 'ws://127.0.0.1:%d/' % port)
        s = lib.connect(px3.port)
        s.sendall(lib.upgrade_request('/'))
        t0 = time.time()
        s.settimeout(3.0)
        try:
            d = s.recv(100)
            check(False, 'default connect timeout: answered %r after %.1fs, want nothing before 5 s' %
                  (d[:40], time.time() - t0))
        except socket.timeout:
            pass
        r, _ = lib.read_response(s, timeout=5)
        dt = time.time() - t0
        lib.check_error_response(r, 504, 'default connect timeout')
        check(dt <= 7.5, 'default connect timeout: 504 after %.1fs' % dt)
        s.close()
    finally:
        for f in fillers:
            f.close()
        ls.close()


lib.run(main)
