#!/bin/sh
# bench/scale.sh - scale test (not part of `make check` or `make bench`):
# hold the most pairs one process allows here, with a trickle of traffic on
# all of them, and report the proxy's RSS, CPU and the latency percentiles.
#
#   sh bench/scale.sh
#
# Environment (plus those of run.sh that apply: BENCH_OUT, BENCH_PORT_BASE,
# BENCH_PROXY_CPU, BENCH_LOAD_CPU, WSPROXY):
#   BENCH_SCALE_PAIRS=N    pairs held (default 9900: 2 fds each, 20000 fds max)
#   BENCH_SCALE_SECONDS=S  measured window (default 60)
#   BENCH_SCALE_RATE=N     msgs/s in total over all pairs (default N: 1/s each)
#   BENCH_TARGETS="..."    default "wsproxy"; nginx and haproxy also work
#   BENCH_WAIT_IDLE=1      wait for other processes to go quiet first
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PAIRS=${BENCH_SCALE_PAIRS:-9900}
SECS=${BENCH_SCALE_SECONDS:-60}
SRATE=${BENCH_SCALE_RATE:-$PAIRS}
TARGETS=${BENCH_TARGETS:-wsproxy}
REPORT=$OUT/scale.txt
s=scale

{
	echo "wsproxy scale test, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "$PAIRS pairs, $SRATE msgs/s of 64 B in total, window ${SECS} s; proxy on CPU $PCPU"
	echo "CPU busy before the run (other processes): $(cpu_busy)%"
} | tee "$REPORT"
AVAIL=""
for x in $TARGETS; do
	if have "$x"; then AVAIL="$AVAIL $x"; else say "bench: $x not available, skipped"; fi
done
for t in $AVAIL; do
	f=$OUT/$s.$t
	LOG=$f.err
	rm -f "$f.txt"
	: > "$LOG"
	wait_idle
	say "bench: $s / $t"
	start_echo
	if start_target "$t"; then
		pids=""
		[ -n "$TPID" ] && pids=$(proc_tree "$TPID")
		lim=$((SECS + 200))
		taskset -c "$LCPU" timeout -k 5 "$lim" "$LG" --target "127.0.0.1:$TPORT" \
			--mode rate --conns "$PAIRS" --rate "$SRATE" --size 64 --timeout 30 \
			--duration "$SECS" --warmup 2 ${pids:+--pids "$pids"} --other-pids "$EPID" > "$f.txt" 2>>"$LOG" ||
			say "bench: $s / $t: loadgen failed (see $LOG)"
		if [ -n "$TPID" ] && ! kill -0 "$TPID" 2>/dev/null; then
			say "bench: $s / $t: the proxy process died during the run"
			echo "the proxy process died during the run" >> "$LOG"
		fi
	else
		say "bench: $s / $t: target did not answer a WebSocket handshake (see $LOG)"
	fi
	stop "$TPID"
	stop "$EPID"
done
awk -v dir="$OUT" -v scen="$s" -v targets="$AVAIL" \
    -v title="$PAIRS pairs with a trickle of traffic ($SRATE msgs/s in total) for $SECS s" \
    -v cols="established|pairs|-|%d;msgs_s|msgs/s|h|%.0f;p50_us|p50 us|l|%.1f;p99_us|p99 us|l|%.1f;p999_us|p99.9 us|l|%.1f;cpu_pct|cpu %|l|%.1f;cpu_us_msg|cpu us/msg|l|%.2f;rss_end_kib|RSS KiB|l|%d;kib_per_conn|KiB/pair|l|%.2f;errors|errors|-|%d;noise_pct|noise %|-|%.0f" \
    -f "$here/table.awk" | tee -a "$REPORT"
