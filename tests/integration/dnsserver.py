"""A small DNS server for the resolver's tests (wsproxy(1) UPSTREAMS,
Name resolution): UDP and TCP on 127.0.0.1, one port, answers from a
table the test changes while the proxy runs.

    dns = dnsserver.DnsServer(ctx)
    dns.set('app.test', a=['127.0.0.1'], ttl=1)
    px = ctx.proxy('--resolv-conf', dns.resolv_conf(ctx), ...)

Per name: a (IPv4 list), aaaa (IPv6 list), ttl, rcode (3 NXDOMAIN,
2 SERVFAIL), tc (UDP answers truncated, with tc_a as their addresses;
TCP answers whole), spoof (each UDP answer is first sent with a wrong
id and spoof_a's addresses).  A name not in the table is NXDOMAIN.
Every query is recorded in .queries as (proto, name, type).
"""
import os
import socket
import struct
import threading

A, AAAA = 1, 28


class DnsServer:
    def __init__(self, ctx):
        self.table = {}
        self.queries = []
        self.errors = []
        self.lock = threading.Lock()
        self.stopping = False
        for _ in range(20):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(('127.0.0.1', 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket()
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(('127.0.0.1', self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        self.tcp.listen(16)
        for fn in (self._udp_loop, self._tcp_loop):
            threading.Thread(target=fn, daemon=True).start()
        ctx.servers.append(self)

    def set(self, name, **kw):
        with self.lock:
            self.table[name.lower()] = kw

    def resolv_conf(self, ctx, extra='options timeout:1 attempts:2\n'):
        path = os.path.join(ctx.tmp, 'resolv.conf')
        with open(path, 'w') as f:
            f.write('# the test server, port written as wsproxy allows\n'
                    'nameserver 127.0.0.1:%d\n%s' % (self.port, extra))
        return path

    def count(self, proto=None, name=None):
        with self.lock:
            return sum(1 for p, n, t in self.queries
                       if (proto is None or p == proto) and (name is None or n == name))

    # ------------------------------------------------------------ wire

    @staticmethod
    def _question(msg):
        """(id, name, type, class, end of question) or None."""
        if len(msg) < 12:
            return None
        qid, = struct.unpack('>H', msg[:2])
        i, labels = 12, []
        while i < len(msg) and msg[i] != 0:
            n = msg[i]
            labels.append(msg[i + 1:i + 1 + n].decode('latin-1'))
            i += 1 + n
        if i + 5 > len(msg):
            return None
        qtype, qclass = struct.unpack('>HH', msg[i + 1:i + 5])
        return qid, '.'.join(labels), qtype, qclass, i + 5

    @staticmethod
    def _answer(msg, q, rcode, tc, addrs, qtype, ttl, qid=None):
        qid = q[0] if qid is None else qid
        flags = 0x8180 | rcode | (0x0200 if tc else 0)
        rrs = b''
        for ip in addrs:
            fam = socket.AF_INET6 if ':' in ip else socket.AF_INET
            if (fam == socket.AF_INET) != (qtype == A):
                continue
            data = socket.inet_pton(fam, ip)
            rrs += struct.pack('>HHHIH', 0xc00c, qtype, 1, ttl, len(data)) + data
        n = rrs.count(struct.pack('>H', 0xc00c))
        return struct.pack('>HHHHHH', qid, flags, 1, n, 0, 0) + msg[12:q[4]] + rrs

    def _respond(self, msg, proto):
        """The datagrams (or one TCP message) answering msg."""
        q = self._question(msg)
        if q is None:
            return []
        with self.lock:
            self.queries.append((proto, q[1].lower(), q[2]))
            e = dict(self.table.get(q[1].lower(), {'rcode': 3}))
        ttl = e.get('ttl', 60)
        addrs = e.get('a', []) + e.get('aaaa', [])
        out = []
        if proto == 'udp' and e.get('spoof'):
            out.append(self._answer(msg, q, 0, False, e['spoof'], q[2], ttl,
                                    qid=q[0] ^ 0x5555))
        if proto == 'udp' and e.get('tc'):
            out.append(self._answer(msg, q, 0, True, e.get('tc_a', []), q[2], ttl))
        else:
            out.append(self._answer(msg, q, e.get('rcode', 0), False, addrs, q[2], ttl))
        return out

    def _udp_loop(self):
        while not self.stopping:
            try:
                msg, peer = self.udp.recvfrom(4096)
            except OSError:
                return
            for d in self._respond(msg, 'udp'):
                self.udp.sendto(d, peer)

    def _tcp_loop(self):
        while not self.stopping:
            try:
                s, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_one, args=(s,), daemon=True).start()

    def _tcp_one(self, s):
        s.settimeout(5)
        try:
            buf = b''
            while True:
                while len(buf) < 2 or len(buf) < 2 + struct.unpack('>H', buf[:2])[0]:
                    d = s.recv(4096)
                    if not d:
                        return
                    buf += d
                n = struct.unpack('>H', buf[:2])[0]
                msg, buf = buf[2:2 + n], buf[2 + n:]
                for d in self._respond(msg, 'tcp'):
                    # the length and the message in two writes: the
                    # reader must put them together
                    s.sendall(struct.pack('>H', len(d)))
                    s.sendall(d)
        except OSError:
            pass
        finally:
            s.close()

    def stop(self):
        self.stopping = True
        for s in (self.udp, self.tcp):
            try:
                s.close()
            except OSError:
                pass


def wait_count(px, text, n, timeout=8.0):
    """px's log holds text at least n times within timeout; the count."""
    import time
    end = time.time() + timeout
    while px.stderr_text().count(text) < n and time.time() < end:
        time.sleep(0.05)
    return px.stderr_text().count(text)


def two_upstreams(ctx, handler=None):
    """Echo upstreams on 127.0.0.1 and 127.0.0.2, the same port: a name
    can move from one to the other with the URI unchanged."""
    import lib
    handler = handler or lib.raw_echo_handler
    for _ in range(20):
        one = lib.RawUpstream(ctx, handler, host='127.0.0.1')
        try:
            two = lib.RawUpstream(ctx, handler, host='127.0.0.2', port=one.port)
            return one, two
        except OSError:
            one.stop()
    raise lib.Fail('no port free on both 127.0.0.1 and 127.0.0.2')


def echo(c, text):
    """One message through an open pair, and its echo back."""
    import lib
    c.send_frame(lib.OP_TEXT, text)
    f = c.recv_frame()
    lib.check(f is not None and f.payload == text,
              'no echo of %r: %r' % (text, f))
