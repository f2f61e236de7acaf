#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY, TIMEOUTS: the PROXY header is read under
--request-timeout, and that one timer runs from the accept through the
header and the request head (the header does not start a new one).

With --request-timeout 1000:
  - half a header, then silence: closed at about 1 s without an answer,
    an abort line state=proxy error="PROXY header timeout";
  - a whole header at 600 ms, then silence: closed at about 1 s after
    the connect (not 1.6 s), "request timeout, nothing received";
  - a whole header, then half a request: 408 at about 1 s.
"""
import time

import lib
import pplib
from lib import check


def main(ctx):
    lib.skip_under_valgrind('measures timing')
    up = ctx.ws_upstream()
    px = pplib.proxy(ctx, '--upstream', up.uri, '--request-timeout', '1000')

    s = lib.connect(px.port)
    t0 = time.time()
    s.sendall(b'PROXY TCP4 203.0.113.7 192.0.2')
    pplib.refused(s, 4)
    dt = time.time() - t0
    check(0.8 < dt < 1.6, 'half a header: closed after %.2fs' % dt)
    s.close()
    d = pplib.wait_line(px, 'event=abort', 'PROXY header timeout')
    check(d['state'] == 'proxy', 'timeout line %r' % d)

    s = lib.connect(px.port)
    t0 = time.time()
    time.sleep(0.6)
    s.sendall(pplib.v1('203.0.113.8', '192.0.2.1', 1, 2))
    pplib.refused(s, 4)
    dt = time.time() - t0
    check(0.8 < dt < 1.45, 'header at 0.6s, then nothing: closed after %.2fs' % dt)
    s.close()
    d = pplib.wait_line(px, 'event=abort', 'client=203.0.113.8:1')
    check('nothing received' in d['error'], 'after the header: %r' % d)

    s = lib.connect(px.port)
    t0 = time.time()
    time.sleep(0.3)
    s.sendall(pplib.v1('203.0.113.9', '192.0.2.1', 1, 2) + b'GET / HTTP/1.1\r\nHost: x\r\n')
    r, _ = lib.read_response(s, 4)
    dt = time.time() - t0
    check(r.status == 408, 'half a request: %d' % r.status)
    check(0.8 < dt < 1.45, '408 after %.2fs' % dt)
    s.close()
    pplib.wait_line(px, 'status=408', 'client=203.0.113.9:1')
    check(up.tcp_conns == 0, 'the upstream was contacted')
    lib.check_log_grammar(px)


lib.run(main)
