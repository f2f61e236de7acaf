"""Helpers for the routing and pool tests: which upstream a handshake
reached, told by the upstreams' own connection records."""
import time

import lib


def which(ups, port, path='/', headers=None, host='localhost', hold=False):
    """Index of the upstream that got the handshake, or the HTTP status when
    it was not 101.  hold: return (index or status, client) with the pair
    left open."""
    before = [len(u.conns) for u in ups]
    c = lib.RawClient(port, path, headers=headers, host=host, expect=None)
    st = c.response.status
    if st != 101:
        c.close()
        return (st, None) if hold else st
    got = None
    deadline = time.time() + 3
    while got is None and time.time() < deadline:
        for i, u in enumerate(ups):
            if len(u.conns) > before[i]:
                got = i
                break
        else:
            time.sleep(0.005)
    if got is None:
        raise lib.Fail('101 for %s but no upstream saw it' % path)
    if hold:
        return got, c
    c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
    c.expect_close(1000)
    c.close()
    return got


def closed_port():
    """A loopback port nothing listens on: connects are refused."""
    return lib.free_port()


def metric(aport, name, **labels):
    """One series from wsproxy's /metrics (strictly parsed), 0 when absent."""
    import promtext
    return promtext.value(promtext.scrape(aport), name, **labels)
