#!/bin/sh
# scripts/build-bearssl.sh [ARCH] - BearSSL for `make static TLS=1`.
#
# Debian's libbearssl.a is compiled against glibc (it references glibc's
# fortified and versioned symbols) and does not link into a musl binary,
# so the static build compiles BearSSL itself from Debian's own source
# package (scripts/debsrc.sh).  Without ARCH it is built with musl-gcc
# (musl-tools) into third_party/bearssl; with ARCH (aarch64, armhf,
# s390x) with third_party/musl-ARCH/bin/musl-gcc (scripts/build-musl.sh,
# run first when missing) into third_party/bearssl-ARCH.  Each result is
# DEST/build/libbearssl.a and the headers in DEST/inc; third_party/ is in
# .gitignore.  About 15 s per machine; nothing is done when the library
# is already there.
set -eu
# Run from make static ARCH=armhf, the ARCH=armhf in MAKEFLAGS would
# override musl's own ARCH (arm) in its make; its make is not ours.
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL ARCH
cd "$(dirname "$0")/.."
top=$(pwd)
arch=${1:-}
if [ -n "$arch" ]; then
	dest=third_party/bearssl-$arch
	cc=$top/third_party/musl-$arch/bin/musl-gcc
else
	dest=third_party/bearssl
	cc=musl-gcc
	ar=ar
fi
lib=$dest/build/libbearssl.a

if [ -f "$lib" ] && [ -f "$dest/inc/bearssl.h" ]; then
	exit 0
fi
if [ -n "$arch" ]; then
	sh scripts/build-musl.sh "$arch"
	# the cross binutils' ar (the prefix of the gcc the wrapper runs):
	# the host's may not read the objects to index their symbols
	ar=$(sed -n 's/.*REALGCC:-\(.*\)gcc}.*/\1/p' "$cc")ar
fi
command -v "$cc" >/dev/null || { echo "$0: $cc missing (apt-get install musl-tools)" >&2; exit 1; }
src=$(sh scripts/debsrc.sh bearssl)
echo "building BearSSL from $src with $cc"
# -Os and per-function sections so --gc-sections keeps only what
# wsproxy calls; no -fPIC: this is for a static executable.  Each
# machine has its own object directory in the one source tree.
obj=build${arch:+-$arch}
make -s -C "$src" CC="$cc" LD="$cc" AR="$ar" \
    CFLAGS='-W -Wall -Os -ffunction-sections -fdata-sections' \
    BUILD="$obj" lib
rm -rf "$dest"
mkdir -p "$dest/build"
cp "$src/$obj/libbearssl.a" "$dest/build/"
cp -r "$src/inc" "$dest/inc"
echo "BearSSL for musl${arch:+ ($arch)}: $top/$lib"
