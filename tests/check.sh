#!/bin/sh
# tests/check.sh - what `make check` runs, after the Makefile has built
# ./wsproxy, build/wsproxy-notls, build/wsproxy-asan, the unit tests and
# the fuzzers.
#   1. unit tests (ws.c, target.c, handshake.c), plain and ASan+UBSan
#   2. each fuzzer for a few seconds on its seed corpus (FUZZ_SECONDS)
#   3. the integration suite against ./wsproxy (with TLS when BearSSL is
#      installed), against build/wsproxy-kqueue (the same with
#      ev_kqueue.c over tests/kqshim/, a test-only kqueue on epoll),
#      against build/wsproxy-notls (TLS=0: the test_tls_* tests skip,
#      test_notls_* run), then against the ASan+UBSan build (TLS like
#      ./wsproxy)
#   4. a short chaos run (tests/chaos/) against the ASan+UBSan build,
#      plain and (in a TLS build) with TLS on both legs
#   5. the integration suite under valgrind memcheck (tests/valgrind.sh)
# Ends with one line "N passed, N failed" over all suites.
set -u
cd "$(dirname "$0")/.." || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-5}
passed=0
failed=0
failures=""

step() {	# step NAME COMMAND...: one counted suite step
	name=$1
	shift
	echo "== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "PASS $name"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAIL $name"
	fi
}

# Every unit test the Makefile lists (UNITS), plain and ASan+UBSan.
for u in $(make -s --no-print-directory print-units); do
	step "unit-$u" "build/test_$u"
	step "unit-$u-asan" "build/test_$u-asan"
done
# The static binaries against their size budgets (wsproxy(1) LIMITS):
# the plain one always, the TLS one when BearSSL for musl is built.
step size make -s size
for f in fuzz_http_request fuzz_http_response fuzz_frame fuzz_pair fuzz_target \
    fuzz_origin fuzz_proxyproto fuzz_num; do
	corpus=tests/fuzz/corpus/${f#fuzz_}
	work=$(mktemp -d)
	cp -r "$corpus"/. "$work"/ 2>/dev/null
	step "$f" build/$f -max_total_time="$FUZZ_SECONDS" \
	    -dict=tests/fuzz/$(case $f in *frame) echo frame;; *pair) echo pair;;
	    *target) echo target;; *proxyproto) echo proxyproto;; *num) echo num;;
	    *) echo http;; esac).dict \
	    -artifact_prefix=build/ -print_final_stats=1 "$work"
	rm -rf "$work"
done
# routes.c's upstream URI parser (command-line input).
work=$(mktemp -d)
cp -r tests/fuzz/corpus/uri/. "$work"/
step fuzz_uri build/fuzz_uri -max_total_time="$FUZZ_SECONDS" \
    -dict=tests/fuzz/uri.dict -artifact_prefix=build/ -print_final_stats=1 \
    "$work"
rm -rf "$work"
# tls.c's certificate SAN walker: only in a TLS build (needs BearSSL).
if [ -x build/fuzz_san ]; then
	work=$(mktemp -d)
	cp -r tests/fuzz/corpus/san/. "$work"/
	step fuzz_san build/fuzz_san -max_total_time="$FUZZ_SECONDS" \
	    -artifact_prefix=build/ -print_final_stats=1 "$work"
	rm -rf "$work"
fi
# tls.c's engine ends between idle (record buffer parked) and active,
# against a BearSSL client (TLS build only; no dictionary: op scripts).
if [ -x build/fuzz_tls ]; then
	work=$(mktemp -d)
	cp -r tests/fuzz/corpus/tls/. "$work"/
	step fuzz_tls build/fuzz_tls -max_total_time="$FUZZ_SECONDS" \
	    -artifact_prefix=build/ -print_final_stats=1 "$work"
	rm -rf "$work"
fi

# dnsmsg.c, the resolver's answer parser (no dictionary).
work=$(mktemp -d)
cp -r tests/fuzz/corpus/dns/. "$work"/
step fuzz_dns build/fuzz_dns -max_total_time="$FUZZ_SECONDS" \
    -artifact_prefix=build/ -print_final_stats=1 "$work"
rm -rf "$work"

# The integration runner counts its own tests; fold them into ours.
integration() {	# integration LABEL BINARY
	out=build/integration-$1.log
	WSPROXY=$2 sh tests/integration/run.sh 2>&1 | tee "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
	[ -n "$line" ] || failures="$failures integration-$1(no-summary)"
	[ "${f:-1}" = 0 ] || failures="$failures integration-$1"
}
integration plain ./wsproxy
integration kqueue build/wsproxy-kqueue
integration notls build/wsproxy-notls
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	integration asan build/wsproxy-asan

# Faults under load, short: the ASan+UBSan build under chaos (the full
# 2-minute, 500-pair run is `sh tests/chaos/run.sh`).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
WSPROXY=build/wsproxy-asan CHAOS_SECONDS=${CHAOS_SECONDS:-20} \
CHAOS_PAIRS=${CHAOS_PAIRS:-100} CHAOS_CONCURRENCY=${CHAOS_CONCURRENCY:-20} \
CHAOS_LOG=build/chaos-asan.log \
	step chaos-asan sh tests/chaos/run.sh
# The same with TLS on both legs (wss:// clients to a tls: listener, a
# wss:// upstream): record buffers parked and taken again under faults.
# Only in a TLS build.
if build/wsproxy-asan --version 2>/dev/null | grep -q 'TLS: BearSSL'; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	WSPROXY=build/wsproxy-asan CHAOS_TLS=1 \
	CHAOS_SECONDS=${CHAOS_SECONDS:-20} CHAOS_PAIRS=${CHAOS_PAIRS:-100} \
	CHAOS_CONCURRENCY=${CHAOS_CONCURRENCY:-20} \
	CHAOS_LOG=build/chaos-tls-asan.log \
		step chaos-tls-asan sh tests/chaos/run.sh
fi

# The integration suite once more, every proxy under valgrind memcheck
# (about 2.5 minutes; CHECK_VALGRIND=0 leaves it out).
[ "${CHECK_VALGRIND:-1}" = 0 ] || step valgrind sh tests/valgrind.sh

echo
[ -z "$failures" ] || echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
