#!/usr/bin/python3
"""Conformance matrix, close (issue 4): frames after a close frame are
discarded (RFC 6455 5.5.1), from each side: data, pings, a second close,
and even bytes that would break the rules (an unmasked or reserved
frame, garbage), in the same segment as the close or later.  The other
side gets the close alone, byte for byte, the close handshake finishes
normally (no 1002) and both connections end."""
import time
import lib
from lib import check, OP_CLOSE, OP_TEXT, OP_PING, OP_BINARY

KEY = b'\x0a\x0b\x0c\x0d'


def enc(op, p=b'', mask=None):
    return lib.encode_frame(op, p, mask=mask)


def trailers(masked):
    k = KEY if masked else None
    return [
        ('data, ping and a second close', enc(OP_TEXT, b'after', k) + enc(OP_PING, b'p', k) +
         enc(OP_CLOSE, lib.close_payload(1000), k)),
        ('a frame breaking the masking rule', enc(OP_BINARY, b'x', None if masked else KEY)),
        ('a reserved opcode and garbage', enc(3, b'zz', k) + b'\xff\xff\xff'),
        ('a large frame', enc(OP_BINARY, b'L' * 100000, k)),
    ]


def main(ctx):
    cur = {}

    def handler(c):
        c.handshake()
        d = dict(cur)
        if d['side'] == 'client':
            c.rec['got'] = c.recv_exact(len(d['close']), 5)
            # nothing more may come; give a later batch time to arrive
            time.sleep(0.3)
            c.sock.settimeout(0.05)
            try:
                extra = c.sock.recv(65536)
            except lib.socket.timeout:
                extra = b''
            c.rec['extra'] = bytes(c.buf) + extra
            c.send(d['reply'])
        else:
            f = c.recv_frame(5)
            check(f is not None and f.payload == b'go', 'upstream: want go, got %r' % f)
            c.send(d['close'] + (d['after'] if d['same'] else b''))
            if not d['same']:
                time.sleep(0.1)
                c.try_send(d['after'])
            c.rec['got'] = c.recv_exact(len(d['reply']), 5)
        c.wait_eof(3)
        c.rec['ok'] = True

    raw = ctx.raw_upstream(handler)
    px = ctx.proxy('--upstream', raw.uri)
    table = []
    for side in ('client', 'upstream'):
        for what, after in trailers(side == 'client'):
            for same in (True, False):
                table.append(('%s close, then %s (%s)' % (side, what, 'same segment' if same else 'later'),
                              side, after, same))

    def one(name, side, after, same):
        if side == 'client':
            close = enc(OP_CLOSE, lib.close_payload(4000, b'bye'), KEY)
            reply = enc(OP_CLOSE, lib.close_payload(4000))
        else:
            close = enc(OP_CLOSE, lib.close_payload(4001, b'bye'))
            reply = enc(OP_CLOSE, lib.close_payload(4001), KEY)
        cur.update(side=side, close=close, reply=reply, after=after, same=same)
        n = len(raw.conns)
        c = lib.RawClient(px.port, '/')
        try:
            if side == 'client':
                c.send(close + (after if same else b''))
                if not same:
                    time.sleep(0.1)
                    c.try_send(after)
                got = c.recv_exact(len(reply), 5)
                check(got == reply, 'client got %r, want the upstream\'s close' % got[:40])
            else:
                c.send(enc(OP_TEXT, b'go', KEY))
                got = c.recv_exact(len(close), 5)
                check(got == close, 'client got %r, want the upstream\'s close' % got[:40])
                c.send(reply)
            rest = lib.read_to_eof(c.sock, 3)
            check(not rest and not c.buf, 'client got bytes after the close: %r' % (bytes(c.buf) + rest)[:40])
        finally:
            c.close()
        raw.wait_done(5)
        rec = raw.conns[n]
        check(rec.get('ok'), 'upstream handler: %s' % rec.get('error'))
        if side == 'client':
            check(rec['got'] == close, 'upstream got %r, want the client\'s close' % rec['got'][:40])
            check(not rec['extra'], 'upstream got bytes after the close: %r' % rec['extra'][:40])
        else:
            check(rec['got'] == reply, 'upstream got %r, want the client\'s answer' % rec['got'][:40])
        check('protocol_error' not in px.stderr_text(), 'a discarded frame was taken as a protocol error')

    lib.cases(table, one)


lib.run(main)
