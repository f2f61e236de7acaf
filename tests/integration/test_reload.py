#!/usr/bin/python3
"""wsproxy(1) SIGNALS: SIGHUP reloads certificates, keys and CA files
without dropping a pair.

  - the listener certificate is rotated while TLS pairs are open (the
    files replaced, then SIGHUP): the open pairs keep relaying, new TLS
    clients see the new certificate (its serial), and old and new pairs
    close cleanly;
  - a bad file (a key that does not match the new certificate, a file
    that is not PEM) makes the reload fail with a log line that says why,
    and the certificate in use stays: new clients still see it;
  - the upstream CA bundle is read again too: an upstream whose CA was
    not trusted before the reload is trusted after it;
  - SIGUSR1 reopens --log-file: after the file is moved away, lines go to
    a new file at the same path.
"""
import os
import shutil
import signal
import ssl
import time

import lib
import tlslib
from lib import check


def serial_seen(port, pki):
    """The serial number of the certificate a new TLS client sees."""
    s = tlslib.tls_connect(port, tlslib.client_context(pki))
    der = s.getpeercert(binary_form=True)
    s.close()
    return ssl.DER_cert_to_PEM_cert(der)


def pem_of(path):
    with open(path) as f:
        text = f.read()
    return text[:text.index('-----END CERTIFICATE-----') + 25]


def install(cert, crt, key):
    """Replace the files the proxy was started with (as a renewal does)."""
    shutil.copy(cert.crt, crt + '.new')
    shutil.copy(cert.key, key + '.new')
    os.rename(crt + '.new', crt)
    os.rename(key + '.new', key)


def main(ctx):
    tlslib.need_tls()
    pki = tlslib.Pki(ctx)
    up = ctx.ws_upstream()
    first = pki.cert('first')
    second = pki.cert('second')
    crt = os.path.join(ctx.tmp, 'listen.crt')
    key = os.path.join(ctx.tmp, 'listen.key')
    install(first, crt, key)
    logfile = os.path.join(ctx.tmp, 'wsproxy.log')
    px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--listen-cert', crt,
                          '--listen-key', key, '--log-file', logfile)
    cctx = tlslib.client_context(pki)
    check(serial_seen(px.port, pki).strip() == pem_of(first.crt).strip(),
          'the first certificate is not the one served')
    old = [tlslib.TlsRawClient(px.port, cctx, '/old/%d' % i) for i in range(5)]

    install(second, crt, key)
    px.p.send_signal(signal.SIGHUP)
    end = time.time() + 5
    while 'event=reload ok=yes' not in open(logfile).read() and time.time() < end:
        time.sleep(0.05)
    check('event=reload ok=yes' in open(logfile).read(), 'no reload line')
    check(serial_seen(px.port, pki).strip() == pem_of(second.crt).strip(),
          'new clients do not see the new certificate after SIGHUP')
    for i, c in enumerate(old):
        c.send_frame(lib.OP_TEXT, b'still here %d' % i)
        f = c.recv_frame()
        check(f is not None and f.payload == b'still here %d' % i,
              'open pair %d after the reload: %r' % (i, f))
    new = tlslib.TlsRawClient(px.port, cctx, '/new')
    new.send_frame(lib.OP_TEXT, b'new pair')
    check(new.recv_frame().payload == b'new pair', 'new pair after the reload')
    for c in old + [new]:
        c.send_frame(lib.OP_CLOSE, lib.close_payload(1000))
        c.expect_close(1000)
        c.close()

    # a key that does not match: the reload fails, the certificate stays
    third = pki.cert('third')
    shutil.copy(third.crt, crt)
    shutil.copy(first.key, key)
    px.p.send_signal(signal.SIGHUP)
    end = time.time() + 5
    while 'event=reload_failed' not in open(logfile).read() and time.time() < end:
        time.sleep(0.05)
    text = open(logfile).read()
    check('event=reload_failed what=tls' in text and '--listen-key' in text,
          'no reload_failed line naming --listen-key: %s' % text[-400:])
    check(serial_seen(px.port, pki).strip() == pem_of(second.crt).strip(),
          'a failed reload changed the certificate served')
    with open(crt, 'w') as f:
        f.write('not a certificate\n')
    px.p.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    check(serial_seen(px.port, pki).strip() == pem_of(second.crt).strip(),
          'a non-PEM file changed the certificate served')

    # SIGUSR1 reopens the log file
    os.rename(logfile, logfile + '.1')
    px.p.send_signal(signal.SIGUSR1)
    end = time.time() + 5
    while not os.path.exists(logfile) and time.time() < end:
        time.sleep(0.05)
    check(os.path.exists(logfile), 'SIGUSR1 did not reopen --log-file')
    tlslib.TlsRawClient(px.port, cctx, '/after-rotate').close()
    end = time.time() + 5
    while 'event=' not in open(logfile).read() and time.time() < end:
        time.sleep(0.05)
    check('event=log_reopened' in open(logfile).read(), 'the new log file is empty')

    # the upstream CA bundle is read again
    other = tlslib.Pki(ctx, ca_name='other-ca')
    other.dir = pki.dir
    wss_cert = other.cert('wss-up', ca=other.ca)
    wup = tlslib.wss_upstream(ctx, wss_cert)
    ca = os.path.join(ctx.tmp, 'ca.pem')
    shutil.copy(pki.ca.crt, ca)
    px2 = ctx.proxy('--upstream', wup.uri, '--tls-ca', ca)
    r = tlslib.status_of(px2.port)
    check(r.status == 502, 'an upstream from an untrusted CA got %r' % r)
    shutil.copy(other.ca.crt, ca)
    px2.p.send_signal(signal.SIGHUP)
    px2.wait_log('event=reload ok=yes', 'CA reload')
    r = tlslib.status_of(px2.port)
    check(r.status == 101, 'after reloading the CA bundle the upstream got %r' % r)
    up.wait_done(None, 5)


lib.run(main)
