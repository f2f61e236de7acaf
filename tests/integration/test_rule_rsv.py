#!/usr/bin/python3
"""wsproxy(1) RELAYING row 2: RSV bits not allowed by the negotiated extensions ->
1002 to the sender (1001 / 1014 to the other side).  Without
permessage-deflate every RSV bit is an error; with it RSV2/RSV3 still are."""
import lib
from lib import frame, OP_TEXT, OP_BINARY, OP_PING

PMD = [('Sec-WebSocket-Extensions', 'permessage-deflate')]


def main(ctx):
    b = lib.RuleBench(ctx, ws_kw=dict(compression=None))
    for rsv, name in [(4, 'RSV1'), (2, 'RSV2'), (1, 'RSV3'), (7, 'all RSV')]:
        b.client_breaks('%s without extensions' % name, frame(OP_TEXT, b'x', rsv=rsv))
        b.upstream_breaks('%s without extensions' % name, frame(OP_BINARY, b'x', rsv=rsv, mask=False))
    b.client_breaks('RSV1 on a ping without extensions', frame(OP_PING, b'', rsv=4))
    # with permessage-deflate negotiated: RSV2/RSV3 still not allowed
    b2 = lib.RuleBench(ctx, ws_kw=dict(compression='deflate'))
    for rsv, name in [(2, 'RSV2'), (1, 'RSV3')]:
        b2.client_breaks('%s with permessage-deflate' % name, frame(OP_TEXT, b'x', rsv=rsv), headers=PMD)
        b2.upstream_breaks('%s with permessage-deflate' % name, frame(OP_TEXT, b'x', rsv=rsv, mask=False),
                           extensions='permessage-deflate', headers=PMD)


lib.run(main)
