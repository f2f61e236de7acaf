#!/usr/bin/python3
"""Exhaustion (issue 4): the process fd limit reached.  wsproxy runs with
RLIMIT_NOFILE 64 (like `prlimit --nofile=64:64`) and a --max-conns far
above what fits, so accept() itself hits EMFILE: the log says
event=accept_paused, the clients beyond the limit wait in the listen
queue (no answer, no reset), the proxy burns no CPU while paused (its
utime+stime from /proc/PID/stat stays near zero: no busy loop), the
pairs already open keep working, and once pairs close the waiting
clients are accepted and work.  At the end every fd is back."""
import time
import lib
from lib import check, frame, OP_TEXT, OP_CLOSE

NOFILE = 64
WAITING = 5


def cpu_ticks(pid):
    with open('/proc/%d/stat' % pid) as f:
        st = f.read()
    fields = st[st.rindex(')') + 2:].split()
    return int(fields[11]) + int(fields[12])   # utime, stime


def hold(port):
    c = lib.RawClient(port, '/', timeout=3)
    c.send_frame(OP_TEXT, b'hi')
    f = c.recv_frame()
    check(f is not None and f.payload == b'hi', 'echo failed: %r' % f)
    return c


def bye(c):
    c.send_frame(OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()


def main(ctx):
    lib.skip_under_valgrind('valgrind needs fds of its own below the limit')
    up = ctx.ws_upstream()
    px = ctx.proxy('--upstream', up.uri, '--max-conns', '1000', '--request-timeout', '60000',
                   '-v', nofile=NOFILE)
    fds = sorted(int(x) for x in lib.os.listdir('/proc/%d/fd' % px.pid))
    check(fds == list(range(len(fds))), 'baseline fds not contiguous: %r' % fds)
    free = NOFILE - len(fds)
    pad = None
    if free % 2:
        # one idle client so that pairs use up the fds exactly and accept()
        # is what fails, not the upstream socket()
        pad = lib.connect(px.port)
        time.sleep(0.2)
        free -= 1
    held = [hold(px.port) for _ in range(free // 2)]
    lib.log('%d pairs hold %d fds (baseline %d)' % (len(held), 2 * len(held), len(fds)))

    # more clients than fds: they wait
    waiting = []
    for _ in range(WAITING):
        s = lib.connect(px.port)
        s.sendall(lib.upgrade_request('/'))
        waiting.append(s)
    end = time.time() + 3
    while 'event=accept_paused' not in px.stderr_text() and time.time() < end:
        time.sleep(0.05)
    check('event=accept_paused' in px.stderr_text(), 'no event=accept_paused in the log')
    t0, c0 = time.time(), cpu_ticks(px.pid)
    time.sleep(2.0)
    used = cpu_ticks(px.pid) - c0
    dt = time.time() - t0
    lib.log('while paused: %d ticks of CPU in %.1fs' % (used, dt))
    check(used <= 10, 'proxy used %d clock ticks of CPU in %.1fs while accept was paused (busy loop?)' % (used, dt))
    for s in waiting:
        s.settimeout(0.05)
        try:
            d = s.recv(100)
            check(False, 'a client beyond the fd limit got %r instead of waiting' % d[:40])
        except lib.socket.timeout:
            pass
    # the open pairs still work
    for i, c in enumerate(held[:5]):
        c.send_frame(OP_TEXT, b'still %d' % i)
        f = c.recv_frame()
        check(f is not None and f.payload == b'still %d' % i, 'pair %d while paused: %r' % (i, f))

    # free some pairs: the waiting clients get in
    for c in held[:WAITING]:
        bye(c)
    held = held[WAITING:]
    for i, s in enumerate(waiting):
        r, rest = lib.read_response(s, timeout=5)
        check(r.status == 101, 'waiting client %d got %d after fds were freed' % (i, r.status))
        c = lib.Conn(s, rest)
        c.send(frame(OP_TEXT, b'late %d' % i))
        f = c.recv_frame()
        check(f is not None and f.payload == b'late %d' % i, 'waiting client %d: %r' % (i, f))
        c.send(frame(OP_CLOSE, lib.close_payload(1000)))
        f = c.recv_frame()
        check(f is not None and f.opcode == OP_CLOSE, 'waiting client %d close: %r' % (i, f))
        c.wait_eof()
        c.close()
    for c in held:
        bye(c)
    if pad is not None:
        pad.close()
    up.wait_done(None, 5)


lib.run(main)
