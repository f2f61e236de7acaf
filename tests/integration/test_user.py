#!/usr/bin/python3
"""wsproxy(1) --user: drop privileges after binding and after loading
keys.  Started as root with --user nobody and a listen port below 1024,
wsproxy binds it, then runs as nobody (its uid and gid in /proc) and
serves on it.  --user 0 (root by number) is refused unless it is said as
--user root; an unknown user is exit 64.  Needs root; skipped otherwise.
"""
import os
import pwd
import socket

import lib
from lib import check


def low_port():
    for p in range(1023, 900, -1):
        s = socket.socket()
        try:
            s.bind(('127.0.0.1', p))
            s.close()
            return p
        except OSError:
            s.close()
    raise lib.Skip('no free port below 1024')


def ids(pid):
    with open('/proc/%d/status' % pid) as f:
        st = f.read()
    uid = [int(x) for x in st.split('Uid:')[1].split('\n')[0].split()]
    gid = [int(x) for x in st.split('Gid:')[1].split('\n')[0].split()]
    return uid, gid


def main(ctx):
    if os.geteuid() != 0:
        raise lib.Skip('needs root')
    try:
        nobody = pwd.getpwnam('nobody')
    except KeyError:
        raise lib.Skip('no user nobody')
    up = ctx.ws_upstream()
    port = low_port()
    px = ctx.proxy('--listen', '127.0.0.1:%d' % port, '--upstream', up.uri,
                   '--user', 'nobody', listen=False, wait=False)
    px.port = port
    px.wait_listening()
    uid, gid = ids(px.pid)
    check(uid == [nobody.pw_uid] * 4, 'uid after --user nobody: %r' % uid)
    check(gid == [nobody.pw_gid] * 4, 'gid after --user nobody: %r' % gid)
    c = lib.RawClient(port, '/')
    c.send_frame(lib.OP_TEXT, b'as nobody')
    f = c.recv_frame()
    check(f is not None and f.payload == b'as nobody', 'relay as nobody: %r' % f)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    check('running_as_root' not in px.stderr_text(), 'warned about root after dropping it')

    st, out, err = lib.run_proxy_once(['--listen', '127.0.0.1:0', '--upstream', up.uri,
                                       '--user', '0'])
    check(st == 64 and 'root' in err, '--user 0: exit %d %r' % (st, err))
    st, out, err = lib.run_proxy_once(['--listen', '127.0.0.1:0', '--upstream', up.uri,
                                       '--user', 'no-such-user-x'])
    check(st == 64 and '--user' in err, '--user no-such-user-x: exit %d %r' % (st, err))
    px2 = ctx.proxy('--upstream', up.uri, '--user', 'root')
    uid, _ = ids(px2.pid)
    check(uid[0] == 0, '--user root: uid %r' % uid)
    up.wait_done(None, 5)


lib.run(main)
