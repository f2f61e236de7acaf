#!/bin/sh
# bench/profile.sh - where a target's time goes, per message (or handshake):
#   - system calls per message, by name (strace -c -f): the kernel side;
#   - user-space instructions per message (valgrind --tool=callgrind), and
#     the functions they are spent in: repeatable even on a noisy machine.
#
#   sh bench/profile.sh [TARGET...]      (default: wsproxy floor)
#
# strace works for every target; callgrind is run for wsproxy, wsobs and floor only
# (single-process programs).  Results go to $BENCH_OUT/profile.*.
# Environment (plus run.sh's BENCH_OUT, BENCH_PORT_BASE, WSPROXY):
#   PROFILE_SCENARIOS="pp64 pp4k stream1m handshake"
#   PROFILE_SECONDS=5    traffic per measurement (no warm-up: the handshakes
#                        of the 50 connections are counted in, ~1% of it)
#   PROFILE_TOOLS="strace callgrind"
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SECS=${PROFILE_SECONDS:-5}
PSCEN=${PROFILE_SCENARIOS:-"pp64 pp4k stream1m handshake"}
TOOLS=${PROFILE_TOOLS:-"strace callgrind"}
[ $# -gt 0 ] && TARGETS=$* || TARGETS="wsproxy floor"
PROBE_TIMEOUT=60
REPORT=$OUT/profile.txt

args() {
	case $1 in
	pp64) A="--mode pingpong --conns 50 --size 64"; UNIT=msg ;;
	pp4k) A="--mode pingpong --conns 50 --size 4096"; UNIT=msg ;;
	stream1m) A="--mode stream --conns 4 --size 1048576 --window 2"; UNIT=MiB ;;
	handshake) A="--mode handshake --conns 50 --size 64"; UNIT=handshake ;;
	*) die "unknown scenario $1" ;;
	esac
}

# units of work done in the run: messages, MiB echoed, or handshakes
units() {
	case $UNIT in
	msg) sed -n 's/.* msgs=\([0-9]*\).*/\1/p' "$1" ;;
	MiB) sed -n 's/.* bytes=\([0-9]*\).*/\1/p' "$1" | awk '{ printf "%.1f", $1 / 1048576 }' ;;
	handshake) sed -n 's/.* handshakes=\([0-9]*\).*/\1/p' "$1" ;;
	esac
}

stop_wrapped() {	# strace: end the traced program first so strace writes its table
	[ -n "$TPID" ] || return 0
	for c in $(ps -o pid= --ppid "$TPID" 2>/dev/null); do kill -TERM "$c" 2>/dev/null; done
	i=0
	while kill -0 "$TPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	stop "$TPID"
}

: > "$REPORT"
for tool in $TOOLS; do
	for t in $TARGETS; do
		have "$t" || { say "bench: $t not available"; continue; }
		[ "$tool" = callgrind ] && [ "$t" != wsproxy ] && [ "$t" != wsobs ] && [ "$t" != floor ] && continue
		[ "$t" = direct ] && continue
		case $tool in callgrind) prog=valgrind ;; *) prog=$tool ;; esac
		command -v "$prog" >/dev/null 2>&1 || { say "bench: $prog not installed"; continue; }
		for s in $PSCEN; do
			args "$s"
			f=$OUT/profile.$tool.$s.$t
			LOG=$f.err
			: > "$LOG"
			case $tool in
			strace) WRAP="strace -f -c -o $f.out" ;;
			callgrind) WRAP="valgrind -q --tool=callgrind --callgrind-out-file=$f.out" ;;
			esac
			rm -f "$f.out"
			say "bench: profile $tool $s / $t"
			start_echo
			if start_target "$t"; then
				# shellcheck disable=SC2086
				taskset -c "$LCPU" timeout -k 5 $((SECS + 120)) "$LG" \
					--target "127.0.0.1:$TPORT" $A --duration "$SECS" --warmup 0 \
					--timeout 30 > "$f.txt" 2>>"$LOG"
			else
				say "bench: $t did not come up under $tool (see $LOG)"
			fi
			if [ "$tool" = strace ]; then stop_wrapped; else stop "$TPID"; fi
			stop "$EPID"
			WRAP=""
			n=$(units "$f.txt")
			[ -n "$n" ] && [ -s "$f.out" ] || { say "bench: no profile for $s / $t"; continue; }
			{
				echo
				echo "== $tool, $s, $t: per $UNIT ($n ${UNIT}s in the run) =="
				if [ "$tool" = strace ]; then
					awk -v n="$n" -v u="$UNIT" '$1 ~ /^[0-9.]+$/ && $NF != "total" {
						errs = NF == 6 ? $5 : 0; tot += $4
						if ($4 / n < 0.005) next
						printf "  %-16s %10.3f calls/%s", $NF, $4 / n, u
						if (errs > 0) printf "  (%.3f failed)", errs / n
						printf "\n" }
						END { printf "  %-16s %10.3f calls/%s\n", "all", tot / n, u }' "$f.out"
				else
					ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$f.out" | head -1)
					echo "$ir $n" | awk -v u="$UNIT" '{ printf "  %.0f instructions/%s (user space)\n", $1 / $2, u }'
					callgrind_annotate "$f.out" 2>/dev/null |
						awk '/^ *[0-9,]+ \(/ { print "  " $0 }' | sed -n '2,11p'
				fi
			} | tee -a "$REPORT"
		done
	done
done
echo "profiles: $OUT/profile.* (report: $REPORT)"
