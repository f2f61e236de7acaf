#!/bin/sh
# scripts/debsrc.sh - unpack Debian's source package NAME into
# third_party/src/ (once) and print its directory.
#   sh scripts/debsrc.sh bearssl      -> third_party/src/bearssl-0.6+dfsg.1
# Shared by scripts/build-bearssl.sh and scripts/build-musl.sh: the static
# builds compile their libraries from Debian's own sources, so what is in
# a binary is what Debian ships, patches included.
#
# On a fresh Debian machine this adds a deb-src entry for the same URIs and
# suites as the existing deb822 sources (root needed for that one step) and
# runs `apt-get source NAME` (needs dpkg-dev).  Messages go to stderr; the
# only line on stdout is the directory.
set -eu
cd "$(dirname "$0")/.."
name=$1

have_src() {
	grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list \
	    /etc/apt/sources.list.d/ 2>/dev/null
}

add_deb_src() {
	# Same URIs/suites/components as each deb822 "Types: deb" stanza.
	if [ "$(id -u)" != 0 ]; then
		echo "$0: no deb-src entry in the APT sources; run as root once" \
		    "(or add one) so 'apt-get source $name' works" >&2
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
	apt-get update -qq >&2
}

mkdir -p third_party/src
# The unpacked tree is NAME-VERSION/ (dpkg-source names it so); the
# .dsc beside it says the download finished.
src=$(ls -d third_party/src/"$name"-[0-9]*/ 2>/dev/null | head -n 1 || true)
if [ -z "$src" ]; then
	command -v dpkg-source >/dev/null || {
		echo "$0: dpkg-source missing (apt-get install dpkg-dev)" >&2
		exit 1
	}
	have_src || add_deb_src
	(cd third_party/src && apt-get source -qq "$name" >&2) || {
		# The index may predate the deb-src entry.
		[ "$(id -u)" = 0 ] && apt-get update -qq >&2
		(cd third_party/src && apt-get source -qq "$name" >&2)
	}
	src=$(ls -d third_party/src/"$name"-[0-9]*/ | head -n 1)
fi
echo "${src%/}"
