#!/usr/bin/python3
"""wsproxy(1) ROUTING: a --route that does not follow the grammar is exit 64
with a message naming the part that is wrong, before any socket is opened."""
import lib
from lib import check


BAD = [
    ('/x', 'expected [HOST]PATH'),
    ('/x[x-a]=ws://a', "header condition '[x-a]'"),
    ('/x[x-a=1=ws://a', "unclosed '['"),
    ('/x[=1]=ws://a', "header condition '[=1]'"),
    ('/x[x a=1]=ws://a', 'bad header name'),
    ('/x[x-a=1 2]=ws://a', 'may not hold blanks'),
    ('/x[a=1][b=2][c=3][d=4][e=5]=ws://a', 'more than 4 header conditions'),
    ('/x[a=1]junk=ws://a', "header condition 'junk'"),
    ('chat.example.com:80/x=ws://a', 'no port'),
    ('chat..example.com/x=ws://a', "host 'chat..example.com'"),
    ('ch@t.example.com/x=ws://a', "host 'ch@t.example.com'"),
    ('/x=', 'an empty upstream'),
    ('/x=ws://a,', 'an empty upstream'),
    ('/x=ws://a,http://b', "'http://b' is not a ws://, wss://"),
    ('/x=ws://a,ws://a', 'in the pool twice'),
    ('/x=ws://a weight=0', 'weight: 0 is out of range'),
    ('/x=ws://a weight=x', "weight: 'x' is not a number"),
    ('/x=ws://a heavy=3', "expected ' weight=N'"),
    ('/x=ws://a;bogus=1', "unknown option 'bogus'"),
    ('/x=ws://a;balance', "option 'balance': expected NAME=VALUE"),
    ('/x=ws://a;balance=random', 'balance=random: expected'),
    ('/x=ws://a;balance=hash(header:)', 'balance=hash(header:): expected'),
    ('/x=ws://a;balance=hash(query:a)', 'balance=hash(query:a): expected'),
    ('/x=ws://a;hash-factor=0.9', 'hash-factor=0.9: expected'),
    ('/x=ws://a;hash-factor=1.255', 'hash-factor=1.255: expected'),
    ('/x=ws://a;fail-timeout=soon', "fail-timeout: 'soon' is not a duration"),
    ('/x=ws://a;health=http', 'health=http: expected tcp or ws:/PATH'),
    ('/x=wss://a;health=ws:/h', 'health=ws: probes ws:// upstreams only'),
    ('/x=ws://a;health-interval=10', 'health-interval: 10 is out of range'),
    ('/x=ws://a;on-down=kill', 'on-down=kill: expected close or keep'),
    ('/x=ws://a;send-proxy=v1', 'send-proxy=v1: only v2'),
    ('/x/../y=ws://a', '--route'),
]


def main(ctx):
    import tlslib
    for arg, want in BAD:
        if 'wss://' in arg and not tlslib.tls_built_in():
            continue    # a build without TLS refuses wss:// first
        rc, out, err = lib.run_proxy_once(['--route', arg, '--route', '/ok=ws://127.0.0.1:1'])
        check(rc == 64, '--route %r: exit %s, want 64 (%s)' % (arg, rc, err.strip()))
        check('--route' in err and want in err, '--route %r: message %r does not name %r' % (arg, err.strip(), want))
    # The same host, conditions and path twice: the second could never match.
    rc, out, err = lib.run_proxy_once(['--route', '/x[a=1]=ws://a', '--route', '/x/[a=1]=ws://b'])
    check(rc == 64 and 'routed twice' in err, 'duplicate route: %s %r' % (rc, err))
    # Good ones, and what --check makes of them.
    rc, out, err = lib.run_proxy_once(['--check', '--listen', '127.0.0.1:%d' % lib.free_port(), '--route',
                                       '*.Example.com/chat[X-Region=eu]=ws://127.0.0.1:1 weight=3,ws://127.0.0.1:2;'
                                       'balance=hash(cookie:sid);hash-factor=1.5;fail-timeout=2s;health=ws:/h;'
                                       'health-interval=1s;on-down=close'])
    check(rc == 0, '--check of a good route: %s %r' % (rc, err))
    line = [l for l in out.splitlines() if l.startswith('route=')]
    check(line == ['route=*.example.com/chat[X-Region=eu] ws://127.0.0.1:1 weight=3,ws://127.0.0.1:2'
                   ';balance=hash(cookie:sid);hash-factor=1.50;fail-timeout=2000ms;health=ws:/h'
                   ';health-interval=1000ms;on-down=close'], '--check printed %r' % line)
    lib.log('route grammar: %d bad routes each named their part, exit 64' % len(BAD))


lib.run(main)
