#!/usr/bin/python3
"""bench/footprint.py - wsproxy's address space at rest and with N pairs
(wsproxy(1) SMALL SYSTEMS), for the table of platforms.

    python3 bench/footprint.py [--pairs N] [--tls] -- COMMAND...

COMMAND runs wsproxy, e.g. ./wsproxy-static or
`qemu-aarch64-static ./wsproxy-static-aarch64`; the script adds --listen,
--upstream and --admin.  The address space is the
process_virtual_memory_bytes gauge, which wsproxy sums from its own
/proc/self/maps, so under qemu-user it is the emulated program's (qemu
writes that file for it), not qemu's.  --tls puts a tls: listener in
front (a throw-away ECDSA certificate made with openssl) so that every
pair holds a TLS end.  N pairs each relay one message and stay open.
Prints one line: at rest, with N pairs, and after they closed and the
pool's quiet time passed (--settle seconds, default 35); for a native
binary also the peak RSS (VmHWM).
"""
import asyncio
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def gauge(aport, name):
    text = urllib.request.urlopen('http://127.0.0.1:%d/metrics' % aport,
                                  timeout=10).read().decode()
    for line in text.split('\n'):
        if line.startswith(name + ' ') or line.startswith(name + '{'):
            return int(line.split()[-1])
    return None


async def echo(ws, path=None):
    async for m in ws:
        await ws.send(m)


async def hold(uri, n, ctx):
    conns = []
    for i in range(n):
        c = await websockets.connect(uri, ssl=ctx, compression=None,
                                     max_size=None, open_timeout=30)
        await c.send('m%d' % i)
        got = await asyncio.wait_for(c.recv(), 30)
        assert got == 'm%d' % i, got
        conns.append(c)
    return conns


def main():
    args = sys.argv[1:]
    pairs, tls, settle = 1000, False, 35.0
    while args and args[0] != '--':
        a = args.pop(0)
        if a == '--pairs':
            pairs = int(args.pop(0))
        elif a == '--tls':
            tls = True
        elif a == '--settle':
            settle = float(args.pop(0))
        else:
            sys.exit('usage: footprint.py [--pairs N] [--tls] [--settle S] -- COMMAND...')
    cmd = args[1:]
    if not cmd:
        sys.exit('footprint.py: no COMMAND')
    tmp = tempfile.mkdtemp(prefix='wsproxy-footprint.')
    port, aport, uport = free_port(), free_port(), free_port()
    listen = '127.0.0.1:%d' % port
    extra = []
    ctx = None
    if tls:
        cert, key = os.path.join(tmp, 'c.pem'), os.path.join(tmp, 'k.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec',
                        '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                        '-keyout', key, '-out', cert, '-days', '1',
                        '-subj', '/CN=localhost'], check=True,
                       capture_output=True)
        listen = 'tls:' + listen
        extra = ['--listen-cert', cert, '--listen-key', key]
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

    async def run():
        async with websockets.serve(echo, '127.0.0.1', uport,
                                    compression=None):
            log = open(os.path.join(tmp, 'wsproxy.log'), 'wb')
            px = subprocess.Popen(cmd + ['--listen', listen, '--upstream',
                                         'ws://127.0.0.1:%d' % uport,
                                         '--admin', '127.0.0.1:%d' % aport,
                                         '-q'] + extra,
                                  stdout=log, stderr=log)
            native = 'qemu' not in os.path.basename(cmd[0])

            def status(key):     # native only: qemu's own numbers otherwise
                with open('/proc/%d/status' % px.pid) as f:
                    for line in f:
                        if line.startswith(key + ':'):
                            return int(line.split()[1]) * 1024
                return None

            def vm():
                v = gauge(aport, 'process_virtual_memory_bytes')
                if v is None and native:    # a wsproxy without the gauge
                    v = status('VmSize')
                return v
            try:
                for _ in range(200):
                    try:
                        rest = vm()
                        break
                    except OSError:
                        await asyncio.sleep(0.05)
                else:
                    sys.exit('footprint.py: no admin answer; log in %s' % tmp)
                uri = '%s://127.0.0.1:%d/' % ('wss' if tls else 'ws', port)
                conns = await hold(uri, pairs, ctx)
                busy = vm()
                peak = status('VmHWM') if native else None
                for c in conns:
                    await c.close()
                await asyncio.sleep(settle)
                after = vm()
            finally:
                px.terminate()
                px.wait()
            return rest, busy, after, peak

    rest, busy, after, peak = asyncio.run(run())
    kib = lambda b: '%.0f KiB' % (b / 1024.0)  # noqa: E731
    print('%s%s: at rest %s, with %d pairs %s (%.1f KiB a pair), '
          'after they closed %s' % (' '.join(cmd), ' (tls: listener)' if tls
                                   else '', kib(rest), pairs, kib(busy),
                                   (busy - rest) / 1024.0 / pairs,
                                   kib(after)) +
          (', peak RSS %s' % kib(peak) if peak else ''))


if __name__ == '__main__':
    main()
