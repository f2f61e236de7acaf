#!/usr/bin/python3
"""wsproxy(1) METRICS and LOGGING: frames, messages and bytes are counted
exactly once each, on every relaying path.

The rules, as relay.c applies them (flow_scan(), flow_read()) and
/metrics' HELP texts say:
  - a frame is counted once when it is taken: whole, or at its first
    bytes when it is too large for the ~32 KiB relay buffer and is
    streamed.  Control frames (ping, pong, close) are frames too; only a
    pong answering wsproxy's own ping is taken out and not counted;
  - a message is counted at a data frame with FIN (text, binary, or the
    last continuation): one per complete data message, never for a
    control frame;
  - bytes are every byte of frames read from that side: headers, the
    client's masking keys and payloads (the close frames included).
The close line's c2u_*/u2c_* and wsproxy_{frames,messages,bytes}_total
must say the same.

Every case has its own proxy (so the counters start at 0) in front of a
hand-written echo upstream (lib.raw_echo_handler: each frame echoed as
it came, fin and opcode kept, unmasked; a ping answered by a pong; a
pong not answered), one pair, then a clean close started by the client
(8 bytes masked up, the upstream's 4-byte echo down).  The client checks
it got exactly the bytes the echo sent, then the close line and /metrics
are compared with counts computed from the frames on the wire:
  a) 5 x 40,000 B (streamed) + 3 x 1,000 B binary: 8 messages, 9 frames
     each way;
  b) one text message in 3 frames (fin=0, cont fin=0, cont fin=1):
     1 message, 3 frames;
  c) one binary message in 4 frames of 100,000 B each (streamed
     fragments): 1 message, 4 frames;
  d) 500 x 10 B messages in one write: 500 messages;
  e) every length encoding (0, 1, 125, 126, 127, 65535, 65536, and a
     5-byte payload with a non-minimal 16-bit and 64-bit length): bytes
     exact to the byte;
  f) control frames: a client ping (forwarded, its pong comes back), an
     unsolicited client pong (forwarded, not answered), a ping between
     the fragments of a message: frames, not messages;
  g) frames arriving in pieces: a header cut after 1 and 3 bytes, a
     30,000 B frame (held back until whole) in three writes, a 50,000 B
     one (streamed) cut in its header and payload, a small frame one
     byte per write: each counted once;
  h) frames in the same TCP segment as the handshake heads, both ways
     (the client's frames right after its request head, the upstream's
     frame right after its 101): counted once in the close line and in
     /metrics alike.
"""
import os
import time

import lib
import promtext
from lib import check, frame, encode_frame, OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG

C2U, U2C = 'client_to_upstream', 'upstream_to_client'
CLIENT_CLOSE = 8        # masked close 1000: 2 + 4 + 2
UPSTREAM_CLOSE = 4      # its unmasked echo: 2 + 2


scrape = promtext.scrape


class Sent:
    """Frames a client sends, with what the echo upstream sends back."""

    def __init__(self):
        self.wire = []          # client frames as sent (masked)
        self.echo = []          # the echo's frames, unmasked
        self.c2u_msgs = 0
        self.u2c_msgs = 0
        self.cuts = []          # offsets in the client's bytes: separate writes

    def add(self, opcode, payload, fin=True, wire=None):
        w = wire if wire is not None else frame(opcode, payload, fin=fin, mask=True)
        self.wire.append(w)
        if opcode < OP_CLOSE and fin:
            self.c2u_msgs += 1
        if opcode == OP_PING:
            self.echo.append(frame(OP_PONG, payload, mask=False))
        elif opcode != OP_PONG:
            self.echo.append(frame(opcode, payload, fin=fin, mask=False))
            if opcode < OP_CLOSE and fin:
                self.u2c_msgs += 1
        return self

    def want(self, extra_u2c=()):
        """What the counters must say after the clean close."""
        u2c = list(extra_u2c) + self.echo
        return {
            'c2u_frames': len(self.wire) + 1,
            'u2c_frames': len(u2c) + 1,
            'c2u_msgs': self.c2u_msgs,
            'u2c_msgs': self.u2c_msgs + sum(1 for f in extra_u2c if f[0] & 0x80 and
                                            (f[0] & 0x0f) < OP_CLOSE),
            'c2u_bytes': sum(map(len, self.wire)) + CLIENT_CLOSE,
            'u2c_bytes': sum(map(len, u2c)) + UPSTREAM_CLOSE,
        }


def pipelined_upstream(c):
    """The echo, but its 101 and a first text frame go in one write."""
    req = c.read_request()
    head = ('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
            'Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n' %
            lib.accept_for(req.get('Sec-WebSocket-Key', ''))).encode()
    c.send(head + EARLY)
    c.request = req
    c.handshake = lambda **kw: None
    lib.raw_echo_handler(c)


EARLY = frame(OP_TEXT, b'early from the upstream', mask=False)


def run_case(ctx, name, sent, pipelined=False):
    up = ctx.raw_upstream(pipelined_upstream if pipelined else lib.raw_echo_handler)
    aport = lib.free_port()
    px = ctx.proxy('--upstream', up.uri, '--admin', '127.0.0.1:%d' % aport)
    extra_u2c = [EARLY] if pipelined else []
    t0 = time.time()
    if pipelined:
        # the request head and every frame in one write (one segment on
        # loopback for these sizes): the proxy reads frames with the head
        s = lib.connect(px.port)
        key = lib.ws_key()
        data = lib.upgrade_request('/', key=key) + b''.join(sent.wire)
        check(len(data) < 16000, '%s: the pipelined write is too long' % name)
        s.sendall(data)
        r, rest = lib.read_response(s, 5)
        check(r.status == 101 and r.get('Sec-WebSocket-Accept') == lib.accept_for(key),
              '%s: handshake %r' % (name, r))
        c = lib.Conn(s, rest)
    else:
        c = lib.RawClient(px.port, '/')
        data = b''.join(sent.wire)
        cuts = [0] + [x for x in sent.cuts if 0 < x < len(data)] + [len(data)]
        for a, b in zip(cuts, cuts[1:]):
            c.send(data[a:b])
            if b < len(data):
                time.sleep(0.03)
    try:
        want_bytes = b''.join(extra_u2c + sent.echo)
        got = c.recv_exact(len(want_bytes), 20)
        check(got == want_bytes, '%s: the client got other bytes than the echo sent '
              '(%d bytes, first difference at %d)' %
              (name, len(got), next((i for i, (a, b) in enumerate(zip(got, want_bytes))
                                     if a != b), -1)))
        c.send(frame(OP_CLOSE, lib.close_payload(1000)))
        f = c.recv_frame(5)
        check(f is not None and f.opcode == OP_CLOSE and f.close_code == 1000 and
              len(f.payload) == 2 and not f.masked, '%s: close answer %r' % (name, f))
        c.wait_eof(3)
    finally:
        c.close()
    up.wait_done(5)
    px.wait_log('event=close ', name)
    lines = [ln for ln in px.stderr_text().splitlines() if 'event=close ' in ln]
    check(len(lines) == 1, '%s: %d close lines' % (name, len(lines)))
    d = lib.parse_log_line(lines[0])
    check(d['level'] == 'info' and d.get('close_code') == '1000' and
          d.get('closed_by') == 'client' and 'error' not in d,
          '%s: close line %r' % (name, lines[0]))
    fams = scrape(aport)
    V = lambda n, dr: promtext.value(fams, n, direction=dr)  # noqa: E731
    want = sent.want(extra_u2c)
    got = {
        'c2u_frames': V('wsproxy_frames_total', C2U),
        'u2c_frames': V('wsproxy_frames_total', U2C),
        'c2u_msgs': V('wsproxy_messages_total', C2U),
        'u2c_msgs': V('wsproxy_messages_total', U2C),
        'c2u_bytes': V('wsproxy_bytes_total', C2U),
        'u2c_bytes': V('wsproxy_bytes_total', U2C),
    }
    logged = {k: int(d[k]) for k in ('c2u_msgs', 'u2c_msgs', 'c2u_bytes', 'u2c_bytes')}
    wrong = []
    for k, v in want.items():
        if got[k] != v:
            wrong.append('metrics %s = %d, want %d' % (k, got[k], v))
        if k in logged and logged[k] != v:
            wrong.append('close line %s = %d, want %d' % (k, logged[k], v))
    check(not wrong, '%s: %s' % (name, '; '.join(wrong)))
    lib.log('counts %s: %s (%.2f s)' % (name, ' '.join('%s=%d' % kv for kv in sorted(want.items())),
                                        time.time() - t0))
    px.check_fds()
    px.stop()
    px.baseline = None


def rnd(n):
    return os.urandom(n)


def main(ctx):
    table = []

    s = Sent()
    for _ in range(5):
        s.add(OP_BINARY, rnd(40000))
    for _ in range(3):
        s.add(OP_BINARY, rnd(1000))
    check(s.want()['c2u_msgs'] == 8 and s.want()['c2u_frames'] == 9, 'case a arithmetic')
    table.append(('a_streamed_and_small', s, False))

    s = Sent()
    s.add(OP_TEXT, b'one ', fin=False).add(OP_CONT, b'two ', fin=False).add(OP_CONT, b'three')
    table.append(('b_fragmented_3', s, False))

    s = Sent()
    s.add(OP_BINARY, rnd(100000), fin=False)
    for _ in range(2):
        s.add(OP_CONT, rnd(100000), fin=False)
    s.add(OP_CONT, rnd(100000))
    table.append(('c_streamed_fragments', s, False))

    s = Sent()
    for i in range(500):
        s.add(OP_TEXT, b'%010d' % i)
    table.append(('d_500_small', s, False))

    s = Sent()
    for n in (0, 1, 125, 126, 127, 65535, 65536):
        s.add(OP_BINARY, rnd(n))
    p = b'hello'
    key = os.urandom(4)
    s.add(OP_TEXT, p, wire=encode_frame(OP_TEXT, p, mask=key, form=64))   # 14 + 5 bytes
    s.add(OP_TEXT, p, wire=encode_frame(OP_TEXT, p, mask=key, form=16))   # 8 + 5 bytes
    table.append(('e_length_encodings', s, False))

    s = Sent()
    s.add(OP_PING, b'ping-1')                      # forwarded; pong back
    s.add(OP_PONG, b'unsolicited')                 # forwarded; no answer
    s.add(OP_TEXT, b'frag-a', fin=False)
    s.add(OP_PING, b'')                            # between fragments
    s.add(OP_CONT, b'frag-b')
    s.add(OP_PING, b'x' * 125)
    want = s.want()
    check(want['c2u_msgs'] == 1 and want['c2u_frames'] == 7 and want['u2c_frames'] == 6,
          'case f arithmetic %r' % want)
    table.append(('f_control_frames', s, False))

    s = Sent()
    s.add(OP_TEXT, b'early from the client')
    s.add(OP_PING, b'p')
    s.add(OP_BINARY, rnd(3000))
    table.append(('h_pipelined_with_heads', s, True))

    # frames arriving in pieces: a header cut after 1 and 3 bytes, a
    # 30,000-byte frame (held until whole, it fits the buffer) in three
    # writes, a 50,000-byte one (streamed) cut inside its header and its
    # payload, a tiny frame one byte per write
    s = Sent()
    s.add(OP_BINARY, rnd(30000))         # 2 + 2 + 4 + 30000 = 30008
    s.add(OP_BINARY, rnd(50000))         # 30008 + 50008 = 80016
    s.add(OP_TEXT, b'tiny')              # 80016 + 10 = 80026
    s.cuts = [1, 3, 10000, 20000, 30008 + 2, 30008 + 6, 30008 + 30000,
              80016 + 1, 80016 + 2, 80016 + 3, 80016 + 4, 80016 + 5, 80016 + 6,
              80016 + 7, 80016 + 8, 80016 + 9]
    table.insert(6, ('g_split_writes', s, False))

    lib.cases(table, lambda name, sent, pipe: run_case(ctx, name, sent, pipe))


lib.run(main)
