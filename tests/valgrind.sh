#!/bin/sh
# tests/valgrind.sh - the integration suite once with every wsproxy under
# valgrind's memcheck (what `make valgrind` runs).
#   sh tests/valgrind.sh [test_name ...]
# WSPROXY (default ./wsproxy) is wrapped by a script that execs
#   valgrind --error-exitcode=1 --leak-check=full
#            --errors-for-leak-kinds=definite --log-file=DIR/vg.%p.log
# lib.py sees WSPROXY_VALGRIND=1: tests that measure RSS or tight timings
# skip themselves, and a test fails when the log of a proxy it started
# does not say "ERROR SUMMARY: 0 errors".  At the end every log is
# checked again (flag tests run wsproxy to completion too).  The proxy
# never exits on its own (the tests stop it with SIGTERM), so the leak
# check at exit sees the slab and pool as still reachable; what counts
# are memcheck's errors: invalid reads/writes, uninitialised values,
# bad frees, definite leaks.  --vgdb=no: valgrind's gdbserver would open
# FIFOs in the proxy process at some point, which its fd check would see.
set -u
cd "$(dirname "$0")/.." || exit 1
command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 1; }
bin=${WSPROXY:-./wsproxy}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[ -x "$bin" ] || { echo "no wsproxy at $bin"; exit 1; }
dir=$(mktemp -d /tmp/wsproxy-valgrind.XXXXXX)
# The file limit is lowered to 1024 (if higher): the default --max-conns
# comes from it, and memcheck's leak scan at exit reads the whole buffer
# pool (2 x (max-conns + 16) x 32 KiB, reserved with MAP_NORESERVE), which
# for the 20000-fd default would take long and touch 650 MB per proxy.
cat >"$dir/wsproxy" <<WRAP
#!/bin/sh
n=\$(ulimit -n)
if [ "\$n" = unlimited ] || [ "\$n" -gt 1024 ]; then ulimit -n 1024; fi
exec valgrind --error-exitcode=1 --leak-check=full \\
    --errors-for-leak-kinds=definite --track-fds=no --vgdb=no \\
    --log-file="$dir/vg.%p.log" "$bin" "\$@"
WRAP
chmod +x "$dir/wsproxy"
start=$(date +%s)
WSPROXY="$dir/wsproxy" WSPROXY_VALGRIND=1 WSPROXY_VG_LOGDIR="$dir" \
TEST_LOGDIR="$dir/tests" TEST_TIMEOUT=${TEST_TIMEOUT:-240} \
    sh tests/integration/run.sh "$@" | tee "$dir/run.log"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dir/run.log" | tail -n 1)
logs=0
bad=0
for f in "$dir"/vg.*.log; do
	[ -e "$f" ] || continue
	logs=$((logs + 1))
	if ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
		# a process killed before valgrind could write its summary has
		# none; errors found before that are still in the log
		if grep -q 'ERROR SUMMARY' "$f" || grep -qE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|.*definitely lost)' "$f"; then
			bad=$((bad + 1))
			echo "memcheck errors in $f:"
			grep -E '^==[0-9]+== ' "$f" | sed -n '1,40p' | grep -vE 'Memcheck|Copyright|Using Valgrind|Command:|^==[0-9]+== $' | head -n 25
		fi
	fi
done
echo "valgrind: $logs wsproxy processes, $bad with memcheck errors;" \
    "$(( $(date +%s) - start ))s; logs in $dir"
echo "${summary:-no summary}"
[ $bad -eq 0 ] && [ -n "$summary" ] && case $summary in *" 0 failed") true ;; *) false ;; esac
