#!/usr/bin/python3
"""wsproxy --ping-interval / --ping-timeout: wsproxy's own pings find dead legs.

A leg (the client end or the upstream end of a pair) that has sent no
bytes for --ping-interval gets a ping from wsproxy: unmasked with an
8-byte payload to a client, masked with the same 8-byte per-pair token to
an upstream, put only between frames.  The pong carrying the token back
is taken out of the flow, never forwarded; the peers' own pings and pongs
pass untouched.  A leg that sends no bytes within --ping-timeout after
the ping is dead: the live side gets close 1001 and the close line says
closed_by=proxy error="ping timeout" side=client|upstream.
--idle-timeout is not reset by wsproxy's own pings and pongs.

Cases (raw peers on both legs, every frame recorded with its time):
  1. silent upstream, the client sending into it every 200 ms: found;
  2. a client that never reads, and one that reads but never answers
     (the default --ping-timeout, 3 intervals): found;
  3. healthy peers answering (one pong trickled a byte at a time, one in
     the same write as a text frame): pings both ways, one token, no pong
     ever reaches a peer; no ping during a slow close handshake;
  4. the peers' own pings and pongs (8-byte ones too) pass both ways;
  5. pings between the fragments of a slow fragmented message, none
     inside a 3 MB frame streamed slowly (each in both directions);
  5b. a frame that stalls half-way at its sender holds the receiving
     leg's ping back without getting that leg cut;
  6. --idle-timeout still ends a pair with only wsproxy's pings on it,
     and traffic one way resets it.
Durations are given as 1s, 1000ms, 300ms... (both spellings).
"""
import select
import time

import lib
from lib import check, frame, OP_TEXT, OP_BINARY, OP_CONT, OP_CLOSE, OP_PING, OP_PONG

# Extra seconds on every upper bound under valgrind (timers are wall-clock,
# only the proxy's own work is slower).
SLACK = 4.0 if lib.VALGRIND else 0.0
MARGIN = 1.5 + SLACK     # on top of interval + timeout
EARLY = 0.15             # clock skew between the proxy's view and ours

TIMEOUT = object()


def poll_frame(conn, timeout, frame_timeout=10.0):
    """The next frame, None on EOF, TIMEOUT when none starts within timeout."""
    if not conn.buf and not conn.eof:
        r, _, _ = select.select([conn.sock], [], [], max(0.0, timeout))
        if not r:
            return TIMEOUT
    return conn.recv_frame(frame_timeout + SLACK * 3)


class Peer:
    """A raw peer's reader: frames with their arrival times; answers pings
    (with a pong masked as its side must) when answer(frame) says so."""

    def __init__(self, conn, client, answer=True, on_frame=None):
        self.c = conn
        self.client = client
        self.answer = answer if callable(answer) else (lambda f, a=answer: a)
        self.on_frame = on_frame
        self.frames = []        # (time, Frame)
        self.t_open = time.time()

    def pump(self, until, stop=None):
        """Read until time `until`, EOF (None), a close frame, or stop(frame);
        returns what stopped it (TIMEOUT at `until`)."""
        while True:
            left = until - time.time()
            if left <= 0:
                return TIMEOUT
            f = poll_frame(self.c, left)
            if f is TIMEOUT or f is None:
                return f
            self.frames.append((time.time(), f))
            if f.opcode == OP_PING and self.answer(f):
                self.c.try_send(frame(OP_PONG, f.payload, mask=self.client))
            if self.on_frame:
                self.on_frame(f)
            if f.opcode == OP_CLOSE or (stop and stop(f)):
                return f

    def of(self, opcode):
        return [f for _, f in self.frames if f.opcode == opcode]

    def own_pings(self, exclude=()):
        """wsproxy's pings as seen here: 8-byte pings (less the peers' own)."""
        return [(t, f) for t, f in self.frames if f.opcode == OP_PING and
                len(f.payload) == 8 and f.payload not in exclude]

    def data(self):
        return [(t, f) for t, f in self.frames if f.opcode < OP_CLOSE]


def check_own_pings(pings, side, masked):
    for _, f in pings:
        check(f.masked == masked and f.fin and f.rsv == 0 and len(f.payload) == 8,
              '%s: wsproxy\'s ping should be %s with an 8-byte payload: %r' %
              (side, 'masked' if masked else 'unmasked', f))


def close_line(px, what, error=None, timeout=3.0):
    """The pair's close line (key=value, parsed); with error, the one
    that carries it."""
    if error:
        px.wait_log('error="%s"' % error, what, timeout + SLACK)
    else:
        px.wait_log('event=close ', what, timeout + SLACK)
    lines = []
    for line in px.stderr_text().splitlines():
        if line.startswith('wsproxy'):
            continue
        try:
            d = lib.parse_log_line(line)
        except ValueError:
            continue
        if d['event'] == 'close':
            lines.append(d)
    if error:
        lines = [d for d in lines if lib.unquote(d.get('error', '')) == error.encode()]
    check(len(lines) == 1, '%s: want one close line, got %r' % (what, lines))
    return lines[0]


def client_close(peer, code=1000, what='client'):
    """A clean close from a raw client (still answering pings): send,
    take the echo, EOF."""
    c = peer.c
    c.send(frame(OP_CLOSE, lib.close_payload(code)))
    peer.t_close_sent = time.time()
    f = peer.pump(time.time() + 5 + SLACK)
    check(f is not TIMEOUT and f is not None and f.opcode == OP_CLOSE and f.close_code == code
          and not f.masked, '%s: close echo %r, want unmasked %d' % (what, f, code))
    c.wait_eof(3 + SLACK)


def upstream_serve(conn, peer, until, delay=0.0):
    """Pump the upstream's peer until the proxy's close, answer it (after
    delay seconds, still reading), EOF.  Returns the close frame (None on
    EOF without one)."""
    f = peer.pump(until)
    check(f is not TIMEOUT, 'upstream: no close within its time (frames %r)' %
          [x for _, x in peer.frames][-5:])
    if f is not None:
        conn.rec['close'] = f
        conn.rec['t_close'] = time.time()
        if delay:
            r = peer.pump(time.time() + delay)
            check(r is TIMEOUT, 'upstream: the pair ended before it answered the close: %r' % r)
        conn.try_send(frame(OP_CLOSE, f.payload[:2], mask=False))
        conn.wait_eof(3 + SLACK)
    return f


# ---------------------------------------------------------------- 1

def case_silent_upstream(ctx):
    """An upstream that reads but never writes, while the client sends a
    text every 200 ms into it: the upstream leg is pinged (masked, 8 bytes)
    after the interval, found dead after the timeout; the client gets 1001."""
    I, T = 1.0, 1.0

    def h(conn):
        conn.handshake()
        peer = Peer(conn, client=False, answer=False)   # never writes a byte
        conn.rec['peer'] = peer
        f = peer.pump(time.time() + 20 + SLACK)
        conn.rec['end'] = f
        conn.rec['t_end'] = time.time()

    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri, '--idle-timeout', '10s',
                   '--ping-interval', '1s', '--ping-timeout', '1s')
    c = lib.RawClient(px.port, '/')
    t0 = time.time()
    sent, got, close = [], [], None
    next_send = t0
    while time.time() - t0 < I + T + MARGIN + 1:
        now = time.time()
        if now >= next_send:
            p = b'tick %d' % len(sent)
            if not c.try_send(frame(OP_TEXT, p)):
                break
            sent.append(p)
            next_send += 0.2
        f = poll_frame(c, next_send - time.time())
        if f is TIMEOUT:
            continue
        if f is None or f.opcode == OP_CLOSE:
            close = f
            break
        got.append(f)
    dt = time.time() - t0
    check(close is not None, 'silent upstream: the client got no close frame after %.2fs (EOF or none)' % dt)
    lib.log('silent upstream: client got %r after %.2fs, %d ticks sent' % (close, dt, len(sent)))
    check(not got, 'silent upstream: the client (sending every 200 ms) got frames: %r' % got)
    check(not close.masked and close.close_code == 1001,
          'silent upstream: the client got %r, want unmasked close 1001' % close)
    check(dt >= I + T - EARLY, 'silent upstream: closed after %.2fs, before interval + timeout (%.1fs)' % (dt, I + T))
    check(dt <= I + T + MARGIN, 'silent upstream: closed only after %.2fs (interval + timeout %.1fs)' % (dt, I + T))
    c.try_send(frame(OP_CLOSE, close.payload[:2]))
    c.wait_eof(3 + SLACK)
    c.close()
    raw.wait_done(5 + SLACK)
    rec = raw.conns[-1]
    peer = rec['peer']
    pings = peer.own_pings()
    check(len(pings) == 1, 'silent upstream: want exactly one wsproxy ping upstream, got %r' % pings)
    check_own_pings(pings, 'silent upstream', masked=True)
    tp = pings[0][0] - peer.t_open
    check(I - EARLY <= tp <= I + MARGIN,
          'silent upstream: pinged %.2fs after the upgrade, want about %.1fs' % (tp, I))
    texts = [f.payload for _, f in peer.data()]
    check(all(f.masked for _, f in peer.data()), 'silent upstream: an unmasked data frame upstream')
    check(len(texts) >= 5 and texts == sent[:len(texts)],
          'silent upstream: upstream got %r, want the first of %r in order' % (texts, sent))
    check(not peer.of(OP_PONG), 'silent upstream: upstream got a pong: %r' % peer.of(OP_PONG))
    lib.log('silent upstream: its end after the timeout: %r at %.2fs' % (rec['end'], rec['t_end'] - peer.t_open))
    d = close_line(px, 'silent upstream', 'ping timeout')
    check(d['level'] == 'warn' and d.get('side') == 'upstream' and d.get('closed_by') == 'proxy'
          and d.get('close_code') == '1001',
          'silent upstream: close line %r, want level=warn side=upstream closed_by=proxy close_code=1001' % d)


# ---------------------------------------------------------------- 2

def case_silent_client(ctx):
    """A client that stops answering, kept open: (a) never reads at all,
    (b) reads every frame but never answers (--ping-interval 500ms and
    the default --ping-timeout, 3 x 500 ms).  The upstream (answering
    wsproxy's pings) gets a masked close 1001 after interval + timeout."""
    def h(conn):
        conn.handshake()
        peer = Peer(conn, client=False, answer=True)
        conn.rec['peer'] = peer
        upstream_serve(conn, peer, time.time() + 2 + MARGIN + 3)

    raw = ctx.raw_upstream(h)
    for variant, I, T, args in (('never reads', 1.0, 1.0, ('--ping-interval', '1000ms', '--ping-timeout', '1s')),
                                ('reads, never answers', 0.5, 1.5, ('--ping-interval', '500ms'))):
        what = 'silent client (%s)' % variant
        # a proxy each, so that each has one close line
        px = ctx.proxy('--upstream', raw.uri, *args)
        n = len(raw.conns)
        c = lib.RawClient(px.port, '/')
        t0 = time.time()
        cpeer = Peer(c, client=True, answer=False)
        if variant == 'never reads':
            raw.wait_done(I + T + MARGIN + 5)
            end = cpeer.pump(time.time() + 3 + SLACK)   # what the socket held
        else:
            end = cpeer.pump(t0 + I + T + MARGIN + 3)
            raw.wait_done(5 + SLACK)
        c.close()
        check(len(raw.conns) == n + 1, '%s: upstream connections %d' % (what, len(raw.conns)))
        rec = raw.conns[n]
        upeer = rec['peer']
        f = rec.get('close')
        check(f is not None, '%s: the upstream got no close frame' % what)
        dt = rec['t_close'] - upeer.t_open
        lib.log('%s: upstream got %r after %.2fs; the client\'s socket held %r then %r' %
                (what, f, dt, [x for _, x in cpeer.frames], end))
        check(f.masked and f.close_code == 1001, '%s: the upstream got %r, want masked close 1001' % (what, f))
        check(I + T - EARLY <= dt <= I + T + MARGIN,
              '%s: upstream closed after %.2fs, want interval + timeout %.1fs' % (what, dt, I + T))
        # the dead client was pinged once (unmasked, 8 bytes), then dropped
        pings = cpeer.own_pings()
        check(len(pings) == 1, '%s: want one wsproxy ping to the client, got %r' % (what, cpeer.frames))
        check_own_pings(pings, what, masked=False)
        if variant != 'never reads':
            tp = pings[0][0] - t0
            check(I - EARLY <= tp <= I + MARGIN, '%s: pinged after %.2fs, want about %.1fs' % (what, tp, I))
        check(end is None or (end is not TIMEOUT and end.opcode == OP_CLOSE),
              '%s: the client\'s connection still open after the timeout (%r)' % (what, end))
        # the upstream answered its own pings: pinged, never cut
        check(not upeer.of(OP_PONG), '%s: a pong reached the upstream: %r' % (what, upeer.of(OP_PONG)))
        check_own_pings(upeer.own_pings(), what + ' upstream', masked=True)
        d = close_line(px, what, 'ping timeout')
        check(d['level'] == 'warn' and d.get('side') == 'client' and d.get('closed_by') == 'proxy'
              and d.get('close_code') == '1001',
              '%s: close line %r, want level=warn side=client closed_by=proxy close_code=1001' % (what, d))


# ---------------------------------------------------------------- 3

def case_own_pongs_consumed(ctx):
    """Healthy peers that answer every ping: both legs get wsproxy's pings
    (same per-pair token), neither peer ever receives a pong, the pair
    stays open and relays.  The client answers the first ping one byte
    every 10 ms, the second with its pong and a text frame in one write.
    Then a close handshake the upstream answers only after 0.9 s (3
    intervals): no ping to either side meanwhile."""
    I = 0.3
    answered = []

    def client_answer(f):
        if f.opcode != OP_PING:
            return
        pong = frame(OP_PONG, f.payload)
        answered.append(f)
        if len(answered) == 1:
            for i in range(len(pong)):
                c.send(pong[i:i + 1])
                time.sleep(0.01)
        elif len(answered) == 2:
            c.send(pong + frame(OP_TEXT, b'after-pong'))
        else:
            c.send(pong)

    def h(conn):
        conn.handshake()
        peer = Peer(conn, client=False, answer=True, on_frame=lambda f: (
            f.opcode == OP_TEXT and conn.send(frame(OP_TEXT, f.payload, mask=False))))
        conn.rec['peer'] = peer
        upstream_serve(conn, peer, time.time() + 10 + SLACK, delay=3 * I)

    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri, '--ping-interval', '300ms')
    c = lib.RawClient(px.port, '/')
    cpeer = Peer(c, client=True, answer=False, on_frame=client_answer)
    r = cpeer.pump(time.time() + 4 * I)
    check(r is TIMEOUT, 'own pongs: the pair ended while both answer: %r' % r)
    c.send(frame(OP_TEXT, b'still open'))
    r = cpeer.pump(time.time() + 3 + SLACK, stop=lambda f: f.opcode == OP_TEXT)
    check(r is not TIMEOUT and r is not None and r.opcode == OP_TEXT and r.payload == b'still open',
          'own pongs: no echo after %d intervals: %r' % (4, r))
    client_close(cpeer, 1000, 'own pongs')
    c.close()
    raw.wait_done(5 + SLACK)
    upeer = raw.conns[-1]['peer']
    cp, up = cpeer.own_pings(), upeer.own_pings()
    lib.log('own pongs: client got %d pings, upstream %d; client frames %r' %
            (len(cp), len(up), [f for _, f in cpeer.frames]))
    check(len(cp) >= 2, 'own pongs: the client got %d wsproxy pings in %.1fs (interval %.1fs)' % (len(cp), 4 * I, I))
    check(len(up) >= 2, 'own pongs: the upstream got %d wsproxy pings in %.1fs (interval %.1fs)' % (len(up), 4 * I, I))
    check_own_pings(cp, 'own pongs client', masked=False)
    check_own_pings(up, 'own pongs upstream', masked=True)
    tokens = {f.payload for _, f in cp + up}
    check(len(tokens) == 1, 'own pongs: the pair\'s pings carry more than one token: %r' % tokens)
    check(cp[0][0] - cpeer.t_open >= I - EARLY, 'own pongs: client pinged %.2fs after the upgrade, before the interval'
          % (cp[0][0] - cpeer.t_open))
    check(not cpeer.of(OP_PONG), 'own pongs: the client got pongs: %r' % cpeer.of(OP_PONG))
    check(not upeer.of(OP_PONG), 'own pongs: the upstream got pongs: %r' % upeer.of(OP_PONG))
    check([f.payload for _, f in cpeer.data()] == [b'after-pong', b'still open'],
          'own pongs: client data frames %r' % cpeer.data())
    check([f.payload for _, f in upeer.data()] == [b'after-pong', b'still open'],
          'own pongs: upstream data frames %r' % upeer.data())
    closes = cpeer.of(OP_CLOSE)
    check(len(closes) == 1 and closes[0].close_code == 1000, 'own pongs: client closes %r' % closes)
    late = [f for t, f in cp if t > cpeer.t_close_sent] + \
        [f for t, f in up if t > raw.conns[-1]['t_close']]
    check(not late, 'own pongs: wsproxy pinged during the close handshake: %r' % late)
    d = close_line(px, 'own pongs')
    check(d.get('closed_by') == 'client' and 'error' not in d and d['level'] == 'info',
          'own pongs: close line %r, want a clean close by the client' % d)


# ---------------------------------------------------------------- 4

def case_peer_pings_pass(ctx):
    """The peers' own pings and pongs pass through both ways, unchanged
    (masked toward the upstream, unmasked toward the client), 8-byte ones
    too, while wsproxy's own pings go on beside them."""
    mine = (b'peer8byt', b'unsolic8')

    def h(conn):
        def on(f):
            if f.opcode == OP_TEXT and f.payload == b'ping me':
                conn.send(frame(OP_PING, b'up-ping', mask=False))
            elif f.opcode == OP_PONG and f.payload == b'up-ping':
                conn.send(frame(OP_TEXT, b'got up-pong', mask=False))
            elif f.opcode == OP_PONG and f.payload == b'unsolic8':
                conn.send(frame(OP_TEXT, b'got unsolic8', mask=False))
        conn.handshake()
        peer = Peer(conn, client=False, answer=True, on_frame=on)
        conn.rec['peer'] = peer
        upstream_serve(conn, peer, time.time() + 15 + SLACK)

    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri, '--ping-interval', '500ms')
    c = lib.RawClient(px.port, '/')
    cpeer = Peer(c, client=True, answer=True)
    # wsproxy's pings first, answered
    r = cpeer.pump(time.time() + 0.8)
    check(r is TIMEOUT, 'peer pings: pair ended: %r' % r)
    check(len(cpeer.own_pings()) >= 1, 'peer pings: no wsproxy ping to the client in 0.8s (interval 0.5s)')

    def wait_for(opcode, payload, what):
        f = cpeer.pump(time.time() + 3 + SLACK, stop=lambda f: f.opcode == opcode and f.payload == payload)
        check(f is not TIMEOUT and f is not None and f.opcode == opcode and f.payload == payload,
              'peer pings: %s: got %r' % (what, f))
        check(not f.masked, 'peer pings: %s arrived masked' % what)
        return f

    c.send(frame(OP_PING, b'client-ping'))
    wait_for(OP_PONG, b'client-ping', 'the upstream\'s pong to the client\'s ping')
    c.send(frame(OP_TEXT, b'ping me'))
    wait_for(OP_PING, b'up-ping', 'the upstream\'s ping')          # answered by pump()
    wait_for(OP_TEXT, b'got up-pong', 'the upstream saying it got the client\'s pong')
    c.send(frame(OP_PING, b'peer8byt'))                             # 8 bytes, not the token
    wait_for(OP_PONG, b'peer8byt', 'the pong to an 8-byte ping of the client')
    c.send(frame(OP_PONG, b'unsolic8'))                             # unsolicited, 8 bytes
    wait_for(OP_TEXT, b'got unsolic8', 'the upstream saying it got the unsolicited pong')
    client_close(cpeer, 1000, 'peer pings')
    c.close()
    raw.wait_done(5 + SLACK)
    upeer = raw.conns[-1]['peer']
    ctl = [(f.opcode, f.payload, f.masked) for _, f in upeer.frames
           if f.opcode in (OP_PING, OP_PONG) and f.payload not in
           {x.payload for _, x in upeer.own_pings(exclude=mine)}]
    lib.log('peer pings: upstream control frames (less wsproxy\'s): %r' % ctl)
    check(ctl == [(OP_PING, b'client-ping', True), (OP_PONG, b'up-ping', True),
                  (OP_PING, b'peer8byt', True), (OP_PONG, b'unsolic8', True)],
          'peer pings: the upstream got %r' % ctl)
    cctl = [(f.opcode, f.payload) for _, f in cpeer.frames if f.opcode == OP_PONG]
    check(cctl == [(OP_PONG, b'client-ping'), (OP_PONG, b'peer8byt')],
          'peer pings: the client got pongs %r, want only the upstream\'s two' % cctl)
    check_own_pings(cpeer.own_pings(), 'peer pings client', masked=False)
    check_own_pings(upeer.own_pings(exclude=mine), 'peer pings upstream', masked=True)
    check('ping timeout' not in px.stderr_text(), 'peer pings: a ping timeout was logged')


# ---------------------------------------------------------------- 5

FRAGS = [b'part one, ', b'part two, ', b'part three']
GAP = 1.2


def check_fragments(peer, what, masked):
    data = peer.data()
    check([(f.opcode, f.fin) for _, f in data] == [(OP_TEXT, False), (OP_CONT, False), (OP_CONT, True)],
          '%s: data frames %r' % (what, data))
    check(b''.join(f.payload for _, f in data) == b''.join(FRAGS),
          '%s: reassembled %r' % (what, b''.join(f.payload for _, f in data)))
    check(all(f.masked == masked and f.rsv == 0 for _, f in peer.frames),
          '%s: frames %s masked or with RSV bits: %r' % (what, 'not' if masked else '', peer.frames))
    pings = peer.own_pings()
    check_own_pings(pings, what, masked)
    for i in range(2):
        a, b = data[i][0], data[i + 1][0]
        n = [t for t, _ in pings if a < t < b]
        check(n, '%s: no wsproxy ping between fragment %d and %d (%.2fs apart, interval 0.4s)' %
              (what, i + 1, i + 2, b - a))
    lib.log('%s: %d pings, frames %r' % (what, len(pings), [f for _, f in peer.frames]))


def case_fragments(ctx):
    """A fragmented message sent slowly (1.2 s between fragments, interval
    0.4 s): wsproxy's pings go between its frames, every frame is whole,
    the message reassembles to what was sent.  Upstream to client, and
    client to upstream."""
    def h(conn):
        conn.handshake()
        peer = Peer(conn, client=False, answer=True)
        conn.rec['peer'] = peer
        f = peer.pump(time.time() + 2 * GAP + 5 + SLACK, stop=lambda f: f.opcode < OP_CLOSE and f.fin)
        check(f is not TIMEOUT and f is not None and f.opcode < OP_CLOSE, 'fragments: no "go"/message at the upstream: %r' % f)
        if f.payload == b'go':          # upstream to client
            for i, p in enumerate(FRAGS):
                if i:
                    peer.pump(time.time() + GAP)
                conn.send(frame(OP_TEXT if i == 0 else OP_CONT, p, fin=(i == 2), mask=False))
        else:                           # the client's fragments: the last one stopped pump()
            conn.rec['c2u'] = list(peer.frames)
        upstream_serve(conn, peer, time.time() + 10 + SLACK)

    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri, '--ping-interval', '400ms')
    # upstream -> client
    c = lib.RawClient(px.port, '/')
    c.send(frame(OP_TEXT, b'go'))
    cpeer = Peer(c, client=True, answer=True)
    r = cpeer.pump(time.time() + 2 * GAP + 3 + SLACK, stop=lambda f: f.opcode < OP_CLOSE and f.fin)
    check(r is not TIMEOUT and r is not None and r.opcode == OP_CONT,
          'fragments u2c: the message did not end: %r (frames %r)' % (r, cpeer.frames))
    client_close(cpeer, 1000, 'fragments u2c')
    c.close()
    raw.wait_done(5 + SLACK)
    check_fragments(cpeer, 'fragments u2c', masked=False)
    check(not cpeer.of(OP_PONG), 'fragments u2c: a pong reached the client')
    # client -> upstream
    c = lib.RawClient(px.port, '/')
    cpeer = Peer(c, client=True, answer=True)
    for i, p in enumerate(FRAGS):
        if i:
            r = cpeer.pump(time.time() + GAP)
            check(r is TIMEOUT, 'fragments c2u: pair ended: %r' % r)
        c.send(frame(OP_TEXT if i == 0 else OP_CONT, p, fin=(i == 2)))
    client_close(cpeer, 1000, 'fragments c2u')
    c.close()
    raw.wait_done(5 + SLACK)
    upeer = raw.conns[-1]['peer']
    upeer.frames = raw.conns[-1]['c2u']
    check_fragments(upeer, 'fragments c2u', masked=True)
    check(not upeer.of(OP_PONG), 'fragments c2u: a pong reached the upstream')
    check('ping timeout' not in px.stderr_text(), 'fragments: a ping timeout was logged')


N_BIG, CHUNK = 3 * 1024 * 1024, 96 * 1024
BIG = bytes((i * 7 + 13) % 26 + 97 for i in range(256)) * (N_BIG // 256)


def check_streamed(peer, what, masked, t_start):
    """The big frame whole, nothing but wsproxy's pings before it, and
    the ping held back while it streamed right after it."""
    data = [i for i, (_, f) in enumerate(peer.frames) if f.opcode < OP_CLOSE]
    check(data, '%s: no data frame: %r' % (what, peer.frames))
    i = data[0]
    t, f = peer.frames[i]
    check(f.opcode == OP_TEXT and f.fin and f.masked == masked and f.rsv == 0 and len(f.payload) == N_BIG,
          '%s: first data frame %r, want the %s %d-byte text frame' %
          (what, f, 'masked' if masked else 'unmasked', N_BIG))
    if f.payload != BIG:
        raise lib.Fail('%s: the 3 MB payload differs from what was sent (first difference at %d)' %
                       (what, next(k for k in range(N_BIG) if f.payload[k] != BIG[k])))
    before = [x for _, x in peer.frames[:i]]
    check(all(x.opcode == OP_PING and len(x.payload) == 8 for x in before),
          '%s: before the frame: %r' % (what, before))
    check(len(peer.frames) > i + 1, '%s: nothing after the frame' % what)
    t2, g = peer.frames[i + 1]
    check(g.opcode == OP_PING and len(g.payload) == 8 and g.masked == masked,
          '%s: after the frame %r, want the ping held back while it streamed' % (what, g))
    check(t2 - t <= 0.35 + SLACK, '%s: the held ping came %.2fs after the frame' % (what, t2 - t))
    check_own_pings(peer.own_pings(), what, masked)
    check(not peer.of(OP_PONG), '%s: a pong reached the peer' % what)
    lib.log('%s: frame complete %.2fs after its header; frames %r' %
            (what, t - t_start, [x for _, x in peer.frames]))


def case_streamed_frame(ctx):
    """A 3 MB text frame whose payload is written slowly (96 KiB every
    50 ms, 1.6 s; interval 0.4 s) to a leg that sends nothing meanwhile:
    it arrives byte for byte, no ping inside it; the ping due meanwhile
    waits for its end and comes right after it.  Upstream to client and
    client to upstream.  --ping-timeout 600ms, far shorter than the frame
    takes: a leg that keeps taking the frame's bytes is alive, and its
    timeout counts from the ping's write (wsproxy(1) PINGS), so it is
    not cut."""
    def h(conn):
        conn.handshake()
        peer = Peer(conn, client=False, answer=True)
        conn.rec['peer'] = peer
        f = peer.pump(time.time() + 10 + SLACK, stop=lambda f: f.opcode == OP_TEXT)
        check(f is not TIMEOUT and f is not None, 'streamed: upstream got %r' % f)
        if f.payload == b'go':
            conn.send(frame(OP_TEXT, b'', mask=False, length=N_BIG))     # the header alone
            conn.rec['t_start'] = time.time()
            for off in range(0, N_BIG, CHUNK):
                conn.send(BIG[off:off + CHUNK])
                time.sleep(0.05)
        upstream_serve(conn, peer, time.time() + 15 + SLACK)

    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri, '--ping-interval', '400ms', '--ping-timeout', '600ms')
    # upstream -> client
    c = lib.RawClient(px.port, '/')
    c.send(frame(OP_TEXT, b'go'))
    cpeer = Peer(c, client=True, answer=True)
    r = cpeer.pump(time.time() + 10 + SLACK, stop=lambda f: f.opcode < OP_CLOSE)
    check(r is not TIMEOUT and r is not None, 'streamed u2c: no frame at the client: %r' % r)
    r = cpeer.pump(time.time() + 0.4 + MARGIN, stop=lambda f: f.opcode == OP_PING)
    check(r is not TIMEOUT and r is not None and r.opcode == OP_PING,
          'streamed u2c: no wsproxy ping after the frame: %r' % r)
    client_close(cpeer, 1000, 'streamed u2c')
    c.close()
    raw.wait_done(5 + SLACK)
    check_streamed(cpeer, 'streamed u2c', False, raw.conns[-1]['t_start'])
    # client -> upstream
    c = lib.RawClient(px.port, '/')
    key = b'\x17\x2a\x5c\x81'
    c.send(frame(OP_TEXT, b'', mask=key, length=N_BIG))
    t_start = time.time()
    masked = lib.mask_bytes(BIG, key)
    for off in range(0, N_BIG, CHUNK):
        c.send(masked[off:off + CHUNK])
        time.sleep(0.05)
    cpeer = Peer(c, client=True, answer=True)
    r = cpeer.pump(time.time() + 0.4 + MARGIN)
    check(r is TIMEOUT, 'streamed c2u: the pair ended: %r' % r)
    client_close(cpeer, 1000, 'streamed c2u')
    c.close()
    raw.wait_done(5 + SLACK)
    check_streamed(raw.conns[-1]['peer'], 'streamed c2u', True, t_start)
    check('ping timeout' not in px.stderr_text(), 'streamed: a ping timeout was logged')


def case_stalled_frame(ctx):
    """The frame ahead of wsproxy's ping stalls half-way at its sender
    (the upstream writes 512 KiB of a 1 MiB frame over 0.9 s, stops for
    1 s, then writes the rest), --ping-interval 1s --ping-timeout 500ms:
    the client's ping came due at 1 s but cannot be written inside the
    frame; the client takes every byte it is given, so it is not blamed
    for the stall (wsproxy(1) PINGS); the upstream, silent for 1 s, is
    within its own interval + timeout.  The frame arrives whole, the
    ping right after it, and nothing times out."""
    n = 1 << 20
    big = bytes((i * 7) & 0xff for i in range(n))

    def h(conn):
        conn.handshake()
        peer = Peer(conn, client=False, answer=True)
        conn.rec['peer'] = peer
        f = peer.pump(time.time() + 10 + SLACK, stop=lambda f: f.opcode == OP_TEXT)
        check(f is not TIMEOUT and f is not None, 'stalled: upstream got %r' % f)
        conn.send(frame(OP_BINARY, b'', mask=False, length=n))
        for off in range(0, n // 2, n // 16):
            conn.send(big[off:off + n // 16])
            time.sleep(0.1)
        time.sleep(1.0)
        conn.send(big[n // 2:])
        upstream_serve(conn, peer, time.time() + 10 + SLACK)

    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri, '--ping-interval', '1s', '--ping-timeout', '500ms')
    c = lib.RawClient(px.port, '/')
    c.send(frame(OP_TEXT, b'go'))
    cpeer = Peer(c, client=True, answer=True)
    r = cpeer.pump(time.time() + 10 + SLACK, stop=lambda f: f.opcode < OP_CLOSE)
    check(r is not TIMEOUT and r is not None and r.opcode == OP_BINARY and r.payload == big,
          'stalled: the client got %r, want the whole 1 MiB frame' % r)
    r = cpeer.pump(time.time() + 0.5 + MARGIN, stop=lambda f: f.opcode == OP_PING)
    check(r is not TIMEOUT and r is not None and r.opcode == OP_PING and len(r.payload) == 8,
          'stalled: no wsproxy ping after the frame: %r' % r)
    client_close(cpeer, 1000, 'stalled')
    c.close()
    raw.wait_done(5 + SLACK)
    check('ping timeout' not in px.stderr_text(), 'stalled: a ping timeout was logged')


# ---------------------------------------------------------------- 6

def case_idle_timeout(ctx):
    """--idle-timeout 1s with --ping-interval 300ms, both peers answering:
    wsproxy's own pings and pongs are no traffic, the pair still ends at
    the idle timeout with close 1001 to both sides (wsproxy(1)
    --idle-timeout); one frame upstream to client resets it."""
    IDLE = 1.0
    mode = {}

    def h(conn):
        conn.handshake()
        peer = Peer(conn, client=False, answer=True)
        conn.rec['peer'] = peer
        if mode.get('tick'):
            peer.pump(time.time() + mode['tick'])
            conn.send(frame(OP_TEXT, b'tick', mask=False))
            conn.rec['t_tick'] = time.time()
        upstream_serve(conn, peer, time.time() + IDLE + MARGIN + 3)

    raw = ctx.raw_upstream(h)
    px = ctx.proxy('--upstream', raw.uri, '--idle-timeout', '1s', '--ping-interval', '300ms')
    for what, tick in (('idle with pings', None), ('idle after one frame upstream to client', 0.6)):
        mode['tick'] = tick
        c = lib.RawClient(px.port, '/')
        t0 = time.time()
        cpeer = Peer(c, client=True, answer=True)
        f = cpeer.pump(t0 + (tick or 0) + IDLE + MARGIN + 2)
        dt = time.time() - t0
        check(f is not TIMEOUT, '%s: still open after %.2fs (own pongs counted as traffic?)' % (what, dt))
        check(f is not None and f.close_code == 1001 and not f.masked,
              '%s: the client got %r, want unmasked close 1001' % (what, f))
        c.try_send(frame(OP_CLOSE, f.payload[:2]))
        c.wait_eof(3 + SLACK)
        c.close()
        raw.wait_done(5 + SLACK)
        rec = raw.conns[-1]
        upeer = rec['peer']
        uf = rec.get('close')
        check(uf is not None and uf.masked and uf.close_code == 1001,
              '%s: the upstream got %r, want masked close 1001' % (what, uf))
        since = rec.get('t_tick', upeer.t_open)
        udt = rec['t_close'] - since
        lib.log('%s: client closed after %.2fs, upstream %.2fs after its last frame; pings %d / %d' %
                (what, dt, udt, len(cpeer.own_pings()), len(upeer.own_pings())))
        check(IDLE - EARLY <= udt <= IDLE + MARGIN,
              '%s: closed %.2fs after the last frame, want --idle-timeout %.1fs' % (what, udt, IDLE))
        if tick:
            check([x.payload for _, x in cpeer.data()] == [b'tick'], '%s: client data %r' % (what, cpeer.data()))
            check(dt >= tick + IDLE - EARLY, '%s: closed after %.2fs, the frame at %.1fs did not reset the idle time'
                  % (what, dt, tick))
        else:
            check(dt >= IDLE - EARLY, '%s: closed after %.2fs, before --idle-timeout' % (what, dt))
        cp, up = cpeer.own_pings(), upeer.own_pings()
        check(len(cp) >= 2 and len(up) >= 2,
              '%s: want wsproxy pings to both sides before the idle timeout, got %d / %d' % (what, len(cp), len(up)))
        check_own_pings(cp, what + ' client', masked=False)
        check_own_pings(up, what + ' upstream', masked=True)
        check(not cpeer.of(OP_PONG) and not upeer.of(OP_PONG), '%s: a pong reached a peer' % what)
    check('ping timeout' not in px.stderr_text(), 'idle: a ping timeout was logged')


def main(ctx):
    for fn in (case_silent_upstream, case_silent_client, case_own_pongs_consumed,
               case_peer_pings_pass, case_fragments, case_streamed_frame, case_stalled_frame,
               case_idle_timeout):
        t = time.time()
        fn(ctx)
        lib.log('%s: ok (%.1fs)' % (fn.__name__, time.time() - t))


lib.run(main)
