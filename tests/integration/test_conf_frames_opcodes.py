#!/usr/bin/python3
"""Conformance matrix, frames (issue 4): every reserved opcode, 3-7 (data)
and 11-15 (control), with and without payload, from each side -> 1002 to
the sender, 1001 (client broke it) / 1014 (upstream broke it) to the
other side.  test_rule_opcode.py checks four of them; this is all ten."""
import lib
from lib import frame

OPS = [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]


def main(ctx):
    b = lib.RuleBench(ctx)
    table = []
    for op in OPS:
        table.append(('client opcode %d' % op, 'client', op))
        table.append(('upstream opcode %d' % op, 'upstream', op))

    def one(name, side, op):
        payload = b'' if op & 1 else b'data'
        if side == 'client':
            b.client_breaks(name, frame(op, payload))
        else:
            b.upstream_breaks(name, frame(op, payload, mask=False))

    lib.cases(table, one)


lib.run(main)
