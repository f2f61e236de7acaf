#!/usr/bin/python3
"""wsproxy(1) RELAYING row 2: unknown opcode -> 1002 to the sender (1001 / 1014 to the
other side)."""
import lib
from lib import frame


def main(ctx):
    b = lib.RuleBench(ctx)
    for op in (3, 7, 0xB, 0xF):
        b.client_breaks('opcode %#x' % op, frame(op, b'data'))
        b.upstream_breaks('opcode %#x' % op, frame(op, b'data', mask=False))


lib.run(main)
