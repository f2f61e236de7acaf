#!/usr/bin/python3
"""wsproxy(1) CONTAINERS: the FROM scratch image of the Dockerfile.

Where `podman build` works on this machine (Debian's podman, and the
debian:12 base image reachable), the image is built from the repository's
Dockerfile and must hold exactly /wsproxy and the CA bundle
/etc/ssl/certs/ca-certificates.crt, run as user 65534 with /wsproxy as
its entry point, and answer --version.  Where it cannot, the test says
so and skips: test_lifecycle_pid1.py, the same static binary alone in an
empty root as PID 1, stands in for `docker run`.
"""
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import lib
from lib import check

ROOT = os.path.abspath(os.path.join(lib.HERE, '..', '..'))


def main(ctx):
    podman = shutil.which('podman')
    if podman is None:
        raise lib.Skip('podman is not installed: test_lifecycle_pid1 (empty root, PID 1) '
                       'stands in for the image')
    tag = 'localhost/wsproxy-test:%d' % os.getpid()
    r = subprocess.run([podman, 'build', '-t', tag, ROOT], capture_output=True,
                       timeout=900)
    if r.returncode != 0:
        raise lib.Skip('podman build cannot run here (%s): test_lifecycle_pid1 '
                       '(empty root, PID 1) stands in for the image'
                       % r.stderr.decode(errors='replace').strip().splitlines()[-1:])
    try:
        info = json.loads(subprocess.run([podman, 'image', 'inspect', tag],
                                         capture_output=True, check=True).stdout)[0]
        cfg = info.get('Config', {})
        check(cfg.get('User') in ('65534', '65534:65534'), 'image user %r' % cfg.get('User'))
        check(cfg.get('Entrypoint') == ['/wsproxy'], 'entrypoint %r' % cfg.get('Entrypoint'))
        out = tempfile.mktemp(suffix='.tar', dir=ctx.tmp)
        cid = subprocess.run([podman, 'create', tag], capture_output=True,
                             check=True).stdout.decode().strip()
        subprocess.run([podman, 'export', '-o', out, cid], check=True)
        subprocess.run([podman, 'rm', cid], capture_output=True)
        with tarfile.open(out) as t:
            files = sorted(m.name.lstrip('./') for m in t.getmembers() if m.isfile())
        check(files == ['etc/ssl/certs/ca-certificates.crt', 'wsproxy'],
              'the image holds %r' % files)
        r = subprocess.run([podman, 'run', '--rm', tag, '--version'], capture_output=True,
                           timeout=60)
        check(r.returncode == 0 and b'TLS: BearSSL' in r.stdout, 'wsproxy --version in the'
              ' image: %r %r' % (r.stdout, r.stderr))
        lib.log('podman build: the image holds %r' % files)
    finally:
        subprocess.run([podman, 'rmi', '-f', tag], capture_output=True)


lib.run(main)
