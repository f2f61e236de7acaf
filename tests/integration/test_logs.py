#!/usr/bin/python3
"""wsproxy(1) LOGGING: lines an operator can use.

  - every line starts with ts= (RFC 3339 UTC, milliseconds, close to the
    clock), or not at all with --log-timestamps off;
  - --log-format json: every line is one JSON object, with the same keys
    and values as the key=value form of the same events;
  - id= is the client's X-Request-Id when it is a safe token, else a
    fresh 16-hex id, and the upstream (python3-websockets) is sent the
    same X-Request-Id;
  - path= is the path asked for, query cut, and escaped: quotes and
    backslashes cannot forge a key or a line, and unquoting the value
    gives the bytes back; a long path is cut and says so;
  - a client's TCP drop and an upstream's crash are warn lines with
    error= and side=; a refused upstream names upstream_addr= and the
    system's error;
  - --log-sample N logs one clean close in N; errors are always logged.
"""
import datetime
import json
import socket
import time

import lib
from lib import check


def lines_of(px, event):
    out = []
    for line in px.stderr_text().splitlines():
        if px.args and 'json' in px.args:
            if line.startswith('{'):
                d = json.loads(line)
                if d.get('event') == event:
                    out.append(d)
            continue
        if line.startswith('ts=') or line.startswith('level='):
            d = lib.parse_log_line(line)
            if d['event'] == event:
                out.append(d)
    return out


def wait_lines(px, event, n, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        got = lines_of(px, event)
        if len(got) >= n:
            return got
        time.sleep(0.05)
    raise lib.Fail('%d %s lines, wanted %d:\n%s' % (len(lines_of(px, event)), event, n,
                                                  px.stderr_tail()))


def clean_pair(port, path='/', headers=None):
    async def go():
        async with lib.ws_connect('ws://127.0.0.1:%d%s' % (port, path),
                                  extra_headers=headers or {}, compression=None) as ws:
            await ws.send('hi')
            check(await ws.recv() == 'hi', 'echo')
    lib.arun(go(), 10)


def raw_status(port, target, headers=b''):
    s = lib.connect(port)
    try:
        s.sendall(b'GET ' + target + b' HTTP/1.1\r\nHost: localhost\r\n'
                  b'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: '
                  + lib.ws_key().encode() + b'\r\nSec-WebSocket-Version: 13\r\n'
                  + headers + b'\r\n')
        r, _ = lib.read_response(s, 5, body=False)
        return r.status
    finally:
        s.close()


def timestamps(ctx, up):
    px = ctx.proxy('--upstream', up.uri)
    clean_pair(px.port)
    close = wait_lines(px, 'close', 1)[0]
    ts = datetime.datetime.strptime(close['ts'], '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=datetime.timezone.utc)
    skew = abs((datetime.datetime.now(datetime.timezone.utc) - ts).total_seconds())
    check(skew < 5, 'ts= is %.1f s away from the clock: %s' % (skew, close['ts']))
    for line in px.stderr_text().splitlines():
        check(line.startswith('ts=') or line.startswith('wsproxy'),
              'a line without ts= first: %r' % line)

    px = ctx.proxy('--upstream', up.uri, '--log-timestamps', 'off')
    clean_pair(px.port)
    wait_lines(px, 'close', 1)
    for line in px.stderr_text().splitlines():
        check('ts=' not in line, '--log-timestamps off, still: %r' % line)


def ids(ctx, up):
    px = ctx.proxy('--upstream', up.uri)
    n0 = len(up.conns)
    clean_pair(px.port, '/given', {'X-Request-Id': 'req-42.a:b+c/d=e@f_g'})
    clean_pair(px.port, '/fresh')
    clean_pair(px.port, '/unsafe', {'X-Request-Id': 'bad id"x'})
    clean_pair(px.port, '/long', {'X-Request-Id': 'a' * 65})
    closes = wait_lines(px, 'close', 4)
    up.wait_done(n0 + 4)
    seen = {r['path']: r['headers'].get_all('X-Request-Id') for r in up.conns[n0:]}
    by_path = {lib.unquote(c['path']).decode(): lib.unquote(c['id']).decode() for c in closes}
    check(seen['/given'] == ['req-42.a:b+c/d=e@f_g'] and
          by_path['/given'] == 'req-42.a:b+c/d=e@f_g',
          'a safe client id is kept and sent upstream: %r %r' % (seen, by_path))
    for p in ('/fresh', '/unsafe', '/long'):
        check(len(seen[p]) == 1 and seen[p][0] == by_path[p], '%s: upstream got %r, log id=%s'
              % (p, seen[p], by_path[p]))
        check(len(by_path[p]) == 16 and all(c in '0123456789abcdef' for c in by_path[p]),
              '%s: a fresh 16-hex id, not %r' % (p, by_path[p]))
    check(len({by_path[p] for p in by_path}) == 4, 'ids are distinct: %r' % by_path)


def escaping(ctx, up):
    px = ctx.proxy('--route', '/chat=%s' % up.uri)
    # Accepted paths keep their percent escapes as asked; the query is cut.
    clean_pair(px.port, '/chat/a%20b%22c%27d?token=secret')
    # Rejected paths carry quotes and backslashes raw into the line.
    check(raw_status(px.port, b'/chat/x"\\ level=error') == 400, 'a space splits the target')
    check(raw_status(px.port, b'/chat/x"y\\z') == 400, 'a quote in a path is refused')
    check(raw_status(px.port, b'/chat/"event=forged"') == 400, 'quotes')
    long_path = b'/chat/' + b'p' * 300
    check(raw_status(px.port, long_path) == 101, 'a long path is relayed')
    check(raw_status(px.port, b'/other') == 404, 'no route')
    time.sleep(0.3)
    closes = lines_of(px, 'close')
    rejects = lines_of(px, 'reject')
    paths = [lib.unquote(d['path']) for d in closes + rejects if 'path' in d]
    check(b'/chat/a%20b%22c%27d' in paths, 'the path as asked, query cut: %r' % paths)
    check(all(b'secret' not in p for p in paths), 'the query is never logged')
    check(b'/chat/x"y\\z' in paths, 'a quoted path unquotes to its bytes: %r' % paths)
    check(b'/chat/"event=forged"' in paths, 'forged key stays a value: %r' % paths)
    for d in closes + rejects:
        check(list(d).count('event') == 1, 'one event key')
    cut = [d['path'] for d in closes + rejects if 'path' in d and lib.unquote(d['path']).startswith(b'/chat/ppp')]
    check(len(cut) == 1 and cut[0].endswith('..."') and len(lib.unquote(cut[0])) == 96 + 3,
          'a long path is cut at 96 bytes and says so: %r' % cut)
    nf = [d for d in rejects if d.get('status') == '404']
    check(len(nf) == 1 and 'route' not in nf[0] and nf[0]['path'] == '"/other"',
          'an unrouted request: path, no route: %r' % nf)


def json_format(ctx, up):
    text = ctx.proxy('--upstream', up.uri)
    js = ctx.proxy('--upstream', up.uri, '--log-format', 'json')
    for px in (text, js):
        clean_pair(px.port, '/json')
        check(raw_status(px.port, b'/q"uote') == 400, 'bad path')
        wait_lines(px, 'close', 1)
        wait_lines(px, 'reject', 1)
    for line in js.stderr_text().splitlines():
        if line.startswith('wsproxy'):
            continue
        d = json.loads(line)
        check(isinstance(d, dict) and 'level' in d and 'event' in d and 'ts' in d,
              'a JSON log line: %r' % line)
    for ev in ('start', 'close', 'reject'):
        a, b = lines_of(text, ev)[0], lines_of(js, ev)[0]
        check(list(a) == list(b), '%s: the same keys in the same order: %r vs %r'
              % (ev, list(a), list(b)))
    a, b = lines_of(text, 'reject')[0], lines_of(js, 'reject')[0]
    check(lib.unquote(a['path']) == b['path'].encode('latin-1') == b'/q"uote',
          'the same path either way: %r %r' % (a['path'], b['path']))
    c = lines_of(js, 'close')[0]
    check(c['status'] == 101 and isinstance(c['c2u_msgs'], int) and c['c2u_msgs'] == 1,
          'numbers are JSON numbers: %r' % c)
    # an id of digits only stays a string: one type per key
    clean_pair(js.port, '/digits', {'X-Request-Id': '12345678901234567890'})
    d = [x for x in wait_lines(js, 'close', 2) if x.get('path') == '/digits']
    check(len(d) == 1 and d[0]['id'] == '12345678901234567890',
          'a digits-only id is a JSON string: %r' % d)


def errors(ctx, up):
    dead = lib.free_port()
    px = ctx.proxy('--route', '/=%s' % up.uri, '--route', '/dead=ws://127.0.0.1:%d' % dead)
    # the client drops its TCP connection without a close frame
    c = lib.RawClient(px.port, '/')
    c.send_frame(lib.OP_TEXT, b'x')
    check(c.recv_frame(5).payload == b'x', 'echo')
    c.sock.close()
    # an upstream that dies mid-pair
    def crash(conn):
        conn.handshake()
        conn.recv_frame(5)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\x01\x00\x00\x00\x00\x00\x00\x00')
        conn.sock.close()
    rup = ctx.raw_upstream(crash)
    px2 = ctx.proxy('--upstream', rup.uri)
    c2 = lib.RawClient(px2.port, '/')
    c2.send_frame(lib.OP_TEXT, b'y')
    f = c2.recv_frame(5)
    check(f is not None and f.opcode == lib.OP_CLOSE and f.close_code == 1014,
          'the client hears 1014 when its upstream dies: %r' % f)
    c2.close()
    check(raw_status(px.port, b'/dead') == 502, 'refused upstream')
    a = [d for d in wait_lines(px, 'close', 1) if d.get('error')]
    check(len(a) == 1 and a[0]['level'] == 'warn' and a[0]['side'] == 'client' and
          a[0]['closed_by'] == 'client', 'a client TCP drop: warn, error=, side=client: %r' % a)
    b = wait_lines(px2, 'close', 1)
    check(b[0]['level'] == 'warn' and b[0]['side'] == 'upstream' and 'error' in b[0],
          'an upstream crash: warn, error=, side=upstream: %r' % b)
    r = wait_lines(px, 'reject', 1)
    check(r[0]['level'] == 'warn' and r[0]['status'] == '502' and
          r[0]['upstream_addr'] == '127.0.0.1:%d' % dead and
          'Connection refused' in lib.unquote(r[0]['error']).decode(),
          'a refused upstream: its address and the system error: %r' % r)


def sampling(ctx, up):
    px = ctx.proxy('--upstream', up.uri, '--log-sample', '3')
    for _ in range(6):
        clean_pair(px.port)
    c = lib.RawClient(px.port, '/')
    c.sock.close()
    time.sleep(0.5)
    closes = lines_of(px, 'close')
    clean = [d for d in closes if 'error' not in d]
    bad = [d for d in closes if 'error' in d]
    check(len(clean) == 2, '--log-sample 3 over 6 clean closes: %d lines' % len(clean))
    check(len(bad) == 1, 'an error close is always logged: %r' % bad)


def main(ctx):
    up = ctx.ws_upstream(compression=None)
    timestamps(ctx, up)
    ids(ctx, up)
    escaping(ctx, up)
    json_format(ctx, up)
    errors(ctx, up)
    sampling(ctx, up)


lib.run(main)
