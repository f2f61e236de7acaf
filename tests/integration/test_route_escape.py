#!/usr/bin/python3
"""wsproxy(1) REWRITING, SECURITY: a client reaches only the
route it matched, or gets 400, however it spells its path.

Two routes, each to its own upstream stand-in with a path of its own:
    /chat -> ws://UP1/internal/chat      /  -> ws://UP2/pub
Every spelling in the table (dot segments literal, encoded, double
encoded, with ;params, with blanks, overlong, look-alikes; slashes and
backslashes encoded or not; empty segments; ';' in the prefix; queries
and fragments) is sent raw.  When it is not refused with 400, the target
the upstream received is read three ways, as real upstreams read paths:
  - RFC 3986 remove_dot_segments, on the path as received and after one
    and two rounds of percent-decoding;
  - the WHATWG URL parser (node's new URL()), and its pathname decoded
    and resolved again;
  - a servlet container: ';params' cut from every segment, decoded,
    resolved; and one that decodes before it cuts.
Every reading must stay under the path of the upstream that received it.
Benign spellings must pass, normalised as the man page says.
"""
import itertools
import json
import subprocess
import urllib.parse

import lib
from lib import check


def remove_dot_segments(path):
    """RFC 3986 5.2.4."""
    inp, out = path, ''
    while inp:
        if inp.startswith('../'):
            inp = inp[3:]
        elif inp.startswith('./'):
            inp = inp[2:]
        elif inp.startswith('/./'):
            inp = '/' + inp[3:]
        elif inp == '/.':
            inp = '/'
        elif inp.startswith('/../') or inp == '/..':
            inp = '/' + inp[4:] if inp.startswith('/../') else '/'
            out = out[:out.rfind('/')] if '/' in out else ''
        elif inp in ('.', '..'):
            inp = ''
        else:
            i = inp.find('/', 1 if inp.startswith('/') else 0)
            if i < 0:
                i = len(inp)
            out += inp[:i]
            inp = inp[i:]
    return out


def unq(s):
    return urllib.parse.unquote(s, encoding='latin-1')


def rfc_readings(path):
    return [remove_dot_segments(path), remove_dot_segments(unq(path)),
            remove_dot_segments(unq(unq(path)))]


def servlet_readings(path):
    """';params' cut from each segment, then decoded and resolved; and a
    container that decodes first, then cuts."""
    cut = [s.split(';', 1)[0] for s in path.split('/')]
    first = [s.split(';', 1)[0] for s in unq(path).split('/')]
    return [remove_dot_segments(unq('/'.join(cut))), remove_dot_segments('/'.join(first))]


def whatwg_readings(paths):
    """node's WHATWG URL parser over every path at once."""
    script = r'''
const paths = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = paths.map(p => {
  let u;
  try { u = new URL(p, 'http://h'); } catch (e) { return [null, null]; }
  let d;
  try { d = decodeURIComponent(u.pathname); } catch (e) { d = u.pathname; }
  return [u.pathname, d];
});
process.stdout.write(JSON.stringify(out));
'''
    r = subprocess.run(['node', '-e', script], input=json.dumps(paths).encode(),
                       capture_output=True, timeout=60)
    check(r.returncode == 0, 'node failed: %s' % r.stderr.decode()[:300])
    res = json.loads(r.stdout)
    out = []
    for pathname, decoded in res:
        rd = []
        if pathname is not None:
            rd = [pathname, remove_dot_segments(decoded.replace('\\', '/'))]
        out.append(rd)
    return out


def inside(reading, base):
    return reading == base or reading.startswith(base + '/')


DOTS = ['..', '.', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2e', '..;', '..;x=1', '..%3b', '..%3Bx',
        '%2e%2e;jsessionid=1', '.;', '...', '..%20', '.%20.', '%252e%252e',
        '%25252e%25252e', '%c0%ae%c0%ae', '%e0%80%ae%e0%80%ae', '%ef%bc%8e%ef%bc%8e',
        '%e2%80%a5', '..%00', '..%09']
SEPS = ['/', '%2f', '%2F', '\\', '%5c', '%5C', '%252f', '//', '/;/', '/./']
ESCAPES = [
    '/chat/../admin', '/chat/room/../../admin', '/chat/..', '/chat/.',
    '/chat;x/room', '/chat;/../admin', '/ch%61t;x', '/chat%3b/room',
    '/chat?x=/../../admin', '/chat/room?../../admin', '/chat#/../admin',
    '/chat/%2e%2e?q', '/chat/room/%2e%2e%2f%2e%2e%2fadmin', '..', '/..',
    '/./chat', '//chat', '/chat//room', '/chat/room/', '\\chat', '/chat\\..\\admin',
    'http://h/chat/../admin', 'http://h/chat/%2e%2e/admin', 'ws://h/..',
    '/chat/%2e%2e%5cadmin', '/chat/..%5cadmin', '/chat/..%255cadmin',
    '/chat/%c0%af..', '/chat/\u00ff/..'.encode('utf-8').decode('latin-1'),
]

# spelling -> (upstream index, target the upstream must receive)
BENIGN = [
    ('/chat', 0, '/internal/chat'),
    ('/chat/room', 0, '/internal/chat/room'),
    ('/%63hat/%72oom', 0, '/internal/chat/room'),
    ('/chat/room;jsessionid=1', 0, '/internal/chat/room;jsessionid=1'),
    ('/chat/a.b/..c/c..', 0, '/internal/chat/a.b/..c/c..'),
    ('/chat/caf%c3%a9', 0, '/internal/chat/caf%C3%A9'),
    ('/chat/a%2cb?x=%2f', 0, '/internal/chat/a%2Cb?x=%2F'),
    ('/%61dmin', 1, '/pub/admin'),
    ('/chats', 1, '/pub/chats'),
    ('http://front.example/chat/x', 0, '/internal/chat/x'),
]


def main(ctx):
    seen = [[], []]

    def handler(i):
        def h(c):
            req = c.read_request()
            seen[i].append(req.target)
            c.send(b'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n')
        return h

    ups = [ctx.raw_upstream(handler(0)), ctx.raw_upstream(handler(1))]
    bases = ['/internal/chat', '/pub']
    px = ctx.proxy('--route', '/chat=%s/internal/chat' % ups[0].uri,
                   '--route', '/=%s/pub' % ups[1].uri,
                   '--header', 'X-Route-Secret: s3cret')

    def send(target):
        """(status, upstream index or None, target the upstream saw)."""
        before = [len(s) for s in seen]
        raw = lib.upgrade_request('X', host='front.example').replace(
            b'GET X ', b'GET ' + target.encode('latin-1') + b' ', 1)
        r = lib.http_exchange(px.port, raw)
        got = None
        for i in (0, 1):
            if len(seen[i]) > before[i]:
                got = (i, seen[i][-1])
        if got is None and r.status != 400:
            # the upstream thread may record a moment after the answer
            for _ in range(50):
                for i in (0, 1):
                    if len(seen[i]) > before[i]:
                        got = (i, seen[i][-1])
                if got:
                    break
                lib.time.sleep(0.02)
        return r.status, got

    spellings = list(ESCAPES)
    for dot, sep in itertools.product(DOTS, SEPS):
        spellings.append('/chat%s%s%sadmin' % (sep, dot, sep))
        spellings.append('/chat/room%s%s%s%s%sadmin' % (sep, dot, sep, dot, sep))
        spellings.append('/%s%schat' % (dot, sep))
    results = []
    for t in spellings:
        status, got = send(t)
        results.append((t, status, got))
    passed_through = [(t, got) for t, status, got in results if got is not None]
    readings = whatwg_readings([g[1].split('?', 1)[0] for _, g in passed_through])

    def one(t, got, wr):
        i, target = got
        path = target.split('?', 1)[0]
        base = bases[i]
        for name, rds in (('rfc3986', rfc_readings(path)), ('whatwg', wr),
                          ('servlet', servlet_readings(path))):
            for rd in rds:
                check(inside(rd, base), '%r reached upstream %d as %r, which %s reads as %r,'
                      ' outside %s' % (t, i, target, name, rd, base))
    lib.cases([(t, got, wr) for (t, got), wr in zip(passed_through, readings)], one)

    def status_ok(t, status, got):
        check(status in (400, 204), '%r: status %d (want 400, or the upstream\'s 204)' % (t, status))
        check((status == 204) == (got is not None), '%r: status %d but upstream %r' % (t, status, got))
    lib.cases(results, status_ok)
    refused = sum(1 for _, s, _ in results if s == 400)
    lib.log('%d spellings: %d refused with 400, %d passed and stayed inside their route'
            % (len(results), refused, len(passed_through)))

    # every dot-segment spelling of the table is refused outright
    def must_refuse(t):
        status, got = send(t)
        check(status == 400, '%r: %d, want 400' % (t, status))
    lib.cases([('/chat/%s/admin' % d,) for d in DOTS], must_refuse)

    def benign(t, i, want):
        status, got = send(t)
        check(status == 204 and got == (i, want), '%r: status %d, upstream %r; want 204 at upstream %d as %r'
              % (t, status, got, i, want))
    lib.cases(BENIGN, benign)
    ups[0].wait_done(5)
    ups[1].wait_done(5)


lib.run(main)
