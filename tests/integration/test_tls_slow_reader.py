#!/usr/bin/python3
"""wsproxy(1) RELAYING backpressure with TLS on both legs (tls: listener, wss://
upstream): a wss:// upstream pushes TLS_SLOW_READER_MIB (default 64) MiB
to a TLS client that reads nothing for a while: the upstream is held
back and the proxy's RSS stays below +64 MiB; then everything arrives
intact.  The same with a TLS client pushing to a TLS upstream that does
not read.  TLS records queue in the engine like plain bytes in the
flow: nothing grows without bound."""
import os
import ssl
import threading
import time
import lib
import tlslib
from lib import check, frame, OP_BINARY, OP_CLOSE

TOTAL_MIB = int(os.environ.get('TLS_SLOW_READER_MIB', '64'))
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
    lib.skip_under_valgrind('timing: TLS under valgrind is too slow for the pacing')
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    cctx = tlslib.client_context(pki)
    progress = {'sent': 0}

    async def pusher(ws, rec):
        await ws.recv()
        for i in range(TOTAL_MIB):
            await ws.send(bytes([i & 0xff]) * MSG)
            progress['sent'] = i + 1
        await ws.send('done')
        await ws.wait_closed()
    up = tlslib.wss_upstream(ctx, pki.server, pusher, compression=None, write_limit=1 << 16)
    px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--tls-ca', pki.ca.crt,
                          '--listen-cert', pki.server.crt, '--listen-key', pki.server.key)
    base = lib.rss_kib(px.pid)
    s = Sampler(px.pid)
    s.start()
    c = tlslib.TlsRawClient(px.port, cctx, rcvbuf=1 << 16)
    c.send(frame(lib.OP_TEXT, b'start'))
    time.sleep(PAUSE)
    stalled_at = progress['sent']
    check(stalled_at < TOTAL_MIB // 2,
          'upstream pushed %d MiB while the client read nothing: no backpressure' % stalled_at)
    check(s.max - base < LIMIT_KIB, 'proxy RSS grew by %d KiB while the client did not read' % (s.max - base))
    t0 = time.time()
    for i in range(TOTAL_MIB):
        f = c.recv_frame(30)
        check(f is not None and f.opcode == OP_BINARY and len(f.payload) == MSG, 'message %d: %r' % (i, f))
        check(f.payload == bytes([i & 0xff]) * MSG, 'message %d: content differs' % i)
    f = c.recv_frame(10)
    check(f is not None and f.payload == b'done', 'final message %r' % f)
    lib.log('client read %d MiB in %.1fs; upstream had pushed %d MiB during the pause; RSS +%d KiB'
            % (TOTAL_MIB, time.time() - t0, stalled_at, s.max - base))
    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    c.expect_close(1000)
    c.close()
    up.wait_done(1, 5)

    # reverse: a TLS upstream that does not read
    sctx = pki.server.server_context()
    got = {'stalled': None}
    sent = {'n': 0}

    def slow_up(conn):
        conn.sock.setsockopt(lib.socket.SOL_SOCKET, lib.socket.SO_RCVBUF, 1 << 16)
        conn.sock = sctx.wrap_socket(conn.sock, server_side=True)
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
                try:
                    conn.wait_eof()
                except ssl.SSLError:
                    pass
                break
            check(len(f.payload) == MSG and f.payload == bytes([n & 0xf]) * MSG,
                  'upstream: message %d differs' % n)
            n += 1
        got['msgs'] = n
    raw = ctx.raw_upstream(slow_up)
    px2 = tlslib.tls_proxy(ctx, '--upstream', 'wss://localhost:%d' % raw.port, '--tls-ca', pki.ca.crt,
                           '--listen-cert', pki.server.crt, '--listen-key', pki.server.key)
    base2 = lib.rss_kib(px2.pid)
    s2 = Sampler(px2.pid)
    s2.start()
    c = tlslib.TlsRawClient(px2.port, cctx)
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
