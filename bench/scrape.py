#!/usr/bin/python3
"""bench/scrape.py PID HOST:PORT - GET /metrics once a second, as a
Prometheus server would (more often than its 15 s default), while the
process PID lives; the wsobs target of bench/run.sh."""
import os
import sys
import time
import urllib.request

pid, addr = int(sys.argv[1]), sys.argv[2]
n = 0
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        break
    try:
        with urllib.request.urlopen('http://%s/metrics' % addr, timeout=2) as r:
            r.read()
            n += 1
    except OSError:
        pass
    time.sleep(1)
print('scrape: %d scrapes of %s' % (n, addr), file=sys.stderr)
