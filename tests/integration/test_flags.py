#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION: wrong or contradictory flags -> one clear message on stderr
naming the flag, exit 64 (EX_USAGE), before any socket is opened (a bad
flag with an occupied --listen port still gives 64, not 71)."""
import socket
import lib
from lib import check


def main(ctx):
    hold = socket.socket()
    hold.bind(('127.0.0.1', 0))
    hold.listen(1)
    busy = '127.0.0.1:%d' % hold.getsockname()[1]
    port = lib.free_port()
    lst = '127.0.0.1:%d' % port
    up = 'ws://127.0.0.1:9/'
    cases = [
        # (args, word the message must contain)
        (['--listen', lst, '--upstream', up, '--bogus-flag'], '--bogus-flag'),
        (['--listen', lst, '--upstream', up, '-Z'], 'Z'),
        (['--listen', lst], 'upstream'),
        ([], 'upstream'),
        (['--listen', lst, '--upstream', 'http://127.0.0.1:9/'], 'upstream'),
        (['--listen', lst, '--upstream', 'not a uri'], 'upstream'),
        (['--listen', lst, '--upstream', 'ws://127.0.0.1:99999/'], 'upstream'),
        (['--listen', lst, '--upstream', 'ws://:80/'], 'upstream'),
        (['--listen', 'nonsense', '--upstream', up], 'listen'),
        (['--listen', '127.0.0.1:70000', '--upstream', up], 'listen'),
        (['--listen', '127.0.0.1:', '--upstream', up], 'listen'),
        (['--listen', lst, '--upstream', up, '--max-conns', 'abc'], 'max-conns'),
        (['--listen', lst, '--upstream', up, '--max-conns', '-5'], 'max-conns'),
        (['--listen', lst, '--upstream', up, '--connect-timeout', 'soon'], 'connect-timeout'),
        (['--listen', lst, '--upstream', up, '--connect-timeout', '-1'], 'connect-timeout'),
        (['--listen', lst, '--upstream', up, '--upgrade-timeout', '1.5x'], 'upgrade-timeout'),
        (['--listen', lst, '--upstream', up, '--request-timeout', ''], 'request-timeout'),
        (['--listen', lst, '--upstream', up, '--idle-timeout', 'never'], 'idle-timeout'),
        (['--listen', lst, '--upstream', up, '--max-message', '10q'], 'max-message'),
        (['--listen', lst, '--upstream', up, '--max-header-bytes', 'lots'], 'max-header-bytes'),
        (['--listen', lst, '--upstream', up, '--max-header-bytes', '99999999999999999999999'], 'max-header-bytes'),
        (['--listen', lst, '--upstream', up, '--header', 'NoColonHere'], 'header'),
        (['--listen', lst, '--upstream', up, '--header', 'Bad Name: v'], 'header'),
        (['--listen', lst, '--route', 'noequals'], 'route'),
        (['--listen', lst, '--route', '/x=ftp://h/'], 'route'),
        (['--listen', lst, '--upstream'], 'upstream'),
        (['--listen', lst, '--upstream', up, '--max-conns'], 'max-conns'),
        # a bad flag with a listen address that is in use: flags are checked first
        (['--listen', busy, '--upstream', up, '--max-conns', 'x'], 'max-conns'),
        (['--listen', busy, '--bogus'], '--bogus'),
    ]
    for args, word in cases:
        st, out, err = lib.run_proxy_once(args)
        what = 'wsproxy %s' % ' '.join(args)
        check(st == 64, '%s: exit %d, want 64 (stderr %r)' % (what, st, err[:200]))
        check(err.strip(), '%s: no message on stderr' % what)
        check(word.lower() in err.lower(), '%s: message does not name %s: %r' % (what, word, err[:200]))
        check(len(err.strip().splitlines()) <= 3, '%s: not one clear message: %r' % (what, err[:300]))
        check(port not in lib.listening_ports(), 'port left listening (test bug?)')
    hold.close()


lib.run(main)
