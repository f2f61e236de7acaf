#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION: every MS flag takes a whole number of
milliseconds or a duration with a unit: 250ms, 5s, 2m, 1h.

  - --check prints each in milliseconds whatever unit it was given in;
  - they act as given: --request-timeout 700ms answers a client that
    sends half a head with 408 after about 0.7 s, --idle-timeout 1s
    closes an idle pair with 1001 after about 1 s;
  - a bad unit, a fraction, a negative number or one out of range is
    exit 64 naming the flag.
"""
import time

import lib
from lib import check

FLAGS = ['--connect-timeout', '--upgrade-timeout', '--request-timeout', '--idle-timeout',
         '--close-timeout', '--drain-timeout', '--drain-spread']


def main(ctx):
    up = ctx.ws_upstream()
    for given, ms in [('250ms', 250), ('5s', 5000), ('2m', 120000), ('1h', 3600000),
                      ('1500', 1500)]:
        args = ['--check', '--listen', '127.0.0.1:0', '--upstream', up.uri]
        for f in FLAGS:
            args += [f, given]
        st, out, err = lib.run_proxy_once(args)
        check(st == 0, '%s: exit %d %s' % (given, st, err))
        for f in FLAGS:
            key = f[2:].replace('-', '_')
            check('%s=%dms' % (key, ms) in out, '%s %s: --check says %r' %
                  (f, given, [l for l in out.splitlines() if l.startswith(key)]))
    for bad in ['5x', '1.5s', '-1', 's', '25h', '5 s', '']:
        for f in ('--connect-timeout', '--drain-timeout'):
            st, out, err = lib.run_proxy_once(['--upstream', up.uri, f, bad])
            check(st == 64 and f in err, '%s %r: exit %d %r' % (f, bad, st, err))

    px = ctx.proxy('--upstream', up.uri, '--request-timeout', '700ms', '--idle-timeout', '1s')
    s = lib.connect(px.port)
    s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n')
    t0 = time.time()
    r, _ = lib.read_response(s, 5)
    took = time.time() - t0
    check(r.status == 408 and 0.5 <= took <= 2.0, '--request-timeout 700ms: %d after %.2f s'
          % (r.status, took))
    s.close()
    c = lib.RawClient(px.port, '/')
    t0 = time.time()
    f = c.next_close(5)
    took = time.time() - t0
    check(f is not None and f.close_code == 1001 and 0.8 <= took <= 2.5,
          '--idle-timeout 1s: %r after %.2f s' % (f, took))
    c.try_send(lib.frame(lib.OP_CLOSE, f.payload[:2], mask=True))
    c.wait_eof(3)
    up.wait_done(None, 5)


lib.run(main)
