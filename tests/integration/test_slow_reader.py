#!/usr/bin/python3
"""wsproxy(1) RELAYING backpressure / wsproxy(1) LIMITS: when one side cannot take more, wsproxy
stops reading from the other; memory per pair stays bounded.  The upstream
(python3-websockets) pushes 256 MiB to a client that does not read for a
while: the proxy's RSS must stay below +64 MiB and the upstream must be
held back; then the client reads everything, content checked.  The same
with a client pushing 256 MiB to an upstream that does not read."""
import os
import threading
import time
import lib
from lib import check, frame, OP_BINARY, OP_CLOSE

TOTAL_MIB = int(os.environ.get('SLOW_READER_MIB', '256'))
MSG = 1 << 20
LIMIT_KIB = 64 * 1024
PAUSE = 3.0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.max, self.stop_ = pid, 0, False

    def run(self):
        while not self.stop_:
            try:
                self.max = max(self.max, lib.rss_kib(self.pid))
            except OSError:
                return
            time.sleep(0.02)


def main(ctx):
    progress = {'sent': 0}

    async def pusher(ws, rec):
        await ws.recv()
        for i in range(TOTAL_MIB):
            await ws.send(bytes([i & 0xff]) * MSG)
            progress['sent'] = i + 1
        await ws.send('done')
        await ws.wait_closed()
    up = ctx.ws_upstream(pusher, compression=None, write_limit=1 << 16)
    px = ctx.proxy('--upstream', up.uri)
    base = lib.rss_kib(px.pid)
    s = Sampler(px.pid)
    s.start()
    c = lib.RawClient(px.port, '/')
    c.sock.setsockopt(lib.socket.SOL_SOCKET, lib.socket.SO_RCVBUF, 1 << 16)
    c.send(frame(lib.OP_TEXT, b'start'))
    time.sleep(PAUSE)
    stalled_at = progress['sent']
    check(stalled_at < TOTAL_MIB // 2,
          'upstream pushed %d MiB while the client read nothing: the proxy did not apply backpressure' % stalled_at)
    check(s.max - base < LIMIT_KIB, 'proxy RSS grew by %d KiB while the client did not read' % (s.max - base))
    t0 = time.time()
    for i in range(TOTAL_MIB):
        f = c.recv_frame(30)
        check(f is not None and f.opcode == OP_BINARY and len(f.payload) == MSG,
              'message %d: %r' % (i, f))
        check(f.payload == bytes([i & 0xff]) * MSG, 'message %d: content differs' % i)
    f = c.recv_frame(10)
    check(f is not None and f.payload == b'done', 'final message %r' % f)
    lib.log('client read %d MiB in %.1fs; upstream had pushed %d MiB during the pause; RSS +%d KiB'
            % (TOTAL_MIB, time.time() - t0, stalled_at, s.max - base))
    check(s.max - base < LIMIT_KIB, 'proxy RSS grew by %d KiB relaying %d MiB' % (s.max - base, TOTAL_MIB))
    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    c.expect_close(1000)
    c.close()
    up.wait_done(1, 5)

    # reverse: the upstream does not read
    got = {'bytes': 0, 'stalled': None}

    def slow_up(conn):
        conn.sock.setsockopt(lib.socket.SOL_SOCKET, lib.socket.SO_RCVBUF, 1 << 16)
        conn.handshake()
        time.sleep(PAUSE)
        got['stalled'] = sent['n']
        n = 0
        while True:
            f = conn.recv_frame(30)
            if f is None:
                break
            if f.opcode == OP_CLOSE:
                conn.send(frame(OP_CLOSE, f.payload, mask=False))
                conn.wait_eof()
                break
            check(len(f.payload) == MSG and f.payload == bytes([n & 0xf]) * MSG,
                  'upstream: message %d differs' % n)
            n += 1
        got['msgs'] = n
    sent = {'n': 0}
    raw = ctx.raw_upstream(slow_up)
    px2 = ctx.proxy('--upstream', raw.uri)
    base2 = lib.rss_kib(px2.pid)
    s2 = Sampler(px2.pid)
    s2.start()
    c = lib.RawClient(px2.port, '/')
    key = b'\x01\x02\x03\x04'
    frames = [frame(OP_BINARY, bytes([i]) * MSG, mask=key) for i in range(16)]

    def push():
        for i in range(TOTAL_MIB):
            c.sock.sendall(frames[i & 0xf])
            sent['n'] = i + 1
        c.sock.sendall(frame(OP_CLOSE, lib.close_payload(1000)))
    c.sock.settimeout(60)
    t = threading.Thread(target=push, daemon=True)
    t.start()
    t.join(90)
    check(not t.is_alive(), 'client could not push %d MiB within 90 s' % TOTAL_MIB)
    f = c.recv_frame(30)
    check(f is not None and f.opcode == OP_CLOSE and f.close_code == 1000, 'close echo %r' % f)
    c.wait_eof()
    c.close()
    raw.wait_done(10)
    check(got['stalled'] is not None and got['stalled'] < TOTAL_MIB // 2,
          'client pushed %s MiB while the upstream read nothing: no backpressure' % got['stalled'])
    check(got.get('msgs') == TOTAL_MIB, 'upstream got %s messages' % got.get('msgs'))
    lib.log('reverse: client had pushed %d MiB during the pause; RSS +%d KiB' % (got['stalled'], s2.max - base2))
    check(s2.max - base2 < LIMIT_KIB, 'proxy RSS grew by %d KiB while the upstream did not read' % (s2.max - base2))
    s.stop_ = s2.stop_ = True


lib.run(main)
