#!/usr/bin/python3
"""wsproxy(1) RELAYING row 3: a control frame longer than 125 bytes or fragmented ->
1002 to the sender (1001 / 1014 to the other side); 125 is fine."""
import lib
from lib import check, frame, OP_PING, OP_PONG, OP_CLOSE, OP_TEXT


def main(ctx):
    b = lib.RuleBench(ctx)
    b.client_breaks('ping of 126 bytes', frame(OP_PING, b'p' * 126))
    b.client_breaks('pong of 200 bytes', frame(OP_PONG, b'p' * 200))
    b.client_breaks('close of 126 bytes', frame(OP_CLOSE, lib.close_payload(1000, b'r' * 124)))
    b.client_breaks('fragmented ping', frame(OP_PING, b'p', fin=False))
    b.client_breaks('fragmented close', frame(OP_CLOSE, lib.close_payload(1000), fin=False))
    b.upstream_breaks('ping of 126 bytes', frame(OP_PING, b'p' * 126, mask=False))
    b.upstream_breaks('pong of 65536 bytes', frame(OP_PONG, b'p' * 65536, mask=False))
    b.upstream_breaks('fragmented ping', frame(OP_PING, b'p', fin=False, mask=False))
    b.upstream_breaks('fragmented pong', frame(OP_PONG, b'p', fin=False, mask=False))

    # 125 bytes is allowed: a 125-byte ping reaches the upstream, its pong comes back
    c = lib.RawClient(b.px_c.port, '/')
    c.send_frame(OP_PING, b'q' * 125)
    f = c.recv_frame()
    check(f and f.opcode == OP_PONG and f.payload == b'q' * 125, '125-byte ping: got %r' % f)
    c.send_frame(OP_TEXT, b'after')
    f = c.recv_frame()
    check(f and f.payload == b'after', 'echo after ping: %r' % f)
    c.send_frame(OP_CLOSE, lib.close_payload(1000, b'r' * 123))
    f = c.expect_close(1000)
    check(f.close_reason == b'r' * 123, 'close reason changed')
    c.close()
    b.up.wait_done(None, 3)


lib.run(main)
