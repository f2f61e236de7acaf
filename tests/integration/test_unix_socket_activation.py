#!/usr/bin/python3
"""wsproxy(1) UNIX SOCKETS and CONTAINERS: a unix socket passed by
systemd (systemd-socket-activate -l PATH, LISTEN_FDS) is just an fd.

  - with no --listen, wsproxy serves on it (listen=fd:3);
  - with --listen unix:PATH it takes that socket instead of probing and
    binding the path (no stale-socket removal);
  - the file is systemd's: wsproxy leaves it at exit, and so does the
    process a SIGUSR2 restart hands it to."""
import os
import re
import shutil
import signal
import subprocess
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


def main(ctx):
    tool = shutil.which('systemd-socket-activate')
    if tool is None:
        raise lib.Skip('systemd-socket-activate (Debian systemd) is not installed')
    up = ctx.ws_upstream()
    for n, extra in enumerate(([], ['--listen', 'unix:PATH'])):
        path = os.path.join(ctx.tmp, 'sa%d.sock' % n)
        args = [a.replace('PATH', path) for a in extra]
        logpath = os.path.join(ctx.tmp, 'sa%d.log' % n)
        errf = open(logpath, 'wb')
        p = ctx.popen([tool, '-l', path, lib.WSPROXY, '--upstream', up.uri] + args,
                      stdout=errf, stderr=errf)
        end = time.time() + 5
        while not os.path.exists(path) and time.time() < end:
            time.sleep(0.05)
        echo(path, 'activated')     # the first connection starts wsproxy
        echo(path, 'again')
        with open(logpath) as f:
            text = f.read()
        check('event=start' in text and 'cannot bind' not in text and
              'listen_stale' not in text and 'address in use' not in text, 'log: %s' % text[-400:])
        check(('listen=fd:3' in text) == (not extra), 'listener not taken over: %s' % text[-300:])
        if extra:
            # a restart under socket activation: the new process knows
            # the socket is systemd's too
            p.send_signal(signal.SIGUSR2)
            end = time.time() + 15
            while 'event=restart_ready' not in text and time.time() < end:
                time.sleep(0.05)
                with open(logpath) as f:
                    text = f.read()
            check('event=restart_ready' in text, 'restart not ready: %s' % text[-300:])
            p.wait(10)
            new_pid = int(re.findall(r'event=restart pid=(\d+)', text)[0])
            echo(path, 'after the restart')
            os.kill(new_pid, signal.SIGTERM)
            end = time.time() + 10
            while os.path.exists('/proc/%d' % new_pid) and time.time() < end:
                time.sleep(0.05)
            check(not os.path.exists('/proc/%d' % new_pid), 'the restarted process did not exit')
            check(os.path.exists(path), 'the restarted process removed systemd\'s socket file')
            try:
                os.kill(new_pid, signal.SIGKILL)
            except OSError:
                pass
        else:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                raise lib.Fail('wsproxy did not exit on SIGTERM')
            check(os.path.exists(path), 'wsproxy removed systemd\'s socket file')


lib.run(main)
