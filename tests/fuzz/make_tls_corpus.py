#!/usr/bin/python3
"""Seed scripts for fuzz_tls (tests/fuzz/fuzz_tls.c): one file each in
tests/fuzz/corpus/tls/.  Ops as in the harness's header comment; ops 0,
1 and 2 take a 16-bit big-endian argument, 4, 6 and 12 one byte.

    /usr/bin/python3 tests/fuzz/make_tls_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'tls')

CSEND, SREAD, SWRITE, CPUMP, TRIM, CNOTIFY, INJECT, CORRUPT, CHALF, SSHUT, SHAKE, SCLOSE, CPART, CGONE = range(14)


def op(code, arg=None):
    if arg is None:
        return bytes([code])
    return bytes([code]) + (struct.pack('!H', arg) if code in (CSEND, SREAD, SWRITE) else bytes([arg]))


HANDSHAKE = b''.join([op(SHAKE), op(CPUMP)] * 4)

SEEDS = {
    # a handshake, a few bytes each way, idle ends trimmed between
    'small_each_way': HANDSHAKE + op(CSEND, 100) + op(SREAD, 16384) + op(SWRITE, 200) + op(CPUMP)
    + op(TRIM, 20) + op(CSEND, 1) + op(SREAD, 1) + op(SWRITE, 1) + op(CPUMP) + op(TRIM, 20),
    # full records both ways, read in small chunks (records held across calls)
    'large_chunks': HANDSHAKE + op(CSEND, 19999) + op(SREAD, 100) + op(TRIM, 10) + op(SREAD, 7000)
    + op(SREAD, 16384) + op(SWRITE, 19999) + op(CPUMP) + op(SWRITE, 19999) + op(CPUMP),
    # the server writes much more than the client reads: AGAIN, then drained
    'slow_reader': HANDSHAKE + b''.join([op(SWRITE, 19999)] * 24) + op(TRIM, 30) + op(CPUMP)
    + b''.join([op(SWRITE, 19999), op(CPUMP)] * 6),
    # a record arriving in pieces between server reads
    'partial_records': HANDSHAKE + op(CSEND, 3000) + op(CPART, 5) + op(SREAD, 500) + op(TRIM, 5)
    + op(CPART, 200) + op(SREAD, 500) + op(CPART, 255) + op(SREAD, 16384) + op(CPUMP) + op(SREAD, 16384),
    # a record header arriving in pieces, the end idle in between
    'partial_header': HANDSHAKE + op(CSEND, 100) + op(CPART, 2) + op(SREAD, 16384) + op(TRIM, 5)
    + op(CPART, 1) + op(SREAD, 16384) + op(CPART, 2) + op(SREAD, 16384) + op(CPUMP) + op(SREAD, 16384),
    # the client's close_notify, then the server shuts down and closes
    'close_notify': HANDSHAKE + op(CSEND, 50) + op(CNOTIFY) + op(SREAD, 16384) + op(SREAD, 16384)
    + op(SSHUT) + op(CPUMP) + op(SCLOSE),
    # the server's close_notify while the client still sends
    'server_shutdown': HANDSHAKE + op(SWRITE, 300) + op(SSHUT) + op(CSEND, 300) + op(CPUMP)
    + op(SREAD, 16384) + op(SCLOSE),
    # a corrupted record after good ones
    'corrupt': HANDSHAKE + op(CSEND, 400) + op(SREAD, 16384) + op(CORRUPT) + op(CSEND, 400)
    + op(SREAD, 16384) + op(SREAD, 16384),
    # garbage bytes between records, and as a ClientHello
    'inject': HANDSHAKE + op(CSEND, 10) + op(INJECT, 4) + b'\x17\x03\x03\x00\x20' + op(SREAD, 16384),
    'inject_hello': op(INJECT, 9) + b'\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00' + op(SHAKE) + op(SHAKE),
    # TCP end of stream inside a record, and closing a busy end
    'half_close': HANDSHAKE + op(CSEND, 2000) + op(CPART, 100) + op(CHALF) + op(SREAD, 16384)
    + op(SREAD, 16384),
    'close_busy': HANDSHAKE + op(CSEND, 19999) + op(SREAD, 10) + op(SWRITE, 19999) + op(SCLOSE),
    # the client gone while the server still writes and reads
    'client_gone': HANDSHAKE + op(SWRITE, 19999) + op(CGONE) + op(SWRITE, 19999) + op(SREAD, 100),
    # closed in the middle of the handshake
    'close_in_handshake': op(SHAKE) + op(CPUMP) + op(SCLOSE),
}

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(SEEDS.items()):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
print('%d seeds in %s' % (len(SEEDS), OUT))
