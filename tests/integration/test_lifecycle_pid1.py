#!/usr/bin/python3
"""wsproxy(1) SIGNALS, CONTAINERS: the static binary alone in an empty
directory (plus /etc/hosts), run as PID 1 of a new PID namespace through
`unshare --mount --pid --fork chroot`, as a FROM scratch container runs it.

  - messages relay;
  - SIGTERM (sent from outside, as docker stop does) drains: the client
    and the upstream each get close 1001 at a frame boundary, and a
    16 MiB message in flight when the signal comes arrives whole first;
  - the process exits 0 within the drain timeout.
Needs root (unshare, chroot); skipped otherwise.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import lib
from lib import check

BINARY = os.path.join(lib.HERE, '..', '..', 'build', 'wsproxy-static-plain')
SIZE = 16 * 1024 * 1024


def main(ctx):
    if os.geteuid() != 0 or not shutil.which('unshare'):
        raise lib.Skip('needs root and unshare (util-linux)')
    if not os.path.exists(BINARY):
        raise lib.Fail('no %s (make check builds it)' % BINARY)
    root = tempfile.mkdtemp(prefix='wsproxy-root-', dir=ctx.tmp)
    os.makedirs(os.path.join(root, 'etc'))
    shutil.copy(BINARY, os.path.join(root, 'wsproxy'))
    with open(os.path.join(root, 'etc', 'hosts'), 'w') as f:
        f.write('127.0.0.1 localhost upstream.local\n')
    check(sorted(os.listdir(root)) == ['etc', 'wsproxy'], 'the root holds more than the binary')

    got = {}

    def handler(c):
        c.handshake()
        parts = []
        while True:
            fr = c.recv_frame(30)
            check(fr is not None, 'upstream: closed without a close frame')
            if fr.opcode == lib.OP_CLOSE:
                got['close'] = fr.close_code
                got['masked'] = fr.masked
                c.send_frame(lib.OP_CLOSE, fr.payload[:2])
                c.wait_eof(5)
                return
            parts.append(fr.payload)
            if fr.fin:
                m = b''.join(parts)
                parts = []
                if m == b'ping me':
                    c.send_frame(lib.OP_TEXT, b'pong you')
                else:
                    got.setdefault('msgs', []).append(m)
    up = ctx.raw_upstream(handler)
    port = lib.free_port()
    log = open(os.path.join(ctx.tmp, 'pid1.log'), 'wb')
    p = ctx.popen(['unshare', '--mount', '--pid', '--fork', 'chroot', root, '/wsproxy',
                   '--listen', '127.0.0.1:%d' % port,
                   '--upstream', 'ws://upstream.local:%d/' % up.port,
                   '--drain-timeout', '5s'], stdout=log, stderr=log)
    end = time.time() + 5
    while port not in lib.listening_ports() and time.time() < end:
        time.sleep(0.05)
    check(port in lib.listening_ports(), 'the PID 1 wsproxy is not listening')
    # it is PID 1 in its namespace
    pids = [x for x in os.listdir('/proc') if x.isdigit()]
    inner = host_pid = None
    for x in pids:
        try:
            with open('/proc/%s/status' % x) as f:
                st = f.read()
            with open('/proc/%s/cmdline' % x, 'rb') as f:
                cmd = f.read()
        except OSError:
            continue
        if cmd.startswith(b'/wsproxy\0'):
            for line in st.splitlines():
                if line.startswith('NSpid:'):
                    inner = line.split()[1:]
                    host_pid = int(x)
    check(inner is not None and inner[-1] == '1', 'wsproxy is not PID 1 in its namespace: NSpid %r' % inner)

    c = lib.RawClient(port, '/')
    c.send_frame(lib.OP_TEXT, b'ping me')
    f = c.recv_frame()
    check(f is not None and f.payload == b'pong you', 'relay through the PID 1 wsproxy: %r' % f)
    # a 16 MiB message in flight when SIGTERM comes
    whole = lib.frame(lib.OP_BINARY, b'\xab' * SIZE)
    sent = threading.Event()

    def send_rest():
        c.send(whole[1 << 20:])
        sent.set()
    c.send(whole[:1 << 20])
    time.sleep(0.3)
    t0 = time.time()
    os.kill(host_pid, signal.SIGTERM)    # as docker stop does, from outside
    threading.Thread(target=send_rest).start()
    f = c.next_close(10)
    check(f is not None and f.close_code == 1001 and not f.masked, 'client: close %r' % f)
    # the client's own message is still going out: its close answer
    # comes after it, never inside it
    check(sent.wait(10), 'the rest of the message could not be sent')
    c.try_send(lib.frame(lib.OP_CLOSE, f.payload[:2], mask=True))
    c.wait_eof(5)
    up.wait_done(10)
    check(got.get('msgs') == [b'\xab' * SIZE], 'the upstream got %s, not the 16 MiB message whole'
          % [len(m) for m in got.get('msgs', [])])
    check(got.get('close') == 1001 and got.get('masked'), 'upstream: close %r' % got)
    p.wait(8)
    took = time.time() - t0
    log.close()
    with open(os.path.join(ctx.tmp, 'pid1.log')) as f:
        text = f.read()
    lib.log(text)
    check(p.returncode == 0, 'exit status %s' % p.returncode)
    check(took < 6, 'exit %.1f s after SIGTERM' % took)
    check('event=drained clean=1 cut=0' in text, 'no drain summary: %s' % text[-300:])


lib.run(main)
