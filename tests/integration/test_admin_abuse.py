#!/usr/bin/python3
"""wsproxy(1) ADMIN under abuse: slowloris and a flood against --admin do
not delay relayed messages, and the admin port never hangs.

The admin listener (admin.c) serves 8 connections at once; when all are
taken, the one that has been sending its head longest gives its slot to
a newcomer (408) once it has had 250 ms, else the newcomer is answered
503 (Retry-After: 1) at once and closed; a head has 2 s to arrive, then
408; one warn line event=admin_busy per busy episode (from the first
refusal until a slot frees, which logs event=admin_resumed).

  1. an echo pair (raw client -> wsproxy -> hand-written echo upstream)
     exchanges a numbered message every 20 ms for the whole test, one in
     flight at a time: every echo must come back, in order, unchanged;
     2 s of it without abuse give the baseline;
  2. 8 connections that send a partial head hold every slot: a probe
     gets 503 with Retry-After at once (not a hang, not after 2 s), a
     second probe too, and only one event=admin_busy is logged for the
     two; 400 ms later a probe gets 200 and one of the 8 gets 408 (a
     slowloris cannot lock a liveness probe out); once they go, /healthz
     is 200 again;
  3. for 4 s a separate process (so its threads do not share this
     process's interpreter lock with the pair) runs 8 slowloris
     connections (one byte of a head every 500 ms; reopened 50-250 ms
     after their 408 or 503, so the flood gets a slot now and then) and a flood of ~200 connections/s asking GET /metrics
     and GET /healthz: every answer is 200 or 503, each within 2.5 s,
     with a complete body; slowloris connections that got a slot get 408
     after 250 ms (evicted) to about 2 s (timed out);
  4. during the abuse the slowest relayed round trip stays under 250 ms
     (x3 with an ASan build; skipped under valgrind) -- a "does not
     stall" check, far above scheduling noise, not a benchmark;
  5. afterwards /healthz is 200 within 3 s; event=admin_busy and
     event=admin_resumed alternate (one warn per episode), at least one
     busy episode and no more than the refusals seen; the fd count
     returns to its baseline; the pair's close line counts every message.
"""
import json
import random
import os
import socket
import subprocess
import sys
import threading
import time

import lib
from lib import check, frame, OP_TEXT, OP_CLOSE

ASAN = 'asan' in os.path.basename(lib.WSPROXY) or bool(os.environ.get('ASAN_OPTIONS'))
SCALE = 3 if ASAN else 1
STALL_MS = 250 * SCALE          # the slowest round trip allowed under abuse
ANSWER_S = 2.5                  # the slowest admin answer allowed
ABUSE_S = 4.0
TICK = 0.020


# ---------------------------------------------------------------- the abuser (a child process)

def _read_answer(s, timeout):
    """(status, body, error): one admin answer and the EOF after it."""
    try:
        r, rest = lib.read_response(s, timeout)
        extra = rest + lib.read_to_eof(s, timeout)
        if extra:
            return r.status, r, 'bytes after the answer: %r' % extra[:40]
        return r.status, r, None
    except lib.Fail as e:
        return None, None, str(e)
    except OSError as e:
        return None, None, '%s: %s' % (type(e).__name__, e)


def abuse(port, seconds, out):
    stop_at = time.time() + seconds
    lock = threading.Lock()
    res = {'flood': {}, 'flood_errors': [], 'flood_max_s': 0.0, 'flood_n': 0,
           'loris': {}, 'loris_errors': [], 'loris_408_after': []}

    def bump(d, k):
        with lock:
            d[str(k)] = d.get(str(k), 0) + 1

    def flood(idx):
        i = 0
        next_t = time.time()
        while time.time() < stop_at:
            path = '/metrics' if (i + idx) % 2 == 0 else '/healthz'
            i += 1
            t0 = time.time()
            try:
                s = socket.create_connection(('127.0.0.1', port), timeout=ANSWER_S)
            except OSError as e:
                with lock:
                    res['flood_errors'].append('connect: %s' % e)
                continue
            try:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.sendall(('GET %s HTTP/1.1\r\nHost: admin\r\n\r\n' % path).encode())
                st, r, err = _read_answer(s, ANSWER_S)
            except OSError as e:
                st, r, err = None, None, 'send: %s' % e
            finally:
                s.close()
            took = time.time() - t0
            with lock:
                res['flood_n'] += 1
                res['flood_max_s'] = max(res['flood_max_s'], took)
            if err is None and st not in (200, 503):
                err = 'status %s' % st
            if err is None and st == 200:
                ok = r.body == b'ok\n' if path == '/healthz' else b'\nwsproxy_ready 1\n' in r.body
                if not ok:
                    err = '%s body %r' % (path, r.body[:60])
            if err is None and st == 503 and (r.body != b'busy\n' or r.get('Retry-After') != '1'):
                err = '503 without busy/Retry-After: %r %r' % (r, r.body)
            if err is None and took > ANSWER_S:
                err = 'answer after %.2f s' % took
            if err:
                with lock:
                    res['flood_errors'].append('%s: %s' % (path, err))
            else:
                bump(res['flood'], st)
            next_t += 0.010         # 100 a second per thread
            d = next_t - time.time()
            if d > 0:
                time.sleep(d)
            else:
                next_t = time.time()

    head = b'GET /healthz HTTP/1.1\r\nHost: admin\r\nX-Slow: ' + b'z' * 64

    def loris():
        while time.time() < stop_at:
            t0 = time.time()
            try:
                s = socket.create_connection(('127.0.0.1', port), timeout=2)
            except OSError as e:
                with lock:
                    res['loris_errors'].append('connect: %s' % e)
                time.sleep(0.05)
                continue
            got, i, status = b'', 0, None
            s.settimeout(0.5)
            try:
                while time.time() < stop_at + 3 and status is None:
                    if i < len(head):
                        try:
                            s.send(head[i:i + 1])
                        except OSError:
                            pass        # the proxy closed: read what it said
                        i += 1
                    try:
                        d = s.recv(4096)
                    except socket.timeout:
                        continue
                    except OSError:
                        d = b''
                    if d:
                        got += d
                    if b'\r\n\r\n' in got:
                        status = int(got.split(b' ', 2)[1])
                    elif not d:
                        status = 'eof' if not got else 'partial'
            finally:
                s.close()
            if status is None:
                continue            # the abuse ended first
            took = time.time() - t0
            bump(res['loris'], status)
            if status == 408:
                with lock:
                    res['loris_408_after'].append(round(took, 3))
            elif status != 503:
                with lock:
                    res['loris_errors'].append('status %r after %.2f s: %r' %
                                               (status, took, got[:60]))
            # a pause before reopening leaves the flood a window of free
            # slots now and then, so /metrics is also rendered under load
            time.sleep(random.uniform(0.05, 0.25))

    ts = [threading.Thread(target=loris, daemon=True) for _ in range(8)]
    ts += [threading.Thread(target=flood, args=(k,), daemon=True) for k in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(seconds + 10)
    res['threads_left'] = sum(t.is_alive() for t in ts)
    with open(out, 'w') as f:
        json.dump(res, f)


# ---------------------------------------------------------------- the test

class Pinger:
    """One numbered message every 20 ms through the pair, one in flight."""

    def __init__(self, port):
        self.c = lib.RawClient(port, '/')
        self.c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rtts = []          # (time sent, seconds)
        self.sent = 0
        self.error = None
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            nxt = time.time()
            while not self.stop.is_set():
                msg = b'seq %08d ' % self.sent + b'p' * 40
                t0 = time.time()
                self.c.send(frame(OP_TEXT, msg))
                self.sent += 1
                f = self.c.recv_frame(10)
                took = time.time() - t0
                if f is None or f.opcode != OP_TEXT or f.payload != msg:
                    self.error = 'message %d: got %r' % (self.sent - 1, f)
                    return
                self.rtts.append((t0, took))
                nxt += TICK
                d = nxt - time.time()
                if d > 0:
                    time.sleep(d)
                else:
                    nxt = time.time()
        except Exception as e:  # noqa
            self.error = '%s: %s' % (type(e).__name__, e)

    def between(self, a, b):
        return [r for t, r in self.rtts if a <= t < b]

    def finish(self):
        self.stop.set()
        self.t.join(15)
        check(not self.t.is_alive(), 'the pinger is stuck')
        check(self.error is None, 'relayed messages: %s' % self.error)
        check(len(self.rtts) == self.sent, 'sent %d messages, %d echoed' % (self.sent, len(self.rtts)))
        self.c.send(frame(OP_CLOSE, lib.close_payload(1000)))
        f = self.c.recv_frame(5)
        check(f is not None and f.opcode == OP_CLOSE and f.close_code == 1000, 'close answer %r' % f)
        self.c.wait_eof(3)
        self.c.close()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else 0.0


def probe(aport, path='/healthz', timeout=3.0):
    t0 = time.time()
    s = lib.connect(aport)
    try:
        s.sendall(('GET %s HTTP/1.1\r\nHost: admin\r\n\r\n' % path).encode())
        r, rest = lib.read_response(s, timeout)
        check(not rest + lib.read_to_eof(s, timeout), 'bytes after the answer')
        return r, time.time() - t0
    finally:
        s.close()


def log_events(px, name):
    return [ln for ln in px.stderr_text().splitlines() if ('event=%s ' % name) in ln + ' ']


def main(ctx):
    lib.skip_under_valgrind('measures relay latency under admin abuse')
    up = ctx.raw_upstream()
    aport = lib.free_port()
    px = ctx.proxy('--upstream', up.uri, '--admin', '127.0.0.1:%d' % aport)
    r, _ = probe(aport)
    check(r.status == 200, '/healthz before anything: %r' % r)

    pinger = Pinger(px.port)
    t_base = time.time()
    time.sleep(2.0)
    base = pinger.between(t_base, time.time())
    check(len(base) >= 50, 'only %d round trips in the 2 s baseline' % len(base))
    lib.log('admin_abuse: baseline %d round trips, p50 %.2f ms, p99 %.2f ms, max %.2f ms' %
            (len(base), pct(base, .5) * 1e3, pct(base, .99) * 1e3, max(base) * 1e3))

    # -- 8 fresh partial heads hold every slot: a probe gets 503 at once
    holders = []
    t_hold = time.time()
    for _ in range(8):
        s = lib.connect(aport)
        s.sendall(b'GET /hea')
        holders.append(s)
    r, took = probe(aport)
    r2, took2 = probe(aport, '/metrics')
    fresh = time.time() - t_hold < 0.25
    if fresh:       # (a very slow machine may take longer than the grace)
        check(r.status == 503 and r.get('Retry-After') == '1' and r.body == b'busy\n' and
              'close' in r.tokens('Connection'),
              'a probe while 8 fresh heads hold the slots: %r %r' % (r, r.body))
        check(took < 0.5 * SCALE, 'the 503 took %.3f s (not at once)' % took)
        check(r2.status == 503, 'a second probe while the slots are held: %r' % r2)
        px.wait_log('event=admin_busy', 'the refusal')
        check(len(log_events(px, 'admin_busy')) == 1,
              'two refusals in one episode logged %d event=admin_busy lines'
              % len(log_events(px, 'admin_busy')))
        lib.log('admin_abuse: 8 fresh partial heads hold every slot: probes got 503 in %.1f '
                'and %.1f ms, one event=admin_busy' % (took * 1e3, took2 * 1e3))
    # -- once they have had 250 ms, the oldest gives its slot to a probe
    time.sleep(0.4)
    r, took = probe(aport)
    check(r.status == 200 and took < 0.5 * SCALE,
          'a probe while 8 stale heads hold the slots: %r after %.3f s' % (r, took))
    evicted = []
    for s in holders:
        s.settimeout(0.2)
        try:
            d = s.recv(4096)
        except OSError:
            d = b''
        if d:
            evicted.append(d)
    check(len(evicted) == 1 and evicted[0].startswith(b'HTTP/1.1 408 '),
          'one stale head is evicted with 408: %r' % evicted)
    px.wait_log('head unfinished while every connection was taken', 'the eviction')
    lib.log('admin_abuse: 8 stale partial heads: a probe got 200 in %.1f ms, one head got 408'
            % (took * 1e3))
    for s in holders:
        s.close()
    end = time.time() + 3
    while True:
        r, _ = probe(aport)
        if r.status == 200 or time.time() > end:
            break
        time.sleep(0.05)
    check(r.status == 200, '/healthz once the holders went: %r' % r)
    px.wait_log('event=admin_resumed', 'slots free again')
    busy0 = len(log_events(px, 'admin_busy'))

    # -- 4 s of slowloris and flood from another process
    out = os.path.join(ctx.tmp, 'abuse.json')
    t_abuse = time.time()
    ab = ctx.popen([lib.PYTHON, os.path.abspath(__file__), '--abuse', str(aport),
                    str(ABUSE_S), out], stdout=subprocess.DEVNULL, stderr=sys.stderr)
    try:
        ab.wait(ABUSE_S + 20)
    except subprocess.TimeoutExpired:
        raise lib.Fail('the abuser did not finish: an admin connection hangs')
    t_abuse_end = time.time()
    check(ab.returncode == 0, 'the abuser exited %s' % ab.returncode)
    with open(out) as f:
        res = json.load(f)
    lib.log('admin_abuse: abuse %s' % json.dumps(res))

    # after the abuse: /healthz within 3 s
    t0 = time.time()
    while True:
        try:
            r, _ = probe(aport, timeout=1)
            if r.status == 200:
                break
        except lib.Fail:
            pass
        check(time.time() - t0 < 3, '/healthz not 200 within 3 s after the abuse')
        time.sleep(0.05)
    lib.log('admin_abuse: /healthz 200 %.0f ms after the abuse' % ((time.time() - t0) * 1e3))
    time.sleep(0.2)
    during = pinger.between(t_abuse, t_abuse_end)
    pinger.finish()

    # the admin port never hung and said only 200 or 503
    check(res['threads_left'] == 0, 'abuser threads still waiting: %d' % res['threads_left'])
    check(not res['flood_errors'], 'flood: %d bad answers: %s' %
          (len(res['flood_errors']), res['flood_errors'][:3]))
    check(res['flood_n'] >= 200, 'the flood made only %d requests in %.0f s' % (res['flood_n'], ABUSE_S))
    check(res['flood'].get('200', 0) > 0, 'the flood never got a slot: %r' % res['flood'])
    check(res['flood_max_s'] <= ANSWER_S, 'a flood answer took %.2f s' % res['flood_max_s'])
    check(not res['loris_errors'], 'slowloris: %s' % res['loris_errors'][:3])
    lates = [t for t in res['loris_408_after'] if not 0.25 <= t <= 3.5 * SCALE]
    check(not lates, 'slowloris 408 before its 250 ms grace or after its 2 s: %r' % lates[:5])
    refusals = res['flood'].get('503', 0) + res['loris'].get('503', 0)

    # the pair was not stalled
    check(len(during) >= 0.5 * ABUSE_S / TICK,
          'only %d round trips during %.1f s of abuse' % (len(during), ABUSE_S))
    worst = max(during)
    lib.log('admin_abuse: during the abuse %d round trips, p50 %.2f ms, p99 %.2f ms, max %.2f ms '
            '(bound %d ms)' % (len(during), pct(during, .5) * 1e3, pct(during, .99) * 1e3,
                               worst * 1e3, STALL_MS))
    check(worst * 1e3 < STALL_MS, 'a relayed round trip took %.1f ms during the admin abuse '
          '(bound %d ms; baseline p99 %.2f ms)' % (worst * 1e3, STALL_MS, pct(base, .99) * 1e3))

    # one warn per busy episode, episodes end with a freed slot
    seq = [('busy' if 'event=admin_busy' in ln else 'resumed')
           for ln in px.stderr_text().splitlines()
           if 'event=admin_busy' in ln or 'event=admin_resumed' in ln]
    check(all(a != b for a, b in zip(seq, seq[1:])) and seq[:1] == ['busy'],
          'event=admin_busy / admin_resumed do not alternate: %s' % ' '.join(seq[:20]))
    busy = len(log_events(px, 'admin_busy')) - busy0
    check(busy >= 1, 'no event=admin_busy during the abuse (%d refusals)' % refusals)
    check(busy <= refusals, '%d event=admin_busy lines for %d refusals' % (busy, refusals))
    for ln in log_events(px, 'admin_busy'):
        check(lib.parse_log_line(ln)['level'] == 'warn', 'admin_busy not at warn: %r' % ln)
    lib.log('admin_abuse: %d busy episodes logged for %d refusals' % (busy, refusals))

    # descriptors back, the pair's every message counted
    px.check_fds()
    px.wait_log('event=close ', 'the pair')
    d = lib.parse_log_line([ln for ln in px.stderr_text().splitlines() if 'event=close ' in ln][0])
    check(int(d['c2u_msgs']) == pinger.sent and int(d['u2c_msgs']) == pinger.sent,
          'close line counts %s/%s messages, %d sent' % (d['c2u_msgs'], d['u2c_msgs'], pinger.sent))


if __name__ == '__main__' and len(sys.argv) > 1 and sys.argv[1] == '--abuse':
    abuse(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
else:
    lib.run(main)
