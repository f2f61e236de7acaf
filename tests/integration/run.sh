#!/bin/sh
# Run wsproxy's black-box integration tests.
#   WSPROXY=path/to/wsproxy sh tests/integration/run.sh [test_name ...]
# Each test_*.py exits 0 (pass), 77 (skip) or anything else (fail).
# Prints PASS/FAIL/SKIP per test, a failing test's output, and ends with
# exactly one line "N passed, N failed"; exit status 1 on any failure.
here=$(cd "$(dirname "$0")" && pwd)
: "${WSPROXY:=$here/../../wsproxy}"
d=$(cd "$(dirname "$WSPROXY")" 2>/dev/null && pwd)
WSPROXY=${d%/}/$(basename "$WSPROXY")
export WSPROXY
[ -x "$WSPROXY" ] || echo "warning: no executable wsproxy at $WSPROXY (set WSPROXY=...)" >&2
PY=/usr/bin/python3
: "${TEST_TIMEOUT:=120}"
: "${TEST_TIMEOUT_LONG:=300}"
logdir=${TEST_LOGDIR:-$(mktemp -d /tmp/wsproxy-itest.XXXXXX)}
mkdir -p "$logdir"

if [ $# -gt 0 ]; then
	tests=""
	for t in "$@"; do
		t=$(basename "$t" .py)
		tests="$tests $here/$t.py"
	done
else
	tests=$(ls "$here"/test_*.py | sort)
fi

pass=0
fail=0
skip=0
for t in $tests; do
	name=$(basename "$t" .py)
	limit=$TEST_TIMEOUT
	case $name in
	test_slow_reader|test_payload_sizes) limit=$TEST_TIMEOUT_LONG ;;
	esac
	start=$(date +%s)
	(cd "$here" && TEST_ALARM=$((limit - 5)) timeout -k 5 "$limit" "$PY" "$t") >"$logdir/$name.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0)
		pass=$((pass + 1))
		echo "PASS $name" ;;
	77)
		skip=$((skip + 1))
		echo "SKIP $name"
		grep '^SKIP' "$logdir/$name.log" | tail -n 1 | sed 's/^/    /' ;;
	*)
		fail=$((fail + 1))
		[ $rc -eq 124 ] && echo "TIMEOUT after ${limit}s" >>"$logdir/$name.log"
		echo "FAIL $name"
		echo "    status $rc after ${secs}s"
		reason=$(grep '^FAIL' "$logdir/$name.log" | tail -1)
		[ -n "$reason" ] && echo "    $reason"
		tail -n 15 "$logdir/$name.log" | grep -v '^FAIL' | sed 's/^/    | /'
		;;
	esac
done
[ $skip -gt 0 ] && echo "($skip skipped; logs in $logdir)" || echo "(logs in $logdir)"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
