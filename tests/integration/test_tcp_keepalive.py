#!/usr/bin/python3
"""wsproxy(1) SECURITY: TCP keepalive on both sockets of every pair.

1. Both of a pair's sockets carry the keepalive timer set by
   --tcp-keepalive (/proc/net/tcp shows it counting down from it), and
   neither does with --tcp-keepalive 0.
2. A client that vanishes without a FIN or a reset (its host drops off
   the network: a veth in a network namespace taken down) is found by
   the probes: with --tcp-keepalive 2 the upstream gets close 1001
   within about 2 x 2 s plus the probe interval, not never.  Needs root
   for the namespace (CI runs as root); skipped otherwise.
"""
import os
import re
import shutil
import subprocess
import time

import lib
from lib import check


def keepalive_timers(pid):
    """{local:peer -> seconds left} for pid's established TCP sockets,
    from /proc/net/tcp{,6}: timer kind 2 is the keepalive timer, its
    expiry is in clock ticks (USER_HZ, 100/s).  None: no keepalive."""
    inodes = set()
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            t = os.readlink('/proc/%d/fd/%s' % (pid, fd))
        except OSError:
            continue
        m = re.match(r'socket:\[(\d+)\]', t)
        if m:
            inodes.add(m.group(1))
    out = {}
    hz = os.sysconf('SC_CLK_TCK')
    for f in ('/proc/net/tcp', '/proc/net/tcp6'):
        with open(f) as fh:
            next(fh)
            for line in fh:
                p = line.split()
                if p[3] != '01' or p[9] not in inodes:     # 01: ESTABLISHED
                    continue
                kind, when = p[5].split(':')
                out[p[1] + ' ' + p[2]] = int(when, 16) / hz if kind == '02' else None
    return out


def open_pair(px, up):
    # (the client can have its 101 before the upstream's handler has
    # recorded the connection: wait for one more than there were)
    n = len(up.conns)
    c = lib.RawClient(px.port, '/')
    check(up.wait_conns(n + 1, 3) >= n + 1, 'no upstream')
    time.sleep(0.2)
    return c


def main(ctx):
    up = ctx.ws_upstream()
    for secs, want in (('7', 7), ('0', None), (None, 60)):
        args = ['--upstream', up.uri] + (['--tcp-keepalive', secs] if secs else [])
        px = ctx.proxy(*args)
        c = open_pair(px, up)
        t = keepalive_timers(px.pid)
        check(len(t) == 2, '--tcp-keepalive %s: %d established sockets seen: %r' % (secs, len(t), t))
        for sock, left in t.items():
            if want is None:
                check(left is None, '--tcp-keepalive 0: %s still has a keepalive timer (%s s)' % (sock, left))
            else:
                check(left is not None and want - 2 <= left <= want,
                      '--tcp-keepalive %s: %s timer %r, want about %d s' % (secs, sock, left, want))
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()
        px.stop()
        px.baseline = None      # stopped on purpose: no end-of-test fd check

    st, out, err = lib.run_proxy_once(['--upstream', up.uri, '--tcp-keepalive', '86401'])
    check(st == 64 and '--tcp-keepalive' in err, '--tcp-keepalive 86401: exit %d %r' % (st, err))

    # 2. a client host that drops off the network
    if os.geteuid() != 0 or not shutil.which('ip'):
        lib.log('SKIP part 2: needs root and ip (iproute2) for a network namespace')
        return
    ns = 'wspka%d' % os.getpid()
    a, b = 'vka%d' % (os.getpid() % 100000), 'vkb%d' % (os.getpid() % 100000)
    net = '10.%d.%d' % (200 + os.getpid() % 50, os.getpid() % 250)

    def sh(*cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        check(r.returncode == 0, '%s: %s' % (' '.join(cmd), r.stderr.strip()))
    try:
        sh('ip', 'netns', 'add', ns)
        sh('ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', ns)
        sh('ip', 'addr', 'add', net + '.1/30', 'dev', a)
        sh('ip', 'link', 'set', a, 'up')
        sh('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', net + '.2/30', 'dev', b)
        sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', b, 'up')
        sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up')

        got = {}

        def handler(c):
            c.handshake()
            got['t0'] = time.time()
            f = c.recv_frame(30)
            check(f is not None and f.opcode == lib.OP_TEXT, 'upstream: want the client\'s text, %r' % f)
            c.expect_close(1001, timeout=40)
            got['closed'] = time.time()
        rup = ctx.raw_upstream(handler)
        port = lib.free_port()
        px = ctx.proxy('--listen', '%s.1:%d' % (net, port), '--upstream', rup.uri,
                       '--tcp-keepalive', '2', listen=False, wait=False)
        px.port = port
        px.wait_listening()
        client = ctx.popen(['ip', 'netns', 'exec', ns, lib.PYTHON, '-c', r'''
import socket, sys, time, os, base64
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
k = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % k).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
assert b" 101 " in buf.split(b"\r\n")[0], buf
s.sendall(bytes([0x81, 0x82, 1, 2, 3, 4]) + bytes([ord("h") ^ 1, ord("i") ^ 2]))
print("open", flush=True)
time.sleep(60)
''', '%s.1' % net, str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = client.stdout.readline()
        check(line.strip() == b'open', 'client in the namespace did not open: %r %r'
              % (line, client.stderr.read(300) if client.poll() is not None else ''))
        time.sleep(0.3)
        sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', b, 'down')
        down = time.time()
        rup.wait_done(45)
        check('closed' in got, 'the upstream was never told')
        took = got['closed'] - down
        lib.log('vanished client found after %.1f s (--tcp-keepalive 2)' % took)
        check(took < 25, 'vanished client found only after %.1f s' % took)
        check(px.alive(), 'wsproxy died')
        client.kill()
    finally:
        subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)
        subprocess.run(['ip', 'link', 'del', a], capture_output=True)


lib.run(main)
