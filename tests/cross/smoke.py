#!/usr/bin/python3
"""wsproxy(1) PLATFORMS: the smoke suite `make check-cross` runs against a
static binary for another machine under qemu-user.  WSPROXY is a wrapper
that execs qemu-ARCH-static on it (tests/cross.sh); WSPROXY_EXPECT_TLS
says whether that binary must have TLS (1) or must refuse it (0).

Through the proxy, with python3-websockets as client and upstream: text
and binary messages of every length form (7-bit, 16-bit and 64-bit
lengths, where a byte-order slip in the frame codec would show), each
checked where the upstream received it and where the client got it back;
a hand-written client whose Sec-WebSocket-Accept check covers SHA-1 on
that machine; a 403 from the upstream passed through with its body; a
close code and reason from the client to the upstream and from the
upstream to the client.  With TLS: a wss:// upstream verified against a
test CA (EC certificate), and tls: listeners with EC and RSA
certificates.  Without TLS: wss:// is refused with exit 64."""
import http
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'integration'))
import lib      # noqa: E402
import tlslib   # noqa: E402
from lib import check  # noqa: E402

# 7-bit lengths up to 125, 16-bit from 126, 64-bit from 65536.
SIZES = (0, 1, 125, 126, 1000, 65535, 65536, 70001)


def text_of(n):
    # multi-byte UTF-8 too, so the text is not all ASCII
    s = ('wsproxy \u00e9\u20ac ' * (n // 12 + 1))
    return s[:n]


def messages():
    out = []
    for n in SIZES:
        out.append(text_of(n))
        out.append(os.urandom(n))
    return out


async def upstream(ws, rec):
    """Echo, except: /close-from-upstream closes with 4002 at once."""
    if ws.path.startswith('/close-from-upstream'):
        await ws.close(4002, 'upstream says bye')
        return
    async for m in ws:
        rec['messages'].append(m)
        await ws.send(m)


def forbid(path, headers):
    if path.startswith('/forbidden'):
        return (http.HTTPStatus.FORBIDDEN, [('Content-Type', 'text/plain')],
                b'no entry here\n')
    return None


def relay(up, uri, what, **kw):
    """Every message out and back; the upstream's copy checked too."""
    want = messages()
    before = len(up.conns)

    async def go():
        got = []
        async with lib.ws_connect(uri, **kw) as ws:
            for m in want:
                await ws.send(m)
                got.append(await ws.recv())
        return got
    got = lib.arun(go(), 60)
    for m, g in zip(want, got):
        check(type(g) is type(m) and g == m, '%s: %s of %d came back as %s of %d'
              % (what, type(m).__name__, len(m), type(g).__name__, len(g)))
    check(up.wait_conns(before + 1, 5) > before, '%s: no upstream connection' % what)
    up.wait_done(timeout=5)
    seen = up.conns[before]['messages']
    check(seen == want, '%s: the upstream received %d messages, %d as sent' %
          (what, len(seen), sum(1 for a, b in zip(seen, want) if a == b)))


def close_both_ways(up, port):
    before = len(up.conns)

    async def client_closes():
        async with lib.ws_connect('ws://127.0.0.1:%d/c' % port) as ws:
            await ws.send('x')
            await ws.recv()
            await ws.close(4001, 'client says bye')
    lib.arun(client_closes(), 20)
    check(up.wait_conns(before + 1, 5) > before, 'no upstream connection')
    rec = up.wait_done(timeout=5)[before]
    check(rec['close_code'] == 4001 and rec['close_reason'] == 'client says bye',
          'client close: the upstream saw %r %r' % (rec['close_code'], rec['close_reason']))

    async def upstream_closes():
        async with lib.ws_connect('ws://127.0.0.1:%d/close-from-upstream' % port) as ws:
            try:
                await ws.recv()
            except Exception:  # noqa: ConnectionClosed* is the point
                pass
            return ws.close_code, ws.close_reason
    code, reason = lib.arun(upstream_closes(), 20)
    check(code == 4002 and reason == 'upstream says bye',
          'upstream close: the client saw %r %r' % (code, reason))


def raw_accept(port):
    # RawClient checks Sec-WebSocket-Accept (SHA-1 of the key, done by the
    # proxy) and a close frame's code byte for byte.
    c = lib.RawClient(port, '/raw')
    c.send_frame(lib.OP_BINARY, b'\x00\x01\x02\x03\xfe\xff' * 50)
    f = c.recv_frame()
    check(f is not None and f.payload == b'\x00\x01\x02\x03\xfe\xff' * 50,
          'raw client: echo %r' % f)
    c.send_frame(lib.OP_CLOSE, lib.close_payload(4003, 'raw'))
    f = c.next_close()
    check(f is not None and f.close_code == 4003, 'raw client: close answer %r' % f)
    c.close()


def main(ctx):
    expect_tls = os.environ.get('WSPROXY_EXPECT_TLS', '')
    has_tls = tlslib.tls_built_in()
    if expect_tls:
        check(has_tls == (expect_tls == '1'), '--version says TLS %s, want %s'
              % (has_tls, expect_tls == '1'))
    up = ctx.ws_upstream(upstream, process_request=forbid)
    px = ctx.proxy('--upstream', up.uri)

    def c_relay():
        relay(up, 'ws://127.0.0.1:%d/r' % px.port, 'relay')

    def c_403():
        r = lib.http_exchange(px.port, lib.upgrade_request('/forbidden'))
        check(r.status == 403 and r.body == b'no entry here\n',
              'got %d %s %r, want 403 and its body' % (r.status, r.reason, r.body))

    table = [('relay text and binary, every length form', c_relay),
             ('sha-1 accept and raw frames', lambda: raw_accept(px.port)),
             ('403 passthrough', c_403),
             ('close code both ways', lambda: close_both_ways(up, px.port))]

    if has_tls:
        pki = tlslib.Pki(ctx)
        wup = tlslib.wss_upstream(ctx, pki.server, upstream)

        def c_wss():
            tpx = ctx.proxy('--upstream', wup.uri, '--tls-ca', pki.ca.crt)
            relay(wup, 'ws://127.0.0.1:%d/w' % tpx.port, 'wss upstream')

        def c_listen(kind):
            cert = pki.cert('listener-' + kind, kind=kind, chain=True)
            lpx = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--listen-cert',
                                   cert.crt, '--listen-key', cert.key)
            relay(up, 'wss://localhost:%d/l' % lpx.port, 'tls listener ' + kind,
                  ssl=tlslib.client_context(pki))
        table += [('wss upstream (EC)', c_wss),
                  ('tls listener (EC)', lambda: c_listen('ec')),
                  ('tls listener (RSA)', lambda: c_listen('rsa'))]
    else:
        def c_refuse():
            st, out, err = lib.run_proxy_once(['--upstream', 'wss://localhost:1'], 30)
            check(st == 64, 'wss:// without TLS: exit %d, want 64 (%s)' % (st, err.strip()))
        table.append(('no TLS: wss:// refused', c_refuse))

    lib.cases([(name,) for name, fn in table],
              lambda name: dict(table)[name]())


lib.run(main)
