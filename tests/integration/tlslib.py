"""TLS helpers for wsproxy's integration tests (wsproxy(1) TLS).

Certificates are made at run time with the openssl command in the test's
temp dir (nothing is checked in, nothing expires in the repository):

    import lib, tlslib
    def main(ctx):
        tlslib.need_tls()                 # exit 77 on a build without TLS
        pki = tlslib.Pki(ctx)             # test CA + server cert for
                                          # localhost/127.0.0.1
        up = tlslib.wss_upstream(ctx, pki.server)
        px = ctx.proxy('--upstream', up.uri, '--tls-ca', pki.ca.crt)

Pki makes certificates lazily by name (pki.cert('wrong', san='DNS:x')),
an expired one with `openssl ca -startdate/-enddate` (the openssl 3.0 in
Debian 12 has no `x509 -not_before`), other CAs, and client certificates
with RSA or EC keys.
"""

import os
import socket
import ssl
import subprocess
import time

import lib
from lib import check, Fail

OPENSSL = 'openssl'


def tls_built_in():
    """Was the binary under test built with TLS?"""
    st, out, err = lib.run_proxy_once(['--version'])
    return '(TLS: BearSSL)' in out


def need_tls():
    """Skip unless the binary under test was built with TLS."""
    if not tls_built_in():
        raise lib.Skip('binary built without TLS')


def need_openssl():
    try:
        subprocess.run([OPENSSL, 'version'], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        raise lib.Skip('no openssl command')


class Cert:
    def __init__(self, crt, key, name):
        self.crt, self.key, self.name = crt, key, name

    def server_context(self, client_ca=None):
        """A Python ssl server context presenting this certificate;
        client_ca: require client certificates signed by that Cert."""
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        c.load_cert_chain(self.crt, self.key)
        if client_ca is not None:
            c.verify_mode = ssl.CERT_REQUIRED
            c.load_verify_locations(client_ca.crt)
        return c


class Pki:
    """Test certificates under ctx.tmp/pki, made on first use."""

    def __init__(self, ctx, ca_name='ca'):
        need_openssl()
        self.dir = os.path.join(ctx.tmp, 'pki')
        os.makedirs(self.dir, exist_ok=True)
        self._cas = {}
        self.ca = self.make_ca(ca_name)
        self._server = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def run(self, *args):
        r = subprocess.run([OPENSSL] + list(args), capture_output=True,
                           cwd=self.dir)
        if r.returncode != 0:
            raise Fail('openssl %s: %s' % (' '.join(args[:2]),
                                           r.stderr.decode(errors='replace')[-500:]))
        return r.stdout

    def key(self, name, kind):
        k = self.path(name + '.key')
        if kind == 'rsa':
            self.run('genpkey', '-algorithm', 'RSA', '-pkeyopt',
                     'rsa_keygen_bits:2048', '-out', k)
        elif kind == 'rsa-traditional':      # "RSA PRIVATE KEY" (PKCS#1)
            self.run('genpkey', '-algorithm', 'RSA', '-pkeyopt',
                     'rsa_keygen_bits:2048', '-out', k + '.p8')
            self.run('pkey', '-in', k + '.p8', '-traditional', '-out', k)
        elif kind == 'ec':
            self.run('genpkey', '-algorithm', 'EC', '-pkeyopt',
                     'ec_paramgen_curve:P-256', '-out', k)
        elif kind == 'ec-sec1':              # "EC PRIVATE KEY" (SEC1)
            self.run('ecparam', '-name', 'prime256v1', '-genkey', '-noout',
                     '-out', k)
        else:
            raise ValueError(kind)
        return k

    def make_ca(self, name, kind='rsa'):
        """A self-signed CA with its own `openssl ca` database."""
        d = self.path(name + '.db')
        os.makedirs(os.path.join(d, 'new'), exist_ok=True)
        open(os.path.join(d, 'index.txt'), 'w').close()
        with open(os.path.join(d, 'serial'), 'w') as f:
            f.write('%016X\n' % int.from_bytes(os.urandom(7), 'big'))
        with open(os.path.join(d, 'ca.cnf'), 'w') as f:
            f.write('[ca]\ndefault_ca = test\n'
                    '[test]\ndir = %s\ndatabase = $dir/index.txt\n'
                    'new_certs_dir = $dir/new\nserial = $dir/serial\n'
                    'default_md = sha256\npolicy = any\nunique_subject = no\n'
                    'copy_extensions = none\nemail_in_dn = no\n'
                    '[any]\ncommonName = supplied\n' % d)
        key = self.key(name, kind)
        crt = self.path(name + '.crt')
        self.run('req', '-x509', '-new', '-key', key, '-out', crt, '-days', '30',
                 '-subj', '/CN=wsproxy test %s' % name,
                 '-addext', 'basicConstraints=critical,CA:TRUE',
                 '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
        c = Cert(crt, key, name)
        c.db = d
        self._cas[name] = c
        return c

    def cert(self, name, cn='localhost', san='DNS:localhost,IP:127.0.0.1',
             kind='ec', usage='server', ca=None, start=None, end=None,
             days=30, chain=False):
        """A certificate signed by ca (default the test CA).  start/end:
        'YYYYMMDDHHMMSSZ' to backdate (an expired certificate); chain:
        the .crt file also holds the CA certificate (a full chain)."""
        ca = ca or self.ca
        key = self.key(name, kind)
        csr = self.path(name + '.csr')
        self.run('req', '-new', '-key', key, '-subj', '/CN=%s' % cn, '-out', csr)
        ext = self.path(name + '.ext')
        with open(ext, 'w') as f:
            f.write('[ext]\nbasicConstraints = critical,CA:FALSE\n')
            if kind.startswith('rsa'):
                f.write('keyUsage = critical,digitalSignature,keyEncipherment\n')
            else:
                f.write('keyUsage = critical,digitalSignature\n')
            f.write('extendedKeyUsage = %s\n' %
                    ('serverAuth' if usage == 'server' else 'clientAuth'))
            if san:
                f.write('subjectAltName = %s\n' % san)
        crt = self.path(name + '.crt')
        args = ['ca', '-batch', '-notext', '-config', os.path.join(ca.db, 'ca.cnf'),
                '-cert', ca.crt, '-keyfile', ca.key, '-in', csr, '-out', crt,
                '-extfile', ext, '-extensions', 'ext']
        if start or end:
            args += ['-startdate', start, '-enddate', end]
        else:
            args += ['-days', str(days)]
        self.run(*args)
        if chain:
            with open(crt, 'a') as out, open(ca.crt) as c:
                out.write(c.read())
        return Cert(crt, key, name)

    @property
    def server(self):
        """localhost / 127.0.0.1, EC key, signed by the test CA."""
        if self._server is None:
            self._server = self.cert('server')
        return self._server


# ---------------------------------------------------------------- servers

def wss_upstream(ctx, cert, handler=None, client_ca=None, sni=None, **kw):
    """A python3-websockets upstream serving TLS with cert; .uri is
    wss://localhost:PORT, .ip_uri wss://127.0.0.1:PORT.  client_ca:
    demand a client certificate from that CA; sni: a list that gets the
    server name of each handshake (None when the client sent none)."""
    kw['ssl'] = cert.server_context(client_ca)
    if sni is not None:
        def record(sslobj, name, c):
            sni.append(name)
        kw['ssl'].sni_callback = record
    up = ctx.ws_upstream(handler, **kw)
    up.uri = 'wss://localhost:%d' % up.port
    up.ip_uri = 'wss://127.0.0.1:%d' % up.port
    return up


def tls_proxy(ctx, *args, plain_listen=False, env=None, aslimit=None):
    """wsproxy with a tls: listener on 127.0.0.1 (.port), plus a plain
    one (.plain_port) when plain_listen."""
    px_args = []
    port = lib.free_port()
    px_args += ['--listen', 'tls:127.0.0.1:%d' % port]
    plain = None
    if plain_listen:
        plain = lib.free_port()
        px_args += ['--listen', '127.0.0.1:%d' % plain]
    px = lib.Proxy(ctx, px_args + list(args), listen=False, env=env, wait=False,
                   aslimit=aslimit)
    px.port = port
    px.wait_listening()
    if plain is not None:
        end = time.time() + 5
        while plain not in lib.listening_ports() and time.time() < end:
            time.sleep(0.02)
        px.baseline = px.settled_fd_count()
    px.plain_port = plain
    return px


def client_context(pki=None, alpn=None):
    """A Python ssl client context trusting the test CA (or nothing
    checked when pki is None)."""
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if pki is None:
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
    else:
        c.load_verify_locations(pki.ca.crt)
    if alpn:
        c.set_alpn_protocols(alpn)
    return c


def tls_connect(port, sslctx, host='127.0.0.1', server_hostname='localhost',
                timeout=5.0, rcvbuf=None, ragged_ok=True):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sslctx.wrap_socket(s, server_hostname=server_hostname,
                              suppress_ragged_eofs=ragged_ok)


class TlsRawClient(lib.RawClient):
    """lib.RawClient over TLS: a hand-written WebSocket client speaking
    to a tls: listener."""

    def __init__(self, port, sslctx, path='/', headers=None, expect=101,
                 timeout=5.0, rcvbuf=None, ragged_ok=True, **kw):
        s = tls_connect(port, sslctx, timeout=timeout, rcvbuf=rcvbuf,
                        ragged_ok=ragged_ok)
        self.key = kw.pop('key', None) or lib.ws_key()
        s.sendall(lib.upgrade_request(path, key=self.key, headers=headers, **kw))
        r, rest = lib.read_response(s, timeout)
        lib.Conn.__init__(self, s, rest)
        self.response = r
        if expect is not None and r.status != expect:
            s.close()
            raise Fail('handshake to %s: expected %d, got %d %s' % (path, expect, r.status, r.reason))
        if r.status == 101:
            check(r.get('Sec-WebSocket-Accept') == lib.accept_for(self.key),
                  'bad Sec-WebSocket-Accept from proxy')


def status_of(port, sslctx=None, path='/', timeout=8.0):
    """Status of one upgrade attempt through the proxy (plain or TLS)."""
    if sslctx is None:
        s = lib.connect(port, timeout)
    else:
        s = tls_connect(port, sslctx, timeout=timeout)
    try:
        s.sendall(lib.upgrade_request(path))
        r, _ = lib.read_response(s, timeout)
        return r
    finally:
        s.close()


def echo_once(uri, msg='hello', **kw):
    """Open uri with python3-websockets, send msg, return the echo."""
    async def go():
        async with lib.ws_connect(uri, **kw) as ws:
            await ws.send(msg)
            r = await ws.recv()
            await ws.close(1000)
            return r
    return lib.arun(go(), 20)


def wait_log(px, text, what='', timeout=3.0):
    px.wait_log(text, what, timeout)


def expect_502(px, port=None, what='', reason=None):
    """One upgrade through px answered 502; reason: text the log must have."""
    r = status_of(port or px.port)
    lib.check_error_response(r, 502, what)
    if reason:
        wait_log(px, reason, what)
    return r
