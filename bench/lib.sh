# bench/lib.sh - shared by bench/run.sh and bench/scale.sh (sourced, POSIX sh).
# Installs missing packages (as root), builds the bench programs, and starts
# and stops the echo upstream and the targets; every child is tracked and
# killed on exit.  See run.sh for the environment variables.

# the caller sets $here (this directory)
root=$(dirname "$here")
PATH=$PATH:/usr/sbin:/sbin
export PATH

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	DUR=${BENCH_DURATION:-2}; WARM=${BENCH_WARMUP:-0.5}; HOLD=${BENCH_IDLE_HOLD:-1}
else
	DUR=${BENCH_DURATION:-10}; WARM=${BENCH_WARMUP:-1}; HOLD=${BENCH_IDLE_HOLD:-3}
fi
TARGETS=${BENCH_TARGETS:-"direct floor wsproxy wsobs nginx haproxy"}
SCENARIOS=${BENCH_SCENARIOS:-"pp64 rate64 pp4k stream1m idle handshake fair tls-handshake tls-pp64 tls-stream1m tls-idle multicore"}
IDLE_PAIRS=${BENCH_IDLE_PAIRS:-9000}
RATE=${BENCH_RATE:-20000}
PCPU=${BENCH_PROXY_CPU:-0}
LCPU=${BENCH_LOAD_CPU:-1}
OUT=${BENCH_OUT:-$here/out}
WSPROXY=${WSPROXY:-$root/wsproxy}
BASE=${BENCH_PORT_BASE:-$((10000 + ($$ % 900) * 10))}
EPORT=$BASE
EPORT2=$((BASE + 5))	# the second echo of the fairness scenario (/light)
			# BASE + 6 and + 7: wsobs and its admin listener
FAIR_ROUTE=""		# set by run.sh's fairness scenario
WRAP=""		# a command put before the target (profile.sh: strace, valgrind)
HAP_MAXCONN=9990	# HAProxy wants 2*maxconn+14 fds; the hard limit here is 20000

say() { printf '%s\n' "$*" >&2; }

# with BENCH_WAIT_IDLE=1, wait until the machine is (nearly) idle
# (at most 15 minutes in all over the run: it stays bounded)
WAITED=0
wait_idle() {
	[ "${BENCH_WAIT_IDLE:-0}" = 1 ] || return 0
	w=0
	while [ $WAITED -lt 900 ] && [ "$(cpu_busy)" -gt "${BENCH_IDLE_MAX:-5}" ]; do
		w=$((w + 1)); WAITED=$((WAITED + 1))
	done
	[ $w -eq 0 ] || say "bench: waited about ${w} s for other processes to go quiet"
}

# percentage of all CPU time that was busy over the next second
cpu_busy() {
	a=$(head -1 /proc/stat); sleep 1; b=$(head -1 /proc/stat)
	echo "$a
$b" | awk '{ t = 0; for (i = 2; i <= NF; i++) t += $i; idle = $5 + $6
		if (NR == 1) { t0 = t; i0 = idle } else printf "%.0f", 100 * (1 - (idle - i0) / (t - t0)) }'
}
die() { say "bench: $*"; exit 1; }

# ------------------------------------------------------------ packages
need=""
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
command -v nginx >/dev/null 2>&1 || need="$need nginx-light"
command -v haproxy >/dev/null 2>&1 || need="$need haproxy"
command -v taskset >/dev/null 2>&1 || need="$need util-linux"
command -v ps >/dev/null 2>&1 || need="$need procps"
command -v timeout >/dev/null 2>&1 || need="$need coreutils"
command -v python3 >/dev/null 2>&1 || need="$need python3"	# bench/scrape.py (wsobs)
command -v ss >/dev/null 2>&1 || need="$need iproute2"	# bench/multi.sh (TIME_WAIT)
case " $SCENARIOS " in	# the tls-* scenarios: loadgen-tls and the certificates
*" tls-"*)
	[ -f /usr/include/openssl/ssl.h ] || need="$need libssl-dev"
	command -v openssl >/dev/null 2>&1 || need="$need openssl" ;;
esac
if [ -n "$need" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "bench: installing$need"
		# RUNLEVEL=1: do not let the packages start system services
		DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get update -q >&2 &&
		DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
			apt-get install -y -q --no-install-recommends $need >&2 ||
			die "apt-get install$need failed"
	else
		say "bench: missing packages:$need (run as root to install them); skipping what needs them"
	fi
fi
command -v cc >/dev/null 2>&1 || die "no C compiler (cc)"
command -v taskset >/dev/null 2>&1 || die "taskset missing (util-linux)"

# --------------------------------------------------------------- build
mkdir -p "$OUT" || die "cannot create $OUT"
for p in echo floor; do
	cc -O2 -std=c11 -Wall -Wextra -o "$OUT/$p" "$here/$p.c" || die "build of $p failed"
done
cc -O2 -std=c11 -Wall -Wextra -o "$OUT/loadgen" "$here/loadgen.c" "$here/measure.c" \
    "$here/probe.c" || die "build of loadgen failed"
LG=$OUT/loadgen
# loadgen-tls (wss://, OpenSSL) for the tls-* scenarios, where libssl-dev is
LGT=""
if [ -f /usr/include/openssl/ssl.h ]; then
	cc -O2 -std=c11 -Wall -Wextra -DBENCH_TLS -o "$OUT/loadgen-tls" "$here/loadgen.c" \
	    "$here/measure.c" "$here/probe.c" "$here/tlsclient.c" -lssl -lcrypto && LGT=$OUT/loadgen-tls
fi

# ------------------------------------------------------------ children
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsbench.XXXXXX") || die "mktemp failed"
KIDS=""
track() { KIDS="$KIDS $1"; }
untrack() {
	k=""
	for x in $KIDS; do [ "$x" = "$1" ] || k="$k $x"; done
	KIDS=$k
}
stop() {	# stop PID: TERM, then KILL after 5 s; reap it
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	untrack "$1"
}
cleanup() {
	trap - EXIT INT TERM HUP
	for x in $KIDS; do kill -TERM "$x" 2>/dev/null; done
	sleep 0.3
	for x in $KIDS; do kill -KILL "$x" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# a process and all its descendants, comma separated
proc_tree() {
	list=$1; todo=$1
	while [ -n "$todo" ]; do
		next=""
		for p in $todo; do
			for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do
				list="$list,$c"; next="$next $c"
			done
		done
		todo=$next
	done
	echo "$list"
}

have() {
	case $1 in
	direct|floor) return 0 ;;
	wsproxy|wsobs) [ -x "$WSPROXY" ] ;;
	nginx|haproxy) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

fill() {	# template -> file
	sed -e "s|@DIR@|$3|g" -e "s|@PORT@|$TPORT|g" -e "s|@UPORT@|$EPORT|g" \
	    -e "s|@SSL@|$4|g" -e "s|@SSLCONF@|$5|g" \
	    -e "s|@UPORT2@|$EPORT2|g" \
	    -e "s|@MAXCONN@|$HAP_MAXCONN|g" "$1" > "$2"
}

start_echo() {
	taskset -c "$LCPU" "$OUT/echo" -q -l "127.0.0.1:$EPORT" 2>>"$LOG" &
	EPID=$!
	track $EPID
	"$LG" --mode probe --target "127.0.0.1:$EPORT" --timeout 10 2>>"$LOG" ||
		die "echo upstream did not come up on port $EPORT (try BENCH_PORT_BASE)"
}

# TLS_KIND=ec|rsa: the target terminates TLS with $TMP/certs/KIND.{crt,key,pem}
TLS_KIND=""

# self-signed ECDSA P-256 and RSA-2048 certificates for the tls-* scenarios
make_certs() {
	mkdir -p "$TMP/certs"
	for k in "$@"; do
		case $k in
		ec)  a="-newkey ec -pkeyopt ec_paramgen_curve:P-256" ;;
		rsa) a="-newkey rsa:2048" ;;
		*) die "unknown certificate kind $k (BENCH_TLS_CERTS: ec rsa)" ;;
		esac
		# shellcheck disable=SC2086
		openssl req -x509 $a -nodes -days 7 -subj /CN=localhost \
			-keyout "$TMP/certs/$k.key" -out "$TMP/certs/$k.crt" 2>/dev/null ||
			die "openssl could not make the $k certificate"
		cat "$TMP/certs/$k.crt" "$TMP/certs/$k.key" > "$TMP/certs/$k.pem"
	done
}

start_target() {	# sets TPORT, TPID; returns 1 if it does not answer
	TPID=""
	PLG=$LG
	c=$TMP/certs/$TLS_KIND
	[ -z "$TLS_KIND" ] || PLG="$LGT --tls"
	case $1 in
	direct)
		TPORT=$EPORT
		return 0 ;;
	floor)
		TPORT=$((BASE + 1))
		taskset -c "$PCPU" $WRAP "$OUT/floor" -l "127.0.0.1:$TPORT" -u "127.0.0.1:$EPORT" \
			2>>"$LOG" &
		TPID=$! ;;
	wsproxy)
		TPORT=$((BASE + 2))
		if [ -n "$TLS_KIND" ]; then
			taskset -c "$PCPU" $WRAP "$WSPROXY" --listen "tls:127.0.0.1:$TPORT" \
				--listen-cert "$c.crt" --listen-key "$c.key" \
				--upstream "ws://127.0.0.1:$EPORT/" -q 2>>"$LOG" &
		else
			taskset -c "$PCPU" $WRAP "$WSPROXY" --listen "127.0.0.1:$TPORT" \
				--upstream "ws://127.0.0.1:$EPORT/" $FAIR_ROUTE -q 2>>"$LOG" &
		fi
		TPID=$! ;;
	wsobs)
		# wsproxy with what observability turns on: the admin listener,
		# scraped once a second, and pings at a 1 s interval (legs that
		# carry traffic are never pinged: what this costs is the
		# bookkeeping on every read, and the scrapes)
		TPORT=$((BASE + 6))
		taskset -c "$PCPU" $WRAP "$WSPROXY" --listen "127.0.0.1:$TPORT" \
			--upstream "ws://127.0.0.1:$EPORT/" $FAIR_ROUTE -q \
			--admin "127.0.0.1:$((BASE + 7))" --ping-interval 1s 2>>"$LOG" &
		TPID=$!
		track $TPID
		if [ "${BENCH_SCRAPE:-1}" = 1 ]; then
			taskset -c "$LCPU" python3 "$here/scrape.py" "$TPID" \
				"127.0.0.1:$((BASE + 7))" 2>>"$LOG" &
			track $!
		fi ;;
	nginx)
		TPORT=$((BASE + 3))
		d=$TMP/nginx; rm -rf "$d"; mkdir -p "$d"
		if [ -n "$TLS_KIND" ]; then
			fill "$here/nginx.conf.in" "$d/nginx.conf" "$d" " ssl" \
				"ssl_certificate $c.crt; ssl_certificate_key $c.key;"
		else
			fill "$here/nginx.conf.in" "$d/nginx.conf" "$d" "" ""
		fi
		taskset -c "$PCPU" $WRAP nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" 2>>"$LOG" &
		TPID=$! ;;
	haproxy)
		TPORT=$((BASE + 4))
		d=$TMP/haproxy; rm -rf "$d"; mkdir -p "$d"
		if [ -n "$TLS_KIND" ]; then
			fill "$here/haproxy.cfg.in" "$d/haproxy.cfg" "$d" " ssl crt $c.pem" ""
		else
			fill "$here/haproxy.cfg.in" "$d/haproxy.cfg" "$d" "" ""
		fi
		taskset -c "$PCPU" $WRAP haproxy -db -f "$d/haproxy.cfg" 2>>"$LOG" &
		TPID=$! ;;
	esac
	track $TPID
	# shellcheck disable=SC2086
	$PLG --mode probe --target "127.0.0.1:$TPORT" --timeout "${PROBE_TIMEOUT:-10}" 2>>"$LOG"
}

