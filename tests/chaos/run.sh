#!/bin/sh
# tests/chaos/run.sh - the chaos run (see chaos.py) against $WSPROXY
# (default ./wsproxy).  CHAOS_SECONDS (120), CHAOS_PAIRS (500),
# CHAOS_CONCURRENCY (40), CHAOS_SEED (random, printed), CHAOS_PROXY_ARGS
# (more wsproxy flags), CHAOS_TLS=1 (TLS on both legs).  Exit 0 / 1.
here=$(cd "$(dirname "$0")" && pwd)
: "${WSPROXY:=$here/../../wsproxy}"
d=$(cd "$(dirname "$WSPROXY")" 2>/dev/null && pwd)
WSPROXY=${d%/}/$(basename "$WSPROXY")
export WSPROXY
secs=${CHAOS_SECONDS:-120}
log=${CHAOS_LOG:-$(mktemp /tmp/wsproxy-chaos.XXXXXX)}
timeout -k 5 $((${secs%.*} * 3 + 120)) /usr/bin/python3 "$here/chaos.py" >"$log" 2>&1
rc=$?
grep '^chaos:' "$log"
if [ $rc -eq 0 ]; then
	echo "PASS chaos ($log)"
else
	grep -E '^  pair|^FAIL' "$log" | head -n 20
	tail -n 5 "$log"
	echo "FAIL chaos, status $rc ($log)"
fi
exit $rc
