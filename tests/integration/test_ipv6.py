#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION, HANDSHAKE: IPv6 on both legs: --listen [::1]:PORT, an upstream
ws://[::1]:PORT; X-Forwarded-For carries the IPv6 client address; an
upstream given by host name (localhost) works."""
import socket
import lib
from lib import check


def main(ctx):
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(('::1', 0))
        s.close()
    except OSError:
        raise lib.Skip('no IPv6 loopback')
    seen = []

    def h(c):
        req = c.read_request()
        seen.append(req)
        c.send_101()
        f = c.recv_frame()
        c.send(lib.frame(lib.OP_TEXT, f.payload, mask=False))
        c.expect_close(1000)

    raw = ctx.raw_upstream(h, host='::1')
    uport = raw.port
    check(raw.uri == 'ws://[::1]:%d' % uport, 'test bug: %s' % raw.uri)

    port = lib.free_port()
    px = ctx.proxy('--upstream', raw.uri + '/v6', '--listen', '[::1]:%d' % port, listen=False, wait=False)
    px.port = port
    px.wait_listening()
    c6 = socket.create_connection(('::1', port), timeout=5)
    key = lib.ws_key()
    c6.sendall(lib.upgrade_request('/x', key=key, host='[::1]:%d' % port))
    r, rest = lib.read_response(c6)
    check(r.status == 101, 'IPv6 both legs: got %d' % r.status)
    c = lib.Conn(c6, rest)
    c.send(lib.frame(lib.OP_TEXT, b'six'))
    f = c.recv_frame()
    check(f is not None and f.payload == b'six', 'echo over IPv6: %r' % f)
    c.send(lib.frame(lib.OP_CLOSE, lib.close_payload(1000)))
    f = c.recv_frame()
    check(f is not None and f.opcode == lib.OP_CLOSE, 'close %r' % f)
    c.wait_eof()
    c.close()
    raw.wait_done(5)
    req = seen[0]
    check(req.target == '/v6/x', 'upstream target %r' % req.target)
    check(req.get('Host') == '[::1]:%d' % uport, 'Host upstream %r, want [::1]:%d' % (req.get('Host'), uport))
    check(req.get('X-Forwarded-For') == '::1', 'X-Forwarded-For %r, want ::1' % req.get('X-Forwarded-For'))

    # upstream by name
    up = ctx.ws_upstream()
    px2 = ctx.proxy('--upstream', 'ws://localhost:%d' % up.port)
    c = lib.RawClient(px2.port, '/')
    c.send_frame(lib.OP_TEXT, b'name')
    f = c.recv_frame()
    check(f is not None and f.payload == b'name', 'upstream by host name: %r' % f)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    up.wait_done(1, 3)
    check(up.conns[0]['headers'].get('Host') == 'localhost:%d' % up.port, 'Host %r' % up.conns[0]['headers'].get('Host'))


lib.run(main)
