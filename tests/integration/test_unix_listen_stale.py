#!/usr/bin/python3
"""wsproxy(1) UNIX SOCKETS: what is found at a --listen unix:PATH at
start-up.

  - a socket file nothing listens on (a crashed process's) is removed
    and replaced, and the new socket serves;
  - a socket a process listens on (another wsproxy) is exit 71 "address
    in use", and that process keeps its socket and serves on;
  - a regular file, or a directory, is exit 71 and left as it was;
  - a relative path or one too long for sun_path is exit 64 naming
    --listen, before anything is touched."""
import os
import socket
import stat
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
    up = ctx.ws_upstream()

    # a stale socket file: bound, never listened on, closed
    path = os.path.join(ctx.tmp, 'stale.sock')
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    c = socket.socket(socket.AF_UNIX)
    try:
        c.connect(path)
        raise lib.Fail('the stale socket accepts a connection')
    except ConnectionRefusedError:
        pass
    finally:
        c.close()
    px = ctx.unix_proxy(path, '--upstream', up.uri)
    px.wait_log('event=listen_stale path=%s' % path, 'stale socket')
    echo(path, 'after stale')

    # a live one: the second process exits 71, the first one serves on
    ino = os.stat(path).st_ino
    st, out, err = lib.run_proxy_once(['--listen', 'unix:' + path, '--upstream', up.uri])
    check(st == 71, 'live socket: exit %s, want 71 (%s)' % (st, err))
    check('--listen unix:%s: address in use' % path in err, 'live socket message: %r' % err)
    check(os.stat(path).st_ino == ino, 'the live socket file was replaced')
    echo(path, 'still served')

    # a regular file and a directory: exit 71, left alone
    reg = os.path.join(ctx.tmp, 'regular')
    with open(reg, 'w') as f:
        f.write('precious\n')
    d = os.path.join(ctx.tmp, 'dir')
    os.mkdir(d)
    for what, p in (('regular file', reg), ('directory', d)):
        st, out, err = lib.run_proxy_once(['--listen', 'unix:' + p, '--upstream', up.uri])
        check(st == 71, '%s: exit %s, want 71 (%s)' % (what, st, err))
        check('--listen unix:%s: address in use' % p in err, '%s: message %r' % (what, err))
    with open(reg) as f:
        check(f.read() == 'precious\n', 'the regular file was changed')
    check(stat.S_ISDIR(os.stat(d).st_mode), 'the directory is gone')

    # bad paths and modes: exit 64 naming the flag
    long_path = '/tmp/' + 'x' * 120
    for args, flag in ((['--listen', 'unix:rel.sock'], '--listen'),
                       (['--listen', 'unix:' + long_path], '--listen'),
                       (['--listen', 'unix:/tmp/a b.sock'], '--listen'),
                       (['--listen', 'unix:' + path, '--listen-mode', '0888'], '--listen-mode'),
                       (['--listen', 'unix:' + path, '--listen-mode', '1777'], '--listen-mode'),
                       (['--listen', 'unix:' + path, '--listen-mode', ''], '--listen-mode')):
        st, out, err = lib.run_proxy_once(args + ['--upstream', up.uri])
        check(st == 64 and err.startswith('wsproxy: %s' % flag), '%r: exit %s %r' % (args, st, err))
    check(not os.path.exists(long_path), 'a too-long path was created')
    echo(path, 'served to the end')


lib.run(main)
