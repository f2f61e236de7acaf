#!/usr/bin/python3
"""wsproxy(1) CONTAINERS: systemd socket activation and readiness.

  - started by systemd-socket-activate (Debian's systemd package), which
    binds the port and passes it as LISTEN_FDS: with no --listen wsproxy
    serves on the passed socket, and with a --listen for the same
    address it takes that socket instead of binding;
  - with NOTIFY_SOCKET set (a datagram socket of the test's), wsproxy
    says READY=1 once it serves and STOPPING=1 when SIGTERM drains it.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

import lib
from lib import check


def echo(port):
    c = lib.RawClient(port, '/')
    c.send_frame(lib.OP_TEXT, b'activated')
    f = c.recv_frame()
    check(f is not None and f.payload == b'activated', 'relay: %r' % f)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)


def main(ctx):
    tool = shutil.which('systemd-socket-activate')
    if tool is None:
        raise lib.Skip('systemd-socket-activate (Debian systemd) is not installed')
    up = ctx.ws_upstream()
    for extra in ([], ['--listen', 'ADDR']):
        port = lib.free_port()
        args = [a.replace('ADDR', '127.0.0.1:%d' % port) for a in extra]
        errf = open(os.path.join(ctx.tmp, 'sa%d.log' % port), 'wb')
        p = ctx.popen([tool, '-l', '127.0.0.1:%d' % port, lib.WSPROXY, '--upstream',
                       up.uri] + args, stdout=errf, stderr=errf)
        end = time.time() + 5
        while port not in lib.listening_ports() and time.time() < end:
            time.sleep(0.05)
        echo(port)       # the first connection starts wsproxy
        echo(port)
        with open(errf.name) as f:
            text = f.read()
        check('event=start' in text and 'cannot bind' not in text, 'log: %s' % text[-300:])
        check(('listen=fd:3' in text) == (not extra), 'listener not taken over: %s' % text[-300:])
        p.send_signal(signal.SIGTERM)
        p.wait(10)

    # readiness: READY=1, then STOPPING=1
    sock_path = os.path.join(ctx.tmp, 'notify.sock')
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.bind(sock_path)
    n.settimeout(5)
    px = ctx.proxy('--upstream', up.uri, env={'NOTIFY_SOCKET': sock_path})
    msg = n.recv(256).decode()
    check('READY=1' in msg, 'first notification %r' % msg)
    px.p.send_signal(signal.SIGTERM)
    msg = n.recv(256).decode()
    check('STOPPING=1' in msg, 'notification at SIGTERM %r' % msg)
    px.p.wait(5)
    check(px.p.returncode == 0, 'exit %s' % px.p.returncode)
    px.baseline = None
    n.close()
    up.wait_done(None, 5)


lib.run(main)
