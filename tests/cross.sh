#!/bin/sh
# tests/cross.sh - what `make check-cross` runs (wsproxy(1) PLATFORMS):
#   sh tests/cross.sh [aarch64 armhf s390x]
# For each machine: build musl and BearSSL for it when missing
# (scripts/build-musl.sh, scripts/build-bearssl.sh), the static binary
# with TLS (./wsproxy-static-ARCH) and without (build/ARCH/
# wsproxy-static-plain), and the unit tests (build/ARCH/test_*); run each
# unit test under qemu-ARCH-static, called directly (no binfmt needed);
# run tests/cross/smoke.py against both binaries through a wrapper that
# execs qemu.  Prints one summary line per machine, sizes against the
# budgets make size enforces on x86-64 (128 KiB plain, 300 KiB with TLS;
# reported, not enforced here), and exits 1 if any build, unit test or
# smoke case failed.  s390x is big-endian: a byte-order slip in the
# frame codec or SHA-1 shows there.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
archs=${*:-aarch64 armhf s390x}
logs=$(mktemp -d /tmp/wsproxy-cross.XXXXXX)
start=$(date +%s)
status=0
summary=""

budget() {	# budget BYTES LIMIT
	if [ "$1" -le "$2" ]; then
		echo "$1 bytes"
	else
		echo "$1 bytes (over by $(($1 - $2)))"
	fi
}

for a in $archs; do
	t0=$(date +%s)
	case $a in
	armhf) qemu=qemu-arm-static ;;
	*) qemu=qemu-$a-static ;;
	esac
	command -v "$qemu" >/dev/null || {
		echo "$a: $qemu missing (qemu-user-static)"
		status=1
		summary="$summary$a: FAIL, no $qemu
"
		continue
	}
	echo "== $a: building (log $logs/$a-build.log)"
	if ! { make -s ARCH="$a" static TLS=1 &&
	    make -s ARCH="$a" "build/$a/wsproxy-static-plain" units-cross; } \
	    >"$logs/$a-build.log" 2>&1; then
		tail -n 20 "$logs/$a-build.log" | sed 's/^/    | /'
		status=1
		summary="$summary$a: FAIL, build (see $logs/$a-build.log)
"
		continue
	fi
	tls_bin=$top/wsproxy-static-$a
	plain_bin=$top/build/$a/wsproxy-static-plain

	units=$(make -s print-cross-units)
	upass=0
	ufail=""
	for u in $units; do
		if "$qemu" "build/$a/test_$u" >"$logs/$a-test_$u.log" 2>&1; then
			upass=$((upass + 1))
		else
			ufail="$ufail $u"
			echo "FAIL $a test_$u"
			grep -m 5 FAIL "$logs/$a-test_$u.log" | sed 's/^/    | /'
		fi
	done
	[ -z "$ufail" ] || status=1

	smoke=""
	for kind in plain tls; do
		if [ $kind = tls ]; then bin=$tls_bin; want=1; else bin=$plain_bin; want=0; fi
		mkdir -p "$logs/$a-$kind"
		cat >"$logs/$a-$kind/wsproxy" <<WRAP
#!/bin/sh
exec $qemu "$bin" "\$@"
WRAP
		chmod +x "$logs/$a-$kind/wsproxy"
		WSPROXY=$logs/$a-$kind/wsproxy WSPROXY_EXPECT_TLS=$want \
		    TEST_ALARM=280 timeout -k 5 300 /usr/bin/python3 \
		    tests/cross/smoke.py >"$logs/$a-$kind.log" 2>&1
		rc=$?
		ok=$(grep -c '^case .*: ok$' "$logs/$a-$kind.log")
		n=$(grep -c '^case ' "$logs/$a-$kind.log")
		if [ $rc -eq 0 ] && [ "$ok" -eq "$n" ] && [ "$n" -gt 0 ]; then
			smoke="$smoke $kind $ok/$n ok,"
		else
			status=1
			smoke="$smoke $kind FAIL ($ok/$n),"
			echo "FAIL $a smoke $kind (status $rc)"
			grep -E '^(FAIL|case .*FAIL)' "$logs/$a-$kind.log" | sed 's/^/    | /'
		fi
	done
	line="$a: plain $(budget "$(wc -c <"$plain_bin")" 131072),"
	line="$line TLS $(budget "$(wc -c <"$tls_bin")" 307200);"
	line="$line smoke$smoke units $upass/$(echo $units | wc -w) ok"
	[ -z "$ufail" ] || line="$line (failed:$ufail)"
	line="$line; $(($(date +%s) - t0))s"
	echo "$line"
	summary="$summary$line
"
done
echo "== check-cross: $(($(date +%s) - start))s, logs in $logs"
printf '%s' "$summary"
exit $status
