#!/usr/bin/python3
"""wsproxy(1) TLS, a real browser: headless Chromium (Debian's chromium) loads a
page from a local http.server whose script opens wss:// to wsproxy's
tls: listener, exchanges text and binary messages with a python3-
websockets echo upstream (permessage-deflate as the browser offers it),
closes with 1000, and posts what it saw back to the page server.
Chromium runs with --ignore-certificate-errors (its trust store is not
the test CA's) in a fresh --user-data-dir.  Skipped without chromium."""
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import lib
import tlslib
from lib import check

PAGE = '''<!doctype html>
<html><body><pre id="out">running</pre><script>
const results = {events: []};
function report() {
  document.getElementById('out').textContent = JSON.stringify(results);
  fetch('/result', {method: 'POST', body: JSON.stringify(results)});
}
const big = 'x'.repeat(200000);
const ws = new WebSocket('wss://127.0.0.1:%(port)d/chat?via=chromium', ['echo.v1']);
ws.binaryType = 'arraybuffer';
const want = ['hello from chromium', 'bin', big, 'last'];
let got = 0;
ws.onopen = () => {
  results.events.push('open');
  results.protocol = ws.protocol;
  results.extensions = ws.extensions;
  ws.send(want[0]);
  ws.send(new Uint8Array([0, 1, 2, 250, 255]));
  ws.send(want[2]);
  ws.send(want[3]);
};
ws.onmessage = (e) => {
  if (typeof e.data === 'string') {
    results.events.push(e.data.length > 100 ? 'text:' + e.data.length : 'text:' + e.data);
  } else {
    results.events.push('binary:' + Array.from(new Uint8Array(e.data)).join(','));
  }
  if (++got === 4) ws.close(1000, 'done');
};
ws.onerror = () => { results.events.push('error'); };
ws.onclose = (e) => { results.events.push('close:' + e.code + ':' + e.wasClean); report(); };
setTimeout(() => { results.events.push('timeout'); report(); }, 20000);
</script></body></html>
'''


def main(ctx):
    tlslib.need_tls()
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    if not chromium:
        raise lib.Skip('no chromium')
    pki = tlslib.Pki(ctx)
    up = ctx.ws_upstream(subprotocols=['echo.v1'])
    px = tlslib.tls_proxy(ctx, '--upstream', up.uri, '--listen-cert', pki.server.crt,
                          '--listen-key', pki.server.key)
    page = PAGE % {'port': px.port}
    posted = {}
    done = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = page.encode()
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get('Content-Length', '0'))
            posted['result'] = self.rfile.read(n)
            self.send_response(204)
            self.end_headers()
            done.set()

        def log_message(self, *a):
            pass
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    profile = os.path.join(ctx.tmp, 'chromium-profile')
    os.makedirs(profile)
    log = open(os.path.join(ctx.tmp, 'chromium.log'), 'wb')
    args = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
            '--no-first-run', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--disable-dev-shm-usage', '--user-data-dir=' + profile,
            '--ignore-certificate-errors', '--remote-debugging-port=0',
            'http://127.0.0.1:%d/' % httpd.server_address[1]]
    # its own process group, so its helper processes go with it
    p = ctx.popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                  start_new_session=True)
    try:
        ok = done.wait(60)
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait(10)
        httpd.shutdown()
    if not ok:
        with open(os.path.join(ctx.tmp, 'chromium.log'), 'rb') as f:
            lib.log(f.read()[-3000:].decode(errors='replace'))
    check(ok, 'chromium reported nothing within 60 s (status %s)' % p.returncode)
    res = json.loads(posted['result'])
    lib.log('chromium: %r' % {k: (v if k != 'events' else v) for k, v in res.items()})
    ev = res['events']
    check(ev[:1] == ['open'], 'chromium events %r' % ev)
    check('text:hello from chromium' in ev and 'binary:0,1,2,250,255' in ev and
          'text:200000' in ev and 'text:last' in ev, 'chromium got %r' % ev)
    check(ev[-1] == 'close:1000:true', 'chromium close %r' % ev[-1])
    check(res.get('protocol') == 'echo.v1', 'subprotocol %r' % res.get('protocol'))
    check(up.wait_conns(1, 3) == 1, 'no upstream connection')
    rec = up.conns[0]
    check(rec['headers'].get('X-Forwarded-Proto') == 'wss', 'X-Forwarded-Proto %r' %
          rec['headers'].get('X-Forwarded-Proto'))
    up.wait_done(1, 5)
    check(rec['close_code'] == 1000, 'upstream close code %r' % rec['close_code'])


lib.run(main)
