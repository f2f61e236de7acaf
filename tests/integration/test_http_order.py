#!/usr/bin/python3
"""wsproxy(1) HANDSHAKE: the table is applied in order: when a request is wrong in
several ways the earliest row decides (431 before 400 before 404 before
426 (method/upgrade) before 426 (version) before 400 (key) before 503)."""
import lib
from lib import check


def main(ctx):
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--path', '/ok', '--max-header-bytes', '2048')
    cases = [
        ('too large and malformed', b'GARBAGE\r\nX: ' + b'a' * 3000 + b'\r\n\r\n', 431),
        ('too large, no route', lib.upgrade_request('/nope', headers=[('X-F', 'f' * 3000)]), 431),
        ('malformed and no route', lib.upgrade_request('/nope', headers=[('Content-Length', '0')]), 400),
        ('obs-fold and POST', lib.upgrade_request('/ok', method='POST', headers=[('X-A', 'b\r\n c')]), 400),
        ('no route and POST', lib.upgrade_request('/nope', method='POST'), 404),
        ('no route, no Upgrade', lib.upgrade_request('/nope', omit=['Upgrade']), 404),
        ('no route, bad version', lib.upgrade_request('/nope', version='8'), 404),
        ('no route, bad key', lib.upgrade_request('/nope', key='short'), 404),
        ('POST with bad version', lib.upgrade_request('/ok', method='POST', version='8'), 426),
        ('no Upgrade, bad key', lib.upgrade_request('/ok', omit=['Upgrade'], key='short'), 426),
        ('bad version, bad key', lib.upgrade_request('/ok', version='8', key='short'), 426),
    ]
    for what, req, want in cases:
        r = lib.http_exchange(px.port, req)
        lib.check_error_response(r, want, what)
        if want == 426 and 'version' in what and 'POST' not in what:
            check('13' in r.tokens('Sec-WebSocket-Version'), '%s: no Sec-WebSocket-Version: 13' % what)
    check(up.tcp_conns == 0, 'upstream contacted for rejected requests')

    # with the slab full, a request that is wrong in another way gets that answer, a good one 503
    px2 = ctx.proxy('--upstream', up.uri, '--path', '/ok', '--max-conns', '1')
    hold = lib.RawClient(px2.port, '/ok')
    for what, req, want in [('full slab, bad key', lib.upgrade_request('/ok', key='short'), 400),
                            ('full slab, no route', lib.upgrade_request('/nope'), 404),
                            ('full slab, version 8', lib.upgrade_request('/ok', version='8'), 426),
                            ('full slab, good request', lib.upgrade_request('/ok'), 503)]:
        r = lib.http_exchange(px2.port, req)
        lib.check_error_response(r, want, what)
    hold.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    hold.expect_close(1000)
    hold.close()
    up.wait_done(1, 3)


lib.run(main)
