#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE, SECURITY: who the client is, as the upstream
hears it.

Without --header:
  - a client's Forwarded, X-Forwarded-*, X-Real-IP, X-Client-IP and
    True-Client-IP (and their '_' spellings, which CGI-style servers read
    as the same names) never reach the upstream;
  - wsproxy writes exactly one X-Forwarded-For, -Proto, -Host and an
    RFC 7239 Forwarded with for=, proto= and host=;
  - an IPv4 client of a dual-stack listener is 127.0.0.1, not
    ::ffff:127.0.0.1, in those headers and in the log;
  - an absolute-form target's authority is the forwarded host;
  - a header named by Connection is removed, however long its name.
With --header for Host, X-Forwarded-*, Forwarded, Origin, User-Agent and
a custom name: one line each, the operator's value; a client header that
folds to the same name ('-' and '_' alike) is dropped.
"""
import socket

import lib
from lib import check

SPOOF = [
    ('Forwarded', 'for=6.6.6.6;proto=https'),
    ('X-Forwarded-For', '6.6.6.6'),
    ('X-Forwarded-Proto', 'https'),
    ('X-Forwarded-Host', 'evil.example'),
    ('X-Forwarded-Port', '443'),
    ('X-Forwarded-Prefix', '/admin'),
    ('X-Real-IP', '6.6.6.6'),
    ('X-Client-IP', '6.6.6.6'),
    ('True-Client-IP', '6.6.6.6'),
    ('X_Forwarded_For', '6.6.6.6'),
    ('x_real_ip', '6.6.6.6'),
    ('X-Forwarded_Host', 'evil.example'),
]


def seen(up, port, path='/', host='front.example:8080', headers=None, target=None, **kw):
    """The upstream's view of one handshake: its request's headers."""
    n = len(up.conns)
    raw = lib.upgrade_request(path, host=host, headers=headers, **kw)
    if target is not None:
        raw = raw.replace(b'GET %s ' % path.encode(), b'GET %s ' % target.encode(), 1)
    s = lib.connect(port)
    s.sendall(raw)
    r, rest = lib.read_response(s)
    check(r.status == 101, 'handshake: %d %s' % (r.status, r.reason))
    c = lib.Conn(s, rest)
    c.send(lib.frame(lib.OP_CLOSE, lib.close_payload(1000)))
    f = c.recv_frame()
    check(f is not None and f.opcode == lib.OP_CLOSE, 'no close answer: %r' % f)
    c.wait_eof()
    c.close()
    check(up.wait_conns(n + 1, 3) == n + 1, 'upstream saw no handshake')
    up.wait_done(None, 3)
    return up.conns[n]['headers']


def one(h, name):
    v = h.get_all(name)
    check(len(v) == 1, 'upstream got %d %s lines: %r' % (len(v), name, v))
    return v[0]


def main(ctx):
    up = ctx.ws_upstream()

    # a dual-stack listener (":PORT" is [::] with IPv4 mapped in)
    port = lib.free_port()
    px = ctx.proxy('--listen', ':%d' % port, '--upstream', up.uri, listen=False, wait=False)
    px.port = port
    px.wait_listening()
    long_name = 'X-' + 'L' * 200
    h = seen(up, port, headers=SPOOF + [('Connection', 'Upgrade, ' + long_name), (long_name, 'hop')])
    names = {n.lower() for n in h.keys()}
    for n, _ in SPOOF:
        if n.lower() in ('x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded'):
            continue
        check(n.lower() not in names, 'client %s reached the upstream' % n)
    check(long_name.lower() not in names, 'a header named by Connection (%d chars) reached the upstream'
          % len(long_name))
    check(one(h, 'X-Forwarded-For') == '127.0.0.1', 'X-Forwarded-For %r' % one(h, 'X-Forwarded-For'))
    check(one(h, 'X-Forwarded-Proto') == 'ws', 'X-Forwarded-Proto %r' % one(h, 'X-Forwarded-Proto'))
    check(one(h, 'X-Forwarded-Host') == 'front.example:8080', 'X-Forwarded-Host %r' % one(h, 'X-Forwarded-Host'))
    check(one(h, 'Forwarded') == 'for=127.0.0.1;proto=ws;host="front.example:8080"',
          'Forwarded %r' % one(h, 'Forwarded'))
    log = px.stderr_text()
    check('client=127.0.0.1:' in log and '::ffff:' not in log, 'log shows the v4-mapped address: %s'
          % px.stderr_tail(300))

    # IPv6 client: for="[::1]"
    if lib.socket.has_ipv6:
        try:
            s6 = socket.create_connection(('::1', port), timeout=3)
            s6.close()
            v6 = True
        except OSError:
            v6 = False
        if v6:
            n = len(up.conns)
            s = socket.create_connection(('::1', port), timeout=5)
            s.sendall(lib.upgrade_request('/', host='[::1]:%d' % port))
            r, rest = lib.read_response(s)
            check(r.status == 101, 'IPv6 client: %d' % r.status)
            c = lib.Conn(s, rest)
            c.send(lib.frame(lib.OP_CLOSE, lib.close_payload(1000)))
            c.recv_frame()
            c.wait_eof()
            c.close()
            up.wait_conns(n + 1, 3)
            up.wait_done(None, 3)
            h6 = up.conns[n]['headers']
            check(one(h6, 'X-Forwarded-For') == '::1', 'IPv6 X-Forwarded-For %r' % one(h6, 'X-Forwarded-For'))
            check(one(h6, 'Forwarded') == 'for="[::1]";proto=ws;host="[::1]:%d"' % port,
                  'IPv6 Forwarded %r' % one(h6, 'Forwarded'))

    # absolute-form: the authority is the host (RFC 9112 3.2.2)
    h = seen(up, port, path='/x', target='http://abs.example:81/x', host='front.example')
    check(one(h, 'X-Forwarded-Host') == 'abs.example:81', 'absolute-form X-Forwarded-Host %r'
          % one(h, 'X-Forwarded-Host'))
    check(one(h, 'Forwarded').endswith(';host="abs.example:81"'), 'absolute-form Forwarded %r'
          % one(h, 'Forwarded'))

    # --header is the last word
    px2 = ctx.proxy('--upstream', up.uri,
                    '-H', 'Host: backend.internal',
                    '-H', 'X-Forwarded-For: 10.0.0.1',
                    '-H', 'X-Forwarded-Proto: https',
                    '-H', 'X-Forwarded-Host: public.example',
                    '-H', 'Forwarded: for=10.0.0.1',
                    '-H', 'Origin: https://op.example',
                    '-H', 'User-Agent: op-agent',
                    '-H', 'X-Auth-User: operator')
    h = seen(up, px2.port, headers=SPOOF + [('Origin', 'https://client.example'),
                                           ('User-Agent', 'client-agent'),
                                           ('X_Auth_User', 'admin'), ('X-AUTH-USER', 'admin'),
                                           ('x-auth_user', 'admin')])
    for name, want in [('Host', 'backend.internal'), ('X-Forwarded-For', '10.0.0.1'),
                       ('X-Forwarded-Proto', 'https'), ('X-Forwarded-Host', 'public.example'),
                       ('Forwarded', 'for=10.0.0.1'), ('Origin', 'https://op.example'),
                       ('User-Agent', 'op-agent'), ('X-Auth-User', 'operator')]:
        check(one(h, name) == want, '--header %s: upstream got %r' % (name, h.get_all(name)))
    folded = [n for n in h.keys() if n.lower().replace('_', '-') == 'x-auth-user']
    check(len(folded) == 1 and '_' not in folded[0],
          'twins of --header X-Auth-User reached the upstream: %r' % folded)

    # a bad Host is refused before anything goes upstream
    n = len(up.conns)
    for bad in ['a b', 'evil"x', 'h,other', 'u@h', '[::1', 'h:8o']:
        r = lib.http_exchange(px2.port, lib.upgrade_request('/', host=bad))
        lib.check_error_response(r, 400, 'Host %r' % bad)
    check(len(up.conns) == n, 'a request with a bad Host went upstream')

    # --header for a name of the handshake: exit 64 naming the flag
    for name in ['Upgrade', 'Connection', 'Sec-WebSocket-Key', 'sec_websocket_protocol',
                 'Content-Length', 'Transfer-Encoding', 'Proxy-Authorization', 'TE']:
        st, out, err = lib.run_proxy_once(['--upstream', up.uri, '-H', '%s: x' % name])
        check(st == 64 and '--header' in err, '--header %s: exit %d, %r' % (name, st, err))


lib.run(main)
