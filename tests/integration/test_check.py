#!/usr/bin/python3
"""wsproxy(1) --check: validate everything, print the effective
configuration one key=value line per setting (defaults filled in), exit
0 or 64, and start nothing.

  - good: exit 0, every key there with its default or given value,
    durations in ms whatever unit they were given in; no socket is left
    listening and no connection is made to the upstream; --header values
    (secrets) are not printed;
  - bad: a listen address that cannot be bound, a name that does not
    resolve, a certificate file that is missing or does not match its
    key, a bad flag: exit 64, one message naming what is wrong.
"""
import os
import socket

import lib
from lib import check


def main(ctx):
    up = ctx.raw_upstream()
    port = lib.free_port()
    st, out, err = lib.run_proxy_once(['--check', '--listen', '127.0.0.1:%d' % port,
                                       '--upstream', up.uri + '/app?x=1', '--path', '/socket',
                                       '-H', 'X-Secret: s3cret', '--drain-timeout', '2m',
                                       '--connect-timeout', '1500ms', '-P', 'chat'])
    check(st == 0, '--check on a good configuration: exit %d %s' % (st, err))
    kv = {}
    for line in out.splitlines():
        k, _, v = line.partition('=')
        check(k and '=' in line, 'not a key=value line: %r' % line)
        kv.setdefault(k, []).append(v)
    want = {
        'listen': ['127.0.0.1:%d' % port], 'route': ['/socket %s/app?x=1' % up.uri],
        'connect_timeout': ['1500ms'], 'upgrade_timeout': ['5000ms'],
        'request_timeout': ['10000ms'], 'idle_timeout': ['0ms'], 'close_timeout': ['5000ms'],
        'drain_timeout': ['120000ms'], 'drain_spread': ['0ms'], 'tcp_keepalive': ['60s'],
        'max_message': ['0'], 'max_header_bytes': ['8192'], 'protocol': ['chat'],
        'header': ['X-Secret'], 'log_level': ['info'], 'log_file': ['stderr'],
        'user': ['-'],
    }
    for k, v in want.items():
        check(kv.get(k) == v, '--check %s=%r, want %r' % (k, kv.get(k), v))
    check('upstream_addr' in kv and '127.0.0.1:%d' % up.port in kv['upstream_addr'][0],
          'no resolved upstream address: %r' % kv.get('upstream_addr'))
    check('max_conns' in kv and int(kv['max_conns'][0]) > 0, 'no max_conns')
    check('s3cret' not in out, 'a --header value was printed')
    check(port not in lib.listening_ports(), '--check left the port listening')
    check(len(up.conns) == 0, '--check connected to the upstream')
    s = socket.socket()
    s.bind(('127.0.0.1', port))      # released again
    s.close()

    busy = socket.socket()
    busy.bind(('127.0.0.1', 0))
    busy.listen(1)
    bad_cases = [
        (['--listen', '127.0.0.1:%d' % busy.getsockname()[1], '--upstream', up.uri], '--listen'),
        (['--listen', '192.0.2.1:80', '--upstream', up.uri], '--listen'),
        (['--listen', '127.0.0.1:0', '--upstream', 'ws://no-such-host.invalid:4000/'], 'resolve'),
        (['--listen', '127.0.0.1:0', '--upstream', up.uri, '--no-such-flag'], 'unknown option'),
        (['--listen', '127.0.0.1:0', '--upstream', up.uri, '--drain-timeout', '5x'], '--drain-timeout'),
    ]
    import tlslib
    if tlslib.tls_built_in():
        bad_cases.append((['--listen', 'tls:127.0.0.1:0', '--upstream', up.uri,
                           '--listen-cert', '/nonexistent.crt', '--listen-key', '/nonexistent.key'],
                          '--listen-cert'))

    def one(args, word):
        st, out, err = lib.run_proxy_once(['--check'] + args)
        check(st == 64, '--check %s: exit %d, want 64 (%s)' % (' '.join(args), st, err.strip()))
        check(word in err, '--check %s: message %r does not name %r' % (args, err.strip(), word))
        check(out == '', '--check printed a configuration for a bad one')
    lib.cases([(' '.join(a), a, w) for a, w in bad_cases], lambda name, a, w: one(a, w))
    busy.close()


lib.run(main)
