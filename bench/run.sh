#!/bin/sh
# bench/run.sh - `make bench`: wsproxy side by side with nginx and HAProxy.
#
# Runs every scenario against every target in one run, one after the other:
#   direct   loadgen -> echo (no proxy)
#   floor    loadgen -> floor relay (bench/floor.c) -> echo
#   wsproxy  loadgen -> ./wsproxy -> echo
#   wsobs    the same with --admin scraped every second and --ping-interval
#            1s: what observability costs (ratio "wsobs / wsproxy")
#   nginx    loadgen -> nginx (1 worker, WebSocket proxy_pass) -> echo
#   haproxy  loadgen -> haproxy (1 thread, mode http, timeout tunnel) -> echo
# The proxy is pinned to CPU $BENCH_PROXY_CPU (0), loadgen and echo to
# $BENCH_LOAD_CPU (1).  A fresh proxy and echo are started for each
# scenario and target, and everything is killed on exit.
#
# Environment:
#   BENCH_QUICK=1          ~2 s measurements instead of ~10 s
#   BENCH_DURATION=S       measured window per run (default 10, quick 2)
#   BENCH_WARMUP=S         unmeasured traffic before it (default 1, quick 0.5)
#   BENCH_IDLE_PAIRS=N     idle scenario size (default 9000)
#   BENCH_IDLE_HOLD=S      how long the idle pairs are held (default 3, quick 1)
#   BENCH_RATE=N           msgs/s of the fixed-rate scenario (default 20000)
#   BENCH_TARGETS="..."    subset/order of: direct floor wsproxy wsobs nginx
#                          haproxy
#   BENCH_SCENARIOS="..."  subset/order of: pp64 rate64 pp4k stream1m idle
#                          handshake fair and the TLS termination ones
#                          (issue 14): tls-handshake tls-pp64 tls-stream1m
#                          tls-idle (all by default), multicore (by
#                          default; bench/multi.sh) and pairs100k (not by
#                          default: 100,000 pairs, about 3 minutes per
#                          proxy; bench/multi.sh)
#   BENCH_TLS_CERTS="..."  certificate kinds of the tls-* scenarios: ec
#                          (ECDSA P-256) rsa (RSA-2048); default "ec rsa"
#   BENCH_TLS_IDLE_PAIRS=N tls-idle size (default 2000)
#   BENCH_TLS_SETTLE=S     tls-idle: RSS sampled S s after the last upgrade
#                          and S s after the traffic (default 3: wsproxy
#                          trims its pools every 2 s)
#   BENCH_PORT_BASE=N      first of 8 loopback ports used (default from the pid)
#   BENCH_SCRAPE=0         wsobs without its scraper of /metrics
#   BENCH_OUT=DIR          results and logs (default bench/out)
#   WSPROXY=PATH           the binary under test (default ./wsproxy)
#   BENCH_WAIT_IDLE=1      before each run, wait until other processes use at
#                          most BENCH_IDLE_MAX % CPU (5; 15 min of waiting in
#                          all at most), and measure again (BENCH_RETRIES
#                          times, 2) when others used more than
#                          BENCH_NOISE_MAX % of a CPU (10) during the window,
#                          keeping the quietest measurement
#
# TLS termination (tls-*): loadgen-tls (bench/tlsclient.c, OpenSSL) speaks
# wss:// to wsproxy (--listen tls: with --listen-cert/--listen-key), nginx
# (listen ... ssl) and HAProxy (bind ... ssl crt), all on the same
# self-signed certificate made with openssl in the work directory, each
# with its default suites; the client offers TLS 1.2 only, no session
# tickets and no session cache, so every handshake is a full one.  The
# upstream stays plain ws:// to the echo.  One table per scenario and
# certificate kind, then the suite and group each target negotiated.
# tls-handshake: proxy CPU per full handshake + upgrade + 64 B echo +
# close; tls-pp64: per 64 B message; tls-stream1m: per MiB; tls-idle:
# proxy RSS per pair before any data and after one 16 KiB message each way.
# CPU is that of the proxy's processes only (nginx's master and worker,
# HAProxy's), never loadgen's.
#
# Each table has a "noise %" column: CPU used during the window by processes
# other than the bench's own, in % of one CPU.  Rows with high noise were
# measured on a busy machine and are not comparable.
#
# Debian packages (bench/packages.txt): nginx-light haproxy gcc libc6-dev
# util-linux procps coreutils (libssl-dev openssl for tls-*), installed with apt-get when missing and run as
# root; strace and valgrind for bench/profile.sh only.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

scenario() {	# sets TITLE ARGS COLS
	M="p50_us|p50 us|l|%.1f;p99_us|p99 us|l|%.1f;p999_us|p99.9 us|l|%.1f"
	case $1 in
	pp64)
		TITLE="64 B ping-pong, 50 connections"
		ARGS="--mode pingpong --conns 50 --size 64" ;;
	rate64)
		TITLE="64 B at a fixed $RATE msgs/s, 50 connections (latency from the scheduled send)"
		ARGS="--mode rate --conns 50 --size 64 --rate $RATE" ;;
	pp4k)
		TITLE="4 KiB ping-pong, 50 connections"
		ARGS="--mode pingpong --conns 50 --size 4096" ;;
	stream1m)
		TITLE="1 MiB messages streamed, 4 connections, 2 in flight each"
		ARGS="--mode stream --conns 4 --size 1048576 --window 2"
		COLS="MB_s|MB/s|h|%.1f;msgs_s|msgs/s|h|%.1f;p50_us|p50 us|l|%.0f;p99_us|p99 us|l|%.0f;p999_us|p99.9 us|l|%.0f;cpu_us_MiB|cpu us/MiB|l|%.1f;errors|errors|-|%d;noise_pct|noise %|-|%.0f"
		return ;;
	idle)
		TITLE="$IDLE_PAIRS idle pairs held ${HOLD} s (proxy RSS while holding minus before)"
		ARGS="--mode idle --conns $IDLE_PAIRS --size 16 --timeout 30"
		COLS="established|pairs|-|%d;verified|verified|-|%d;rss_before_kib|RSS0 KiB|-|%d;rss_hold_kib|RSS KiB|-|%d;kib_per_conn|KiB/pair|l|%.2f;errors|errors|-|%d"
		return ;;
	fair)
		TITLE="fairness: one 64 B ping-pong pair alone, then beside one pair streaming 1 MiB messages as fast as it can (p99 x = p99 beside the flood / p99 alone; goal <= 2)"
		COLS="p50_alone_us|p50 alone|l|%.1f;p99_alone_us|p99 alone|l|%.1f;p50_flood_us|p50 flood|l|%.1f;p99_flood_us|p99 flood|l|%.1f;p99_ratio|p99 x|l|%.2f;flood_MB_s|flood MB/s|h|%.0f;errors|errors|-|%d;noise_pct|noise %|-|%.0f"
		return ;;
	handshake)
		TITLE="handshakes: 50 concurrent loops of connect, upgrade, 64 B echo, close (latency: connect to 101)"
		ARGS="--mode handshake --conns 50 --size 64"
		COLS="hs_s|hs/s|h|%.0f;$M;cpu_us_hs|cpu us/hs|l|%.2f;errors|errors|-|%d;noise_pct|noise %|-|%.0f"
		return ;;
	tls-handshake)
		TITLE="TLS $TLS_KIND: full handshakes (TLS 1.2, no resumption), 50 concurrent loops of connect, TLS, upgrade, 64 B echo, close (latency: connect to 101)"
		ARGS="--tls --mode handshake --conns 50 --size 64"
		COLS="hs_s|hs/s|h|%.0f;$M;cpu_us_hs|cpu us/hs|l|%.1f;errors|errors|-|%d;noise_pct|noise %|-|%.0f"
		return ;;
	tls-pp64)
		TITLE="TLS $TLS_KIND: 64 B ping-pong, 50 connections"
		ARGS="--tls --mode pingpong --conns 50 --size 64" ;;
	tls-stream1m)
		TITLE="TLS $TLS_KIND: 1 MiB messages streamed, 4 connections, 2 in flight each"
		ARGS="--tls --mode stream --conns 4 --size 1048576 --window 2"
		COLS="MB_s|MB/s|h|%.1f;msgs_s|msgs/s|h|%.1f;p50_us|p50 us|l|%.0f;p99_us|p99 us|l|%.0f;cpu_us_MiB|cpu us/MiB|l|%.1f;errors|errors|-|%d;noise_pct|noise %|-|%.0f"
		return ;;
	tls-idle)
		TITLE="TLS $TLS_KIND: $TLS_IDLE_PAIRS idle pairs, proxy RSS per pair ${TLS_SETTLE} s after the last upgrade (before any data) and ${TLS_SETTLE} s after one 16 KiB message each way (after traffic)"
		ARGS="--tls --mode idle --conns $TLS_IDLE_PAIRS --size 16384 --timeout 30 --settle $TLS_SETTLE"
		COLS="established|pairs|-|%d;verified|verified|-|%d;rss_before_kib|RSS0 KiB|-|%d;kib_per_conn|KiB/pair|l|%.2f;kib_per_conn_after|after KiB|l|%.2f;errors|errors|-|%d"
		return ;;
	*) die "unknown scenario $1" ;;
	esac
	COLS="msgs_s|msgs/s|h|%.0f;MB_s|MB/s|h|%.2f;$M;cpu_us_msg|cpu us/msg|l|%.2f;errors|errors|-|%d;noise_pct|noise %|-|%.0f"
}

# the fairness scenario on target $1 (wsproxy, nginx, haproxy, or direct
# for the machine's own baseline): the light pair (/light, its own echo)
# measured alone, then again while one pair floods (/flood); one line.
# The light loadgen and its echo run at real-time priority where allowed,
# so the flood's processes on the load CPU do not delay them: what is
# left is the proxy's doing.
run_fair() {
	rt=""
	chrt -f 10 true 2>/dev/null && rt="chrt -f 10"
	taskset -c "$LCPU" $rt "$OUT/echo" -q -l "127.0.0.1:$EPORT2" 2>>"$LOG" &
	E2PID=$!
	track $E2PID
	"$LG" --mode probe --target "127.0.0.1:$EPORT2" --timeout 10 2>>"$LOG" || return 1
	lport=$TPORT; fport=$TPORT
	[ "$1" = direct ] && lport=$EPORT2
	lim=$(awk -v a="$WARM" -v b="$DUR" 'BEGIN { printf "%d", 2 * (a + b) + 60 }')
	# shellcheck disable=SC2086
	alone=$(taskset -c "$LCPU" $rt timeout -k 5 "$lim" "$LG" --target "127.0.0.1:$lport" \
		--path /light --mode pingpong --conns 1 --size 64 --duration "$DUR" \
		--warmup "$WARM" ${pids:+--pids "$pids"} --other-pids "$EPID,$E2PID" 2>>"$LOG")
	fd=$(awk -v a="$WARM" -v b="$DUR" 'BEGIN { printf "%.1f", a + b + 1.5 }')
	taskset -c "$LCPU" timeout -k 5 "$lim" "$LG" --target "127.0.0.1:$fport" --path /flood \
		--mode stream --conns 1 --size 1048576 --window 4 --duration "$fd" \
		--warmup 0 > "$TMP/flood.out" 2>>"$LOG" &
	FPID=$!
	sleep 0.5
	# shellcheck disable=SC2086
	beside=$(taskset -c "$LCPU" $rt timeout -k 5 "$lim" "$LG" --target "127.0.0.1:$lport" \
		--path /light --mode pingpong --conns 1 --size 64 --duration "$DUR" \
		--warmup "$WARM" ${pids:+--pids "$pids"} --other-pids "$EPID,$E2PID,$FPID" 2>>"$LOG")
	wait $FPID
	stop "$E2PID"
	echo "$alone" | sed 's/^/alone: /' >> "$LOG"
	echo "$beside" | sed 's/^/beside: /' >> "$LOG"
	sed 's/^/flood: /' "$TMP/flood.out" >> "$LOG"
	get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
	a50=$(get "$alone" p50_us); a99=$(get "$alone" p99_us)
	b50=$(get "$beside" p50_us); b99=$(get "$beside" p99_us)
	fmb=$(get "$(cat "$TMP/flood.out")" MB_s)
	err=$(( $(get "$alone" errors) + $(get "$beside" errors) + $(get "$(cat "$TMP/flood.out")" errors) ))
	[ -n "$a99" ] && [ -n "$b99" ] || return 1
	echo "mode=fair p50_alone_us=$a50 p99_alone_us=$a99 p50_flood_us=$b50" \
	    "p99_flood_us=$b99 p99_ratio=$(awk -v a="$a99" -v b="$b99" 'BEGIN { printf "%.2f", b / a }')" \
	    "flood_MB_s=$fmb errors=$err noise_pct=$(get "$beside" noise_pct)"
}

# one measurement of scenario $1 on target $2: loadgen's line on stdout
run_one() {
	start_echo >>"$LOG"
	if start_target "$2" >>"$LOG"; then
		pids=""
		[ -n "$TPID" ] && pids=$(proc_tree "$TPID")
		if [ "$1" = fair ]; then
			run_fair "$2" || say "bench: fair / $2: no result (see $LOG)"
			stop "$TPID"
			stop "$EPID"
			return
		fi
		case $1 in idle|tls-idle) d=$HOLD ;; *) d=$DUR ;; esac
		lim=$(awk -v a="$WARM" -v b="$d" 'BEGIN { printf "%d", a + b + 150 }')
		lg=$LG
		[ -z "$TLS_KIND" ] || lg=$LGT
		sleep 0.2
		# shellcheck disable=SC2086
		taskset -c "$LCPU" timeout -k 5 "$lim" "$lg" --target "127.0.0.1:$TPORT" \
			$ARGS --duration "$d" --warmup "$WARM" ${pids:+--pids "$pids"} \
			--other-pids "$EPID" 2>>"$LOG"
		rc=$?
		[ $rc -eq 0 ] || say "bench: $1 / $2: loadgen exit $rc (see $LOG)"
		if [ -n "$TPID" ] && ! kill -0 "$TPID" 2>/dev/null; then
			say "bench: $1 / $2: the proxy process died during the run"
			echo "the proxy process died during the run" >> "$LOG"
		fi
	else
		say "bench: $1 / $2: target did not answer a WebSocket handshake (see $LOG)"
	fi
	stop "$TPID"
	stop "$EPID"
}

# the tls-* scenarios: the certificate kinds, the idle pairs, the settling
TLS_CERTS=${BENCH_TLS_CERTS:-"ec rsa"}
TLS_IDLE_PAIRS=${BENCH_TLS_IDLE_PAIRS:-2000}
TLS_SETTLE=${BENCH_TLS_SETTLE:-3}
case " $SCENARIOS " in
*" tls-"*)
	[ -n "$LGT" ] || die "the tls-* scenarios need loadgen-tls (libssl-dev)"
	command -v openssl >/dev/null 2>&1 || die "the tls-* scenarios need openssl"
	make_certs $TLS_CERTS ;;
esac

# each negotiated suite and group of a tls-* run, one line
negotiated() {
	l="negotiated (client offers TLS 1.2 only):"
	for t in $2; do
		v=$(sed -n 's/.* suite=\([^ ]*\) group=\([^ ]*\).*/\1 \2/p' "$OUT/$1.$t.txt" 2>/dev/null)
		l="$l $t ${v:-?};"
	done
	echo "$l"
}

if [ "${BENCH_WAIT_IDLE:-0}" = 1 ]; then RETRIES=${BENCH_RETRIES:-2}; else RETRIES=${BENCH_RETRIES:-0}; fi
NOISE_MAX=${BENCH_NOISE_MAX:-10}

# ---------------------------------------------------------------- run
REPORT=$OUT/report.txt
{
	echo "wsproxy bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r); open files: $(ulimit -n)"
	echo "proxy on CPU $PCPU, loadgen+echo on CPU $LCPU; window ${DUR} s after ${WARM} s warm-up"
	v=""
	have wsproxy && v="wsproxy $("$WSPROXY" --version 2>/dev/null | head -1)"
	have nginx && v="$v; $(nginx -v 2>&1 | head -1)"
	have haproxy && v="$v; $(haproxy -v 2>/dev/null | head -1 | cut -d' ' -f1-3)"
	echo "versions: $v"
	echo "cpu = utime+stime of all the proxy's processes during the window; MB = 10^6 bytes of echoed payload"
	b=$(cpu_busy)
	echo "CPU busy before the run (other processes): ${b}%"
	[ "$b" -le 5 ] || echo "WARNING: the machine is not idle; figures will be noisy"
} | tee "$REPORT"
AVAIL=""
for x in $TARGETS; do
	if have "$x"; then AVAIL="$AVAIL $x"; else say "bench: $x not available, skipped"; fi
done

# a tls-* scenario runs once per certificate kind: RUN is SCENARIO.KIND
RUNS=""
for s in $SCENARIOS; do
	case $s in
	tls-*) for k in $TLS_CERTS; do RUNS="$RUNS $s.$k"; done ;;
	*) RUNS="$RUNS $s" ;;
	esac
done
for run in $RUNS; do
	s=${run%%.*}
	case $s in	# several processes on each side: bench/multi.sh
	pairs100k|multicore)
		BENCH_SCENARIOS=$s BENCH_OUT=$OUT BENCH_PORT_BASE=$BASE sh "$here/multi.sh" |
			tee -a "$REPORT"
		continue ;;
	esac
	TLS_KIND=""
	[ "$s" = "$run" ] || TLS_KIND=${run#*.}
	scenario "$s"
	FAIR_ROUTE=""
	TGTS=$AVAIL
	if [ "$s" = fair ]; then
		FAIR_ROUTE="--route /light=ws://127.0.0.1:$EPORT2/"
		TGTS=$(echo "$AVAIL" | sed 's/ floor//')	# one upstream only
	fi
	if [ -n "$TLS_KIND" ]; then	# the TLS-terminating targets only
		TGTS=""
		for t in $AVAIL; do
			case $t in wsproxy|nginx|haproxy) TGTS="$TGTS $t" ;; esac
		done
	fi
	for t in $TGTS; do
		f=$OUT/$run.$t
		LOG=$f.err
		rm -f "$f.txt" "$f.try"
		: > "$LOG"
		try=0; best=""
		while :; do
			wait_idle
			say "bench: $run / $t"
			run_one "$s" "$t" > "$f.try"
			nz=$(sed -n 's/.* noise_pct=\([0-9]*\).*/\1/p' "$f.try")
			if [ -z "$best" ] || { [ -n "$nz" ] && [ "$nz" -lt "$best" ]; }; then
				mv "$f.try" "$f.txt"
				best=${nz:-0}
			fi
			try=$((try + 1))
			[ -n "$nz" ] && [ "$nz" -gt "$NOISE_MAX" ] && [ $try -le "$RETRIES" ] || break
			say "bench: $run / $t: other processes used ${nz}% CPU meanwhile; measuring again"
		done
		rm -f "$f.try"
	done
	awk -v dir="$OUT" -v scen="$run" -v title="$TITLE" -v targets="$TGTS" \
	    -v cols="$COLS" -f "$here/table.awk" | tee -a "$REPORT"
	[ -z "$TLS_KIND" ] || negotiated "$run" "$TGTS" | tee -a "$REPORT"
done
echo | tee -a "$REPORT"
echo "raw results and logs: $OUT (report: $REPORT)"
