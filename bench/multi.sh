#!/bin/sh
# bench/multi.sh - the bench scenarios with several processes on each side
# (issue 15: every core, 100,000 pairs on one box).  Run by bench/run.sh
# when BENCH_SCENARIOS names them, or on its own:
#
#   BENCH_SCENARIOS="pairs100k multicore" sh bench/multi.sh
#
# pairs100k  BENCH_PAIRS (100000) upgraded pairs held at once through one
#            proxy: wsproxy --workers (enough workers for 9,984 pairs each,
#            the default --max-conns under the 20,000 fd limit), nginx with
#            as many worker processes, HAProxy with nbthread 2 (one process:
#            20,000 fds, so maxconn 9990).  BENCH_PAIRS_PROCS (6) loadgens,
#            each holding an equal share on its own listening port, and as
#            many echo upstreams (each pair's upstream picked round robin
#            from all of them): no process needs more than 20,000 fds, and
#            no destination more than the ephemeral ports.  Every loadgen
#            connects (--max-pending 256 each; from its own 127.0.1.N; it
#            gives up the rest after 10 s without a new pair, as at
#            HAProxy's maxconn), then the memory is sampled,
#            then all send 64 B messages at BENCH_PAIRS_RATE (10000) msgs/s
#            in total for the window.
#            Reported: pairs established; connect rate (pairs / seconds from
#            the start of the loadgens to the last pair settled, not
#            counting the --stall wait); user KiB
#            per pair (sum of Pss, and of RSS, over all the proxy's
#            processes, with the pairs held minus before them); kernel KiB
#            per pair (the Slab line of /proc/meminfo, and the TCP "mem"
#            pages of /proc/net/sockstat, with the pairs held minus before:
#            whole machine, so the four sockets of a pair, loadgen's, the
#            proxy's two and echo's, all count); the round trip of the
#            fixed-rate traffic (p50: median of the loadgens' p50; p99: the
#            highest of their p99); the proxy's CPU per message; errors
#            (connections that failed included).  Also the open fds of each
#            proxy process (the split between workers).
# multicore  the 2 CPUs shared by everything (no pinning): wsproxy
#            --workers 2, nginx worker_processes 2, HAProxy nbthread 2;
#            2 loadgens (started together) and 2 echo upstreams.  Four
#            runs: 64 B ping-pong over 2 x 100 pairs, 1 MiB messages
#            streamed over 2 x 4 pairs (2 in flight each), and the same two
#            over TLS (tls: listener, ECDSA P-256, TLS 1.2 full handshakes
#            by loadgen-tls; upstream plain).  CPU per message is the
#            utime+stime of all the proxy's processes over the window
#            divided by the messages both loadgens had echoed.  For wsproxy
#            the split of pairs between the workers comes from /metrics
#            (wsproxy_worker_pairs_open, --admin), scraped while the
#            pairs are open.
#
# Environment (plus BENCH_OUT, BENCH_PORT_BASE, BENCH_DURATION,
# BENCH_WARMUP, BENCH_QUICK, BENCH_WAIT_IDLE, WSPROXY of run.sh):
#   BENCH_PAIRS=N, BENCH_PAIRS_PROCS=N, BENCH_PAIRS_RATE=N (see above)
#   BENCH_PAIRS_SETTLE=S   wait after the last pair before memory is read
#                          (default 32: past wsproxy's 30 s pool trim)
#   BENCH_PAIRS_TIMEOUT=S  connect+upgrade timeout of a pair (default 20;
#                          HAProxy at its maxconn leaves the rest waiting)
#   BENCH_MC_TARGETS="..." multicore targets (default: wsproxy nginx
#                          haproxy, and reuseport when BENCH_WSPROXY_RP is
#                          set: a wsproxy binary built with one SO_REUSEPORT
#                          listener per worker, to compare the sharing)
#   BENCH_MC_RUNS="..."    subset of: pp64 stream1m tls-pp64 tls-stream1m
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PAIRS=${BENCH_PAIRS:-100000}
NP=${BENCH_PAIRS_PROCS:-6}
PRATE=${BENCH_PAIRS_RATE:-10000}
PTMO=${BENCH_PAIRS_TIMEOUT:-20}
SETTLE=${BENCH_PAIRS_SETTLE:-32}
MC_RUNS=${BENCH_MC_RUNS:-"pp64 stream1m tls-pp64 tls-stream1m"}
RP=${BENCH_WSPROXY_RP:-}
MC_TARGETS=${BENCH_MC_TARGETS:-"wsproxy nginx haproxy${RP:+ reuseport}"}
REPORT=$OUT/multi.txt

# ------------------------------------------------------------ sampling
# sum of Rss and Pss (KiB) over the processes of the comma list $1
user_mem() {
	for p in $(echo "$1" | tr ',' ' '); do
		cat "/proc/$p/smaps_rollup" 2>/dev/null
	done | awk '$1 == "Rss:" { r += $2 } $1 == "Pss:" { p += $2 } END { printf "%d %d", r, p }'
}
# Slab KiB and the TCP sockets' memory in KiB (sockstat counts pages)
kern_mem() {
	s=$(awk '$1 == "Slab:" { print $2 }' /proc/meminfo)
	m=$(awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' \
		/proc/net/sockstat)
	echo "$s $((m * $(getconf PAGESIZE) / 1024))"
}
# open fds of each process of the comma list $1, slash separated
fd_split() {
	l=""
	for p in $(echo "$1" | tr ',' ' '); do
		l="$l/$(ls "/proc/$p/fd" 2>/dev/null | wc -l)"
	done
	echo "${l#/}"
}
# wsproxy_worker_pairs_open of each worker from --admin $1, slash separated
ws_split() {
	python3 - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
t = urllib.request.urlopen('http://%s/metrics' % sys.argv[1], timeout=5).read().decode()
v = {}
for l in t.split('\n'):
    if l.startswith('wsproxy_worker_pairs_open{'):
        w = l.split('worker="')[1].split('"')[0]
        v[int(w)] = l.split()[-1]
print('/'.join(v[k] for k in sorted(v)))
EOF
}
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

# ------------------------------------------------------------ targets
# start_multi TARGET WORKERS TLS LISTEN_PORTS UPSTREAM_PORTS: sets TPID,
# ADMIN; returns 1 when the first port does not answer
# One listen line per port of $lports, in the plain or the TLS format
# ($tls), each with a %s for the port: nginx's and HAProxy's configs.
binds() {
	for p in $lports; do
		# shellcheck disable=SC2059
		if [ "$tls" = 1 ]; then printf "$2\n" "$p"; else printf "$1\n" "$p"; fi
	done
}

start_multi() {
	t=$1; w=$2; tls=$3; lports=${4# }; uports=${5# }
	d=$TMP/$t; rm -rf "$d"; mkdir -p "$d"
	c=$TMP/certs/ec
	ADMIN=""
	case $t in
	wsproxy|reuseport)
		bin=$WSPROXY
		[ "$t" = reuseport ] && bin=$RP
		set --
		for p in $lports; do
			if [ "$tls" = 1 ]; then set -- "$@" --listen "tls:127.0.0.1:$p"
			else set -- "$@" --listen "127.0.0.1:$p"; fi
		done
		[ "$tls" = 1 ] && set -- "$@" --listen-cert "$c.crt" --listen-key "$c.key"
		ru=""
		for p in $uports; do ru="$ru,ws://127.0.0.1:$p"; done
		ADMIN=127.0.0.1:$((BASE + 8))
		"$bin" "$@" --route "/=${ru#,};balance=roundrobin" --workers "$w" \
			--admin "$ADMIN" -q 2>>"$LOG" &
		TPID=$! ;;
	nginx)
		{
			echo "worker_processes $w; daemon off; master_process on;"
			echo "pid $d/nginx.pid; error_log $d/error.log warn; worker_rlimit_nofile 20000;"
			echo "events { worker_connections 24000; use epoll; }"
			echo "http { access_log off; client_body_temp_path $d/b; proxy_temp_path $d/p;"
			echo " fastcgi_temp_path $d/f; uwsgi_temp_path $d/u; scgi_temp_path $d/s;"
			echo " upstream echo {"
			for p in $uports; do echo "  server 127.0.0.1:$p max_fails=0;"; done
			echo " }"
			echo " server {"
			binds "  listen 127.0.0.1:%s backlog=4096;" \
			    "  listen 127.0.0.1:%s backlog=4096 ssl;"
			[ "$tls" = 1 ] && echo "  ssl_certificate $c.crt; ssl_certificate_key $c.key;"
			echo "  location / { proxy_pass http://echo; proxy_http_version 1.1;"
			echo "   proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection upgrade;"
			echo "   proxy_buffering off; proxy_connect_timeout 5s;"
			echo "   proxy_read_timeout 3600s; proxy_send_timeout 3600s; }"
			echo " }"
			echo "}"
		} > "$d/nginx.conf"
		nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" 2>>"$LOG" &
		TPID=$! ;;
	haproxy)
		{
			echo "global"
			echo "    nbthread $w"
			echo "    maxconn $((HAP_MAXCONN - 10))"	# a few listeners more
			echo "defaults"
			echo "    mode http"
			echo "    timeout connect 5s"
			echo "    timeout client 60s"
			echo "    timeout server 60s"
			echo "    timeout http-request 10s"
			echo "    timeout tunnel 1h"
			echo "frontend fe"
			binds "    bind 127.0.0.1:%s backlog 4096" \
			    "    bind 127.0.0.1:%s backlog 4096 ssl crt $c.pem"
			echo "    default_backend be"
			echo "backend be"
			echo "    balance roundrobin"
			for p in $uports; do echo "    server e$p 127.0.0.1:$p maxconn 20000"; done
		} > "$d/haproxy.cfg"
		haproxy -db -f "$d/haproxy.cfg" 2>>"$LOG" &
		TPID=$! ;;
	esac
	track "$TPID"
	PLG=$LG
	[ "$tls" = 1 ] && PLG="$LGT --tls"
	# shellcheck disable=SC2086
	$PLG --mode probe --target "127.0.0.1:${lports%% *}" --timeout 10 2>>"$LOG"
}

# start_echoes PORTS: sets EPIDS (comma list)
start_echoes() {
	EPIDS=""
	for p in $1; do
		"$OUT/echo" -q -l "127.0.0.1:$p" 2>>"$LOG" &
		track $!
		EPIDS="$EPIDS,$!"
		"$LG" --mode probe --target "127.0.0.1:$p" --timeout 10 2>>"$LOG" ||
			die "echo did not come up on port $p (try BENCH_PORT_BASE)"
	done
	EPIDS=${EPIDS#,}
}
stop_all() {	# the target, then the echoes
	stop "$TPID"
	for p in $(echo "$EPIDS" | tr ',' ' '); do stop "$p"; done
}

# wait until N ready files exist under $1 (at most $2 s); prints seconds
wait_ready() {
	i=0
	while [ "$(ls "$1" 2>/dev/null | wc -l)" -lt "$3" ] && [ $i -lt $(($2 * 20)) ]; do
		sleep 0.05; i=$((i + 1))
	done
}

now_ms() { date +%s%3N; }

# wait (90 s at most) until the TIME_WAIT sockets of the run before are
# gone: their ports slow down connect() and a SYN that meets one on the
# server side may be dropped and sent again a second later
wait_tw() {
	i=0
	while [ "$(ss -tan state time-wait 2>/dev/null | wc -l)" -gt 1000 ] && [ $i -lt 90 ]; do
		sleep 1; i=$((i + 1))
	done
}

# ---------------------------------------------------------- pairs100k
# one line for target $1 ($2: its index, for its own ports)
run_pairs() {
	t=$1
	lb=$((BASE + 20 + $2 * 20))
	lports=""; uports=""
	k=0
	while [ $k -lt "$NP" ]; do
		lports="$lports $((lb + k))"; uports="$uports $((lb + 10 + k))"; k=$((k + 1))
	done
	case $t in
	wsproxy|nginx) w=$(( (PAIRS + 9983) / 9984 + 1 )) ;;
	direct) w=0 ;;
	haproxy) w=2 ;;
	esac
	start_echoes "$uports"
	if [ "$t" = direct ]; then	# the loadgens straight to the echoes
		w=0; TPID=""; ADMIN=""; lports=$uports
	elif ! start_multi "$t" "$w" 0 "$lports" "$uports"; then
		say "bench: pairs100k / $t: no WebSocket handshake (see $LOG)"
		stop_all; return 1
	fi
	sleep 1
	pids=""
	[ -n "$TPID" ] && pids=$(proc_tree "$TPID")
	u0=$(user_mem "$pids"); k0=$(kern_mem)
	rd=$TMP/ready; rm -rf "$rd" "$TMP/go"; mkdir -p "$rd"
	per=$((PAIRS / NP)); k=0; lpids=""
	t0=$(now_ms)
	for p in $lports; do
		n=$per
		[ $k -eq 0 ] && n=$((PAIRS - per * (NP - 1)))
		timeout -k 5 $((PTMO * 4 + 400)) "$LG" --target "127.0.0.1:$p" --mode rate \
			--source "127.0.1.$((k + 1))" --stall 10 \
			--conns "$n" --rate "$(awk -v r="$PRATE" -v n="$n" -v a="$PAIRS" 'BEGIN { printf "%.1f", r * n / a }')" \
			--size 64 --timeout "$PTMO" --duration "$DUR" --warmup "$WARM" \
			--ready-file "$rd/$k" --go-file "$TMP/go" \
			${pids:+--pids "$pids"} --other-pids "$EPIDS" > "$TMP/lg.$k" 2>>"$LOG" &
		lpids="$lpids $!"; track $!
		k=$((k + 1))
	done
	wait_ready "$rd" $((PTMO * 4 + 200)) "$NP"
	t1=$(now_ms)
	est=$(cat "$rd"/* 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
	# wsproxy gives back a pool chunk once it has been empty for 30 s
	# (wsproxy(1) SMALL SYSTEMS): the handshakes' buffers are gone then.
	sleep "$SETTLE"
	u1=$(user_mem "$pids"); k1=$(kern_mem)
	split=$(fd_split "$pids")
	wsplit=""
	[ -n "$ADMIN" ] && wsplit=$(ws_split "$ADMIN")
	: > "$TMP/go"
	for p in $lpids; do wait "$p"; untrack "$p"; done
	alive=1
	[ -z "$TPID" ] || kill -0 "$TPID" 2>/dev/null || alive=0
	stop_all
	cat "$TMP"/lg.* >> "$LOG"
	# shellcheck disable=SC2086
	set -- $u0 $u1 $k0 $k1
	cat "$TMP"/lg.* | awk -v est="$est" -v ms=$((t1 - t0)) -v r0="$1" -v p0="$2" \
	    -v r1="$3" -v p1="$4" -v s0="$5" -v m0="$6" -v s1="$7" -v m1="$8" \
	    -v fdl="$split" -v wsplit="$wsplit" -v alive="$alive" -v nw="$w" '
	function v(k,   i, a) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	{ n++; p50[n] = v("p50_us") + 0; p99 = v("p99_us") + 0; if (p99 > mx) mx = p99
	  c = v("connect_s") * 1000; if (c > cms) cms = c
	  msgs += v("msgs"); ms_s += v("msgs_s"); err += v("errors") + v("missed")
	  if (n == 1) cpu = v("cpu_us") }
	END {
		for (i = 2; i <= n; i++)	# insertion sort of the p50s
			for (j = i; j > 1 && p50[j - 1] > p50[j]; j--) { x = p50[j]; p50[j] = p50[j - 1]; p50[j - 1] = x }
		med = n ? p50[int((n + 1) / 2)] : 0
		d = est > 0 ? est : 1
		if (cms > 0 && cms < ms)	# the loadgens all start at once
			ms = cms	# and say when their last pair was settled
		printf "mode=pairs procs=%d established=%d connect_s=%.2f conn_rate=%.0f", nw, est, ms / 1000, est / (ms / 1000)
		printf " rss_kib_pair=%.3f pss_kib_pair=%.3f pss_before_kib=%d pss_hold_kib=%d", (r1 - r0) / d, (p1 - p0) / d, p0, p1
		printf " slab_kib_pair=%.2f tcpmem_kib_pair=%.3f", (s1 - s0) / d, (m1 - m0) / d
		printf " msgs_s=%.0f p50_us=%.1f p99_us=%.1f cpu_us_msg=%.2f errors=%d", ms_s, med, mx, msgs ? cpu / msgs : 0, err
		printf " fds=%s%s%s\n", fdl, wsplit != "" ? " worker_pairs=" wsplit : "", alive ? "" : " died=1"
	}'
}

# ---------------------------------------------------------- multicore
# one line for run $1 (pp64 ...) on target $2 ($3: its index)
run_mc() {
	t=$2
	lb=$((BASE + 20 + $3 * 20))
	lports="$lb"; uports="$((lb + 10)) $((lb + 11))"
	tls=0; a=""
	case $1 in
	tls-*) tls=1 ;;
	esac
	case $1 in
	*pp64) a="--mode pingpong --conns 100 --size 64" ;;
	*stream1m) a="--mode stream --conns 4 --size 1048576 --window 2" ;;
	esac
	start_echoes "$uports"
	if ! start_multi "$t" 2 "$tls" "$lports" "$uports"; then
		say "bench: multicore $1 / $t: no WebSocket handshake (see $LOG)"
		stop_all; return 1
	fi
	pids=$(proc_tree "$TPID")
	rd=$TMP/ready; rm -rf "$rd" "$TMP/go"; mkdir -p "$rd"
	lg=$LG
	[ "$tls" = 1 ] && lg="$LGT --tls"
	lpids=""
	for k in 0 1; do
		# shellcheck disable=SC2086
		timeout -k 5 $((${DUR%.*} + 200)) $lg --target "127.0.0.1:$lports" $a \
			--duration "$DUR" --warmup "$WARM" --timeout 30 \
			--ready-file "$rd/$k" --go-file "$TMP/go" \
			${pids:+--pids "$pids"} --other-pids "$EPIDS" > "$TMP/lg.$k" 2>>"$LOG" &
		lpids="$lpids $!"; track $!
	done
	wait_ready "$rd" 60 2
	wsplit=""
	[ -n "$ADMIN" ] && wsplit=$(ws_split "$ADMIN")
	split=$(fd_split "$pids")
	: > "$TMP/go"
	for p in $lpids; do wait "$p"; untrack "$p"; done
	stop_all
	cat "$TMP"/lg.0 "$TMP"/lg.1 >> "$LOG"
	cat "$TMP"/lg.0 "$TMP"/lg.1 | awk -v fdl="$split" -v wsplit="$wsplit" '
	function v(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	{ n++; msgs += v("msgs"); ms_s += v("msgs_s"); mb += v("MB_s"); by += v("bytes")
	  err += v("errors"); p50[n] = v("p50_us") + 0; p99 = v("p99_us") + 0; if (p99 > mx) mx = p99
	  nz = v("noise_pct") + 0; if (nz > noise) noise = nz
	  if (n == 1) cpu = v("cpu_us") }
	END {
		printf "mode=multicore msgs_s=%.0f MB_s=%.1f p50_us=%.1f p99_us=%.1f", ms_s, mb, (p50[1] + p50[2]) / 2, mx
		printf " cpu_us_msg=%.2f cpu_us_MiB=%.1f errors=%d noise_pct=%.0f", msgs ? cpu / msgs : 0, by ? cpu / (by / 1048576) : 0, err, noise
		printf " fds=%s%s\n", fdl, wsplit != "" ? " worker_pairs=" wsplit : ""
	}'
}

# ---------------------------------------------------------------- run
{
	echo "wsproxy multi-process bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r); open files: $(ulimit -n)"
	echo "window ${DUR} s after ${WARM} s warm-up; no CPU pinning"
} | tee -a "$REPORT"
ti=0
for s in $SCENARIOS; do
	case $s in
	pairs100k)
		TG=""
		for t in direct wsproxy nginx haproxy; do have "$t" && TG="$TG $t"; done
		for t in $TG; do
			f=$OUT/pairs100k.$t; LOG=$f.err; : > "$LOG"; rm -f "$f.txt"
			wait_tw
			wait_idle
			say "bench: pairs100k / $t"
			run_pairs "$t" $ti > "$f.txt"
			ti=$((ti + 1))
		done
		awk -v dir="$OUT" -v scen=pairs100k -v targets="$TG" \
		    -v title="$PAIRS pairs held through one proxy ($NP loadgens, $NP echoes), then $PRATE msgs/s of 64 B in total" \
		    -v cols="procs|procs|-|%d;established|pairs|h|%d;conn_rate|conn/s|h|%.0f;pss_kib_pair|Pss KiB/p|l|%.3f;rss_kib_pair|RSS KiB/p|l|%.3f;slab_kib_pair|slab KiB/p|l|%.2f;tcpmem_kib_pair|tcpmem/p|-|%.3f;p50_us|p50 us|l|%.1f;p99_us|p99 us|l|%.1f;cpu_us_msg|cpu us/msg|l|%.2f;errors|errors|-|%d" \
		    -f "$here/table.awk" | tee -a "$REPORT"
		for t in $TG; do
			echo "$t: fds per process $(get "$(cat "$OUT/pairs100k.$t.txt")" fds)$(w=$(get "$(cat "$OUT/pairs100k.$t.txt")" worker_pairs); [ -n "$w" ] && echo "; wsproxy_worker_pairs_open $w")"
		done | tee -a "$REPORT" ;;
	multicore)
		[ -n "$LGT" ] && command -v openssl >/dev/null 2>&1 && make_certs ec
		TG=""
		for t in $MC_TARGETS; do
			case $t in reuseport) [ -x "$RP" ] && TG="$TG $t" ;; *) have "$t" && TG="$TG $t" ;; esac
		done
		for r in $MC_RUNS; do
			case $r in tls-*) [ -n "$LGT" ] || continue ;; esac
			for t in $TG; do
				f=$OUT/multicore-$r.$t; LOG=$f.err; : > "$LOG"; rm -f "$f.txt"
				wait_idle
				say "bench: multicore $r / $t"
				run_mc "$r" "$t" $ti > "$f.txt"
				ti=$((ti + 1))
			done
			case $r in
			*pp64) ti2="64 B ping-pong, 2 loadgens x 100 pairs"
			       cols="msgs_s|msgs/s|h|%.0f;p50_us|p50 us|l|%.1f;p99_us|p99 us|l|%.1f;cpu_us_msg|cpu us/msg|l|%.2f;errors|errors|-|%d;noise_pct|noise %|-|%.0f" ;;
			*) ti2="1 MiB messages streamed, 2 loadgens x 4 pairs, 2 in flight each"
			   cols="MB_s|MB/s|h|%.1f;msgs_s|msgs/s|h|%.1f;p50_us|p50 us|l|%.0f;p99_us|p99 us|l|%.0f;cpu_us_MiB|cpu us/MiB|l|%.1f;errors|errors|-|%d;noise_pct|noise %|-|%.0f" ;;
			esac
			case $r in tls-*) ti2="TLS (ECDSA P-256): $ti2" ;; esac
			awk -v dir="$OUT" -v scen="multicore-$r" -v targets="$TG" \
			    -v title="multi-core, 2 workers/threads, 2 CPUs shared with the load: $ti2" \
			    -v cols="$cols" -f "$here/table.awk" | tee -a "$REPORT"
			for t in $TG; do
				l=$(cat "$OUT/multicore-$r.$t.txt")
				w=$(get "$l" worker_pairs)
				echo "$t: fds per process $(get "$l" fds)${w:+; wsproxy_worker_pairs_open $w}"
			done | tee -a "$REPORT"
		done ;;
	*) die "unknown scenario $s (multi.sh: pairs100k multicore)" ;;
	esac
done
echo "raw results and logs: $OUT (report: $REPORT)"
