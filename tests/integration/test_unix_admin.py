#!/usr/bin/python3
"""wsproxy(1) UNIX SOCKETS and ADMIN: --admin unix:PATH serves /healthz
and /metrics over a unix socket, with the mode of --listen-mode, and
the file is removed when SIGTERM ends wsproxy."""
import os
import signal
import socket
import stat
import lib
from lib import check


def get(path, target):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(b'GET %s HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n' % target.encode())
        r, _ = lib.read_response(s, 5)
        return r
    finally:
        s.close()


def main(ctx):
    up = ctx.ws_upstream()
    path = os.path.join(ctx.tmp, 'admin.sock')
    px = ctx.proxy('--upstream', up.uri, '--admin', 'unix:' + path, '--listen-mode', '0600')
    check(os.path.exists(path), 'no admin socket file')
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, 'mode %o' % stat.S_IMODE(os.stat(path).st_mode))
    r = get(path, '/healthz')
    check(r.status == 200, '/healthz: %d' % r.status)
    r = get(path, '/metrics')
    check(r.status == 200 and b'wsproxy_pairs' in r.body, '/metrics: %d' % r.status)
    px.check_fds()
    px.baseline = None
    px.p.send_signal(signal.SIGTERM)
    check(px.p.wait(10) == 0, 'exit %s' % px.p.returncode)
    check(not os.path.exists(path), 'the admin socket file is still there')


lib.run(main)
