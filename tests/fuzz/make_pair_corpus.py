#!/usr/bin/python3
"""Write the seed corpus of fuzz_pair (tests/fuzz/corpus/pair/): scripts
in the op language described at the top of fuzz_pair.c.  Run it again
after changing the language; the files are checked in."""
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'pair')

CONNECT, C_HS, C_RAW, C_FRAME, U_ACCEPT, U_READ, U_RESP, U_RAW, U_FRAME, \
    C_READ, C_END, U_END, TIME, LOOP, OPEN, NOP = range(16)
# C_END / U_END variants
SHUT_WR, RST, CLOSE, SHUT_RD = range(4)
# TIME steps (index into fz_steps)
T1, T10, T100, T999, T1001, T5001, T10001, T60000 = range(8)


def op(code, idx=0, var=0):
    return bytes([code | (idx << 4) | (var << 6)])


def frame(code, b0, payload=b'', mask=True, idx=0, var=0, length=None):
    """C_FRAME/U_FRAME: b0, b1 (mask bit + length code), ext length,
    mask key, payload (from the input when <= 255 bytes)."""
    n = len(payload) if length is None else length
    out = op(code, idx, var) + bytes([b0])
    m = 0x80 if mask else 0
    if n < 126:
        out += bytes([m | n])
    elif n < 65536:
        out += bytes([m | 126]) + struct.pack('!H', n)
    else:
        out += bytes([m | 127]) + struct.pack('!Q', n)
    if mask:
        out += b'\x11\x22\x33\x44'
    if n <= 255:
        out += payload.ljust(n, b'\0')
    return out


def cf(b0, payload=b'', **kw):
    kw.setdefault('mask', True)
    return frame(C_FRAME, b0, payload, **kw)


def uf(b0, payload=b'', **kw):
    kw.setdefault('mask', False)
    return frame(U_FRAME, b0, payload, **kw)


def close(code=None, reason=b''):
    return b'' if code is None else struct.pack('!H', code) + reason


def opened(idx=0, var=0):
    return op(OPEN, idx, var) + op(C_READ, idx)


def closing(idx=0, code=1000):
    return (cf(0x88, close(code), idx=idx) + op(U_READ, idx) +
            uf(0x88, close(code), idx=idx) + op(C_READ, idx) + op(LOOP, idx, 3))


SEEDS = {
    'echo': opened() + cf(0x81, b'hello') + op(U_READ) + uf(0x81, b'world') +
    op(C_READ) + closing(),
    'stepwise_handshake': op(CONNECT) + op(C_HS) + b'\x00' + op(LOOP, 0, 2) + op(U_ACCEPT) +
    op(LOOP) + op(U_READ) + op(U_RESP) + b'\x00' + op(C_READ) + cf(0x82, b'\x00\x01\x02') +
    op(U_READ) + closing(),
    'upstream_closes': opened() + uf(0x88, close(4001, b'bye')) + op(C_READ) +
    cf(0x88, close(4001)) + op(U_READ) + op(LOOP, 0, 3),
    'fragments_pings': opened() + cf(0x01, b'frag') + cf(0x89, b'p') + cf(0x00, b'ment') +
    cf(0x8a, b'') + cf(0x80, b'!') + op(U_READ) + uf(0x02, b'a') + uf(0x89, b'') +
    uf(0x80, b'b') + op(C_READ) + closing(),
    'one_byte_fragments': opened() + b''.join(cf(0x02 if i == 0 else 0x00, bytes([i])) for i in range(20)) +
    cf(0x80, b'z') + op(U_READ) + closing(),
    'zero_length': opened() + cf(0x81) + cf(0x82) + cf(0x89) + cf(0x8a) + uf(0x81) + uf(0x89) +
    op(U_READ) + op(C_READ) + closing(),
    'large_c2u': opened() + cf(0x82, length=100000) + op(U_READ) + op(LOOP, 0, 3) + op(U_READ) + closing(),
    'large_u2c': opened() + uf(0x82, length=90000) + op(C_READ) + op(LOOP, 0, 3) + op(C_READ) + closing(),
    'boundary_65536': opened() + cf(0x82, length=65536 - 14) + cf(0x82, length=65536 - 13) +
    uf(0x82, length=65536 - 10) + uf(0x82, length=65536 - 9) + op(U_READ) + op(C_READ) + closing(),
    'len16_len64': opened() + cf(0x82, length=126) + cf(0x82, length=65535) + cf(0x82, length=65536) +
    op(U_READ) + closing(),
    'split_header': opened() + cf(0x81, b'x' * 200, var=2) + cf(0x82, length=70000, var=1) +
    op(U_READ) + closing(),
    'client_dies_mid_large': opened() + cf(0x82, length=1 << 20, var=3) + op(C_RAW) + b'\x10' +
    b'\x55' * 16 + op(C_END, 0, RST) + op(U_READ) + op(LOOP, 0, 3),
    'upstream_dies_mid_large': opened() + uf(0x82, length=1 << 20, var=3) + op(U_RAW) + b'\x08' +
    b'\x00' * 8 + op(U_END, 0, RST) + op(C_READ) + op(LOOP, 0, 3),
    'client_fin_no_close': opened() + cf(0x81, b'last') + op(C_END, 0, SHUT_WR) + op(U_READ) +
    uf(0x88, close(1001)) + op(LOOP, 0, 3),
    'upstream_fin_no_close': opened() + uf(0x81, b'last') + op(U_END, 0, SHUT_WR) + op(C_READ) +
    cf(0x88, close(1014)) + op(LOOP, 0, 3),
    'half_close_after_close': opened() + cf(0x88, close(1000)) + op(C_END, 0, SHUT_WR) + op(U_READ) +
    uf(0x81, b'late') + uf(0x88, close(1000)) + op(C_READ) + op(LOOP, 0, 3),
    'close_timeout': opened() + cf(0x88, close(1000)) + op(U_READ) + op(TIME) + bytes([T5001]) +
    op(LOOP),
    'close_then_frames': opened() + cf(0x88, close(1000)) + cf(0x81, b'ignored') + op(U_READ) +
    uf(0x88, close(1000)) + uf(0x81, b'ignored too') + op(C_READ) + op(LOOP, 0, 3),
    'unmasked_client': opened() + cf(0x81, b'x', mask=False) + op(C_READ) + op(U_READ) +
    cf(0x88, close(1002)) + uf(0x88, close(1001)) + op(LOOP, 0, 3),
    'masked_upstream': opened() + uf(0x81, b'x', mask=True) + op(U_READ) + op(C_READ) + op(LOOP, 0, 3),
    'reserved_opcode': opened() + cf(0x83, b'x') + op(C_READ) + uf(0x8b, b'') + op(LOOP, 0, 3),
    'rsv_bits': opened() + cf(0xc1, b'x') + op(C_READ) + op(LOOP, 0, 3),
    'rsv1_deflate': opened(0, 2) + cf(0xc1, b'\xf2\x48\x05\x00') + op(U_READ) + uf(0xc1, b'\xf2\x48\x05\x00') +
    op(C_READ) + closing(),
    'control_126': opened() + cf(0x89, b'p' * 126) + op(C_READ) + op(LOOP, 0, 3),
    'fragmented_ping': opened() + uf(0x09, b'p') + op(C_READ) + op(U_READ) + op(LOOP, 0, 3),
    'continuation_first': opened() + cf(0x80, b'x') + op(C_READ) + op(LOOP, 0, 3),
    'data_in_fragmented': opened() + cf(0x01, b'a') + cf(0x81, b'b') + op(C_READ) + op(LOOP, 0, 3),
    'top_bit_length': opened() + op(C_RAW) + bytes([14]) + b'\x82\xff\x80' + b'\0' * 7 + b'\x01\x02\x03\x04',
    'close_one_byte': opened() + cf(0x88, b'\x03') + op(C_READ) + op(LOOP, 0, 3),
    'close_bad_codes': opened() + cf(0x88, close(1005)) + op(C_READ) + opened(1) + uf(0x88, close(999), idx=1) +
    op(U_READ, 1) + opened(2) + cf(0x88, close(5000), idx=2) + op(LOOP, 0, 3),
    'close_bad_utf8': opened() + cf(0x88, close(1000, b'\xc3\x28')) + op(C_READ) + op(U_READ) + op(LOOP, 0, 3),
    'close_long_reason': opened() + cf(0x88, close(4000, b'r' * 123)) + op(U_READ) +
    uf(0x88, close(4000, b'r' * 123)) + op(C_READ) + op(LOOP, 0, 3),
    'max_message': opened() + cf(0x82, length=100001) + op(C_READ) + op(LOOP, 0, 3),
    'max_conns_503': opened(0) + opened(1) + op(OPEN, 2) + op(C_READ, 2) + op(LOOP, 0, 3) + closing(0) +
    closing(1),
    'request_timeout_partial': op(CONNECT) + op(C_RAW) + b'\x05GET /' + op(TIME) + bytes([T10001]) +
    op(C_READ) + op(TIME) + bytes([T1001]),
    'request_timeout_silent': op(CONNECT) + op(TIME) + bytes([T10001]) + op(C_READ),
    'upgrade_timeout': op(CONNECT) + op(C_HS) + b'\x00' + op(LOOP, 0, 2) + op(U_ACCEPT) + op(U_READ) +
    op(TIME) + bytes([T5001]) + op(C_READ) + op(TIME) + bytes([T1001]),
    'connect_never_accepted': op(CONNECT) + op(C_HS) + b'\x00' + op(TIME) + bytes([T5001]) + op(C_READ),
    'client_gone_in_upgrade': op(CONNECT) + op(C_HS) + b'\x00' + op(LOOP, 0, 2) + op(C_END, 0, RST) +
    op(U_ACCEPT) + op(U_READ) + op(U_RESP) + b'\x00',
    'pipelined_frame': op(CONNECT) + op(C_HS) + b'\x0c' + op(LOOP, 0, 2) + op(U_ACCEPT) + op(U_RESP) +
    b'\x04' + op(C_READ) + op(U_READ) + closing(),
    'pipelined_request': op(CONNECT) + op(C_HS) + b'\x0d' + op(LOOP, 0, 2) + op(U_ACCEPT) +
    op(U_RESP) + b'\x00' + op(C_READ) + op(U_READ) + op(LOOP, 0, 3),
    'backpressure': opened() + uf(0x82, length=190000) + uf(0x82, length=190000) + uf(0x82, length=190000) +
    cf(0x81, b'still here') + op(U_READ) + op(C_READ) + op(LOOP, 0, 3) + op(C_READ) + closing(),
    'linger': op(CONNECT) + op(C_HS) + b'\x04' + op(C_RAW) + b'\x04junk' + op(TIME) + bytes([T999]) +
    op(C_READ) + op(TIME) + bytes([T10]),
}

for v in range(16):
    SEEDS['request_%02d' % v] = (op(CONNECT) + op(C_HS) + bytes([v]) + op(LOOP, 0, 2) + op(U_ACCEPT) +
                                 op(U_READ) + op(U_RESP) + b'\x00' + op(C_READ) + closing())
for v in range(10):
    SEEDS['response_%d' % v] = (op(CONNECT) + op(C_HS) + b'\x01' + op(LOOP, 0, 2) + op(U_ACCEPT) +
                                op(U_RESP) + bytes([v]) + op(C_READ) + op(U_END, 0, CLOSE) + op(C_READ) +
                                closing())


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)
    print('%d seeds in %s' % (len(SEEDS), OUT), file=sys.stderr)


main()
