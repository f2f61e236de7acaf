#!/usr/bin/python3
"""wsproxy(1) DESCRIPTION --idle-timeout MS: a pair with no frame in either direction for
that long is closed (both sides); a pair with traffic in either direction
is not; 0 (default) means never."""
import time
import lib
from lib import check, frame, OP_TEXT, OP_CLOSE, OP_PING

IDLE = 800


def idle_close(c, what, t0):
    """The client side must end within IDLE + slack; returns the close frame or None."""
    f = None
    try:
        f = c.recv_frame(IDLE / 1000 + 3)
    except lib.Fail as e:
        raise lib.Fail('%s: %s' % (what, e))
    dt = time.time() - t0
    check(f is None or f.opcode == OP_CLOSE, '%s: got %r instead of a close' % (what, f))
    check(dt >= IDLE / 1000 * 0.8, '%s: closed after %.2fs, before --idle-timeout %d' % (what, dt, IDLE))
    check(dt <= IDLE / 1000 + 2.5, '%s: closed only after %.2fs' % (what, dt))
    if f is not None:
        check(not f.masked, '%s: masked close to the client' % what)
        c.try_send(frame(OP_CLOSE, f.payload[:2]))
    c.wait_eof(3)
    return f


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--idle-timeout', str(IDLE))
    # idle from the start
    c = lib.RawClient(px.port, '/')
    f = idle_close(c, 'idle pair', time.time())
    c.close()
    up.wait_done(1, 3)
    lib.log('idle close to client: %r, upstream close code %s' % (f, up.conns[0]['close_code']))
    check(up.conns[0]['close_code'] is not None, 'upstream not closed')

    # client traffic keeps it open; then idle
    c = lib.RawClient(px.port, '/')
    t_end = time.time() + IDLE / 1000 * 2.5
    while True:
        c.send(frame(OP_TEXT, b'keepalive'))
        r = c.recv_frame(2)
        t_last = time.time()
        check(r is not None and r.payload == b'keepalive', 'active pair closed: %r' % r)
        if t_last > t_end:
            break
        time.sleep(IDLE / 1000 / 4)
    f = idle_close(c, 'pair idle after traffic', t_last)
    c.close()
    up.wait_done(2, 3)

    # pings from the upstream side count as frames too
    import asyncio

    async def pinger(ws, rec):
        for _ in range(int(IDLE / 1000 * 2.5 / (IDLE / 1000 / 4))):
            await ws.ping(b'k')
            await asyncio.sleep(IDLE / 1000 / 4)
        await ws.wait_closed()
    up2 = ctx.ws_upstream(pinger)
    px2 = ctx.proxy('--upstream', up2.uri, '--idle-timeout', str(IDLE))
    c = lib.RawClient(px2.port, '/')
    t_end = time.time() + IDLE / 1000 * 2.2
    while time.time() < t_end:
        r = c.recv_frame(2)
        check(r is not None and r.opcode == OP_PING, 'pair with upstream pings: got %r' % r)
        c.send(frame(lib.OP_PONG, r.payload))
    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    while True:
        r = c.recv_frame(3)
        if r is None or r.opcode == OP_CLOSE:
            break
    check(r is not None and r.close_code == 1000, 'close echo %r' % r)
    c.wait_eof()
    c.close()

    # default: no idle timeout
    px3 = ctx.proxy('--upstream', up.uri)
    c = lib.RawClient(px3.port, '/')
    time.sleep(IDLE / 1000 * 2.5)
    c.send(frame(OP_TEXT, b'still'))
    r = c.recv_frame(2)
    check(r is not None and r.payload == b'still', 'pair without --idle-timeout closed: %r' % r)
    c.send(frame(OP_CLOSE, lib.close_payload(1000)))
    c.expect_close(1000)
    c.close()
    up.wait_done(3, 3)
    up2.wait_done(1, 3)


lib.run(main)
