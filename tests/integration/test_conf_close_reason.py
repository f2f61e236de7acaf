#!/usr/bin/python3
"""Conformance matrix, close (issue 4): close reasons from each side.  A
123-byte reason (the most a control frame can carry) and reasons with
2-, 3- and 4-byte UTF-8 characters pass through byte for byte; a
124-byte reason makes a 126-byte control frame (1002); a reason that is
not UTF-8 (lone continuation byte, overlong form, surrogate, above
U+10FFFF, truncated sequence, 0xFF) -> 1007 to the sender, 1001 / 1014
to the other side."""
import lib
from lib import frame, OP_CLOSE

KEY = b'\xa0\xb1\xc2\xd3'
BAD_UTF8 = [
    ('lone continuation byte', b'\x80'),
    ('overlong NUL', b'\xc0\x80'),
    ('overlong slash', b'\xe0\x80\xaf'),
    ('UTF-16 surrogate', b'\xed\xa0\x80'),
    ('above U+10FFFF', b'\xf4\x90\x80\x80'),
    ('truncated 3-byte sequence', b'ok \xe2\x82'),
    ('byte 0xFF', b'\xff'),
]


def main(ctx):
    b = lib.RuleBench(ctx)
    table = []
    for side in ('client', 'upstream'):
        for what, bad in BAD_UTF8:
            table.append(('%s reason with %s' % (side, what), side, lib.close_payload(1000, bad), 1007))
        table.append(('%s reason of 124 bytes' % side, side, lib.close_payload(1000, b'r' * 124), 1002))

    def bad(name, side, payload, code):
        if side == 'client':
            b.client_breaks(name, frame(OP_CLOSE, payload), code=code)
        else:
            b.upstream_breaks(name, frame(OP_CLOSE, payload, mask=False), code=code)

    lib.cases(table, bad)

    r = lib.RelayBench(ctx)
    table = []
    for side in ('client', 'upstream'):
        table.append(('%s reason of 123 bytes' % side, side, b'r' * 123))
        table.append(('%s reason with 2/3/4-byte UTF-8' % side, side, 'caf\u00e9 \u20ac \U0001f600'.encode()))

    def good(name, side, reason):
        p = lib.close_payload(4000, reason)
        if side == 'client':
            r.close_exchange('c2u', lib.encode_frame(OP_CLOSE, p, mask=KEY), lib.encode_frame(OP_CLOSE, p))
        else:
            r.close_exchange('u2c', lib.encode_frame(OP_CLOSE, p), lib.encode_frame(OP_CLOSE, p, mask=KEY))

    lib.cases(table, good)


lib.run(main)
