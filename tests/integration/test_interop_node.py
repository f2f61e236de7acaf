#!/usr/bin/python3
"""Interop with a second independent implementation, Debian node-ws, on
each side: node client -> wsproxy -> node upstream, node client ->
python3-websockets upstream, python3-websockets client -> node upstream.
Text, binary (incl. 1 MiB), fragmented send, permessage-deflate, ping,
subprotocol and a 4000 'node-bye' close all go through."""
import asyncio
import json
import os
import shutil
import subprocess
import lib
from lib import check

NODE_UPSTREAM = r'''
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true,
  maxPayload: 64 << 20,
  handleProtocols: (protos) => protos.has('chat') ? 'chat' : false });
wss.on('listening', () => console.log(JSON.stringify({ port: wss.address().port })));
wss.on('connection', (ws, req) => {
  console.log(JSON.stringify({ conn: req.url, protocol: ws.protocol, ext: ws.extensions,
    xff: req.headers['x-forwarded-for'] || null }));
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => console.log(JSON.stringify({ close: code, reason: reason.toString() })));
});
'''

NODE_CLIENT = r'''
const WebSocket = require('ws');
const url = process.argv[2];
const out = { msgs: [] };
const ws = new WebSocket(url, ['chat'], { perMessageDeflate: true, maxPayload: 64 << 20 });
const big = Buffer.alloc(1 << 20);
for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
const plan = ['hello from node', Buffer.from([0, 1, 2, 255]), big, 'x'.repeat(70000)];
let step = 0;
const timer = setTimeout(() => { out.error = 'timeout'; console.log(JSON.stringify(out)); process.exit(2); }, 15000);
ws.on('open', () => {
  out.protocol = ws.protocol; out.ext = ws.extensions;
  ws.ping(Buffer.from('node-ping'));
});
ws.on('pong', (d) => {
  out.pong = d.toString();
  ws.send(plan[0]);
});
ws.on('message', (data, isBinary) => {
  if (step === plan.length) {
    out.frag = data.toString();
    ws.close(4000, 'node-bye');
    return;
  }
  const want = plan[step];
  const ok = isBinary ? Buffer.isBuffer(want) && Buffer.compare(data, want) === 0
                      : typeof want === 'string' && data.toString() === want;
  out.msgs.push(ok);
  step++;
  if (step < plan.length) { ws.send(plan[step]); }
  else {
    // fragmented: two frames, one message
    ws.send('frag-a ', { fin: false }); ws.send('frag-b', { fin: true });
  }
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
    open(up_js, 'w').write(NODE_UPSTREAM)
    open(cl_js, 'w').write(NODE_CLIENT)
    nup = ctx.popen(['node', up_js], stdout=subprocess.PIPE, env=node_env(), text=True)
    line = nup.stdout.readline()
    check(line, 'node upstream did not start')
    nport = json.loads(line)['port']
    px = ctx.proxy('--upstream', 'ws://127.0.0.1:%d/node' % nport, '--path', '/ws')

    def node_client(port, path):
        r = subprocess.run(['node', cl_js, 'ws://127.0.0.1:%d%s' % (port, path)], capture_output=True,
                           text=True, env=node_env(), timeout=30)
        check(r.stdout.strip(), 'node client printed nothing (stderr %r)' % r.stderr[-300:])
        return json.loads(r.stdout.strip().splitlines()[-1])

    def check_client(out, what):
        check('error' not in out, '%s: node client error %s' % (what, out.get('error')))
        check(out.get('protocol') == 'chat', '%s: subprotocol %r' % (what, out.get('protocol')))
        check('permessage-deflate' in (out.get('ext') or ''), '%s: no permessage-deflate (%r)' % (what, out.get('ext')))
        check(out.get('pong') == 'node-ping', '%s: pong %r' % (what, out.get('pong')))
        check(out.get('msgs') == [True] * 4, '%s: echoes %r' % (what, out.get('msgs')))
        check(out.get('frag') == 'frag-a frag-b', '%s: fragmented echo %r' % (what, out.get('frag')))
        check(out.get('close') == 4000 and out.get('reason') == 'node-bye', '%s: close %r %r' %
              (what, out.get('close'), out.get('reason')))

    # 1. node <-> node
    out = node_client(px.port, '/ws/room?x=1')
    check_client(out, 'node->node')
    ev = [json.loads(nup.stdout.readline()) for _ in range(2)]
    check(ev[0].get('conn') == '/node/room?x=1', 'node upstream saw %r' % ev[0])
    check(ev[0].get('xff') == '127.0.0.1', 'node upstream X-Forwarded-For %r' % ev[0].get('xff'))
    check(ev[1] == {'close': 4000, 'reason': 'node-bye'}, 'node upstream close %r' % ev[1])

    # 2. node client <-> python3-websockets upstream
    pup = ctx.ws_upstream(subprotocols=['chat'], compression='deflate')
    px2 = ctx.proxy('--upstream', pup.uri)
    out = node_client(px2.port, '/p')
    check_client(out, 'node->python')
    pup.wait_done(1, 3)
    check(pup.conns[0]['close_code'] == 4000 and pup.conns[0]['close_reason'] == 'node-bye',
          'python upstream close %r' % pup.conns[0]['close_code'])

    # 3. python3-websockets client <-> node upstream
    async def go():
        async with lib.ws_connect('ws://127.0.0.1:%d/ws/py' % px.port, subprotocols=['chat'],
                                  compression='deflate') as ws:
            check(ws.subprotocol == 'chat', 'python client subprotocol %r' % ws.subprotocol)
            for m in ['text', b'\x00bin', os.urandom(1 << 20), 'y' * 100000]:
                await ws.send(m)
                check(await asyncio.wait_for(ws.recv(), 10) == m, 'python->node echo differs')
            await asyncio.wait_for(await ws.ping(b'pp'), 5)
            await ws.close(4001, 'py-bye')
    lib.arun(go(), 30)
    ev = [json.loads(nup.stdout.readline()) for _ in range(2)]
    check(ev[0].get('conn') == '/node/py', 'node upstream saw %r' % ev[0])
    check(ev[1] == {'close': 4001, 'reason': 'py-bye'}, 'node upstream close %r' % ev[1])


lib.run(main)
