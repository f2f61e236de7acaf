#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE bullet 6: the upstream refuses the connection -> 502 (text/plain,
Connection: close), quickly; the proxy keeps serving."""
import time
import lib
from lib import check


def main(ctx):
    dead = lib.free_port()
    px = ctx.proxy('--upstream', 'ws://127.0.0.1:%d/app' % dead)
    for i in range(3):
        t0 = time.time()
        r = lib.http_exchange(px.port, lib.upgrade_request('/'))
        lib.check_error_response(r, 502, 'refused upstream, try %d' % i)
        check(time.time() - t0 < 2, '502 took %.1fs' % (time.time() - t0))

    async def client():
        try:
            async with lib.ws_connect('ws://127.0.0.1:%d/' % px.port):
                return None
        except Exception as e:  # noqa
            return lib.invalid_status(e)
    check(lib.arun(client(), 10) == 502, 'websockets client did not see 502')

    # a route to a refusing upstream next to a working one
    up = ctx.ws_upstream()
    px2 = ctx.proxy('--route', '/dead=ws://127.0.0.1:%d' % dead, '--route', '/live=' + up.uri)
    r = lib.http_exchange(px2.port, lib.upgrade_request('/dead'))
    lib.check_error_response(r, 502, 'refused route')
    c = lib.RawClient(px2.port, '/live')
    c.send_frame(lib.OP_TEXT, b'ok')
    f = c.recv_frame()
    check(f and f.payload == b'ok', 'live route broken: %r' % f)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    up.wait_done(1, 3)


lib.run(main)
