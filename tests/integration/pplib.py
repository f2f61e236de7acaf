"""Helpers for the PROXY protocol tests (wsproxy(1) CLIENT IDENTITY):
headers v1 and v2 as a balancer writes them, a wsproxy with a proxy:
listener, one handshake through it, and HAProxy as a peer."""

import os
import shutil
import socket
import struct
import subprocess
import time

import lib
from lib import check

V2_SIG = b'\r\n\r\n\x00\r\nQUIT\n'
HAPROXY = '/usr/sbin/haproxy'


def v1(src, dst, sport, dport):
    fam = 'TCP6' if ':' in src else 'TCP4'
    return ('PROXY %s %s %s %d %d\r\n' % (fam, src, dst, sport, dport)).encode()


def v2(src, dst, sport, dport, tlvs=b'', local=False):
    if local:
        return V2_SIG + b'\x20\x00' + struct.pack('!H', len(tlvs)) + tlvs
    if ':' in src:
        body = (socket.inet_pton(socket.AF_INET6, src) +
                socket.inet_pton(socket.AF_INET6, dst) + struct.pack('!HH', sport, dport))
        fam = b'\x21\x21'
    else:
        body = (socket.inet_aton(src) + socket.inet_aton(dst) +
                struct.pack('!HH', sport, dport))
        fam = b'\x21\x11'
    body += tlvs
    return V2_SIG + fam + struct.pack('!H', len(body)) + body


def parse_v2(data):
    """(src, sport, dst, dport, length) of a v2 header at the front of
    data, or raise lib.Fail."""
    check(len(data) >= 16 and data[:12] == V2_SIG, 'not a PROXY v2 header: %r' % data[:16])
    check(data[12] == 0x21, 'version/command byte %#x, want 0x21 (v2 PROXY)' % data[12])
    n = struct.unpack('!H', data[14:16])[0]
    body = data[16:16 + n]
    if data[13] == 0x11:
        check(n >= 12, 'TCP4 block of %d bytes' % n)
        src, dst = socket.inet_ntoa(body[0:4]), socket.inet_ntoa(body[4:8])
        sport, dport = struct.unpack('!HH', body[8:12])
    elif data[13] == 0x21:
        check(n >= 36, 'TCP6 block of %d bytes' % n)
        src = socket.inet_ntop(socket.AF_INET6, body[0:16])
        dst = socket.inet_ntop(socket.AF_INET6, body[16:32])
        sport, dport = struct.unpack('!HH', body[32:36])
    else:
        raise lib.Fail('family byte %#x' % data[13])
    return src, sport, dst, dport, 16 + n


def proxy(ctx, *args, prefix='proxy:', host='127.0.0.1', trust=('127.0.0.1',), extra_listen=()):
    """wsproxy whose first listener is PREFIX HOST:PORT (px.port)."""
    port = lib.free_port()
    h = '[%s]' % host if ':' in host else host
    a = ['--listen', '%s%s:%d' % (prefix, h, port)]
    for t in trust:
        a += ['--trust-proxy', t]
    px = ctx.proxy(*(a + list(extra_listen) + list(args)), listen=False, wait=False)
    px.port = port
    px.wait_listening()
    return px


def connect_from(port, src='127.0.0.1', host='127.0.0.1'):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((host, port))
    return s


def handshake(s, header=b'', path='/', headers=None):
    """Send header + an upgrade request on s: (response, rest)."""
    s.sendall(header + lib.upgrade_request(path, headers=headers))
    return lib.read_response(s, body=False)


def finish(s, rest=b''):
    """Echo one message through an open pair and close it cleanly."""
    c = lib.Conn(s, rest)
    c.send(lib.frame(lib.OP_TEXT, b'hi'))
    f = c.recv_frame()
    check(f is not None and f.payload == b'hi', 'no echo: %r' % f)
    c.send(lib.frame(lib.OP_CLOSE, lib.close_payload(1000)))
    f = c.recv_frame()
    check(f is not None and f.opcode == lib.OP_CLOSE, 'no close answer: %r' % f)
    c.wait_eof()
    c.close()


def refused(s, timeout=3.0):
    """s is closed by the proxy without a byte of answer."""
    data = lib.read_to_eof(s, timeout)
    check(data == b'', 'a refused connection got an answer: %r' % data[:80])


def close_lines(px, text):
    return [ln for ln in px.stderr_text().splitlines() if text in ln]


def wait_line(px, *parts, timeout=3.0):
    """The first log line holding every part, parsed (polled: close
    lines are written when the pair ends)."""
    end = time.time() + timeout * (4 if lib.VALGRIND else 1)
    while True:
        for ln in px.stderr_text().splitlines():
            if all(p in ln for p in parts):
                return lib.parse_log_line(ln)
        if time.time() > end:
            raise lib.Fail('no log line with %r: %s' % (parts, px.stderr_tail(600)))
        time.sleep(0.05)


def need_haproxy():
    if not os.access(HAPROXY, os.X_OK) and shutil.which('haproxy') is None:
        raise lib.Skip('no haproxy (Debian package haproxy)')


def haproxy(ctx, conf, port):
    """HAProxy in the foreground with conf; waits for port."""
    path = os.path.join(ctx.tmp, 'haproxy%d.cfg' % port)
    with open(path, 'w') as f:
        f.write(conf)
    exe = HAPROXY if os.access(HAPROXY, os.X_OK) else shutil.which('haproxy')
    r = subprocess.run([exe, '-c', '-q', '-f', path], capture_output=True)
    check(r.returncode == 0, 'haproxy -c: %s' % r.stderr.decode('utf-8', 'replace')[-400:])
    p = ctx.popen([exe, '-db', '-f', path], stdout=subprocess.DEVNULL,
                  stderr=subprocess.PIPE)
    end = time.time() + 5
    while port not in lib.listening_ports():
        if p.poll() is not None or time.time() > end:
            raise lib.Fail('haproxy did not start: %s' %
                           (p.stderr.read().decode('utf-8', 'replace')[-400:] if p.poll() is not None else 'timeout'))
        time.sleep(0.05)
    return p


HAPROXY_GLOBAL = """global
    maxconn 100
defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout tunnel 30s
"""
