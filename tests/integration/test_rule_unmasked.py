#!/usr/bin/python3
"""wsproxy(1) RELAYING row 1: a client frame not masked -> the client gets 1002 and the
upstream 1001; an upstream frame masked -> the upstream gets 1002 and the
client 1014.  Also: client frames reach the upstream still masked and
upstream frames reach the client unmasked (no re-masking)."""
import lib
from lib import check, frame, OP_TEXT, OP_BINARY, OP_PING, OP_CLOSE


def main(ctx):
    b = lib.RuleBench(ctx)
    b.client_breaks('unmasked text frame', frame(OP_TEXT, b'hello', mask=False))
    b.client_breaks('unmasked empty binary frame', frame(OP_BINARY, b'', mask=False))
    b.client_breaks('unmasked ping', frame(OP_PING, b'p', mask=False))
    b.client_breaks('unmasked close', frame(OP_CLOSE, lib.close_payload(1000), mask=False))
    b.upstream_breaks('masked text frame', frame(OP_TEXT, b'hello', mask=True))
    b.upstream_breaks('masked ping', frame(OP_PING, b'p', mask=True))
    b.upstream_breaks('masked close', frame(OP_CLOSE, lib.close_payload(1000), mask=True))

    # no re-masking: the same mask key arrives upstream, unmasked frames reach the client
    seen = {}

    def h(c):
        c.handshake()
        f0 = c.recv_frame()
        seen['raw'] = None
        seen['f'] = f0
        c.send(frame(OP_TEXT, b'from upstream', mask=False))
        c.expect_close(1000)
    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri)
    c = lib.RawClient(px.port, '/')
    key = b'\x11\x22\x33\x44'
    c.send(frame(OP_TEXT, b'masked by client', mask=key))
    f = c.recv_frame()
    check(f and not f.masked and f.payload == b'from upstream', 'client got %r' % f)
    c.send(frame(OP_CLOSE, lib.close_payload(1000), mask=True))
    f = c.recv_frame()
    check(f and f.opcode == OP_CLOSE and f.close_code == 1000 and not f.masked, 'close echo %r' % f)
    c.wait_eof()
    c.close()
    raw.wait_done(5)
    check(seen['f'].masked and seen['f'].payload == b'masked by client', 'upstream got %r' % seen['f'])


lib.run(main)
