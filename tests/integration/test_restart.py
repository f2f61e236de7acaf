#!/usr/bin/python3
"""wsproxy(1) SIGNALS: SIGUSR2 restarts without refusing anyone.

  - while clients connect in a tight loop (connect, upgrade, one echo,
    close), SIGUSR2 starts the same binary with the listening sockets
    handed over; once it says it is ready, the old process drains with
    1012 (service restart) and exits 0.  No connection is refused or
    reset and no handshake is lost;
  - the 20 pairs open on the old process get close 1012 and reconnect,
    to the new process, whose pid differs;
  - a restart whose new process cannot start (--restart-args-file with a
    bad flag) is logged and the old process keeps serving;
  - SIGUSR2 with --restart-args-file starts the new process with the
    flags in the file (a route the first one did not have).
"""
import asyncio
import os
import re
import signal
import socket
import threading
import time

import lib
from lib import check


def echo_once(port, path='/'):
    """connect, upgrade, one echo, close: None, or what went wrong."""
    try:
        c = lib.RawClient(port, path, expect=None, timeout=5)
    except ConnectionRefusedError:
        return 'refused'
    except (ConnectionResetError, BrokenPipeError):
        return 'reset'
    except lib.Fail as e:
        return 'handshake: %s' % e
    try:
        if c.response.status != 101:
            return 'status %d' % c.response.status
        c.send_frame(lib.OP_TEXT, b'tick')
        f = c.recv_frame(5)
        if f is not None and f.opcode == lib.OP_CLOSE:
            return None     # drained between the 101 and the echo: fine
        if f is None or f.payload != b'tick':
            return 'echo %r' % f
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        f = c.next_close(5)
        c.wait_eof(5)
        return None
    except (ConnectionResetError, BrokenPipeError):
        return 'reset'
    except lib.Fail as e:
        return 'after the 101: %s' % e
    finally:
        c.close()


def pids_of(px):
    return [int(m) for m in re.findall(r'event=restart pid=(\d+)', px.stderr_text())]


def main(ctx):
    up = ctx.ws_upstream()
    args_file = os.path.join(ctx.tmp, 'restart.args')
    px = ctx.proxy('--upstream', up.uri, '--restart-args-file', args_file)
    with open(args_file, 'w') as f:
        f.write('# the flags of the next process, one per line\n')
        f.write('--listen\n127.0.0.1:%d\n--upstream\n%s\n' % (px.port, up.uri))
        f.write('--restart-args-file\n%s\n' % args_file)

    # pairs on the old process
    olds = [lib.RawClient(px.port, '/old/%d' % i) for i in range(20)]
    errors, done = [], [0]
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            e = echo_once(px.port)
            if e:
                errors.append(e)
            done[0] += 1
    t = threading.Thread(target=loop)
    t.start()
    time.sleep(0.5)
    before = done[0]
    px.p.send_signal(signal.SIGUSR2)
    px.wait_log('event=restart_ready', 'restart', timeout=15)
    new_pid = pids_of(px)[-1]
    # every old pair gets 1012 and reconnects to the new process
    for i, c in enumerate(olds):
        f = c.next_close(10)
        check(f is not None and f.close_code == 1012, 'old pair %d: close %r' % (i, f))
        c.try_send(lib.frame(lib.OP_CLOSE, f.payload[:2], mask=True))
        c.wait_eof(5)
        c.close()
        check(echo_once(px.port, '/again/%d' % i) is None, 'pair %d could not reconnect' % i)
    px.p.wait(15)
    check(px.p.returncode == 0, 'old process exited with %s' % px.p.returncode)
    time.sleep(0.5)
    stop.set()
    t.join(10)
    lib.log('%d handshakes in the loop, %d of them after SIGUSR2' % (done[0], done[0] - before))
    check(done[0] - before > 10, 'the loop made only %d handshakes after SIGUSR2' % (done[0] - before))
    check(not errors, '%d handshakes failed around the restart: %s' % (len(errors), errors[:5]))
    check(os.path.exists('/proc/%d' % new_pid), 'the new process %d is gone' % new_pid)
    check(new_pid != px.pid, 'no new process')
    log = px.stderr_text()
    check('event=drain code=1012' in log, 'the old process did not drain with 1012')

    # a restart that cannot start: the running process keeps serving
    with open(args_file, 'w') as f:
        f.write('--listen\n127.0.0.1:%d\n--upstream\n%s\n--no-such-flag\n' % (px.port, up.uri))
    os.kill(new_pid, signal.SIGUSR2)
    end = time.time() + 10
    while 'event=restart_failed' not in px.stderr_text() and time.time() < end:
        time.sleep(0.1)
    check('event=restart_failed' in px.stderr_text(), 'no restart_failed line: %s' % px.stderr_tail())
    check(echo_once(px.port) is None, 'the running process stopped serving after a failed restart')
    check(os.path.exists('/proc/%d' % new_pid), 'the running process died after a failed restart')

    # new flags from the file: a route the running process has not
    with open(args_file, 'w') as f:
        f.write('--listen\n127.0.0.1:%d\n--route\n/only-new=%s\n--upstream\n%s\n' %
                (px.port, up.uri, up.uri))
    n = len(pids_of(px))
    os.kill(new_pid, signal.SIGUSR2)
    end = time.time() + 10
    while px.stderr_text().count('event=restart_ready') < 2 and time.time() < end:
        time.sleep(0.1)
    check(px.stderr_text().count('event=restart_ready') == 2, 'second restart not ready')
    third = pids_of(px)[n]
    check('routes=/only-new=' in px.stderr_text(), 'the new flags were not used')
    end = time.time() + 10
    while os.path.exists('/proc/%d/status' % new_pid) and time.time() < end:
        try:
            with open('/proc/%d/status' % new_pid) as f:
                if 'State:\tZ' in f.read():
                    break
        except OSError:
            break
        time.sleep(0.1)
    os.kill(third, signal.SIGTERM)
    end = time.time() + 10
    while os.path.exists('/proc/%d' % third) and time.time() < end:
        time.sleep(0.1)
    px.baseline = None
    up.wait_done(None, 5)


lib.run(main)
