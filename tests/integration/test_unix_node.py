#!/usr/bin/python3
"""wsproxy(1) UNIX SOCKETS with an independent peer, Debian node-ws, at
both ends: a node client connects to --listen unix:PATH with a
ws+unix: URL, and wsproxy relays to a node server listening on another
unix socket (--upstream ws+unix:).  Text and binary messages go both
ways, the upstream sees the composed path and Host: localhost, and the
client's 4000 close reaches the upstream."""
import json
import os
import shutil
import subprocess
import lib
from lib import check

NODE_UPSTREAM = r'''
const http = require('http');
const { WebSocketServer } = require('ws');
const server = http.createServer();
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  console.log(JSON.stringify({ conn: req.url, host: req.headers.host,
    xff: req.headers['x-forwarded-for'] || null }));
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => console.log(JSON.stringify({ close: code, reason: reason.toString() })));
});
server.listen(process.argv[2], () => console.log(JSON.stringify({ listening: true })));
'''

NODE_CLIENT = r'''
const WebSocket = require('ws');
const out = { msgs: [] };
const ws = new WebSocket(process.argv[2]);
const plan = ['hello over unix', Buffer.from([0, 1, 2, 255])];
let step = 0;
const timer = setTimeout(() => { out.error = 'timeout'; console.log(JSON.stringify(out)); process.exit(2); }, 15000);
ws.on('open', () => ws.send(plan[0]));
ws.on('message', (data, isBinary) => {
  const want = plan[step];
  out.msgs.push(isBinary ? Buffer.isBuffer(want) && Buffer.compare(data, want) === 0
                         : typeof want === 'string' && data.toString() === want);
  step++;
  if (step < plan.length) ws.send(plan[step]); else ws.close(4000, 'node-bye');
});
ws.on('close', (code, reason) => {
  out.close = code; out.reason = reason.toString();
  clearTimeout(timer);
  console.log(JSON.stringify(out));
});
ws.on('error', (e) => { out.error = String(e); });
'''


def node_env():
    e = dict(os.environ)
    e['NODE_PATH'] = '/usr/share/nodejs'
    return e


def main(ctx):
    if not shutil.which('node') or not os.path.isdir('/usr/share/nodejs/ws'):
        raise lib.Skip('node or node-ws not installed')
    up_js = os.path.join(ctx.tmp, 'up.js')
    cl_js = os.path.join(ctx.tmp, 'client.js')
    with open(up_js, 'w') as f:
        f.write(NODE_UPSTREAM)
    with open(cl_js, 'w') as f:
        f.write(NODE_CLIENT)
    up_path = os.path.join(ctx.tmp, 'node-up.sock')
    px_path = os.path.join(ctx.tmp, 'px.sock')
    nup = ctx.popen(['node', up_js, up_path], stdout=subprocess.PIPE, env=node_env(), text=True)
    check(json.loads(nup.stdout.readline() or '{}').get('listening'), 'node upstream did not start')
    px = ctx.unix_proxy(px_path, '--upstream', 'ws+unix:%s:/node' % up_path)
    r = subprocess.run(['node', cl_js, 'ws+unix:%s:/room?x=1' % px_path], capture_output=True,
                       text=True, env=node_env(), timeout=30)
    check(r.stdout.strip(), 'node client printed nothing (stderr %r)' % r.stderr[-300:])
    out = json.loads(r.stdout.strip().splitlines()[-1])
    check('error' not in out, 'node client error %s' % out.get('error'))
    check(out['msgs'] == [True, True], 'echoes %r' % out['msgs'])
    check(out.get('close') == 4000 and out.get('reason') == 'node-bye', 'client close %r' % out)
    conn = json.loads(nup.stdout.readline())
    check(conn == {'conn': '/node/room?x=1', 'host': 'localhost', 'xff': 'unix:'},
          'node upstream saw %r' % conn)
    closed = json.loads(nup.stdout.readline())
    check(closed == {'close': 4000, 'reason': 'node-bye'}, 'node upstream close %r' % closed)
    px.wait_log('event=close client=unix id=', 'close line')
    px.wait_log('upstream_addr=unix:%s ' % up_path, 'close line')


lib.run(main)
