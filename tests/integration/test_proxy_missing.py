#!/usr/bin/python3
"""wsproxy(1) CLIENT IDENTITY: a proxy: listener needs the PROXY header
first.  From a trusted peer:

  - a plain HTTP upgrade request instead: closed at once with no answer
    (it might be a client that got past the balancer), an abort line
    with state=proxy error="no PROXY header";
  - a broken header ("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999"): closed,
    error="bad PROXY header";
  - a TLS ClientHello instead: closed, "no PROXY header";
  - the peer closing half-way through a header: "client closed ...";
  - none of these reach the upstream.
"""
import time

import lib
import pplib
from lib import check


def main(ctx):
    up = ctx.ws_upstream()
    px = pplib.proxy(ctx, '--upstream', up.uri)
    cases = [
        (lib.upgrade_request('/'), 'no PROXY header'),
        (b'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n' + lib.upgrade_request('/'), 'bad PROXY header'),
        (b'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03', 'no PROXY header'),
        (pplib.V2_SIG + b'\x21\x11\x00\x0c' + b'\x01' * 11, None),
    ]
    for n, (data, why) in enumerate(cases):
        s = lib.connect(px.port)
        t0 = time.time()
        s.sendall(data)
        if why is None:
            # a good header cut short by the peer leaving: its FIN ends it
            time.sleep(0.1)
            s.close()
            d = pplib.wait_line(px, 'event=abort', 'client closed')
        else:
            pplib.refused(s)
            check(time.time() - t0 < 1.5, '%s: not closed at once' % why)
            s.close()
            d = pplib.wait_line(px, 'event=abort', 'error="%s"' % why)
        check(d['state'] == 'proxy' and d['status'] == '0', 'abort line %r' % d)
    # an exact count: one abort line per case
    time.sleep(0.2)
    check(len(pplib.close_lines(px, 'event=abort')) == len(cases),
          'abort lines: %s' % px.stderr_tail(800))
    check(up.tcp_conns == 0, 'a client without a good header reached the upstream')
    lib.check_log_grammar(px)


lib.run(main)
