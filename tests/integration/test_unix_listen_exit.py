#!/usr/bin/python3
"""wsproxy(1) UNIX SOCKETS: who removes a --listen unix:PATH socket file.

  - SIGTERM: the drain ends, wsproxy exits 0 and the file is gone;
  - a second SIGTERM during a drain (exit at once): gone too;
  - --check binds the socket to check it and leaves no file behind;
  - SIGUSR2: the old process hands the socket over and exits without
    removing the file, the new one serves on it, and the new one removes
    it when SIGTERM ends it in turn."""
import os
import re
import signal
import socket
import time
import lib
from lib import check


def echo(path, msg):
    async def go():
        async with lib.ws_connect('ws://localhost/', unix=path) as ws:
            await ws.send(msg)
            return await ws.recv()
    got = lib.arun(go(), 15)
    check(got == msg, 'echo through %s: %r' % (path, got))


def wait_exit(px, what, timeout=10):
    """px's exit status; it is not expected to live on (finish_checks)."""
    px.baseline = None
    try:
        return px.p.wait(timeout)
    except Exception:  # noqa
        raise lib.Fail('%s: wsproxy did not exit' % what)


def pid_gone(pid, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open('/proc/%d/stat' % pid) as f:
                if f.read().split(') ')[1].startswith('Z'):
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def main(ctx):
    up = ctx.ws_upstream()

    # SIGTERM: removed
    path = os.path.join(ctx.tmp, 'term.sock')
    px = ctx.unix_proxy(path, '--upstream', up.uri)
    echo(path, 'term')
    px.p.send_signal(signal.SIGTERM)
    check(wait_exit(px, 'SIGTERM') == 0, 'SIGTERM: exit %s' % px.p.returncode)
    check(not os.path.exists(path), 'SIGTERM: the socket file is still there')

    # a second SIGTERM while a connection holds the drain open
    path = os.path.join(ctx.tmp, 'twice.sock')
    px = ctx.unix_proxy(path, '--upstream', up.uri, '--drain-timeout', '30s')

    # a raw client that never answers the drain's close
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(5)
    c.connect(path)
    c.sendall(lib.upgrade_request('/'))
    r, _ = lib.read_response(c, 5, body=False)
    check(r.status == 101, 'raw client: %d' % r.status)
    px.p.send_signal(signal.SIGTERM)
    px.wait_log('event=drain code=1001 open=1', 'first SIGTERM')
    time.sleep(0.2)
    check(px.alive(), 'first SIGTERM ended the drain early')
    px.p.send_signal(signal.SIGTERM)
    wait_exit(px, 'second SIGTERM')
    c.close()
    check(px.p.poll() == 0, 'second SIGTERM: exit %s' % px.p.poll())
    check(not os.path.exists(path), 'second SIGTERM: the socket file is still there')

    # --check: bound, closed and removed
    path = os.path.join(ctx.tmp, 'check.sock')
    st, out, err = lib.run_proxy_once(['--check', '--listen', 'unix:' + path, '--upstream', up.uri])
    check(st == 0 and 'listen=unix:%s\n' % path in out, '--check: exit %s %r %r' % (st, out, err))
    check(not os.path.exists(path), '--check left the socket file behind')

    # SIGUSR2: handed over, kept; the new process removes it at its end
    path = os.path.join(ctx.tmp, 'restart.sock')
    px = ctx.unix_proxy(path, '--upstream', up.uri)
    ino = os.stat(path).st_ino
    px.p.send_signal(signal.SIGUSR2)
    px.wait_log('event=restart_ready', 'restart', timeout=15)
    new_pid = int(re.findall(r'event=restart pid=(\d+)', px.stderr_text())[0])
    try:
        check(wait_exit(px, 'after the restart') == 0, 'old process exit %s' % px.p.returncode)
        check(os.path.exists(path) and os.stat(path).st_ino == ino,
              'the old process removed or replaced the socket file it handed over')
        echo(path, 'served by the new process')
        os.kill(new_pid, signal.SIGTERM)
        check(pid_gone(new_pid), 'the new process did not exit on SIGTERM')
        check(not os.path.exists(path), 'the new process left the socket file behind')
    finally:
        try:
            os.kill(new_pid, signal.SIGKILL)
        except OSError:
            pass


lib.run(main)
