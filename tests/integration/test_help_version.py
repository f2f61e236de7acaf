#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION: -h/--help and -V/--version print to stdout and exit 0 (without
needing --upstream and without opening sockets)."""
import lib
from lib import check


def main(ctx):
    for args in (['--help'], ['-h']):
        st, out, err = lib.run_proxy_once(args)
        check(st == 0, '%s: exit %d (stderr %r)' % (args[0], st, err[:200]))
        check('--upstream' in out and '--listen' in out, '%s: usage on stdout lacks the flags: %r' % (args[0], out[:200]))
    for args in (['--version'], ['-V']):
        st, out, err = lib.run_proxy_once(args)
        check(st == 0, '%s: exit %d (stderr %r)' % (args[0], st, err[:200]))
        check(out.strip(), '%s: nothing on stdout' % args[0])
        check(any(ch.isdigit() for ch in out), '%s: no version number in %r' % (args[0], out[:100]))
    # --help wins over other flags, even wrong ones after it? Only check with valid ones.
    st, out, err = lib.run_proxy_once(['--upstream', 'ws://127.0.0.1:9/', '--help'])
    check(st == 0 and out.strip(), '--upstream ... --help: exit %d' % st)


lib.run(main)
