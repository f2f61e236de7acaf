#!/bin/sh
# tests/scale/cluster.sh - make check-scale: wsproxy scaled out over
# several hosts behind an L4 balancer (wsproxy(1) SCALING OUT), in
# Linux network namespaces.
#
# Five hosts on one bridge (10.77.0.0/24, only inside the namespaces made
# here; the bridge is in a sixth, the switch):
#   client  10.77.0.10  python3-websockets clients
#   lb      10.77.0.2   HAProxy, mode tcp, roundrobin, send-proxy-v2
#   a, b    10.77.0.11, .12  ./wsproxy --listen proxy:ADDR:8080
#   up      10.77.0.20  python3-websockets echo server that records
# tests/scale/cluster.py (run in lb) does the rolling restart and the
# checks.  Root and `ip netns` are needed; without them the test is
# skipped (exit 0, one SKIP line).  It stops by itself within
# CLUSTER_LIMIT seconds (170), and the namespaces and every process in
# them are removed on any exit; on a failure the logs are kept and their
# ends printed.  wsproxy B runs with --workers 2.
set -u
cd "$(dirname "$0")/../.." || exit 1
WSPROXY=${WSPROXY:-$PWD/wsproxy}
LIMIT=${CLUSTER_LIMIT:-170}

skip() {
	echo "SKIP check-scale: $*"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root for ip netns"
command -v ip >/dev/null 2>&1 || skip "no ip (iproute2)"
command -v haproxy >/dev/null 2>&1 || { echo "FAIL check-scale: no haproxy"; exit 1; }
[ -x "$WSPROXY" ] || { echo "FAIL check-scale: no $WSPROXY (make)"; exit 1; }

tag=$$r$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
SW=wssc$tag-sw
ALL="$SW"
work=$(mktemp -d /tmp/wsproxy-scale.XXXXXX)

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	trap - EXIT INT TERM HUP
	for ns in $ALL; do
		# Only the processes in our own namespaces.
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086  # one pid a word
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	done
	for ns in $ALL; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "${keep:-0}" = 1 ]; then
		echo "cluster: logs kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! ip netns add "$SW" 2>/dev/null; then
	ALL=""
	skip "ip netns add failed (no network namespaces here)"
fi
ip -n "$SW" link add br0 type bridge || exit 1
ip -n "$SW" link set br0 up || exit 1
ip -n "$SW" link set lo up || exit 1

host() {	# host ROLE ADDRESS: a namespace on the bridge
	ns=wssc$tag-$1
	ip netns add "$ns" || exit 1
	ALL="$ALL $ns"
	ip -n "$SW" link add "p-$1" type veth peer name eth0 netns "$ns" || exit 1
	ip -n "$SW" link set "p-$1" master br0 up || exit 1
	ip -n "$ns" link set lo up || exit 1
	ip -n "$ns" addr add "$2/24" dev eth0 || exit 1
	ip -n "$ns" link set eth0 up || exit 1
}
host client 10.77.0.10
host lb 10.77.0.2
host a 10.77.0.11
host b 10.77.0.12
host up 10.77.0.20

timeout -s KILL "$LIMIT" ip netns exec "wssc$tag-lb" /usr/bin/python3 \
    tests/scale/cluster.py run "$work" "$WSPROXY" "wssc$tag-client" \
    "wssc$tag-a" "wssc$tag-b" "wssc$tag-up"
st=$?
[ $st = 137 ] && echo "FAIL check-scale: over $LIMIT seconds"
if [ $st != 0 ]; then
	keep=1
	for f in "$work"/*.log; do
		echo "--- $f (last 15 lines)"
		tail -n 15 "$f"
	done
fi
if [ $st = 0 ]; then
	echo "PASS check-scale"
else
	echo "FAIL check-scale"
fi
exit $st
