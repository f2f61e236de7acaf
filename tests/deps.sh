#!/bin/sh
# tests/deps.sh - install the Debian packages `make check` needs, if any
# in tests/packages.txt is missing.  As root it runs apt-get itself;
# otherwise through sudo.
set -eu
pkgs=$(cat "$(dirname "$0")/packages.txt")
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -n "$missing" ] || exit 0
echo "tests/deps.sh: installing:$missing"
if [ "$(id -u)" = 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "tests/deps.sh: run as root: apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
