#!/bin/sh
# tests/fuzz/long.sh - what `make fuzz-long` runs: every libFuzzer target
# (ASan+UBSan builds in build/; fuzz_san and fuzz_tls only in a TLS
# build) for
# FUZZ_LONG_SECONDS (default 600),
# FUZZ_JOBS at a time (default 2), each on its seed corpus plus what
# earlier long runs found (build/fuzz-long/corpus-TARGET, kept).
# Prints per target: executions, exec/s, final cov: and ft:, new units,
# peak RSS, and any crash artifact; exit 1 if a target failed.
#   FUZZ_LONG_SECONDS=60 sh tests/fuzz/long.sh [target ...]
set -u
cd "$(dirname "$0")/../.." || exit 1
SECS=${FUZZ_LONG_SECONDS:-600}
JOBS=${FUZZ_JOBS:-2}
OUT=build/fuzz-long
targets=${*:-fuzz_http_request fuzz_http_response fuzz_frame fuzz_pair fuzz_target fuzz_origin fuzz_dns fuzz_num}
# tls.c's SAN walker and engine ends are built only with TLS
[ $# -eq 0 ] && [ -x build/fuzz_san ] && targets="$targets fuzz_san"
[ $# -eq 0 ] && [ -x build/fuzz_tls ] && targets="$targets fuzz_tls"
[ $# -eq 0 ] && targets="$targets fuzz_uri"
mkdir -p "$OUT"

dict_of() {	# the -dict= option for a target, if it has one
	case $1 in
	*frame) echo -dict=tests/fuzz/frame.dict ;;
	*pair) echo -dict=tests/fuzz/pair.dict ;;
	*http*) echo -dict=tests/fuzz/http.dict ;;
	*uri) echo -dict=tests/fuzz/uri.dict ;;
	*num) echo -dict=tests/fuzz/num.dict ;;
	esac
}

run_one() {	# run_one TARGET: fuzz it, status in $OUT/TARGET.status
	t=$1
	corpus=$OUT/corpus-$t
	mkdir -p "$corpus"
	cp -n tests/fuzz/corpus/"${t#fuzz_}"/* "$corpus"/ 2>/dev/null
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	    build/"$t" -max_total_time="$SECS" -print_final_stats=1 \
	    $(dict_of "$t") -artifact_prefix="$OUT/$t-" \
	    "$corpus" >"$OUT/$t.log" 2>&1
	echo $? >"$OUT/$t.status"
}

echo "fuzz-long: $targets, ${SECS}s each, $JOBS at a time; logs in $OUT/"
set -- $targets
while [ $# -gt 0 ]; do
	pids=""
	n=0
	while [ $# -gt 0 ] && [ $n -lt "$JOBS" ]; do
		rm -f "$OUT/$1.status"
		run_one "$1" &
		pids="$pids $!"
		n=$((n + 1))
		shift
	done
	for p in $pids; do
		wait "$p"
	done
done

failed=0
printf '%-20s %12s %8s %7s %8s %7s %7s  %s\n' target executions exec/s cov ft new rss_mb result
for t in $targets; do
	log=$OUT/$t.log
	st=$(cat "$OUT/$t.status" 2>/dev/null || echo '?')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	new=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	res=ok
	if [ "$st" != 0 ]; then
		res="FAILED (status $st): $(ls "$OUT/$t"-* 2>/dev/null | tr '\n' ' ')"
		failed=1
	fi
	printf '%-20s %12s %8s %7s %8s %7s %7s  %s\n' "$t" "${execs:-?}" \
	    "${eps:-?}" "${cov:-?}" "${ft:-?}" "${new:-?}" "${rss:-?}" "$res"
done
[ $failed -eq 0 ]
