#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY: a proxy: listener serves --trust-proxy
peers only.  With --trust-proxy 10.0.0.0/8, a connection from 127.0.0.1
is closed at once without a byte of answer (HAProxy's way), whatever it
sends, even a good PROXY header; the log has a warn reject line naming
the real peer; the upstream never hears of it.  A plain listener of the
same wsproxy still serves 127.0.0.1.
"""
import time

import lib
import pplib
from lib import check


def main(ctx):
    up = ctx.ws_upstream()
    plain = lib.free_port()
    px = pplib.proxy(ctx, '--upstream', up.uri, trust=('10.0.0.0/8', '2001:db8::/32'),
                     extra_listen=('--listen', '127.0.0.1:%d' % plain))
    s = lib.connect(px.port)
    t0 = time.time()
    try:
        s.sendall(pplib.v1('203.0.113.7', '127.0.0.1', 1234, px.port) + lib.upgrade_request('/'))
    except OSError:
        pass
    pplib.refused(s)
    check(time.time() - t0 < 1.5, 'refused, but not at once')
    s.close()
    d = pplib.wait_line(px, 'event=reject', 'not in --trust-proxy')
    check(d['level'] == 'warn' and d['client'].startswith('127.0.0.1:'), 'reject line %r' % d)

    # nothing sent at all: refused the same way
    s = lib.connect(px.port)
    pplib.refused(s)
    s.close()
    time.sleep(0.2)
    check(len(pplib.close_lines(px, 'not in --trust-proxy')) == 2, 'one reject line each: %s'
          % px.stderr_tail(500))
    check(up.tcp_conns == 0, 'the upstream was contacted for an untrusted peer')

    # the plain listener beside it is untouched by --trust-proxy's refusals
    s = lib.connect(plain)
    r, rest = pplib.handshake(s)
    check(r.status == 101, 'plain listener: %d' % r.status)
    pplib.finish(s, rest)
    lib.check_log_grammar(px)


lib.run(main)
