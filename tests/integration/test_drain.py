#!/usr/bin/python3
"""wsproxy(1) SIGNALS: SIGTERM drains.

Part 1, 190 pairs and 10 clients in their handshake when SIGTERM comes:
  - idle pairs;
  - clients half-way through a large single-frame message (streamed),
    and through a fragmented message (first fragments sent);
  - upstreams half-way through a fragmented message to their client;
  - clients that have sent half of their request head.
Every data message whose first byte wsproxy had read before the signal
arrives whole, in order; then each side gets close 1001 (client: unmasked,
upstream: masked), answers it, and sees its TCP connection closed: a clean
close handshake.  The half-sent heads finish, go upstream, open, and are
closed the same way.  wsproxy stops listening at once and exits 0 with
one summary line.

Part 2: --drain-spread 1500 spreads the closes of 80 idle pairs: they
arrive over more than half of it, not in one instant.

Part 3: --drain-timeout 1500: a client that never answers its close is cut
then (TCP closed), and wsproxy exits 0 soon after; the deadline also
answers a handshake still waiting for its upstream with 503 and
Retry-After.
"""
import os
import signal
import socket
import threading
import time

import lib
from lib import check

BIG = 200 * 1024          # larger than a pool buffer: streamed


def upstream_handler(state):
    """Records every data message (assembled) and answers the close.
    An upstream told 'SEND-HALF' sends the first fragment of a message to
    its client, waits for the signal, then the rest."""
    def h(c):
        req = c.read_request()
        c.send_101()
        msgs, parts = [], []
        while True:
            f = c.recv_frame(30)
            if f is None:
                state['eof_without_close'].append(req.target)
                return
            if f.opcode == lib.OP_CLOSE:
                check(f.masked, 'close to the upstream not masked')
                with state['lock']:
                    state['up_close'][req.target] = f.close_code
                    state['up_msgs'][req.target] = msgs
                c.send_frame(lib.OP_CLOSE, f.payload[:2])
                c.wait_eof(5)
                return
            if f.opcode in (lib.OP_TEXT, lib.OP_BINARY, lib.OP_CONT):
                parts.append(f.payload)
                if f.fin:
                    m = b''.join(parts)
                    parts = []
                    msgs.append(m)
                    if m == b'SEND-HALF':
                        c.send_frame(lib.OP_TEXT, b'first-half ', fin=False)
                        state['signalled'].wait(10)
                        time.sleep(0.2)
                        c.send_frame(lib.OP_CONT, b'second-half', fin=True)
    return h


def client_closes(c, code=1001, timeout=10):
    """The client's view: data messages, then a close with code; answer it
    and see the connection closed."""
    msgs, parts = [], []
    end = time.time() + timeout
    while True:
        f = c.recv_frame(max(0.1, end - time.time()))
        check(f is not None, 'connection closed without a close frame')
        if f.opcode == lib.OP_CLOSE:
            check(not f.masked, 'close to the client is masked')
            check(f.close_code == code, 'client got close %r, want %d' % (f.close_code, code))
            c.try_send(lib.frame(lib.OP_CLOSE, f.payload[:2], mask=True))
            c.wait_eof(5)
            return msgs
        parts.append(f.payload)
        if f.fin:
            msgs.append(b''.join(parts))
            parts = []


def part1(ctx):
    state = {'lock': threading.Lock(), 'up_close': {}, 'up_msgs': {},
             'eof_without_close': [], 'signalled': threading.Event()}
    up = ctx.raw_upstream(upstream_handler(state), backlog=512)
    px = ctx.proxy('--upstream', up.uri, '--max-conns', '400')
    results, errors = {}, []

    def run(name, fn):
        def wrap():
            try:
                results[name] = fn()
            except Exception as e:  # noqa: reported below
                errors.append('%s: %s' % (name, e))
        t = threading.Thread(target=wrap)
        t.start()
        return t

    clients = {}
    for i in range(120):
        clients['/idle/%d' % i] = lib.RawClient(px.port, '/idle/%d' % i)
    for i in range(40):
        clients['/big/%d' % i] = lib.RawClient(px.port, '/big/%d' % i)
    for i in range(20):
        clients['/frag/%d' % i] = lib.RawClient(px.port, '/frag/%d' % i)
    for i in range(10):
        clients['/down/%d' % i] = lib.RawClient(px.port, '/down/%d' % i)
    # the messages begin before the signal
    payload = {}
    for name, c in clients.items():
        if name.startswith('/big/'):
            payload[name] = os.urandom(BIG)
            whole = lib.frame(lib.OP_BINARY, payload[name])
            c.send(whole[:BIG // 2])
            c.rest = whole[BIG // 2:]
        elif name.startswith('/frag/'):
            c.send_frame(lib.OP_TEXT, b'frag-one ', fin=False)
            c.send_frame(lib.OP_PING, b'p')
            c.send_frame(lib.OP_CONT, b'frag-two ', fin=False)
        elif name.startswith('/down/'):
            c.send_frame(lib.OP_TEXT, b'SEND-HALF')
    for name, c in clients.items():
        if name.startswith('/down/'):
            f = c.recv_frame(5)
            check(f is not None and f.payload == b'first-half ' and not f.fin,
                  '%s: first fragment from the upstream %r' % (name, f))
    # half request heads
    heads = []
    for i in range(10):
        s = lib.connect(px.port)
        key = lib.ws_key()
        raw = lib.upgrade_request('/late/%d' % i, key=key)
        s.sendall(raw[:len(raw) // 2])
        heads.append((s, raw[len(raw) // 2:], '/late/%d' % i))
    time.sleep(0.5)       # everything above has been read by wsproxy
    up.wait_conns(190, 5)
    t0 = time.time()
    px.p.send_signal(signal.SIGTERM)
    px.wait_log('event=drain', 'drain start')
    state['signalled'].set()
    # no new client is taken
    try:
        s = socket.create_connection(('127.0.0.1', px.port), timeout=2)
        s.close()
        refused = False
    except OSError:
        refused = True
    check(refused, 'wsproxy still accepts after SIGTERM')
    # the rest of each message, after the signal
    threads = []
    for name, c in clients.items():
        if name.startswith('/big/'):
            c.send(c.rest)
        elif name.startswith('/frag/'):
            c.send_frame(lib.OP_CONT, b'frag-end', fin=True)
        threads.append(run(name, lambda c=c: client_closes(c)))
    for s, rest, name in heads:
        s.sendall(rest)

        def late(s=s, name=name):
            r, buf = lib.read_response(s, 5)
            check(r.status == 101, '%s: late handshake got %d' % (name, r.status))
            return client_closes(lib.Conn(s, buf))
        threads.append(run(name, late))
    for t in threads:
        t.join(20)
    px.p.wait(15)
    took = time.time() - t0
    check(not errors, '%d of the clients failed: %s' % (len(errors), '; '.join(errors[:5])))
    check(px.p.returncode == 0, 'wsproxy exited with %s' % px.p.returncode)
    up.wait_done(10)
    # every message arrived whole, and every upstream got its 1001
    for name in list(clients) + [h[2] for h in heads]:
        check(state['up_close'].get(name) == 1001, '%s: upstream got close %r'
              % (name, state['up_close'].get(name)))
        got = state['up_msgs'].get(name)
        if name.startswith('/big/'):
            check(got == [payload[name]], '%s: the upstream got %d messages (%s), not the whole'
                  ' %d-byte one' % (name, len(got), [len(m) for m in got], BIG))
        elif name.startswith('/frag/'):
            check(got == [b'frag-one frag-two frag-end'], '%s: upstream got %r' % (name, got))
        elif name.startswith('/down/'):
            check(results[name] == [b'first-half second-half'] or
                  results[name] == [b'second-half'],
                  '%s: client got %r' % (name, results[name]))
    check(not state['eof_without_close'], 'upstreams closed without a close: %r'
          % state['eof_without_close'][:5])
    log = px.stderr_text()
    check('event=drained clean=200 cut=0' in log, 'summary: %s' % px.stderr_tail(300))
    lib.log('part 1: 190 pairs and 10 late handshakes drained in %.2f s' % took)
    px.baseline = None


def part2(ctx):
    up = ctx.raw_upstream(upstream_handler({'lock': threading.Lock(), 'up_close': {},
                                            'up_msgs': {}, 'eof_without_close': [],
                                            'signalled': threading.Event()}), backlog=256)
    px = ctx.proxy('--upstream', up.uri, '--drain-spread', '1500ms')
    clients = [lib.RawClient(px.port, '/s/%d' % i) for i in range(80)]
    times = [None] * len(clients)

    def watch(i):
        f = clients[i].recv_frame(15)
        times[i] = time.time()
        if f is not None and f.opcode == lib.OP_CLOSE:
            clients[i].try_send(lib.frame(lib.OP_CLOSE, f.payload[:2], mask=True))
            clients[i].wait_eof(5)
    threads = [threading.Thread(target=watch, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    time.sleep(0.3)
    t0 = time.time()
    px.p.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(20)
    px.p.wait(10)
    check(all(t is not None for t in times), 'some clients got no close')
    spread = max(times) - min(times)
    lib.log('part 2: 80 closes spread over %.2f s (first %.2f s, last %.2f s after the signal)'
            % (spread, min(times) - t0, max(times) - t0))
    check(spread >= 0.75, 'closes spread over only %.2f s with --drain-spread 1500ms' % spread)
    check(max(times) - t0 < 4, 'last close %.2f s after the signal' % (max(times) - t0))
    px.baseline = None


def part3(ctx):
    def silent(c):
        c.read_request()
        time.sleep(8)     # never answers: the deadline answers 503
    slow = ctx.raw_upstream(silent)
    up = ctx.raw_upstream(upstream_handler({'lock': threading.Lock(), 'up_close': {},
                                            'up_msgs': {}, 'eof_without_close': [],
                                            'signalled': threading.Event()}))
    px = ctx.proxy('--route', '/=' + up.uri, '--route', '/slow=' + slow.uri,
                   '--drain-timeout', '1500ms', '--upgrade-timeout', '20s')
    deaf = lib.RawClient(px.port, '/deaf')
    s = lib.connect(px.port)
    s.sendall(lib.upgrade_request('/slow'))
    time.sleep(0.3)
    t0 = time.time()
    px.p.send_signal(signal.SIGTERM)
    f = deaf.recv_frame(5)
    check(f is not None and f.opcode == lib.OP_CLOSE and f.close_code == 1001,
          'deaf client: %r' % f)
    deaf.wait_eof(5)      # never answered: cut by the deadline
    cut = time.time() - t0
    r, _ = lib.read_response(s, 5)
    lib.check_error_response(r, 503, 'handshake waiting at the deadline')
    check(r.get('Retry-After') is not None, '503 without Retry-After: %r' % r)
    px.p.wait(10)
    done = time.time() - t0
    lib.log('part 3: the deaf client cut %.2f s after the signal, exit after %.2f s' % (cut, done))
    check(1.3 <= cut <= 2.2, 'deaf client cut after %.2f s, want about 1.5 s' % cut)
    check(px.p.returncode == 0 and done < 3.0, 'exit %s after %.2f s' % (px.p.returncode, done))
    check('cut=1' in px.stderr_text(), 'summary: %s' % px.stderr_tail(300))
    px.baseline = None


def main(ctx):
    lib.skip_under_valgrind('200 threads and timed closes')
    part1(ctx)
    part2(ctx)
    part3(ctx)


lib.run(main)
