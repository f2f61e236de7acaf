#!/usr/bin/python3
"""Conformance matrix, close (issue 4): close codes from each side.
Codes that may not be sent on the wire (below 1000, 1004-1006, 1015,
1016-2999, 5000 and up; see the man page) and a 1-byte close payload
-> 1002 to the sender, 1001 / 1014 to the other side.  Every valid class
(1000-1003, 1007-1014, 3000-3999, 4000-4999, with and without a reason)
passes through unchanged, byte for byte, and so does the answer to it."""
import struct
import lib
from lib import frame, OP_CLOSE

KEY = b'\x5a\xa5\x0f\xf0'
KEY2 = b'\x12\x34\x56\x78'
INVALID = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 6000, 65535]
VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]


def cp(code, reason=b''):
    return struct.pack('!H', code) + reason


def main(ctx):
    b = lib.RuleBench(ctx)
    table = []
    for side in ('client', 'upstream'):
        table.append(('%s close with a 1-byte payload' % side, side, b'\x03'))
        for code in INVALID:
            table.append(('%s close code %d' % (side, code), side, cp(code)))
        table.append(('%s close code 1005 with a reason' % side, side, cp(1005, b'why')))

    def bad(name, side, payload):
        if side == 'client':
            b.client_breaks(name, frame(OP_CLOSE, payload))
        else:
            b.upstream_breaks(name, frame(OP_CLOSE, payload, mask=False))

    lib.cases(table, bad)

    r = lib.RelayBench(ctx)
    table = []
    for side in ('client', 'upstream'):
        for code in VALID:
            table.append(('%s close code %d' % (side, code), side, code, b''))
        table.append(('%s close code 4321 with a reason' % side, side, 4321, b'see you'))

    def good(name, side, code, reason):
        if side == 'client':
            r.close_exchange('c2u', lib.encode_frame(OP_CLOSE, cp(code, reason), mask=KEY),
                             lib.encode_frame(OP_CLOSE, cp(code)))
        else:
            r.close_exchange('u2c', lib.encode_frame(OP_CLOSE, cp(code, reason)),
                             lib.encode_frame(OP_CLOSE, cp(code), mask=KEY2))

    lib.cases(table, good)


lib.run(main)
