#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 6: a malformed upstream response -> 502 (text/plain,
Connection: close); also an upstream that closes before answering, a
truncated head, and a 101 that is not a WebSocket upgrade."""
import lib

CASES = [
    ('garbage', b'HELLO WORLD\r\n\r\n'),
    ('not HTTP', b'SSH-2.0-OpenSSH_9.2\r\n'),
    ('bad status code', b'HTTP/1.1 1x1 Switching\r\nUpgrade: websocket\r\n\r\n'),
    ('header without colon', b'HTTP/1.1 101 Switching Protocols\r\nUpgrade websocket\r\n\r\n'),
    ('obs-fold', b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n fold\r\nConnection: Upgrade\r\n\r\n'),
    ('NUL in value', b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: web\x00socket\r\nConnection: Upgrade\r\n\r\n'),
    ('truncated head then close', b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'),
    ('close before answering', b''),
    ('101 without Upgrade', b'ACCEPT:HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n'),
    ('101 with Upgrade: h2c', b'ACCEPT:HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n'),
]


def main(ctx):
    cur = {}

    def handler(c):
        req = c.read_request()
        resp = cur['resp']
        if resp.startswith(b'ACCEPT:'):
            resp = resp[7:] + b'Sec-WebSocket-Accept: ' + lib.accept_for(req.get('Sec-WebSocket-Key')).encode() + b'\r\n\r\n'
        if resp:
            c.send(resp)
        # close right away: a proxy still waiting for the head must give up
        c.close()

    raw = ctx.raw_upstream(handler)
    px = ctx.proxy('--upstream', raw.uri)
    for what, resp in CASES:
        cur['resp'] = resp
        r = lib.http_exchange(px.port, lib.upgrade_request('/'))
        lib.check_error_response(r, 502, what)
    raw.wait_done(5)

    # an oversized upstream head (never-ending header) -> 502, not a hang
    def huge(c):
        c.read_request()
        c.send(b'HTTP/1.1 101 Switching Protocols\r\nX-Big: ')
        try:
            for _ in range(256):
                c.send(b'a' * 4096)
        except OSError:
            pass
        c.wait_eof(5)
    raw2 = ctx.raw_upstream(huge)
    px2 = ctx.proxy('--upstream', raw2.uri)
    r = lib.http_exchange(px2.port, lib.upgrade_request('/'), timeout=8)
    lib.check_error_response(r, 502, 'endless upstream head')
    raw2.wait_done(8)


lib.run(main)
