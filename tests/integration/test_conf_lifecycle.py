#!/usr/bin/python3
"""Conformance matrix, lifecycle (issue 4), the cases older tests do not
cover: half-close after sending a close (each side: the other side's
late frames and its close still arrive), a reset inside a small frame
(the complete frames before it arrive, then 1014 / 1001) and inside a
streamed frame (the other side's TCP connection is just closed, wsproxy(1) RELAYING's
1006 case), from each side; a peer that never answers a close frame
(the upstream after the client's close, the upstream after wsproxy's
own 1001, the client after the upstream's close): both connections are
closed after --close-timeout and the log says so."""
import select
import socket
import struct
import threading
import time
import lib
from lib import check, OP_CLOSE, OP_TEXT, OP_BINARY

KEY = b'\x10\x20\x30\x40'
CLOSE_TIMEOUT = 800


def enc(op, p=b'', mask=None, **kw):
    return lib.encode_frame(op, p, mask=mask, **kw)


def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    sock.close()


def flood_send(sock, blob, got):
    """Send blob over and over until got has 'close' or 'eof' (set by a
    reader thread on the same socket, whose timeouts this leaves alone)."""
    off = 0
    while 'close' not in got and 'eof' not in got:
        if not select.select([], [sock], [], 0.2)[1]:
            continue
        try:
            off = (off + sock.send(blob[off:], socket.MSG_DONTWAIT)) % len(blob)
        except BlockingIOError:
            continue
        except OSError:
            break


def main(ctx):
    cur = {}

    def handler(c):
        c.handshake()
        m = cur['m']
        rec = c.rec
        if m == 'client half-closes after its close':
            f = c.recv_frame(5)
            check(f and f.opcode == OP_CLOSE and f.close_code == 4000, 'upstream got %r' % f)
            time.sleep(0.2)      # the client's FIN is in by now
            c.send(enc(OP_TEXT, b'late') + enc(OP_CLOSE, lib.close_payload(4000)))
            c.wait_eof(3)
        elif m == 'upstream half-closes after its close':
            c.recv_frame(5)      # "go"
            c.send(enc(OP_CLOSE, lib.close_payload(4001, b'done')))
            c.sock.shutdown(socket.SHUT_WR)
            f = c.recv_frame(5)
            rec['got'] = f
            c.wait_eof(3)
        elif m == 'upstream resets while the client floods it':
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 14)
            time.sleep(1.0)      # not reading: the proxy's buffer fills up
            rec['reset_at'] = time.time()
            rec['ok'] = True
            rst(c.sock)
            return
        elif m.startswith('upstream resets'):
            c.recv_frame(5)
            c.send(enc(OP_TEXT, b'complete'))
            if 'small' in m:
                c.send(enc(OP_BINARY, b'y' * 100)[:10])
            else:
                c.send(struct.pack('!BBQ', 0x82, 127, 1 << 20) + b'z' * 200000)
            time.sleep(0.2)
            rec['ok'] = True
            rst(c.sock)
            return
        elif m.startswith('client resets'):
            f = c.recv_frame(5)
            rec['first'] = f
            rec['next'] = None
            try:
                rec['next'] = c.recv_frame(5)
            except lib.Fail as e:
                rec['next'] = 'error: %s' % e
            if rec['next'] is not None and not isinstance(rec['next'], str) and rec['next'].opcode == OP_CLOSE:
                c.send(enc(OP_CLOSE, rec['next'].payload[:2]))
            c.wait_eof(3)
        elif m.startswith('silent upstream'):
            f = c.recv_frame(5)
            while f is not None and f.opcode != OP_CLOSE:
                f = c.recv_frame(5)
            rec['got'] = f
            t0 = time.time()
            c.wait_eof(10)       # never answer; wsproxy must close
            rec['eof_after'] = time.time() - t0
        elif m.startswith('silent client'):
            c.recv_frame(5)
            c.send(enc(OP_CLOSE, lib.close_payload(4002)))
            t0 = time.time()
            c.wait_eof(10)
            rec['eof_after'] = time.time() - t0
        rec['ok'] = True

    raw = ctx.raw_upstream(handler)
    px = ctx.proxy('--upstream', raw.uri, '--close-timeout', str(CLOSE_TIMEOUT))
    slack = 4 if lib.VALGRIND else 1

    def pair(m):
        cur['m'] = m
        n = len(raw.conns)
        return lib.RawClient(px.port, '/'), n

    def done(n):
        raw.wait_done(10)
        rec = raw.conns[n]
        check(rec.get('ok'), 'upstream handler: %s' % rec.get('error'))
        return rec

    def client_half(name):
        c, n = pair(name)
        c.send(enc(OP_CLOSE, lib.close_payload(4000), KEY))
        c.sock.shutdown(socket.SHUT_WR)
        f1, f2 = c.recv_frame(), c.recv_frame()
        check(f1 and (f1.opcode, f1.payload) == (OP_TEXT, b'late'), 'client got %r, want the late text' % f1)
        check(f2 and f2.opcode == OP_CLOSE and f2.close_code == 4000, 'client got %r, want close 4000' % f2)
        c.wait_eof(3)
        c.close()
        done(n)

    def upstream_half(name):
        c, n = pair(name)
        c.send(enc(OP_TEXT, b'go', KEY))
        f = c.recv_frame()
        check(f and f.opcode == OP_CLOSE and f.close_code == 4001, 'client got %r' % f)
        c.send(enc(OP_CLOSE, lib.close_payload(4001), KEY))
        c.wait_eof(3)
        c.close()
        rec = done(n)
        check(rec['got'] and rec['got'].opcode == OP_CLOSE and rec['got'].close_code == 4001,
              'half-closed upstream got %r, want the client\'s close' % rec['got'])

    def upstream_resets(name):
        c, n = pair(name)
        c.send(enc(OP_TEXT, b'go', KEY))
        f = c.recv_frame()
        check(f and f.payload == b'complete', 'client got %r' % f)
        if 'small' in name:
            f = c.recv_frame()
            check(f and f.opcode == OP_CLOSE and f.close_code == 1014, 'client got %r, want close 1014' % f)
            c.try_send(enc(OP_CLOSE, lib.close_payload(1014), KEY))
            c.wait_eof(3)
        else:
            try:
                f = c.recv_frame(10)
                check(False, 'client got a whole frame %r' % f)
            except lib.Fail as e:
                check('EOF inside a frame' in str(e), 'client: %s' % e)
        c.close()
        done(n)

    def client_resets(name):
        c, n = pair(name)
        c.send(enc(OP_TEXT, b'complete', KEY))
        if 'small' in name:
            c.send(enc(OP_BINARY, b'y' * 100, KEY)[:10])
        else:
            c.send(struct.pack('!BBQ', 0x82, 0xff, 1 << 20) + KEY + b'z' * 200000)
        time.sleep(0.2)
        rst(c.sock)
        rec = done(n)
        check(rec['first'] and rec['first'].payload == b'complete', 'upstream got %r' % rec['first'])
        nxt = rec['next']
        if 'small' in name:
            check(not isinstance(nxt, str) and nxt is not None and nxt.opcode == OP_CLOSE and
                  nxt.close_code == 1001 and nxt.masked, 'upstream got %r, want a masked close 1001' % nxt)
        else:
            check(isinstance(nxt, str) and 'EOF inside a frame' in nxt,
                  'upstream got %r, want its connection closed inside the frame' % nxt)

    def silent(name, who):
        c, n = pair(name)
        t0 = time.time()
        if who == 'upstream after the client\'s close':
            c.send(enc(OP_CLOSE, lib.close_payload(1000), KEY))
        elif who == 'upstream after wsproxy\'s 1001':
            c.send(enc(OP_BINARY, b'x' * 10, KEY))
            c.sock.shutdown(socket.SHUT_WR)
        else:
            c.send(enc(OP_TEXT, b'go', KEY))
            f = c.recv_frame()
            check(f and f.opcode == OP_CLOSE and f.close_code == 4002, 'client got %r' % f)
            t0 = time.time()
            # and never answer it
        data = lib.read_to_eof(c.sock, 5 * slack)
        dt = time.time() - t0
        c.close()
        rec = done(n)
        if who == 'client':
            check(not data, 'client got %r after the close' % data[:40])
        if who != 'upstream after wsproxy\'s 1001':
            # (a client that left without a close may be let go at once)
            check(CLOSE_TIMEOUT / 1000 * 0.8 <= dt <= CLOSE_TIMEOUT / 1000 + 1.5 * slack,
                  'client connection closed after %.2fs, --close-timeout %d' % (dt, CLOSE_TIMEOUT))
        check(CLOSE_TIMEOUT / 1000 * 0.8 <= rec['eof_after'] <= CLOSE_TIMEOUT / 1000 + 1.5 * slack,
              'upstream connection closed after %.2fs, --close-timeout %d' % (rec['eof_after'], CLOSE_TIMEOUT))
        if who == 'upstream after wsproxy\'s 1001':
            check(rec['got'] and rec['got'].payload[:2] == lib.close_payload(1001), 'upstream got %r' % rec['got'])
        end = time.time() + 2
        while 'close handshake timeout' not in px.stderr_text()[-600:] and time.time() < end:
            time.sleep(0.05)
        check('close handshake timeout' in px.stderr_text()[-600:], 'log does not say close handshake timeout')

    # a side resets while the other floods it: the flood's writes to the dead
    # side fail; the flooding side must still get its close (1001 / 1014)
    # at once, and the pair must end without waiting for --close-timeout
    # (the flooder's close answer comes behind data that has nowhere to go)
    flood = {}

    def flood_handler(c):
        c.handshake()
        f = c.recv_frame(5)
        check(f is not None and f.payload == b'go', 'upstream got %r' % f)
        got = {}

        def reader():
            try:
                while True:
                    fr = c.recv_frame(15)
                    if fr is None:
                        break
                    if fr.opcode == OP_CLOSE:
                        got['close'] = (fr, time.time())
                        break
            except (lib.Fail, OSError) as e:
                got['err'] = str(e)
            got['eof'] = time.time()
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        blob = enc(OP_BINARY, b'f' * 262144)
        flood_send(c.sock, blob, got)
        if 'close' in got:
            try:
                c.send(enc(OP_CLOSE, got['close'][0].payload[:2]))
            except OSError:
                pass
        t.join(15)
        if 'close' in got:
            c.wait_eof(15)
        c.rec['flood'] = dict(got, end=time.time())
        c.rec['ok'] = True

    flood_raw = ctx.raw_upstream(flood_handler)
    px_flood = ctx.proxy('--upstream', flood_raw.uri)

    def reset_while_flooded(name):
        n = len(flood_raw.conns)
        c = lib.RawClient(px_flood.port, '/')
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 14)
        c.send(enc(OP_TEXT, b'go', KEY))
        time.sleep(1.0)          # the proxy's buffer and both socket buffers fill up
        t0 = time.time()
        rst(c.sock)
        flood_raw.wait_done(20)
        rec = flood_raw.conns[n]
        check(rec.get('ok'), 'upstream handler: %s' % rec.get('error'))
        fl = rec['flood']
        check('close' in fl, 'the flooding upstream got no close frame after the client reset (%s, %.1fs)'
              % (fl.get('err', 'EOF'), fl['eof'] - t0))
        fr, when = fl['close']
        check(fr.close_code == 1001 and fr.masked, 'upstream got %r, want a masked close 1001' % fr)
        check(when - t0 < 1.5 * slack, 'upstream got its close 1001 only %.2fs after the client reset' % (when - t0))
        check(fl['end'] - t0 < 2.5 * slack, 'the pair ended %.2fs after the client reset (close-timeout 5 s):'
              ' the upstream\'s close answer was not read' % (fl['end'] - t0))

    lib.cases([('client resets while the upstream floods it',)], reset_while_flooded)

    def upstream_resets_while_flooded(name):
        cur['m'] = name
        n = len(raw.conns)
        c = lib.RawClient(px.port, '/')
        got = {}

        def reader():
            try:
                while True:
                    fr = c.recv_frame(15)
                    if fr is None:
                        break
                    if fr.opcode == OP_CLOSE:
                        got['close'] = (fr, time.time())
                        c.try_send(enc(OP_CLOSE, fr.payload[:2], KEY))
            except (lib.Fail, OSError) as e:
                got['err'] = str(e)
            got['eof'] = time.time()
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        blob = enc(OP_BINARY, b'f' * 262144, KEY)
        flood_send(c.sock, blob, got)
        t.join(15)
        c.close()
        rec = done(n)
        t0 = rec['reset_at']
        check('close' in got, 'the flooding client got no close frame after the upstream reset (%s, %.1fs)'
              % (got.get('err', 'EOF'), got['eof'] - t0))
        fr, when = got['close']
        check(fr.close_code == 1014 and not fr.masked, 'client got %r, want close 1014' % fr)
        check(when - t0 < 1.5 * slack, 'client got its close 1014 only %.2fs after the upstream reset' % (when - t0))
        check(got['eof'] - t0 < 2.5 * slack, 'the client connection ended %.2fs after the upstream reset'
              % (got['eof'] - t0))

    lib.cases([('upstream resets while the client floods it',)], upstream_resets_while_flooded)

    lib.cases([('client half-closes after its close',)], client_half)
    lib.cases([('upstream half-closes after its close',)], upstream_half)
    lib.cases([('upstream resets inside a small frame',), ('upstream resets inside a streamed frame',)],
              upstream_resets)
    lib.cases([('client resets inside a small frame',), ('client resets inside a streamed frame',)],
              client_resets)
    lib.cases([('silent upstream never answers the client\'s close', 'upstream after the client\'s close'),
               ('silent upstream never answers wsproxy\'s 1001', 'upstream after wsproxy\'s 1001'),
               ('silent client never answers the upstream\'s close', 'client')], silent)


lib.run(main)
