#!/usr/bin/python3
"""Conformance matrix, frames (issue 4): zero-length frames of every kind
(text, binary, ping, pong, continuation, close) relayed byte for byte in
both directions, alone and in a run, with and without a mask key."""
import lib
from lib import OP_TEXT, OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_CLOSE

KEY = b'\x00\x00\x00\x00'
KEY2 = b'\xde\xad\xbe\xef'


def main(ctx):
    b = lib.RelayBench(ctx)

    def one(name, spec):
        b.c2u(b''.join(lib.encode_frame(op, b'', fin=fin, mask=KEY2) for op, fin in spec))
        b.u2c(b''.join(lib.encode_frame(op, b'', fin=fin) for op, fin in spec))

    lib.cases([
        ('empty text', [(OP_TEXT, True)]),
        ('empty binary', [(OP_BINARY, True)]),
        ('empty ping', [(OP_PING, True)]),
        ('empty pong', [(OP_PONG, True)]),
        ('empty fragments', [(OP_TEXT, False), (OP_CONT, False), (OP_CONT, True)]),
        ('100 empty frames', [(OP_BINARY, True), (OP_PING, True)] * 50),
    ], one)

    # an all-zero mask key is still a mask (client side), and an empty close passes
    def zero_key(name):
        b.c2u(lib.encode_frame(OP_TEXT, b'', mask=KEY) + lib.encode_frame(OP_BINARY, b'', mask=KEY))
    lib.cases([('zero mask key',)], zero_key)

    # empty close from each side passes as is (test_close_codes.py also checks it)
    def empty_close(name, side):
        if side == 'client':
            b.cur = {'dir': 'c2u', 'wire': b''}
            c = lib.RawClient(b.px.port, '/')
            c.send(lib.encode_frame(OP_CLOSE, b'', mask=KEY2))
            f = c.recv_frame()
            lib.check(f is not None and f.opcode == OP_CLOSE and f.payload == b'', 'client got %r' % f)
            c.wait_eof()
            c.close()
            b.raw.wait_done(5)
            rec = b.raw.conns[-1]
            lib.check(rec['close'].payload == b'', 'upstream got %r' % rec['close'])
    lib.cases([('empty close from the client', 'client')], empty_close)


lib.run(main)
