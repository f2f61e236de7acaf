#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE row 8: a request head not complete within --request-timeout ->
408 (text/plain, Connection: close); a client that sent nothing is just
closed.  Nothing goes upstream.  A complete head in time is fine."""
import time
import lib
from lib import check

TIMEOUT_MS = 600


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--request-timeout', str(TIMEOUT_MS))

    # partial head
    s = lib.connect(px.port)
    t0 = time.time()
    s.sendall(b'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n')
    r, rest = lib.read_response(s, timeout=5)
    dt = time.time() - t0
    lib.check_error_response(r, 408, 'partial head')
    check(dt >= TIMEOUT_MS / 1000 * 0.8, '408 after %.2fs, before the %d ms timeout' % (dt, TIMEOUT_MS))
    check(dt <= TIMEOUT_MS / 1000 + 2.0, '408 only after %.2fs (timeout %d ms)' % (dt, TIMEOUT_MS))
    lib.read_to_eof(s)
    s.close()

    # a trickle that keeps sending still times out (the limit is for the whole head)
    s = lib.connect(px.port)
    t0 = time.time()
    got = b''
    s.settimeout(0.1)
    for ch in b'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + b'z' * 100:
        try:
            s.send(bytes([ch]))
        except OSError:
            break
        try:
            d = s.recv(4096)
            got += d
            if not d or b'\r\n\r\n' in got:
                break
        except OSError:
            pass
        if time.time() - t0 > 5:
            break
    dt = time.time() - t0
    check(got.startswith(b'HTTP/1.1 408'), 'trickled head: expected 408, got %r after %.2fs' % (got[:60], dt))
    check(dt <= TIMEOUT_MS / 1000 + 2.0, 'trickled head: 408 only after %.2fs' % dt)
    s.close()

    # nothing sent: closed without a response
    s = lib.connect(px.port)
    t0 = time.time()
    data = lib.read_to_eof(s, 5)
    dt = time.time() - t0
    check(data == b'', 'silent client got bytes: %r' % data[:80])
    check(dt >= TIMEOUT_MS / 1000 * 0.8, 'silent client closed after %.2fs, before the timeout' % dt)
    s.close()

    check(up.tcp_conns == 0 and up.tcp_bytes == 0,
          'upstream got %d connections / %d bytes for timed-out requests' % (up.tcp_conns, up.tcp_bytes))

    # a head split in two parts well within the timeout is fine
    s = lib.connect(px.port)
    req = lib.upgrade_request('/')
    s.sendall(req[:20])
    time.sleep(TIMEOUT_MS / 1000 / 3)
    s.sendall(req[20:])
    r, rest = lib.read_response(s)
    check(r.status == 101, 'split head in time: got %d' % r.status)
    c = lib.Conn(s, rest)
    c.send(lib.frame(lib.OP_CLOSE, lib.close_payload(1000)))
    f = c.recv_frame()
    check(f and f.opcode == lib.OP_CLOSE, 'no close echo: %r' % f)
    c.wait_eof()
    s.close()
    # the pair, once open, is not subject to the request timeout
    c = lib.RawClient(px.port, '/')
    time.sleep(TIMEOUT_MS / 1000 * 2)
    c.send_frame(lib.OP_TEXT, b'still here')
    f = c.recv_frame()
    check(f and f.payload == b'still here', 'open pair closed by request timeout? %r' % f)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    up.wait_done(2, 3)


lib.run(main)
