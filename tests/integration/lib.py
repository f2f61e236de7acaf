"""Helpers for wsproxy's black-box integration tests.

Every test_*.py is a script run with /usr/bin/python3 (Debian's, which has
python3-websockets).  It exits 0 on pass, 1 on fail (printing a one-line
reason on stdout), 77 on skip.  Use:

    import lib
    def main(ctx):
        up = ctx.ws_upstream()              # python3-websockets upstream
        px = ctx.proxy('--upstream', up.uri)
        ...
    lib.run(main)

ctx tracks every proxy and server it started and stops them at the end;
on a normal end it also checks that each proxy is still alive and that its
fd count went back to the baseline taken right after start-up.
"""

import asyncio
import base64
import hashlib
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
WSPROXY = os.path.abspath(os.environ.get('WSPROXY') or
                          os.path.join(HERE, '..', '..', 'wsproxy'))
GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
PYTHON = '/usr/bin/python3'

# Longest a test may run before lib gives up on it (run.sh has its own limit).
TEST_ALARM = int(os.environ.get('TEST_ALARM', '110'))

# tests/valgrind.sh runs the suite with WSPROXY pointing at a wrapper that
# execs valgrind and sets these: tests that measure RSS or tight timings
# skip themselves (skip_under_valgrind), and every proxy's memcheck log
# (VG_LOGDIR/vg.PID.log) must end with "ERROR SUMMARY: 0 errors".
VALGRIND = os.environ.get('WSPROXY_VALGRIND') == '1'
VG_LOGDIR = os.environ.get('WSPROXY_VG_LOGDIR', '')
# Older tests that measure RSS or latency, skipped under valgrind (newer
# ones call skip_under_valgrind() themselves).
VALGRIND_SKIP = {
    'test_idle_memory.py': 'measures RSS',
    'test_buffer_pool.py': 'measures RSS',
    'test_slow_reader.py': 'measures RSS, 512 MiB through memcheck',
    'test_slowloris.py': 'measures latency',
}


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def skip_under_valgrind(why='measures RSS or timing'):
    if VALGRIND:
        raise Skip('under valgrind: %s' % why)


_cases = {'run': 0, 'failed': []}


def cases(table, fn):
    """Run fn(name, *rest) for every (name, *rest) row of table and log
    "case NAME: ok" or "case NAME: FAIL reason" for each (the conformance
    matrix counts these lines).  A failed case does not stop the others:
    the test fails at its end, naming every failed case."""
    for row in table:
        name = row[0]
        _cases['run'] += 1
        try:
            fn(*row)
            log('case %s: ok' % name)
        except Fail as e:
            log('case %s: FAIL %s' % (name, e))
            _cases['failed'].append('%s (%s)' % (name, e))
        except Exception as e:  # noqa: a broken case must not hide the others
            traceback.print_exc(file=sys.stderr)
            log('case %s: FAIL %s: %s' % (name, type(e).__name__, e))
            _cases['failed'].append('%s (%s: %s)' % (name, type(e).__name__, e))


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- ports

_used_ports = set()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    for _ in range(100):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        p = s.getsockname()[1]
        s.close()
        if p not in _used_ports:
            _used_ports.add(p)
            return p
    raise RuntimeError('no free port')


def listening_ports():
    """Ports in LISTEN state per /proc/net/tcp{,6}."""
    ports = set()
    for f in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[3] == '0A':
                        ports.add(int(parts[1].rsplit(':', 1)[1], 16))
        except OSError:
            pass
    return ports


# ---------------------------------------------------------------- /proc

def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def fd_list(pid):
    out = []
    for fd in sorted(os.listdir('/proc/%d/fd' % pid), key=int):
        try:
            out.append('%s->%s' % (fd, os.readlink('/proc/%d/fd/%s' % (pid, fd))))
        except OSError:
            pass
    return out


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- proxy

class Proxy:
    """wsproxy as a subprocess; stderr goes to a file."""

    def __init__(self, ctx, args, listen=True, env=None, wait=True, nofile=None,
                 aslimit=None):
        self.ctx = ctx
        self.port = free_port() if listen else None
        self.args = [WSPROXY]
        if listen:
            self.args += ['--listen', '127.0.0.1:%d' % self.port]
        self.args += list(args)
        self.errpath = os.path.join(ctx.tmp, 'proxy%d.stderr' % len(ctx.proxies))
        self.errf = open(self.errpath, 'wb')
        e = dict(os.environ)
        if env:
            e.update(env)
        if not os.path.exists(WSPROXY):
            raise Fail('no wsproxy binary at %s' % WSPROXY)
        pre = None
        if nofile or aslimit:
            def pre():
                import resource
                if nofile:
                    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
                if aslimit:     # ulimit -v: the address space, in bytes
                    resource.setrlimit(resource.RLIMIT_AS, (aslimit, aslimit))
        self.p = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                  stdout=self.errf, stderr=self.errf, env=e, preexec_fn=pre)
        self.pid = self.p.pid
        ctx.proxies.append(self)
        self.baseline = None
        if wait:
            self.wait_listening()

    def wait_listening(self, timeout=5.0):
        if VALGRIND:
            timeout *= 4
        end = time.time() + timeout
        while time.time() < end:
            if self.p.poll() is not None:
                raise Fail('wsproxy exited with %s at start-up: %s' %
                           (self.p.returncode, self.stderr_tail(300)))
            if self.port in listening_ports():
                break
            time.sleep(0.02)
        else:
            raise Fail('wsproxy not listening on %d after %.0fs' % (self.port, timeout))
        # let start-up finish: upstream names are resolved and the poller
        # opened after listen() (slow under valgrind), and "event=start"
        # is logged last (unless -q)
        if '-q' not in self.args and '--quiet' not in self.args:
            while 'event=start' not in self.stderr_text() and time.time() < end:
                if self.p.poll() is not None:
                    raise Fail('wsproxy exited with %s at start-up: %s' %
                               (self.p.returncode, self.stderr_tail(300)))
                time.sleep(0.02)
        time.sleep(0.05)
        self.baseline = self.settled_fd_count()
        self.base_rss = rss_kib(self.pid)

    def wait_unix(self, path, timeout=5.0):
        """wait_listening() for a proxy on --listen unix:PATH (started
        with listen=False, wait=False): the socket file is there and
        start-up is logged.  No probe connection: it would hold a pair."""
        if VALGRIND:
            timeout *= 4
        end = time.time() + timeout
        while time.time() < end:
            if self.p.poll() is not None:
                raise Fail('wsproxy exited with %s at start-up: %s' %
                           (self.p.returncode, self.stderr_tail(300)))
            if os.path.exists(path) and 'event=start' in self.stderr_text():
                break
            time.sleep(0.02)
        else:
            raise Fail('wsproxy not listening on %s after %.0fs' % (path, timeout))
        time.sleep(0.05)
        self.baseline = self.settled_fd_count()
        self.base_rss = rss_kib(self.pid)

    def settled_fd_count(self):
        last = fd_count(self.pid)
        for _ in range(10):
            time.sleep(0.02)
            n = fd_count(self.pid)
            if n == last:
                return n
            last = n
        return last

    def alive(self):
        return self.p.poll() is None

    def stderr_text(self):
        if not self.errf.closed:
            self.errf.flush()
        try:
            with open(self.errpath, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def wait_log(self, text, what='', timeout=3.0):
        """The log says text within timeout (a reject line is written
        when the pair ends, after its answer has gone out)."""
        if VALGRIND:
            timeout *= 4
        end = time.time() + timeout
        while text not in self.stderr_text() and time.time() < end:
            time.sleep(0.05)
        check(text in self.stderr_text(), '%s: log does not say %r: %s' %
              (what, text, self.stderr_tail(600)))

    def stderr_tail(self, n=400):
        t = self.stderr_text().strip().replace('\n', ' | ')
        return t[-n:]

    def check_fds(self, timeout=2.5):
        """Alive, and fd count back at the baseline within timeout."""
        if VALGRIND:
            timeout *= 4
        check(self.alive(), 'wsproxy died (status %s): %s' %
              (self.p.returncode, self.stderr_tail()))
        end = time.time() + timeout
        n = fd_count(self.pid)
        while n != self.baseline and time.time() < end:
            time.sleep(0.05)
            n = fd_count(self.pid)
        check(n == self.baseline, 'fd leak: %d fds open, baseline %d (%s)' %
              (n, self.baseline, ' '.join(fd_list(self.pid))))
        check(self.alive(), 'wsproxy died: %s' % self.stderr_tail())

    def sanitizer_errors(self):
        t = self.stderr_text()
        for pat in ('ERROR: AddressSanitizer', 'runtime error:',
                    'ERROR: LeakSanitizer'):
            i = t.find(pat)
            if i >= 0:
                return t[i:i + 300].replace('\n', ' | ')
        return None

    def valgrind_errors(self):
        """Under tests/valgrind.sh: None when this proxy's memcheck log
        says 0 errors, else an excerpt.  Call after stop()."""
        if not VALGRIND or not VG_LOGDIR or getattr(self, 'killed', False):
            return None         # SIGKILL: memcheck writes no summary
        path = os.path.join(VG_LOGDIR, 'vg.%d.log' % self.pid)
        text = ''
        for _ in range(50):     # valgrind writes its summary as the process dies
            try:
                with open(path, 'rb') as f:
                    text = f.read().decode('utf-8', 'replace')
            except OSError:
                text = ''
            if 'ERROR SUMMARY:' in text:
                break
            time.sleep(0.1)
        m = re.search(r'ERROR SUMMARY: (\d+) errors', text)
        if m and m.group(1) == '0':
            return None
        if not m:
            return 'no ERROR SUMMARY in %s' % path
        i = text.find('==', text.find('Invalid') if 'Invalid' in text else 0)
        return '%s errors (%s): %s' % (m.group(1), path, text[i:i + 400].replace('\n', ' | '))

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                # (memcheck writes its leak check and summary as it dies)
                self.p.wait(30 if VALGRIND else 3)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.errf.close()


# ---------------------------------------------------------------- wsproxy(1) LOGGING grammar

LOG_LEVELS = ('error', 'warn', 'info', 'debug')
_KV = re.compile(r'([a-z][a-z0-9_]*)=("(?:\\.|[^"\\])*"|[^\s"]+)(?: |$)')
_TS = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')


def unquote(v):
    """A log value as the bytes it stands for (\\xHH, \\" and \\\\)."""
    if not v.startswith('"'):
        return v.encode()
    out, i, v = bytearray(), 0, v[1:-1]
    while i < len(v):
        if v[i] == '\\' and v[i + 1] == 'x':
            out.append(int(v[i + 2:i + 4], 16))
            i += 4
        elif v[i] == '\\':
            out += v[i + 1].encode()
            i += 2
        else:
            out += v[i].encode()
            i += 1
    return bytes(out)


def parse_log_line(line):
    """One key=value log line as a dict of its raw values, or raise
    ValueError: keys [a-z0-9_], values bare or quoted, no key twice,
    'level' and 'event' present, 'ts' (when there) RFC 3339 with ms."""
    d, pos = {}, 0
    while pos < len(line):
        m = _KV.match(line, pos)
        if not m:
            raise ValueError('not key=value at %d: %r' % (pos, line))
        if m.group(1) in d:
            raise ValueError('key %s twice: %r' % (m.group(1), line))
        d[m.group(1)] = m.group(2)
        pos = m.end()
    if d.get('level') not in LOG_LEVELS or 'event' not in d:
        raise ValueError('no level or event: %r' % line)
    if 'ts' in d and not _TS.match(d['ts']):
        raise ValueError('bad ts: %r' % line)
    return d


def check_log_grammar(px):
    """Every line px wrote parses: key=value (or JSON with --log-format
    json); lines wsproxy writes before it logs ('wsproxy: ...' usage and
    fatal messages) and --check's key=value output are the exceptions."""
    import json
    as_json = '--log-format' in px.args and 'json' in px.args
    for line in px.stderr_text().splitlines():
        if not line or line.startswith(('wsproxy: ', 'wsproxy ', "Try 'wsproxy")):
            continue
        if as_json and line.startswith('{'):
            d = json.loads(line)
            if d.get('level') not in LOG_LEVELS or 'event' not in d:
                raise Fail('log line without level or event: %r' % line)
            continue
        if not (line.startswith('ts=') or line.startswith('level=')):
            if '--check' in px.args and re.match(r'[a-z_0-9]+=', line):
                continue
            raise Fail('a line that is not a log line: %r' % line)
        try:
            parse_log_line(line)
        except ValueError as e:
            raise Fail('log grammar: %s' % e)


def run_proxy_once(args, timeout=5, env=None):
    """Run wsproxy to completion (flag tests): (status, stdout, stderr)."""
    if not os.path.exists(WSPROXY):
        raise Fail('no wsproxy binary at %s' % WSPROXY)
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        r = subprocess.run([WSPROXY] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout, env=e)
    except subprocess.TimeoutExpired:
        raise Fail('wsproxy %s did not exit within %ss' % (' '.join(args), timeout))
    return r.returncode, r.stdout.decode('utf-8', 'replace'), r.stderr.decode('utf-8', 'replace')


# ---------------------------------------------------------------- HTTP

def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key):
    if isinstance(key, str):
        key = key.encode()
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()


def upgrade_request(path='/', host='localhost', key=None, headers=None,
                    method='GET', version='13', omit=()):
    """Bytes of a WebSocket upgrade request.  headers: list of (name, value)
    appended; omit: names of default headers to leave out."""
    key = key or ws_key()
    hs = [('Host', host), ('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
          ('Sec-WebSocket-Key', key), ('Sec-WebSocket-Version', version)]
    omit = {o.lower() for o in omit}
    lines = ['%s %s HTTP/1.1' % (method, path)]
    for n, v in hs:
        if n.lower() not in omit:
            lines.append('%s: %s' % (n, v))
    for n, v in headers or []:
        lines.append('%s: %s' % (n, v))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')


class Response:
    def __init__(self, version, status, reason, headers, body, head_raw):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body
        self.head_raw = head_raw

    def get(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def get_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def tokens(self, name):
        out = []
        for v in self.get_all(name):
            out += [t.strip().lower() for t in v.split(',') if t.strip()]
        return out

    def __repr__(self):
        return '<%d %s %r body=%r>' % (self.status, self.reason, self.headers, self.body[:80])


def parse_head(raw):
    text = raw.decode('latin-1')
    lines = text.split('\r\n')
    m = re.match(r'^(HTTP/1\.[01]) (\d{3})(?: (.*))?$', lines[0])
    if not m:
        raise Fail('bad status line %r' % lines[0])
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        if ':' not in line:
            raise Fail('bad header line %r' % line)
        n, v = line.split(':', 1)
        headers.append((n, v.strip()))
    return m.group(1), int(m.group(2)), m.group(3) or '', headers


def recv_until(sock, marker, buf=b'', timeout=5.0, limit=1 << 20):
    """Read until marker is in buf; returns (before+marker, rest).  Raises
    Fail on timeout/EOF."""
    end = time.time() + timeout
    while marker not in buf:
        left = end - time.time()
        if left <= 0:
            raise Fail('timeout waiting for %r (got %r)' % (marker, buf[:200]))
        sock.settimeout(left)
        try:
            d = sock.recv(65536)
        except socket.timeout:
            raise Fail('timeout waiting for %r (got %r)' % (marker, buf[:200]))
        except ConnectionResetError:
            raise Fail('connection reset waiting for %r (got %r)' % (marker, buf[:200]))
        if not d:
            raise Fail('EOF waiting for %r (got %r)' % (marker, buf[:200]))
        buf += d
        if len(buf) > limit:
            raise Fail('no %r in %d bytes' % (marker, len(buf)))
    i = buf.index(marker) + len(marker)
    return buf[:i], buf[i:]


def read_response(sock, timeout=5.0, body=True, buf=b''):
    """Read one HTTP response head; for non-101 also its body (Content-Length
    or up to EOF).  Returns (Response, leftover bytes)."""
    head, rest = recv_until(sock, b'\r\n\r\n', buf, timeout)
    version, status, reason, headers = parse_head(head[:-4])
    r = Response(version, status, reason, headers, b'', head)
    if status == 101 or not body:
        return r, rest
    cl = r.get('Content-Length')
    if cl is not None:
        n = int(cl)
        end = time.time() + timeout
        while len(rest) < n:
            left = end - time.time()
            if left <= 0:
                raise Fail('timeout reading %d-byte body (got %d)' % (n, len(rest)))
            sock.settimeout(left)
            d = sock.recv(65536)
            if not d:
                raise Fail('EOF in %d-byte body after %d' % (n, len(rest)))
            rest += d
        r.body = rest[:n]
        return r, rest[n:]
    # no length: body until EOF
    r.body = rest + read_to_eof(sock, timeout)
    return r, b''


def read_to_eof(sock, timeout=3.0):
    """Bytes until EOF; Fail if the peer does not close within timeout."""
    data = b''
    end = time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0:
            raise Fail('connection not closed within %.1fs (got %r)' % (timeout, data[:100]))
        sock.settimeout(left)
        try:
            d = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return data
        if not d:
            return data
        data += d


def connect(port, timeout=5.0, host='127.0.0.1'):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def http_exchange(port, request, timeout=5.0):
    """Send raw request bytes, read the response and (for non-101) expect
    the connection to be closed after it.  Returns the Response."""
    s = connect(port)
    try:
        s.sendall(request)
        r, rest = read_response(s, timeout)
        if r.status != 101:
            extra = rest + read_to_eof(s, 3.0)
            check(not extra, 'bytes after %d response: %r' % (r.status, extra[:100]))
        return r
    finally:
        s.close()


def check_error_response(r, status, what=''):
    """wsproxy(1) HANDSHAKE: short text/plain body, Connection: close."""
    check(r.status == status, '%s: expected %d, got %d %s' % (what, status, r.status, r.reason))
    ct = (r.get('Content-Type') or '').lower()
    check(ct.startswith('text/plain'), '%s: %d Content-Type %r, want text/plain' % (what, status, ct))
    check('close' in r.tokens('Connection'),
          '%s: %d without Connection: close (%r)' % (what, status, r.get_all('Connection')))
    check(len(r.body) <= 1024, '%s: %d body not short (%d bytes)' % (what, status, len(r.body)))
    cl = r.get('Content-Length')
    if cl is not None:
        check(int(cl) == len(r.body), '%s: Content-Length %s vs body %d' % (what, cl, len(r.body)))


# ---------------------------------------------------------------- frames

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def mask_bytes(data, key):
    if not data:
        return data
    n = len(data)
    a = int.from_bytes(data, 'little')
    b = int.from_bytes((key * (n // 4 + 1))[:n], 'little')
    return (a ^ b).to_bytes(n, 'little')


def frame(opcode, payload=b'', fin=True, mask=True, rsv=0, length=None):
    """Encode a frame.  mask: True (random key), False, or a 4-byte key.
    rsv: bits 0x4/0x2/0x1 for RSV1/2/3.  length: override the encoded
    length (the payload given is sent as is)."""
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    mbit = 0x80 if mask else 0
    if n < 126:
        h = struct.pack('!BB', b0, mbit | n)
    elif n < 65536:
        h = struct.pack('!BBH', b0, mbit | 126, n)
    else:
        h = struct.pack('!BBQ', b0, mbit | 127, n)
    if mask:
        key = os.urandom(4) if mask is True else mask
        return h + key + mask_bytes(payload, key)
    return h + payload


def close_payload(code=None, reason=b''):
    if code is None:
        return b''
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack('!H', code) + reason


class Frame:
    def __init__(self, fin, rsv, opcode, masked, payload):
        self.fin, self.rsv, self.opcode, self.masked, self.payload = fin, rsv, opcode, masked, payload

    @property
    def close_code(self):
        if len(self.payload) >= 2:
            return struct.unpack('!H', self.payload[:2])[0]
        return None

    @property
    def close_reason(self):
        return self.payload[2:]

    def __repr__(self):
        p = self.payload if len(self.payload) <= 40 else self.payload[:40] + b'...'
        return '<frame fin=%d rsv=%d op=%d masked=%d len=%d %r>' % (
            self.fin, self.rsv, self.opcode, self.masked, len(self.payload), p)


class Conn:
    """A raw socket with a receive buffer and a frame reader."""

    def __init__(self, sock, buf=b''):
        self.sock = sock
        self.buf = bytearray(buf)
        self.eof = False

    def _fill(self, need, deadline):
        while len(self.buf) < need:
            if self.eof:
                return False
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout()
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(max(65536, min(need - len(self.buf), 1 << 22)))
            except (ConnectionResetError, BrokenPipeError):
                d = b''
            if not d:
                self.eof = True
                return False
            self.buf += d
        return True

    def recv_frame(self, timeout=5.0):
        """Next frame (payload unmasked), None on EOF, Fail on timeout or
        on a truncated frame at EOF."""
        dl = time.time() + timeout
        try:
            if not self._fill(2, dl):
                if self.buf:
                    raise Fail('EOF inside a frame header: %r' % bytes(self.buf))
                return None
            b0, b1 = self.buf[0], self.buf[1]
            n = b1 & 0x7f
            hl = 2
            if n == 126:
                hl = 4
            elif n == 127:
                hl = 10
            masked = bool(b1 & 0x80)
            if masked:
                hl += 4
            if not self._fill(hl, dl):
                raise Fail('EOF inside a frame header: %r' % bytes(self.buf))
            if n == 126:
                n = struct.unpack('!H', bytes(self.buf[2:4]))[0]
            elif n == 127:
                n = struct.unpack('!Q', bytes(self.buf[2:10]))[0]
            if not self._fill(hl + n, dl):
                raise Fail('EOF inside a frame payload (%d of %d bytes)' % (len(self.buf) - hl, n))
        except socket.timeout:
            raise Fail('timeout waiting for a frame (buffered %r)' % bytes(self.buf[:40]))
        payload = bytes(self.buf[hl:hl + n])
        if masked:
            payload = mask_bytes(payload, bytes(self.buf[hl - 4:hl]))
        del self.buf[:hl + n]
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0f, masked, payload)

    def recv_exact(self, n, timeout=5.0):
        """Exactly the next n bytes as they came on the wire (for
        byte-for-byte checks); Fail on EOF or timeout."""
        try:
            ok = self._fill(n, time.time() + timeout)
        except socket.timeout:
            raise Fail('timeout waiting for %d bytes (got %d: %r)' % (n, len(self.buf), bytes(self.buf[:40])))
        if not ok:
            raise Fail('EOF after %d of %d bytes (%r)' % (len(self.buf), n, bytes(self.buf[:40])))
        d = bytes(self.buf[:n])
        del self.buf[:n]
        return d

    def send(self, data):
        self.sock.sendall(data)

    def try_send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def wait_eof(self, timeout=3.0):
        """Discard bytes until EOF; Fail if not closed in time."""
        if self.eof:
            return
        read_to_eof(self.sock, timeout)
        self.eof = True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class RawClient(Conn):
    """A hand-written WebSocket client speaking through the proxy."""

    def __init__(self, port, path='/', headers=None, expect=101, timeout=5.0, **kw):
        s = connect(port)
        self.key = kw.pop('key', None) or ws_key()
        s.sendall(upgrade_request(path, key=self.key, headers=headers, **kw))
        r, rest = read_response(s, timeout)
        super().__init__(s, rest)
        self.response = r
        if expect is not None and r.status != expect:
            s.close()
            raise Fail('handshake to %s: expected %d, got %d %s' % (path, expect, r.status, r.reason))
        if r.status == 101:
            check(r.get('Sec-WebSocket-Accept') == accept_for(self.key),
                  'bad Sec-WebSocket-Accept from proxy: %r' % r.get('Sec-WebSocket-Accept'))

    def send_frame(self, opcode, payload=b'', **kw):
        kw.setdefault('mask', True)
        self.send(frame(opcode, payload, **kw))

    def expect_close(self, code, timeout=5.0, what='client'):
        """Skip data frames until a close; check it is unmasked and has code.
        Then answer it and wait for the proxy to close the TCP connection."""
        f = self.next_close(timeout, what)
        check(f is not None, '%s: connection closed without a close frame (want %d)' % (what, code))
        check(not f.masked, '%s: close frame from the proxy is masked' % what)
        check(f.close_code == code, '%s: close code %s, want %d (%r)' % (what, f.close_code, code, f))
        self.try_send(frame(OP_CLOSE, f.payload[:2], mask=True))
        self.wait_eof(3.0)
        return f

    def next_close(self, timeout=5.0, what='client'):
        end = time.time() + timeout
        while True:
            f = self.recv_frame(max(0.01, end - time.time()))
            if f is None or f.opcode == OP_CLOSE:
                return f


# ---------------------------------------------------------------- raw upstream

def read_request_head(conn, timeout=5.0):
    head, rest = recv_until(conn.sock, b'\r\n\r\n', bytes(conn.buf), timeout)
    conn.buf = bytearray(rest)
    lines = head[:-4].decode('latin-1').split('\r\n')
    method, target, _ = lines[0].split(' ', 2)
    headers = []
    for line in lines[1:]:
        n, v = line.split(':', 1)
        headers.append((n, v.strip()))
    return Request(method, target, headers, head)


class Request:
    def __init__(self, method, target, headers, raw):
        self.method, self.target, self.headers, self.raw = method, target, headers, raw

    def get(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def get_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]


class RawUpstreamConn(Conn):
    def __init__(self, sock, rec):
        super().__init__(sock)
        self.rec = rec
        self.request = None

    def read_request(self, timeout=5.0):
        self.request = read_request_head(self, timeout)
        self.rec['request'] = self.request
        return self.request

    def send_101(self, protocol=None, extensions=None, accept=None, extra=b''):
        key = self.request.get('Sec-WebSocket-Key', '')
        acc = accept if accept is not None else accept_for(key)
        h = ('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
             'Connection: Upgrade\r\n')
        if acc is not False:
            h += 'Sec-WebSocket-Accept: %s\r\n' % acc
        if protocol:
            h += 'Sec-WebSocket-Protocol: %s\r\n' % protocol
        if extensions:
            h += 'Sec-WebSocket-Extensions: %s\r\n' % extensions
        self.send(h.encode() + extra + b'\r\n')

    def handshake(self, **kw):
        self.read_request()
        self.send_101(**kw)

    def send_frame(self, opcode, payload=b'', **kw):
        kw.setdefault('mask', False)
        self.send(frame(opcode, payload, **kw))

    def expect_close(self, code, timeout=5.0, what='upstream'):
        """The proxy must send a masked close with code; answer it."""
        end = time.time() + timeout
        while True:
            f = self.recv_frame(max(0.01, end - time.time()))
            if f is None or f.opcode == OP_CLOSE:
                break
        check(f is not None, '%s: connection closed without a close frame (want %d)' % (what, code))
        check(f.masked, '%s: close frame from the proxy is not masked' % what)
        check(f.close_code == code, '%s: close code %s, want %d (%r)' % (what, f.close_code, code, f))
        self.try_send(frame(OP_CLOSE, f.payload[:2], mask=False))
        self.wait_eof(3.0)
        return f


class RawUpstream:
    """A threaded TCP server; handler(conn: RawUpstreamConn) runs per
    connection.  Records connections, bytes received, handler errors."""

    def __init__(self, ctx, handler, backlog=64, host='127.0.0.1', port=0):
        self.ctx = ctx
        self.handler = handler
        self.ls = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, port))
        self.ls.listen(backlog)
        self.port = self.ls.getsockname()[1]
        self.uri = 'ws://%s:%d' % ('[%s]' % host if ':' in host else host, self.port)
        self.conns = []      # list of record dicts
        self.errors = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.stopping = False
        self.socks = []
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()
        ctx.servers.append(self)

    def _loop(self):
        while not self.stopping:
            try:
                s, addr = self.ls.accept()
            except OSError:
                return
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            rec = {'addr': addr, 'done': False, 'request': None}
            with self.cond:
                self.conns.append(rec)
                self.socks.append(s)
                self.cond.notify_all()
            threading.Thread(target=self._serve, args=(s, rec), daemon=True).start()

    def _serve(self, s, rec):
        c = RawUpstreamConn(s, rec)
        rec['conn'] = c
        try:
            self.handler(c)
        except Exception as e:  # noqa
            if not self.stopping:
                rec['error'] = '%s: %s' % (type(e).__name__, e)
                with self.lock:
                    self.errors.append(rec['error'])
        finally:
            with self.cond:
                rec['done'] = True
                self.cond.notify_all()
            c.close()

    def wait_conns(self, n, timeout=5.0):
        with self.cond:
            self.cond.wait_for(lambda: len(self.conns) >= n, timeout)
            return len(self.conns)

    def wait_done(self, timeout=5.0):
        with self.cond:
            ok = self.cond.wait_for(lambda: all(r['done'] for r in self.conns), timeout)
        check(ok, 'upstream handler still running after %.1fs' % timeout)
        if self.errors:
            raise Fail('upstream: %s' % self.errors[0])

    def stop(self):
        self.stopping = True
        try:
            self.ls.close()
        except OSError:
            pass
        with self.lock:
            for s in self.socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def raw_echo_handler(c):
    """A minimal hand-written upstream: handshake, echo, answer close."""
    c.handshake()
    while True:
        f = c.recv_frame(30)
        if f is None:
            return
        if f.opcode == OP_CLOSE:
            c.try_send(frame(OP_CLOSE, f.payload, mask=False))
            c.rec['close'] = f
            return
        if f.opcode == OP_PING:
            c.send(frame(OP_PONG, f.payload, mask=False))
        elif f.opcode != OP_PONG:
            c.send(frame(f.opcode, f.payload, fin=f.fin, rsv=f.rsv, mask=False))


# ---------------------------------------------------------------- websockets upstream

def _ws():
    import websockets  # noqa
    import websockets.legacy.server  # noqa
    return websockets


class Loop:
    """An asyncio loop in a daemon thread, for in-process servers."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.t = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.t.start()

    def call(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.t.join(2)


class WsUpstream:
    """python3-websockets server in a background loop.

    handler: async fn(ws, rec) or None for echo.  rec (a dict per
    connection): path, headers (websockets Headers), subprotocol,
    messages (received), close_code, close_reason, tcp bytes received.
    """

    def __init__(self, ctx, handler=None, **kw):
        ws = _ws()
        self.ctx = ctx
        self.handler = handler
        self.conns = []         # handshake records
        self.tcp_conns = 0      # TCP connections accepted
        self.tcp_bytes = 0      # bytes received on all of them
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.errors = []
        outer = self

        class Counting(ws.legacy.server.WebSocketServerProtocol):
            def connection_made(self, transport):
                with outer.lock:
                    outer.tcp_conns += 1
                super().connection_made(transport)

            def data_received(self, data):
                with outer.lock:
                    outer.tcp_bytes += len(data)
                super().data_received(data)

        kw.setdefault('max_size', None)
        kw.setdefault('ping_interval', None)
        kw.setdefault('close_timeout', 2)
        kw.setdefault('create_protocol', Counting)
        self.loop = Loop()
        ctx.loops.append(self.loop)

        unix = kw.pop('unix', None)    # a socket path: serve there instead

        async def start():
            if unix:
                return await ws.unix_serve(self._handle, unix, **kw)
            return await ws.serve(self._handle, '127.0.0.1', 0, **kw)

        self.server = self.loop.call(start())
        if unix:
            self.port = None
            self.uri = 'ws+unix:%s' % unix
        else:
            self.port = self.server.sockets[0].getsockname()[1]
            self.uri = 'ws://127.0.0.1:%d' % self.port
        ctx.servers.append(self)

    async def _handle(self, ws, path=None):
        rec = {'path': ws.path, 'headers': ws.request_headers,
               'subprotocol': ws.subprotocol, 'extensions': list(ws.extensions),
               'messages': [], 'close_code': None, 'close_reason': None,
               'done': False, 'ws': ws}
        with self.cond:
            self.conns.append(rec)
            self.cond.notify_all()
        try:
            if self.handler:
                await self.handler(ws, rec)
            else:
                async for m in ws:
                    rec['messages'].append(m)
                    await ws.send(m)
        except Exception as e:  # noqa
            if not type(e).__name__.startswith('ConnectionClosed'):
                with self.lock:
                    self.errors.append('%s: %s' % (type(e).__name__, e))
        finally:
            try:
                await asyncio.wait_for(ws.wait_closed(), 5)
            except Exception:  # noqa
                pass
            with self.cond:
                rec['close_code'] = ws.close_code
                rec['close_reason'] = ws.close_reason
                rec['done'] = True
                self.cond.notify_all()

    def wait_conns(self, n, timeout=5.0):
        with self.cond:
            self.cond.wait_for(lambda: len(self.conns) >= n, timeout)
            return len(self.conns)

    def wait_done(self, n=None, timeout=5.0):
        """Wait until n (default: all) handshaken connections are closed."""
        with self.cond:
            ok = self.cond.wait_for(
                lambda: (n is None or len(self.conns) >= n) and all(r['done'] for r in self.conns),
                timeout)
        check(ok, 'upstream connections still open after %.1fs' % timeout)
        return self.conns

    def stop(self):
        async def close():
            self.server.close()
            try:
                await asyncio.wait_for(self.server.wait_closed(), 3)
            except Exception:  # noqa
                pass
        try:
            self.loop.call(close(), 5)
        except Exception:  # noqa
            pass


def ws_connect(uri, **kw):
    """websockets.connect with test-friendly defaults; unix=PATH
    connects to that socket, uri then giving the Host and path."""
    ws = _ws()
    kw.setdefault('max_size', None)
    kw.setdefault('ping_interval', None)
    kw.setdefault('close_timeout', 2)
    kw.setdefault('open_timeout', 5)
    unix = kw.pop('unix', None)
    if unix:
        return ws.unix_connect(unix, uri, **kw)
    return ws.connect(uri, **kw)


def arun(coro, timeout=30):
    """Run a coroutine in a fresh loop with a timeout."""
    async def wrap():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(wrap())


def invalid_status(exc):
    """Status code from websockets' InvalidStatusCode, else None."""
    return getattr(exc, 'status_code', None)


# ---------------------------------------------------------------- test context

class Ctx:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix='wsproxy-it-')
        self.proxies = []
        self.servers = []
        self.loops = []
        self.procs = []

    def proxy(self, *args, **kw):
        return Proxy(self, args, **kw)

    def ws_upstream(self, handler=None, **kw):
        return WsUpstream(self, handler, **kw)

    def unix_proxy(self, path, *args, **kw):
        """wsproxy listening on unix:PATH (tls:unix:PATH when tls=True)
        only; .unix is the path."""
        tls = kw.pop('tls', False)
        px = Proxy(self, ['--listen', '%sunix:%s' % ('tls:' if tls else '', path)] +
                   list(args), listen=False, wait=False, **kw)
        px.unix = path
        px.wait_unix(path)
        return px

    def raw_upstream(self, handler=raw_echo_handler, **kw):
        """kw: backlog, host ('::1' for IPv6)."""
        return RawUpstream(self, handler, **kw)

    def popen(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def finish_checks(self):
        for px in self.proxies:
            if px.baseline is not None:   # a long-running proxy: alive, no fd leaked
                px.check_fds()
        for srv in self.servers:
            errs = getattr(srv, 'errors', None)
            if errs:
                raise Fail('upstream error: %s' % errs[0])

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(3)
                except subprocess.TimeoutExpired:
                    pass
        for s in self.servers:
            try:
                s.stop()
            except Exception:  # noqa
                pass
        for px in self.proxies:
            try:
                px.stop()
            except Exception:  # noqa
                pass
        for lp in self.loops:
            try:
                lp.stop()
            except Exception:  # noqa
                pass


def _alarm(signum, frame_):
    raise Fail('test timed out after %ds (lib alarm)' % TEST_ALARM)


def run(main):
    """Run main(ctx); exit 0 pass / 1 fail / 77 skip."""
    name = os.path.basename(sys.argv[0])
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TEST_ALARM)
    ctx = Ctx()
    status = 0
    reason = None
    try:
        if VALGRIND and name in VALGRIND_SKIP:
            raise Skip('under valgrind: %s' % VALGRIND_SKIP[name])
        main(ctx)
        if _cases['failed']:
            raise Fail('%d of %d cases failed: %s' % (len(_cases['failed']), _cases['run'],
                                                      '; '.join(_cases['failed'])))
        ctx.finish_checks()
    except Skip as e:
        status, reason = 77, 'SKIP %s: %s' % (name, e)
    except Fail as e:
        status, reason = 1, 'FAIL %s: %s' % (name, e)
    except Exception as e:  # noqa
        status, reason = 1, 'FAIL %s: %s: %s' % (name, type(e).__name__, e)
        traceback.print_exc(file=sys.stderr)
    finally:
        signal.alarm(0)
        try:
            ctx.cleanup()
        except Exception:  # noqa
            pass
    for px in ctx.proxies:
        san = px.sanitizer_errors()
        if san and status != 77:
            if status == 0:
                status, reason = 1, 'FAIL %s: sanitizer: %s' % (name, san)
        vg = px.valgrind_errors()
        if vg and status == 0:
            status, reason = 1, 'FAIL %s: valgrind: %s' % (name, vg)
        if status == 0 and not san:
            try:
                check_log_grammar(px)
            except Fail as e:
                status, reason = 1, 'FAIL %s: %s' % (name, e)
    if status == 1:
        for i, px in enumerate(ctx.proxies):
            log('--- proxy %d (%s) stderr tail:' % (i, ' '.join(px.args[1:])))
            log(px.stderr_text()[-3000:])
    if reason:
        print(reason, flush=True)
    os._exit(status)


# ---------------------------------------------------------------- wsproxy(1) RELAYING rule helpers

class RuleBench:
    """Two proxies for the frame-rule tests: one in front of a
    python3-websockets echo upstream (for client violations), one in front
    of a raw upstream that sends whatever the test asks for (for upstream
    violations)."""

    def __init__(self, ctx, proxy_args=(), ws_kw=None):
        self.ctx = ctx
        self.up = ctx.ws_upstream(**(ws_kw or {}))
        self.px_c = ctx.proxy('--upstream', self.up.uri, *proxy_args)
        self.cur = {}
        self.raw = ctx.raw_upstream(self._raw_handler)
        self.px_u = ctx.proxy('--upstream', self.raw.uri, *proxy_args)

    def _raw_handler(self, c):
        cur = dict(self.cur)
        c.handshake(extensions=cur.get('extensions'))
        f = c.recv_frame(5)
        check(f is not None and f.opcode == OP_TEXT and f.payload == b'go',
              'upstream: expected text "go", got %r' % f)
        check(f.masked, 'upstream: client frame arrived unmasked')
        for part in cur['bad']:
            c.send(part)
        c.expect_close(cur['code'], what='upstream after %s' % cur['what'])
        c.rec['ok'] = True

    def client_breaks(self, what, bad, code=1002, before=(), headers=None):
        """A raw client sends `before` (good frames, echoed) then bad bytes:
        the client gets close `code`, the upstream gets 1001."""
        n = len(self.up.conns)
        c = RawClient(self.px_c.port, '/', headers=headers)
        try:
            c.send_frame(OP_TEXT, b'warm-up')
            f = c.recv_frame()
            if f is not None and f.rsv & 4:   # compressed by a permessage-deflate upstream
                import zlib
                f.payload = zlib.decompressobj(-15).decompress(f.payload + b'\x00\x00\xff\xff')
            check(f is not None and f.payload == b'warm-up', '%s: no echo before the violation: %r' % (what, f))
            for b in before:
                c.send(b)
            if isinstance(bad, bytes):
                bad = [bad]
            for part in bad:
                c.try_send(part)
            c.expect_close(code, what='client after %s' % what)
        finally:
            c.close()
        check(self.up.wait_conns(n + 1, 3) == n + 1, '%s: upstream saw no connection' % what)
        self.up.wait_done(n + 1, 5)
        rec = self.up.conns[n]
        check(rec['close_code'] == 1001,
              '%s: upstream got close code %s, want 1001' % (what, rec['close_code']))
        return rec

    def upstream_breaks(self, what, bad, code=1002, extensions=None, headers=None):
        """The raw upstream sends bad bytes after the client's "go": the
        upstream gets a masked close `code`, the client gets 1014."""
        if isinstance(bad, bytes):
            bad = [bad]
        self.cur.update(bad=bad, code=code, what=what, extensions=extensions)
        n = len(self.raw.conns)
        c = RawClient(self.px_u.port, '/', headers=headers)
        try:
            c.send_frame(OP_TEXT, b'go')
            c.expect_close(1014, what='client after upstream %s' % what)
        finally:
            c.close()
        self.raw.wait_done(5)
        check(self.raw.conns[n].get('ok'), '%s: upstream handler did not finish' % what)


# ---------------------------------------------------------------- exact relaying (conformance matrix)

def encode_frame(opcode, payload=b'', fin=True, mask=None, rsv=0, form=None):
    """Like frame(), but the length encoding can be forced: form 7, 16
    or 64 (None: minimal), to build non-minimal lengths.  mask: None
    (unmasked) or a 4-byte key."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    m = 0x80 if mask else 0
    if form == 7:
        h = struct.pack('!BB', b0, m | n)
    elif form == 16:
        h = struct.pack('!BBH', b0, m | 126, n)
    else:
        h = struct.pack('!BBQ', b0, m | 127, n)
    if mask:
        return h + mask + mask_bytes(payload, mask)
    return h + payload


class RelayBench:
    """One proxy in front of a raw upstream, for byte-exact relaying:
    c2u(wire) sends wire bytes from a raw client and checks the upstream
    receives exactly them; u2c(wire) the reverse.  Each call is one pair,
    ended with a clean close handshake started by the client."""

    def __init__(self, ctx, proxy_args=()):
        self.ctx = ctx
        self.cur = {}
        self.raw = ctx.raw_upstream(self._handler)
        self.px = ctx.proxy('--upstream', self.raw.uri, *proxy_args)

    def _handler(self, c):
        cur = dict(self.cur)
        c.handshake()
        if cur['dir'] == 'close_c2u':
            c.rec['got'] = c.recv_exact(len(cur['wire']), 5)
            c.send(cur['reply'])
            c.wait_eof(3)
            c.rec['ok'] = True
            return
        if cur['dir'] == 'close_u2c':
            f = c.recv_frame(5)
            check(f is not None and f.payload == b'go', 'upstream: expected "go", got %r' % f)
            c.send(cur['wire'])
            c.rec['got'] = c.recv_exact(len(cur['reply']), 5)
            c.wait_eof(3)
            c.rec['ok'] = True
            return
        if cur['dir'] == 'c2u':
            c.rec['got'] = c.recv_exact(len(cur['wire']), cur.get('timeout', 10))
        else:
            f = c.recv_frame(5)
            check(f is not None and f.payload == b'go', 'upstream: expected "go", got %r' % f)
            c.send(cur['wire'])
        f = c.recv_frame(10)
        check(f is not None and f.opcode == OP_CLOSE, 'upstream: expected the client\'s close, got %r' % f)
        c.rec['close'] = f
        c.send(frame(OP_CLOSE, f.payload, mask=False))
        c.wait_eof(3)
        c.rec['ok'] = True

    def _run(self, direction, wire, timeout=10):
        self.cur = {'dir': direction, 'wire': wire, 'timeout': timeout}
        n = len(self.raw.conns)
        c = RawClient(self.px.port, '/')
        try:
            if direction == 'c2u':
                c.send(wire)
            else:
                c.send(frame(OP_TEXT, b'go'))
                got = c.recv_exact(len(wire), timeout)
                check(got == wire, 'client got different bytes (%d): %r... want %r...' %
                      (len(got), got[:24], wire[:24]))
            c.send(frame(OP_CLOSE, close_payload(1000)))
            f = c.recv_frame(timeout)
            check(f is not None and f.opcode == OP_CLOSE and f.close_code == 1000,
                  'client: close echo %r' % f)
            c.wait_eof(3)
        finally:
            c.close()
        self.raw.wait_done(5)
        rec = self.raw.conns[n]
        check(rec.get('ok'), 'upstream handler did not finish: %s' % rec.get('error'))
        if direction == 'c2u':
            check(rec['got'] == wire, 'upstream got different bytes (%d): %r... want %r...' %
                  (len(rec['got']), rec['got'][:24], wire[:24]))
        return rec

    def c2u(self, wire, timeout=10):
        return self._run('c2u', wire, timeout)

    def close_exchange(self, direction, wire, reply):
        """A close handshake relayed byte for byte: direction 'c2u' (the
        client sends close frame wire, the upstream answers reply) or
        'u2c' (the upstream closes, the client answers); then both TCP
        connections must end."""
        self.cur = {'dir': 'close_' + direction, 'wire': wire, 'reply': reply}
        n = len(self.raw.conns)
        c = RawClient(self.px.port, '/')
        try:
            if direction == 'c2u':
                c.send(wire)
                got = c.recv_exact(len(reply), 5)
                check(got == reply, 'client got %r, want the upstream\'s close %r' % (got[:40], reply[:40]))
            else:
                c.send(frame(OP_TEXT, b'go'))
                got = c.recv_exact(len(wire), 5)
                check(got == wire, 'client got %r, want the upstream\'s close %r' % (got[:40], wire[:40]))
                c.send(reply)
            c.wait_eof(3)
        finally:
            c.close()
        self.raw.wait_done(5)
        rec = self.raw.conns[n]
        check(rec.get('ok'), 'upstream handler did not finish: %s' % rec.get('error'))
        want = wire if direction == 'c2u' else reply
        check(rec['got'] == want, 'upstream got %r, want %r' % (rec['got'][:40], want[:40]))

    def u2c(self, wire, timeout=10):
        return self._run('u2c', wire, timeout)
