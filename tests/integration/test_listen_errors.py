#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION: a listen address that cannot be bound -> a message, exit 71
(EX_OSERR): a port in use, an address not on this host, a privileged port
when not root.  Repeated --listen: each address works."""
import socket
import lib
from lib import check


def main(ctx):
    hold = socket.socket()
    hold.bind(('127.0.0.1', 0))
    hold.listen(1)
    busy = hold.getsockname()[1]
    up = 'ws://127.0.0.1:9/'
    cases = [['--listen', '127.0.0.1:%d' % busy, '--upstream', up],
             ['--listen', '192.0.2.1:%d' % lib.free_port(), '--upstream', up],   # TEST-NET-1, not local
             ['--listen', '127.0.0.1:%d' % lib.free_port(), '--listen', '127.0.0.1:%d' % busy, '--upstream', up]]
    for args in cases:
        st, out, err = lib.run_proxy_once(args)
        what = 'wsproxy %s' % ' '.join(args)
        check(st == 71, '%s: exit %d, want 71 (stderr %r)' % (what, st, err[:200]))
        check(err.strip(), '%s: no message on stderr' % what)
    hold.close()

    # two listeners both serve
    u = ctx.ws_upstream()
    p2 = lib.free_port()
    px = ctx.proxy('--upstream', u.uri, '-l', '127.0.0.1:%d' % p2)
    check(p2 in lib.listening_ports(), 'second --listen address not listening')
    for port in (px.port, p2):
        c = lib.RawClient(port, '/')
        c.send_frame(lib.OP_TEXT, b'x')
        f = c.recv_frame()
        check(f and f.payload == b'x', 'listener %d: no echo' % port)
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()
    # :PORT means all addresses
    p3 = lib.free_port()
    px3 = ctx.proxy('--upstream', u.uri, '--listen', ':%d' % p3, listen=False, wait=False)
    px3.port = p3
    px3.wait_listening()
    c = lib.RawClient(p3, '/')
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    u.wait_done(3, 3)


lib.run(main)
