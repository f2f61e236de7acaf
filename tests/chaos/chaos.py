#!/usr/bin/python3
"""Faults under load (issue 4): a bounded chaos run through one wsproxy.

CHAOS_PAIRS pairs (default 500) over about CHAOS_SECONDS (default 120),
CHAOS_CONCURRENCY at a time (default 40), each with traffic both ways:
binary messages of 1 byte to 150 KiB (larger ones are streamed by the
proxy), some fragmented, pings between fragments.  Every message carries
its pair, direction, sequence number and a CRC-32.  Each pair ends one
way, chosen at random (CHAOS_SEED makes a run repeatable):

  clean_client / clean_upstream   a close handshake started by that side
  kill_client / kill_upstream     that side dies mid-message (a random
                                  cut inside the frames of a message, or
                                  at a frame boundary) by RST or by FIN
  kill_both                       both sides reset

Checked afterwards:
  - every message that arrived is intact and in order (sequence numbers
    0, 1, 2, ... with good CRCs), and is one the other side sent;
  - nothing is lost where nothing may be: after a clean close, and when
    the sender died by FIN (not RST), every message the sender had
    written arrived;
  - the side that survives a kill gets a close frame (1001 when the
    client died, 1014 when the upstream did), or -- only when the dead
    side was inside a frame too large for the proxy's buffer -- its
    connection closed inside that frame; never a silent EOF;
  - every accepted connection has exactly one event=close line in the
    proxy's log, none with an error (every peer here answers a close
    and closes at once, so no pair waits for --close-timeout); no 503;
  - the proxy's fd count is back to its baseline (lib's check), and the
    slab is all free again: --max-conns pairs can be opened at once and
    one more gets 503.

    sh tests/chaos/run.sh                      # against ./wsproxy
    CHAOS_SECONDS=20 CHAOS_PAIRS=100 WSPROXY=build/wsproxy-asan sh tests/chaos/run.sh
    CHAOS_PROXY_ARGS="--ping-interval 300ms" sh tests/chaos/run.sh   # pings on
    CHAOS_TLS=1 sh tests/chaos/run.sh          # TLS on both legs

With CHAOS_TLS=1 both legs are TLS (wsproxy(1) TLS): the clients speak
wss:// to a tls: listener (--listen-cert/--listen-key), the upstream is
wss://127.0.0.1 (--tls-ca, the certificate's iPAddress name), all from a
test CA made with openssl.  A side dying "by FIN" then sends close_notify
and closes (TLS has no half-close): the proxy sees the end of the stream
just the same, so the same checks hold; and after the run, and after
the slab check, no TLS end is left open (wsproxy_tls_sessions_in_use 0
on the --admin port).
"""
import asyncio
import os
import random
import re
import socket
import struct
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
SECONDS = float(os.environ.get('CHAOS_SECONDS', '120'))
PAIRS = int(os.environ.get('CHAOS_PAIRS', '500'))
CONC = int(os.environ.get('CHAOS_CONCURRENCY', '40'))
SEED = int(os.environ.get('CHAOS_SEED', str(int(time.time() * 1000) % 1000000)))
# more wsproxy flags, e.g. CHAOS_PROXY_ARGS="--ping-interval 300ms" (the
# peers answer pings, so only killed sides may be found dead)
PROXY_ARGS = os.environ.get('CHAOS_PROXY_ARGS', '').split()
TLS = os.environ.get('CHAOS_TLS', '0') == '1'
os.environ.setdefault('TEST_ALARM', str(int(SECONDS * 2 + 120)))

import lib  # noqa: E402
import promtext  # noqa: E402
import tlslib  # noqa: E402
from lib import check  # noqa: E402

OP_CONT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 2, 8, 9, 10
C2U, U2C = 0, 1
CLOSE_TIMEOUT_MS = 2000
ENDINGS = [('clean_client', 2), ('clean_upstream', 2), ('kill_client', 3), ('kill_upstream', 3),
           ('kill_both', 0.5)]


# ---------------------------------------------------------------- messages and frames

def make_message(pid, d, seq, rnd):
    r = rnd.random()
    if r < 0.6:
        size = rnd.randint(1, 512)
    elif r < 0.9:
        size = rnd.randint(513, 16384)
    else:
        size = rnd.randint(33000, 150000)
    m = struct.pack('!IBII', pid, d, seq, size) + rnd.randbytes(size)
    return m + struct.pack('!I', zlib.crc32(m))


def check_message(m, pid, d, seq):
    if len(m) < 17:
        return 'short message (%d bytes)' % len(m)
    mp, md, ms, size = struct.unpack('!IBII', m[:13])
    if len(m) != 13 + size + 4:
        return 'length %d, header says %d' % (len(m), 13 + size + 4)
    if struct.unpack('!I', m[-4:])[0] != zlib.crc32(m[:-4]):
        return 'bad CRC (seq %d)' % ms
    if (mp, md) != (pid, d):
        return 'message of pair %d dir %d in pair %d dir %d' % (mp, md, pid, d)
    if ms != seq:
        return 'sequence %d, expected %d' % (ms, seq)
    return None


def split_frames(msg, rnd, masked):
    """The wire frames of one message: (bytes, payload length) each."""
    n = 1 if rnd.random() < 0.7 else rnd.randint(2, 4)
    cuts = sorted(rnd.sample(range(1, len(msg)), min(n - 1, len(msg) - 1))) if n > 1 else []
    parts = [msg[a:b] for a, b in zip([0] + cuts, cuts + [len(msg)])]
    out = []
    for i, p in enumerate(parts):
        key = rnd.randbytes(4) if masked else None
        out.append(lib.encode_frame(OP_BIN if i == 0 else OP_CONT, p, fin=(i == len(parts) - 1), mask=key))
        if i < len(parts) - 1 and rnd.random() < 0.2:
            out.append(lib.encode_frame(OP_PING, b'p%d' % i, mask=rnd.randbytes(4) if masked else None))
    return out


def header_len(fr):
    n = fr[1] & 0x7f
    return (2 if n < 126 else 4 if n == 126 else 10) + (4 if fr[1] & 0x80 else 0)


# ---------------------------------------------------------------- one side of a pair

class Peer:
    def __init__(self, side, pid, plan, reader, writer, res, buf_size):
        self.side = side                  # 'client' or 'upstream'
        self.pid = pid
        self.plan = plan
        self.reader = reader
        self.writer = writer
        self.res = res                    # shared per-pair result dict
        self.buf_size = buf_size
        self.masked = side == 'client'
        self.d_out = C2U if side == 'client' else U2C
        self.rnd = random.Random('%d-%d-%s' % (SEED, pid, side))
        self.sent = res[side + '_sent']   # seqs whose frames were all written
        self.recv = res[side + '_recv']   # seqs received whole and valid
        self.stop = False                 # no more writing (close seen or killed)
        self.killed = None
        self.sent_close = False
        self.close_got = None
        self.end = None                   # how the read side ended

    def write(self, data):
        if not self.stop:
            self.writer.write(data)

    def err(self, what):
        self.res['errors'].append('%s %s: %s' % (self.side, self.pid, what))

    async def read_frame(self):
        h = await self.reader.readexactly(2)
        self.in_frame = True
        n = h[1] & 0x7f
        if n == 126:
            n = struct.unpack('!H', await self.reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack('!Q', await self.reader.readexactly(8))[0]
        key = await self.reader.readexactly(4) if h[1] & 0x80 else None
        p = await self.reader.readexactly(n) if n else b''
        self.in_frame = False
        if key:
            p = lib.mask_bytes(p, key)
        if bool(key) != (self.side == 'upstream'):
            self.err('frame masking wrong for this direction: %r' % h)
        return bool(h[0] & 0x80), h[0] & 0x0f, p

    async def read_loop(self):
        msg = None
        d_in = U2C if self.side == 'client' else C2U
        while True:
            self.in_frame = False
            try:
                fin, op, p = await self.read_frame()
            except asyncio.IncompleteReadError as e:
                self.end = 'eof_inside' if (self.in_frame or e.partial) else 'eof'
                return
            except (ConnectionResetError, BrokenPipeError, OSError):
                self.end = 'rst'
                return
            if self.killed:
                continue                  # dead sides only drain
            if self.close_got is not None:
                self.err('frame op %d after the close' % op)
                continue
            if op == OP_PING:
                self.write(lib.encode_frame(OP_PONG, p, mask=self.rnd.randbytes(4) if self.masked else None))
            elif op == OP_PONG:
                pass
            elif op == OP_CLOSE:
                self.close_got = struct.unpack('!H', p[:2])[0] if len(p) >= 2 else 1005
                if not self.sent_close:
                    self.stop_and_close(p[:2])
            elif op == OP_BIN:
                if msg is not None:
                    self.err('new message inside a fragmented one')
                msg = bytearray(p)
            elif op == OP_CONT:
                if msg is None:
                    self.err('continuation without a message')
                    msg = bytearray()
                msg += p
            else:
                self.err('unexpected opcode %d' % op)
            if op in (OP_BIN, OP_CONT) and fin:
                e = check_message(bytes(msg), self.pid, d_in, len(self.recv))
                if e:
                    self.err(e)
                else:
                    self.recv.append(len(self.recv))
                msg = None

    def stop_and_close(self, code_bytes):
        """Answer (or send) a close: nothing is written after it."""
        self.write(lib.encode_frame(OP_CLOSE, code_bytes, mask=self.rnd.randbytes(4) if self.masked else None))
        self.sent_close = True
        self.stop = True

    async def kill(self, how, frames):
        self.killed = how
        if frames:
            # a cut somewhere inside this message's frames, or at a boundary
            wire = b''.join(frames)
            if self.rnd.random() < 0.2:
                cut = sum(len(f) for f in frames[:self.rnd.randint(0, len(frames) - 1)])
            else:
                cut = self.rnd.randint(1, len(wire) - 1) if len(wire) > 1 else 0
            # where does it fall: a frame boundary, a header, a streamed frame?
            off = cut
            streamed = False
            for f in frames:
                if off < len(f):
                    streamed = off > 0 and off >= header_len(f) and len(f) > self.buf_size
                    break
                off -= len(f)
            self.res[self.side + '_cut_streamed'] = streamed
            self.writer.write(wire[:cut])
        self.stop = True
        try:
            if how == 'rst':
                sock = self.writer.get_extra_info('socket')
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
                self.writer.transport.abort()
            elif TLS:
                # close_notify, then the TCP close (no half-close in TLS)
                await self.writer.drain()
                self.writer.close()
            else:
                await self.writer.drain()
                self.writer.write_eof()
        except OSError:
            pass

    async def write_loop(self):
        plan = self.plan
        nmsg = plan[self.side + '_msgs']
        kill_here = plan['end'] in ('kill_' + self.side, 'kill_both')
        gap = plan['life'] / max(1, nmsg + 1)
        for seq in range(nmsg + 1):
            await asyncio.sleep(self.rnd.uniform(0, 2 * gap))
            if self.stop:
                return
            frames = None
            if seq < nmsg:
                frames = split_frames(make_message(self.pid, self.d_out, seq, self.rnd), self.rnd, self.masked)
            if kill_here and seq == plan['kill_at']:
                await self.kill(plan['how'], frames)
                return
            if seq == nmsg:
                break
            for f in frames:
                if self.stop:
                    return
                self.writer.write(f)
                await self.writer.drain()
            self.sent.append(seq)
        if plan['end'] == 'clean_' + self.side and not self.stop:
            self.stop_and_close(struct.pack('!H', 4000 + (self.pid % 999)))

    async def run(self):
        wt = asyncio.ensure_future(self.write_loop())
        try:
            await asyncio.wait_for(self.read_loop(), self.plan['life'] + 30)
        except asyncio.TimeoutError:
            self.err('stuck: no end of stream %.0fs after the start' % (self.plan['life'] + 30))
        except Exception as e:  # noqa
            self.err('reader: %s: %s' % (type(e).__name__, e))
        # the read side ended (EOF or reset): this connection is over, so
        # the writer stops now and the socket is closed at once (the proxy
        # may be waiting for this side's FIN)
        self.stop = True
        if not wt.done():
            wt.cancel()
        try:
            await wt
        except (asyncio.CancelledError, OSError, ConnectionError):
            pass
        except Exception as e:  # noqa
            self.err('writer: %s: %s' % (type(e).__name__, e))
        self.res[self.side + '_end'] = self.end
        self.res[self.side + '_close'] = self.close_got
        self.res[self.side + '_killed'] = self.killed
        try:
            self.writer.transport.abort() if self.killed == 'rst' else self.writer.close()
        except Exception:  # noqa
            pass


# ---------------------------------------------------------------- the run

def make_plan(pid, rnd, life):
    end = rnd.choices([e for e, _ in ENDINGS], [w for _, w in ENDINGS])[0]
    p = {'client_msgs': rnd.randint(0, 25), 'upstream_msgs': rnd.randint(0, 25), 'end': end,
         'how': rnd.choice(['rst', 'fin']) if end != 'kill_both' else 'rst',
         'life': life * rnd.uniform(0.5, 1.5)}
    if end == 'kill_both':
        p['kill_at'] = 0
        p['client_msgs'] = p['upstream_msgs'] = max(p['client_msgs'], p['upstream_msgs'], 1)
        p['kill_at'] = rnd.randint(0, p['client_msgs'] - 1)
    elif end.startswith('kill_'):
        side = end[5:]
        p[side + '_msgs'] = max(1, p[side + '_msgs'])
        p['kill_at'] = rnd.randint(0, p[side + '_msgs'] - 1)   # always mid-message
    return p


def verify(pid, plan, res):
    errs = list(res['errors'])
    end = plan['end']
    for d, snd, rcv in ((C2U, 'client', 'upstream'), (U2C, 'upstream', 'client')):
        sent, got = res[snd + '_sent'], res[rcv + '_recv']
        # in order and intact is checked as they arrive; none invented:
        if len(got) > plan[snd + '_msgs']:
            errs.append('%s got %d messages, %s sent %d' % (rcv, len(got), snd, plan[snd + '_msgs']))
        # nothing lost where nothing may be lost
        exact = (end == 'clean_client' or end == 'clean_upstream' or
                 (end == 'kill_' + snd and plan['how'] == 'fin'))
        if exact and len(got) != len(sent):
            errs.append('%s->%s: %d messages written, %d arrived (%s)' % (snd, rcv, len(sent), len(got), end))
    if end.startswith('kill_') and end != 'kill_both':
        dead = end[5:]
        alive = 'upstream' if dead == 'client' else 'client'
        want = 1001 if dead == 'client' else 1014
        got_close, how_end = res[alive + '_close'], res[alive + '_end']
        streamed = res.get(dead + '_cut_streamed')
        if got_close is not None:
            if got_close != want:
                errs.append('%s died (%s): %s got close %s, want %d' % (dead, plan['how'], alive, got_close, want))
        elif how_end in ('eof_inside', 'rst') and (streamed or plan['how'] == 'rst'):
            pass          # the single case without a close frame (closed with
            #               unread input, the proxy's close() is a reset)
        else:
            errs.append('%s died (%s, cut %s): %s got no close frame, end %s' %
                        (dead, plan['how'], 'in a streamed frame' if streamed else 'elsewhere', alive, how_end))
    if end.startswith('clean_'):
        closer = end[6:]
        other = 'upstream' if closer == 'client' else 'client'
        want = 4000 + (pid % 999)
        if res[other + '_close'] != want:
            errs.append('%s closed with %d: %s got close %s' % (closer, want, other, res[other + '_close']))
        if res[closer + '_close'] != want:
            errs.append('%s closed with %d: its answer was %s' % (closer, want, res[closer + '_close']))
        for side in ('client', 'upstream'):
            if res[side + '_end'] != 'eof':
                errs.append('clean close: %s connection ended by %s' % (side, res[side + '_end']))
    return errs


def tls_setup(ctx, state):
    """CHAOS_TLS: a test CA and server certificate (127.0.0.1 and
    localhost), the ssl contexts of both sides, the proxy's TLS flags."""
    state['sssl'] = state['cssl'] = None
    state['scheme'] = 'ws'
    if not TLS:
        return []
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    state['sssl'] = pki.server.server_context()
    state['cssl'] = tlslib.client_context(pki)
    state['scheme'] = 'wss'
    state['admin'] = lib.free_port()
    return ['--tls-ca', pki.ca.crt, '--listen-cert', pki.server.crt, '--listen-key', pki.server.key,
            '--admin', '127.0.0.1:%d' % state['admin']]


def tls_ends_back(state, when):
    """CHAOS_TLS: every TLS end given back (closes may lag a moment)."""
    if not TLS:
        return
    deadline = time.time() + 5
    while True:
        n = promtext.value(promtext.parse(promtext.scrape_text(state['admin'])), 'wsproxy_tls_sessions_in_use')
        if n == 0 or time.time() > deadline:
            break
        time.sleep(0.1)
    check(n == 0, '%s: %d TLS ends still open' % (when, n))
    lib.log('chaos: %s, no TLS end open' % when)


def tls_kw(ssl_ctx, client):
    if ssl_ctx is None:
        return {}
    kw = {'ssl': ssl_ctx, 'ssl_shutdown_timeout': 5}
    if client:
        kw['server_hostname'] = 'localhost'
    return kw


def main(ctx):
    lib.log('chaos: %d pairs, ~%.0fs, %d at a time, seed %d%s' % (PAIRS, SECONDS, CONC, SEED,
                                                                  ', TLS on both legs' if TLS else ''))
    max_conns = 2 * CONC + 16
    results = {}
    plans = {}
    upstream_done = {}
    state = {}
    tls_args = tls_setup(ctx, state)

    async def upstream_handler(reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), 10)
        except Exception:  # noqa
            writer.close()
            return
        m = re.match(rb'GET /chaos/(\d+) ', head)
        key = re.search(rb'(?i)\r\nSec-WebSocket-Key: *([^\r]+)', head)
        if not m or not key:
            writer.close()
            return
        pid = int(m.group(1))
        writer.write(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                     b'Sec-WebSocket-Accept: ' + lib.accept_for(key.group(1).strip()).encode() + b'\r\n\r\n')
        peer = Peer('upstream', pid, plans[pid], reader, writer, results[pid], state['buf'])
        try:
            await peer.run()
        finally:
            upstream_done[pid].set()

    async def run_pair(pid, rnd):
        life = SECONDS * CONC / PAIRS
        plan = plans[pid] = make_plan(pid, rnd, life)
        res = results[pid] = {'errors': [], 'client_sent': [], 'client_recv': [], 'upstream_sent': [],
                              'upstream_recv': []}
        upstream_done[pid] = asyncio.Event()
        try:
            reader, writer = await asyncio.open_connection('127.0.0.1', state['port'],
                                                           **tls_kw(state['cssl'], True))
        except OSError as e:
            res['errors'].append('connect: %s' % e)
            return
        sock = writer.get_extra_info('socket')
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        res['port'] = sock.getsockname()[1]
        writer.write(lib.upgrade_request('/chaos/%d' % pid))
        try:
            head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), 10)
        except Exception as e:  # noqa
            res['errors'].append('no 101: %s' % type(e).__name__)
            writer.close()
            return
        if not head.startswith(b'HTTP/1.1 101'):
            res['errors'].append('handshake answered %r' % head[:40])
            writer.close()
            return
        await Peer('client', pid, plan, reader, writer, res, state['buf']).run()
        try:
            await asyncio.wait_for(upstream_done[pid].wait(), 30)
        except asyncio.TimeoutError:
            res['errors'].append('upstream side still running 30 s after the client side ended')

    async def chaos():
        server = await asyncio.start_server(upstream_handler, '127.0.0.1', 0, **tls_kw(state['sssl'], False))
        up_port = server.sockets[0].getsockname()[1]
        args = ['--upstream', '%s://127.0.0.1:%d' % (state['scheme'], up_port), '--max-conns', str(max_conns),
                '--close-timeout', str(CLOSE_TIMEOUT_MS)] + tls_args + PROXY_ARGS
        px = tlslib.tls_proxy(ctx, *args) if TLS else ctx.proxy(*args)
        state['px'] = px
        state['port'] = px.port
        mm = re.search(r'event=start .* buffer=(\d+)', px.stderr_text())
        state['buf'] = int(mm.group(1)) if mm else 65536
        rnd = random.Random(SEED)
        sem = asyncio.Semaphore(CONC)
        t0 = time.time()

        async def limited(pid):
            async with sem:
                await run_pair(pid, random.Random(rnd.random()))
        await asyncio.gather(*[limited(i) for i in range(PAIRS)])
        state['elapsed'] = time.time() - t0
        server.close()
        await server.wait_closed()
    lib.arun(chaos(), SECONDS * 2 + 60)
    px = state['px']

    # per-pair verdicts
    failures = []
    counts = {}
    totals = [0, 0]
    for pid in range(PAIRS):
        plan, res = plans[pid], results[pid]
        key = plan['end'] + ('/' + plan['how'] if plan['end'].startswith('kill') else '')
        counts[key] = counts.get(key, 0) + 1
        totals[0] += len(res['upstream_recv'])
        totals[1] += len(res['client_recv'])
        for e in verify(pid, plan, res):
            failures.append('pair %d (%s): %s' % (pid, key, e))
    lib.log('chaos: %d pairs in %.1fs: %s; messages delivered c2u %d, u2c %d'
            % (PAIRS, state['elapsed'], ', '.join('%s %d' % kv for kv in sorted(counts.items())),
               totals[0], totals[1]))
    outcomes = {}
    for pid in range(PAIRS):
        plan, res = plans[pid], results[pid]
        if plan['end'] in ('kill_client', 'kill_upstream'):
            alive = 'upstream' if plan['end'] == 'kill_client' else 'client'
            o = 'close %s' % res.get(alive + '_close') if res.get(alive + '_close') else res.get(alive + '_end')
            outcomes[o] = outcomes.get(o, 0) + 1
    errors = {}
    for m in re.finditer(r'event=close .*? error="([^"]*)"', px.stderr_text()):
        errors[m.group(1)] = errors.get(m.group(1), 0) + 1
    lib.log('chaos: survivors of a kill got: %s; close lines with an error: %s'
            % (', '.join('%s %d' % kv for kv in sorted(outcomes.items())),
               ', '.join('"%s" %d' % kv for kv in sorted(errors.items())) or 'none'))

    # accounting: one event=close line per accepted connection
    px.check_fds(10)
    log = px.stderr_text()
    per_port = {}
    for m in re.finditer(r'event=(close|abort|reject) client=127\.0\.0\.1:(\d+)', log):
        per_port.setdefault(int(m.group(2)), []).append(m.group(1))
    # (a client port may be reused by a later pair: count pairs per port)
    pairs_on = {}
    for pid in range(PAIRS):
        port = results[pid].get('port')
        if port is not None:
            pairs_on.setdefault(port, []).append(pid)
    for port, pids in sorted(pairs_on.items()):
        ev = per_port.get(port, [])
        if ev != ['close'] * len(pids):
            failures.append('pairs %r (client port %d): log events %r, want %d close' % (pids, port, ev, len(pids)))
    # A killed side is an abrupt end: its close line says error= (wsproxy(1)
    # LOGGING).  Every other peer here answers closes and closes its socket
    # at once: no such pair may have had to wait for --close-timeout (or
    # end with another error).
    unexpected = {}
    for m in re.finditer(r'event=close client=127\.0\.0\.1:(\d+) .*? error="([^"]*)"', log):
        pids = pairs_on.get(int(m.group(1)), [])
        if any(plans[pid]['end'].startswith('kill') for pid in pids):
            continue
        unexpected[m.group(2)] = unexpected.get(m.group(2), 0) + 1
        for pid in pids:
            r = results[pid]
            lib.log('chaos: pair %d (port %s) logged error "%s": plan %r; client end %s close %s, upstream end'
                    ' %s close %s, cut streamed c/u %s/%s' % (
                        pid, m.group(1), m.group(2), plans[pid], r.get('client_end'), r.get('client_close'),
                        r.get('upstream_end'), r.get('upstream_close'), r.get('client_cut_streamed'),
                        r.get('upstream_cut_streamed')))
    if unexpected:
        failures.append('pairs nobody killed ended with errors in the log: %r' % unexpected)
    extra = set(per_port) - set(pairs_on)
    if extra:
        failures.append('log events for client ports no pair used: %r' % sorted(extra)[:5])
    if 'status=503' in log:
        failures.append('some pair got 503 during the run')
    for f in failures[:20]:
        lib.log('  ' + f)
    check(not failures, '%d problems, first: %s' % (len(failures), failures[0] if failures else ''))
    tls_ends_back(state, 'after the chaos')

    # the slab is all free again: max_conns pairs at once, one more gets 503
    async def fill():
        conns = []
        for i in range(max_conns):
            r, w = await asyncio.open_connection('127.0.0.1', px.port, **tls_kw(state['cssl'], True))
            w.write(lib.upgrade_request('/fill/%d' % i))
            conns.append((r, w))
        heads = await asyncio.gather(*[asyncio.wait_for(r.readuntil(b'\r\n\r\n'), 10) for r, _ in conns])
        return conns, heads
    async def fill_handler(reader, writer):
        head = await reader.readuntil(b'\r\n\r\n')
        key = re.search(rb'(?i)\r\nSec-WebSocket-Key: *([^\r]+)', head).group(1).strip()
        writer.write(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                     b'Sec-WebSocket-Accept: ' + lib.accept_for(key).encode() + b'\r\n\r\n')
        try:
            d = await reader.read(1 << 16)
            while d:
                writer.write(b'\x88\x02\x03\xe8')
                await writer.drain()
                d = await reader.read(1 << 16)
        except OSError:
            pass
        writer.close()

    # the chaos upstream is closed; the proxy's route still points at its port,
    # so a new listener takes that port for the fill
    up_port = int(re.search(r'routes=/=wss?://127\.0\.0\.1:(\d+)', px.stderr_text()).group(1))

    async def slab_check_on(port):
        srv = await asyncio.start_server(fill_handler, '127.0.0.1', port, reuse_address=True,
                                         **tls_kw(state['sssl'], False))
        conns, heads = await fill()
        bad = [h[:20] for h in heads if not h.startswith(b'HTTP/1.1 101')]
        r, w = await asyncio.open_connection('127.0.0.1', px.port, **tls_kw(state['cssl'], True))
        w.write(lib.upgrade_request('/fill/extra'))
        extra = await asyncio.wait_for(r.readuntil(b'\r\n\r\n'), 10)
        w.close()
        for rr, ww in conns:
            ww.write(lib.encode_frame(OP_CLOSE, struct.pack('!H', 1000), mask=b'abcd'))
        for rr, ww in conns:
            try:
                await asyncio.wait_for(rr.read(), 10)
            except Exception:  # noqa
                pass
            ww.close()
        srv.close()
        await srv.wait_closed()
        return bad, extra
    bad, extra = lib.arun(slab_check_on(up_port), 60)
    check(not bad, 'after the chaos, %d of %d pairs could not be opened: %r' % (len(bad), max_conns, bad[:3]))
    check(extra.startswith(b'HTTP/1.1 503'), 'pair %d of --max-conns %d got %r, want 503'
          % (max_conns + 1, max_conns, extra[:20]))
    lib.log('chaos: slab check passed (%d pairs at once, then 503)' % max_conns)
    tls_ends_back(state, 'after the slab check')


lib.run(main)
