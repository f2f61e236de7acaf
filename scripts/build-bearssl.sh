#!/bin/sh
# scripts/build-bearssl.sh - BearSSL built with musl-gcc for `make static TLS=1`.
#
# Debian's libbearssl.a is compiled against glibc (it references glibc's
# fortified and versioned symbols) and does not link into a musl binary,
# so the static build compiles BearSSL itself from Debian's own source
# package.  Result: third_party/bearssl/build/libbearssl.a and the headers
# in third_party/bearssl/inc.  third_party/ is in .gitignore.
#
# On a fresh Debian machine this adds a deb-src entry for the same URIs and
# suites as the existing deb822 sources (root needed for that one step),
# runs `apt-get source bearssl` (needs dpkg-dev), and `make CC=musl-gcc lib`
# (about 15 s).  Nothing is done when the library is already there.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
dest=third_party/bearssl
lib=$dest/build/libbearssl.a

if [ -f "$lib" ] && [ -f "$dest/inc/bearssl.h" ]; then
	exit 0
fi
command -v musl-gcc >/dev/null || { echo "$0: musl-gcc missing (apt-get install musl-tools)" >&2; exit 1; }

have_src() {
	grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list \
	    /etc/apt/sources.list.d/ 2>/dev/null
}

add_deb_src() {
	# Same URIs/suites/components as each deb822 "Types: deb" stanza.
	if [ "$(id -u)" != 0 ]; then
		echo "$0: no deb-src entry in the APT sources; run as root once" \
		    "(or add one) so 'apt-get source bearssl' works" >&2
		exit 1
	fi
	out=/etc/apt/sources.list.d/wsproxy-deb-src.sources
	: >"$out.tmp"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		[ "$f" = "$out" ] && continue
		awk '
		/^[[:space:]]*$/ { if (keep) print ""; keep = 0; next }
		/^Types:/ { keep = ($0 ~ /(^|[ :])deb([ ]|$)/); if (keep) print "Types: deb-src"; next }
		keep && /^(URIs|Suites|Components|Signed-By):/ { print }
		END { if (keep) print "" }
		' "$f" >>"$out.tmp"
	done
	# One-line format too (older machines).
	if [ -f /etc/apt/sources.list ] &&
	    grep -q '^deb ' /etc/apt/sources.list; then
		sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list \
		    >/etc/apt/sources.list.d/wsproxy-deb-src.list
	fi
	if [ -s "$out.tmp" ]; then
		mv "$out.tmp" "$out"
	else
		rm -f "$out.tmp"
	fi
	have_src || { echo "$0: could not derive a deb-src entry" >&2; exit 1; }
	apt-get update -qq
}

mkdir -p third_party/src
src=$(ls -d third_party/src/bearssl-*/ 2>/dev/null | head -n 1 || true)
if [ -z "$src" ]; then
	command -v dpkg-source >/dev/null || {
		echo "$0: dpkg-source missing (apt-get install dpkg-dev)" >&2
		exit 1
	}
	have_src || add_deb_src
	(cd third_party/src && apt-get source -qq bearssl) || {
		# The index may predate the deb-src entry.
		[ "$(id -u)" = 0 ] && apt-get update -qq
		(cd third_party/src && apt-get source -qq bearssl)
	}
	src=$(ls -d third_party/src/bearssl-*/ | head -n 1)
fi
src=${src%/}
echo "building BearSSL from $src with musl-gcc"
# -Os and per-function sections so --gc-sections keeps only what
# wsproxy calls; no -fPIC: this is for a static executable.
make -s -C "$src" CC=musl-gcc LD=musl-gcc AR=ar \
    CFLAGS='-W -Wall -Os -ffunction-sections -fdata-sections' \
    BUILD=build lib
rm -rf "$dest"
mkdir -p "$dest/build"
cp "$src/build/libbearssl.a" "$dest/build/"
cp -r "$src/inc" "$dest/inc"
echo "BearSSL for musl: $top/$lib"
