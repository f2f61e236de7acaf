#!/usr/bin/python3
"""Conformance matrix, frames (issue 4): control frames (ping, pong,
close) of 126 bytes, and fragmented ones (FIN clear), from each side ->
1002 to the sender (1001 / 1014 to the other side); 125-byte pings and
pongs from each side are relayed byte for byte."""
import os
import lib
from lib import frame, OP_PING, OP_PONG, OP_CLOSE

KEY = b'\x01\x80\x7f\xfe'


def payload(op, n):
    if op == OP_CLOSE:
        return lib.close_payload(1000, b'r' * (n - 2))
    return os.urandom(n)


def main(ctx):
    b = lib.RuleBench(ctx)
    table = []
    for side in ('client', 'upstream'):
        for op, name in ((OP_PING, 'ping'), (OP_PONG, 'pong'), (OP_CLOSE, 'close')):
            table.append(('%s %s of 126 bytes' % (side, name), side, op, 126, True))
            table.append(('%s fragmented %s' % (side, name), side, op, 2, False))

    def bad(name, side, op, n, fin):
        p = payload(op, n)
        if side == 'client':
            b.client_breaks(name, frame(op, p, fin=fin))
        else:
            b.upstream_breaks(name, frame(op, p, fin=fin, mask=False))

    lib.cases(table, bad)

    r = lib.RelayBench(ctx)

    def good(name, side, op):
        p = os.urandom(125)
        if side == 'client':
            r.c2u(lib.encode_frame(op, p, mask=KEY))
        else:
            r.u2c(lib.encode_frame(op, p))

    lib.cases([('client ping of 125 bytes', 'client', OP_PING), ('client pong of 125 bytes', 'client', OP_PONG),
               ('upstream ping of 125 bytes', 'upstream', OP_PING),
               ('upstream pong of 125 bytes', 'upstream', OP_PONG)], good)


lib.run(main)
