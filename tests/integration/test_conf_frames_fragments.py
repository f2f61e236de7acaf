#!/usr/bin/python3
"""Conformance matrix, frames (issue 4): fragmented messages relayed frame
by frame, byte for byte, in both directions: a text message in 1-byte
fragments (UTF-8 characters split across fragments), a binary message in
1-byte fragments with a ping and a pong between them, a streamed 70000-
byte fragment followed by a ping and a last 1-byte fragment, and empty
fragments.  (Continuation without a start and data frames inside a
fragmented message are in test_rule_continuation.py, both directions.)"""
import os
import lib
from lib import OP_TEXT, OP_BINARY, OP_CONT, OP_PING, OP_PONG

KEYS = [bytes([i, 255 - i, i ^ 0x55, 7]) for i in range(256)]


def frames(spec, masked):
    out = b''
    for i, (op, p, fin) in enumerate(spec):
        out += lib.encode_frame(op, p, fin=fin, mask=KEYS[i % 256] if masked else None)
    return out


def one_byte(op, data, pings=()):
    spec = []
    for i in range(len(data)):
        spec.append((op if i == 0 else OP_CONT, data[i:i + 1], i == len(data) - 1))
        if i in pings:
            spec.append((pings[i], b'p%d' % i, True))
    return spec


TEXT = 'h\u00e9llo \u20ac \U0001f600!'.encode()
CASES = [
    ('text in 1-byte fragments', one_byte(OP_TEXT, TEXT)),
    ('binary in 1-byte fragments, ping and pong between', one_byte(OP_BINARY, os.urandom(40),
                                                                  {3: OP_PING, 20: OP_PONG, 38: OP_PING})),
    ('streamed fragment, ping, last byte', [(OP_BINARY, os.urandom(70000), False), (OP_PING, b'mid', True),
                                            (OP_CONT, b'x', True)]),
    ('empty fragments', [(OP_TEXT, b'', False), (OP_CONT, b'', False), (OP_PING, b'', True),
                         (OP_CONT, b'', True)]),
    ('two fragmented messages back to back', [(OP_TEXT, b'ab', False), (OP_CONT, b'c', True),
                                              (OP_BINARY, b'\x00', False), (OP_CONT, b'\x01', True)]),
]


def main(ctx):
    b = lib.RelayBench(ctx)

    def one(name, spec):
        b.c2u(frames(spec, True))
        b.u2c(frames(spec, False))

    lib.cases(CASES, one)


lib.run(main)
