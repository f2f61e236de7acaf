#!/usr/bin/python3
"""wsproxy(1) ADMIN: --admin answers probes in every lifecycle state.

  - accepting: GET /healthz 200 "ok", /readyz 200, /metrics 200 with the
    exposition format's content type; HEAD gets the head alone; every
    answer has Content-Length and Connection: close, and the connection
    is closed after it;
  - anything else is 404, another method 405 with Allow, a head that is
    not HTTP 400, one larger than 4 KiB 431, one too slow 408;
  - the admin listener is not a client listener (an upgrade there is
    404) and a client listener does not answer probes (426);
  - draining (SIGTERM, a pair that does not answer its close): /readyz
    503 with Retry-After, /healthz still 200, wsproxy_ready 0;
  - SIGUSR2: the new process takes the admin listener over; no probe is
    refused during the restart, and the new process answers 200;
  - --admin with tls:, with a --listen address, twice, or unbindable is
    exit 64 (or 71) naming --admin.
"""
import os
import re
import signal
import socket
import threading
import time

import lib
from lib import check


def ask(port, path, method='GET', raw=None, timeout=5.0):
    """One admin request: the Response (body read for GET)."""
    req = raw if raw is not None else (
        '%s %s HTTP/1.1\r\nHost: admin\r\n\r\n' % (method, path)).encode()
    s = lib.connect(port)
    try:
        s.sendall(req)
        r, rest = lib.read_response(s, timeout, body=(method != 'HEAD'))
        extra = rest + lib.read_to_eof(s, 3.0)
        check(not extra, '%s %s: bytes after the answer: %r' % (method, path, extra[:80]))
        check((r.get('Connection') or '').lower() == 'close',
              '%s %s: no Connection: close: %r' % (method, path, r))
        check(r.get('Content-Length') is not None, '%s %s: no Content-Length' % (method, path))
        return r
    finally:
        s.close()


def status(port, path, method='GET'):
    return ask(port, path, method).status


def accepting(ctx, up):
    aport = lib.free_port()
    px = ctx.proxy('--upstream', up.uri, '--admin', '127.0.0.1:%d' % aport)
    r = ask(aport, '/healthz')
    check(r.status == 200 and r.body == b'ok\n', '/healthz: %r %r' % (r, r.body))
    r = ask(aport, '/readyz')
    check(r.status == 200 and r.body == b'ready\n', '/readyz: %r %r' % (r, r.body))
    r = ask(aport, '/readyz?verbose=1')
    check(r.status == 200, '/readyz with a query: %r' % r)
    r = ask(aport, '/metrics')
    check(r.status == 200, '/metrics: %r' % r)
    check(r.get('Content-Type', '').startswith('text/plain; version=0.0.4'),
          '/metrics content type: %r' % r.get('Content-Type'))
    check(int(r.get('Content-Length')) == len(r.body) and b'wsproxy_ready 1\n' in r.body,
          '/metrics body: %r' % r.body[:200])
    r = ask(aport, '/healthz', 'HEAD')
    check(r.status == 200 and r.get('Content-Length') == '3', 'HEAD /healthz: %r' % r)
    r = ask(aport, '/metrics', 'HEAD')
    check(r.status == 200 and int(r.get('Content-Length')) > 1000, 'HEAD /metrics: %r' % r)
    for path in ('/', '/healthz/', '/healthzx', '/metrics/x', '/chat', '/HEALTHZ'):
        check(status(aport, path) == 404, '%s: not 404' % path)
    for m in ('POST', 'PUT', 'DELETE', 'OPTIONS'):
        r = ask(aport, '/healthz', m)
        check(r.status == 405 and r.get('Allow') == 'GET, HEAD', '%s /healthz: %r' % (m, r))
    r = ask(aport, None, raw=b'HELLO\r\n\r\n')
    check(r.status == 400, 'garbage: %r' % r)
    r = ask(aport, None, raw=b'GET /healthz HTTP/1.1\r\nX: ' + b'a' * 5000 + b'\r\n\r\n')
    check(r.status == 431, 'a 5 KB head: %r' % r)
    # an upgrade on the admin port is not relayed
    r = ask(aport, None, raw=lib.upgrade_request('/'))
    check(r.status == 404, 'an upgrade on the admin port: %r' % r)
    # and the client listener does not answer probes
    r = lib.http_exchange(px.port, b'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n')
    check(r.status == 426, 'a probe on the client listener: %r' % r)
    # too slow: 408 after about 2 s, then closed
    s = lib.connect(aport)
    s.sendall(b'GET /healthz HTTP/1.1\r\n')
    t0 = time.time()
    r, _ = lib.read_response(s, 10)
    check(r.status == 408, 'a head never finished: %r' % r)
    lib.log('admin: an unfinished head got 408 after %.2f s' % (time.time() - t0))
    s.close()
    px.wait_log('event=admin method="POST" path="/healthz" status=405', 'a 405 is logged')
    lib.log('admin: accepting: healthz, readyz, metrics, HEAD, 404, 405, 400, 431, 408 ok')
    return px


def draining(ctx, up):
    aport = lib.free_port()
    px = ctx.proxy('--upstream', up.uri, '--admin', '127.0.0.1:%d' % aport,
                   '--drain-timeout', '6s')
    c = lib.RawClient(px.port, '/')     # does not answer the drain's close
    c.send_frame(lib.OP_TEXT, b'hold')
    check(c.recv_frame(5).payload == b'hold', 'echo before the drain')
    px.p.send_signal(signal.SIGTERM)
    f = c.recv_frame(5)
    check(f is not None and f.opcode == lib.OP_CLOSE and f.close_code == 1001,
          'the pair got its drain close: %r' % f)
    r = ask(aport, '/readyz')
    check(r.status == 503 and r.get('Retry-After') == '1' and r.body == b'draining\n',
          '/readyz while draining: %r %r' % (r, r.body))
    check(status(aport, '/healthz') == 200, '/healthz while draining')
    body = ask(aport, '/metrics').body
    check(b'wsproxy_ready 0\n' in body, 'wsproxy_ready while draining')
    check(re.search(rb'wsproxy_pairs\{state="closing"\} 1\n', body),
          'the draining pair is counted as closing')
    try:
        socket.create_connection(('127.0.0.1', px.port), 1).close()
        check(False, 'the client listener still accepts while draining')
    except ConnectionRefusedError:
        pass
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1001))
    check(px.p.wait(10) == 0, 'exit status after the drain')
    px.baseline = None          # ended on purpose
    try:
        socket.create_connection(('127.0.0.1', aport), 1).close()
        check(False, 'the admin port answers after the process ended')
    except ConnectionRefusedError:
        pass
    lib.log('admin: draining: readyz 503 (Retry-After: 1), healthz 200, ready 0')


def restart(ctx, up):
    aport = lib.free_port()
    px = ctx.proxy('--upstream', up.uri, '--admin', '127.0.0.1:%d' % aport)
    start0 = re.search(rb'\nwsproxy_start_time_seconds (\S+)', ask(aport, '/metrics').body).group(1)
    seen, errors, stop = {}, [], threading.Event()

    def poll():
        while not stop.is_set():
            try:
                st = status(aport, '/readyz')
                seen[st] = seen.get(st, 0) + 1
            except Exception as e:  # noqa
                errors.append('%s: %s' % (type(e).__name__, e))
            time.sleep(0.01)

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    time.sleep(0.3)
    px.p.send_signal(signal.SIGUSR2)
    check(px.p.wait(15) == 0, 'the old process ends after the restart')
    px.baseline = None
    time.sleep(0.5)
    stop.set()
    t.join(5)
    check(not errors, 'probes failed during the restart: %s' % errors[:3])
    body = ask(aport, '/metrics').body
    start1 = re.search(rb'\nwsproxy_start_time_seconds (\S+)', body).group(1)
    check(start1 != start0, 'the admin port is still the old process (%s)' % start0)
    check(status(aport, '/readyz') == 200, 'the new process is ready')
    lib.log('admin: restart: %d probes, answers %r, none refused' % (sum(seen.values()), seen))
    # the new process is not a child the harness knows: stop it by the pid
    # the old one logged
    m = re.findall(r'event=restart pid=(\d+)', px.stderr_text())
    check(m, 'no event=restart pid= line')
    os.kill(int(m[-1]), signal.SIGTERM)


def flags(ctx, up):
    port = lib.free_port()
    for args, code, text in (
            (['--admin', 'tls:127.0.0.1:%d' % port], 64, '--admin'),
            (['--listen', '127.0.0.1:%d' % port, '--admin', '127.0.0.1:%d' % port], 64, '--admin'),
            (['--admin', '127.0.0.1:1', '--admin', '127.0.0.1:2'], 64, '--admin'),
            (['--admin', 'nonsense'], 64, '--admin'),
            (['--admin', '192.0.2.1:%d' % port], 71, '--admin')):
        if '--listen' not in args:
            args = ['--listen', '127.0.0.1:%d' % lib.free_port()] + args
        st, out, err = lib.run_proxy_once(args + ['--upstream', up.uri])
        check(st == code and text in err, '%s: status %s, %r' % (' '.join(args), st, err[-200:]))
    lib.log('admin: bad --admin flags: exit 64 or 71 naming --admin')


def main(ctx):
    up = ctx.ws_upstream()
    accepting(ctx, up)
    draining(ctx, up)
    flags(ctx, up)
    restart(ctx, up)


lib.run(main)
