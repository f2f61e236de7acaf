#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION: every flag's short and long form is accepted and works
together (-l -u -p -r -H -P -v -q and the long-only ones), and the
default --listen is 0.0.0.0:8080 (checked only when 8080 is free)."""
import lib
from lib import check


def echo_ok(port, path, **kw):
    c = lib.RawClient(port, path, **kw)
    c.send_frame(lib.OP_TEXT, b'flags')
    f = c.recv_frame()
    check(f is not None and f.payload == b'flags', 'echo on %s: %r' % (path, f))
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    return c


def main(ctx):
    up = ctx.ws_upstream(subprotocols=['a'])
    px = ctx.proxy('-u', up.uri, '-p', '/s', '-r', '/t=' + up.uri, '-H', 'X-F: 1', '-P', 'a', '-v',
                   '--connect-timeout', '1000', '--upgrade-timeout', '1000', '--request-timeout', '1000',
                   '--idle-timeout', '0', '--max-conns', '16', '--max-message', '1048576',
                   '--max-header-bytes', '4096')
    echo_ok(px.port, '/s/x')
    echo_ok(px.port, '/t', headers=[('Sec-WebSocket-Protocol', 'a')])
    check(up.wait_conns(2, 3) == 2 and up.conns[0]['headers'].get('X-F') == '1', '-H not applied')
    check(up.conns[1]['subprotocol'] == 'a', '-P a: upstream chose %r' % up.conns[1]['subprotocol'])
    px2 = ctx.proxy('--upstream', up.uri, '-q')
    echo_ok(px2.port, '/')
    check(px2.p.poll() is None, '-q proxy exited')
    px3 = ctx.proxy('--upstream', up.uri, '--verbose')
    echo_ok(px3.port, '/')
    px4 = ctx.proxy('--upstream', up.uri, '--quiet')
    echo_ok(px4.port, '/')

    # default listen address
    if 8080 in lib.listening_ports():
        lib.log('8080 busy, default --listen not checked')
    else:
        pd = ctx.proxy('--upstream', up.uri, listen=False, wait=False)
        pd.port = 8080
        pd.wait_listening()
        found = False
        with open('/proc/net/tcp') as f:
            for line in f:
                p = line.split()
                if p[3] == '0A' and p[1] == '00000000:1F90':
                    found = True
        check(found, 'default listen is not 0.0.0.0:8080')
        echo_ok(8080, '/')
    up.wait_done(None, 3)


lib.run(main)
