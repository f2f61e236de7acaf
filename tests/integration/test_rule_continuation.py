#!/usr/bin/python3
"""wsproxy(1) RELAYING row 4: a continuation without a started message, or a new data
frame inside a fragmented message -> 1002 to the sender (1001 / 1014 to
the other side)."""
import lib
from lib import frame, OP_CONT, OP_TEXT, OP_BINARY, OP_PING


def main(ctx):
    b = lib.RuleBench(ctx)
    b.client_breaks('continuation first', frame(OP_CONT, b'x'))
    b.client_breaks('unfinished continuation first', frame(OP_CONT, b'x', fin=False))
    b.client_breaks('continuation after a finished message',
                    [frame(OP_TEXT, b'a'), frame(OP_CONT, b'b')])
    b.client_breaks('text inside a fragmented text',
                    [frame(OP_TEXT, b'a', fin=False), frame(OP_TEXT, b'b')])
    b.client_breaks('binary inside a fragmented text, after a ping',
                    [frame(OP_TEXT, b'a', fin=False), frame(OP_PING, b''), frame(OP_BINARY, b'b')])
    b.upstream_breaks('continuation first', frame(OP_CONT, b'x', mask=False))
    b.upstream_breaks('text inside a fragmented binary',
                      [frame(OP_BINARY, b'a', fin=False, mask=False), frame(OP_TEXT, b'b', mask=False)])
    b.upstream_breaks('continuation after a finished message',
                      [frame(OP_TEXT, b'a', mask=False), frame(OP_CONT, b'b', mask=False)])


lib.run(main)
