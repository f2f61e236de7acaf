#!/usr/bin/python3
"""wsproxy(1) RELAYING row 5: a 64-bit payload length with the top bit set -> 1002 to
the sender (1001 / 1014 to the other side), decided from the header
alone."""
import os
import struct
import lib


def hdr(opcode, n, mask):
    h = struct.pack('!BBQ', 0x80 | opcode, (0x80 if mask else 0) | 127, n)
    return h + (os.urandom(4) if mask else b'')


def main(ctx):
    b = lib.RuleBench(ctx)
    b.client_breaks('length 2^63', hdr(2, 1 << 63, True))
    b.client_breaks('length 2^64-1', hdr(1, (1 << 64) - 1, True) + b'abc')
    b.upstream_breaks('length 2^63', hdr(2, 1 << 63, False))
    b.upstream_breaks('length 2^64-1', hdr(2, (1 << 64) - 1, False) + b'abc')


lib.run(main)
