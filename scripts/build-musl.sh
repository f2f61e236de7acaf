#!/bin/sh
# scripts/build-musl.sh ARCH - musl for `make static ARCH=...`, built from
# Debian's source package with Debian's cross compiler.
#   ARCH      cross compiler (Debian package)
#   aarch64   aarch64-linux-gnu-gcc   (gcc-aarch64-linux-gnu)
#   armhf     arm-linux-gnueabihf-gcc (gcc-arm-linux-gnueabihf)
#   s390x     s390x-linux-gnu-gcc     (gcc-s390x-linux-gnu; big-endian)
# Debian ships musl (musl-tools) for the build machine only, so for any
# other machine musl is configured from `apt-get source musl`
# (scripts/debsrc.sh), out of tree, static only, and installed into
# third_party/musl-ARCH with its own musl-gcc wrapper: the cross gcc with
# musl's specs, which search musl's headers and libraries and never the
# host's.  About a minute per machine on two cores; nothing is done
# when the wrapper and libc.a are already there.
set -eu
# Run from make static ARCH=armhf, the ARCH=armhf in MAKEFLAGS would
# override musl's own ARCH (arm) in its make; its make is not ours.
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL ARCH
cd "$(dirname "$0")/.."
top=$(pwd)
arch=${1:?usage: build-musl.sh aarch64|armhf|s390x}
case $arch in
aarch64) cross=aarch64-linux-gnu- ;;
armhf)   cross=arm-linux-gnueabihf- ;;
s390x)   cross=s390x-linux-gnu- ;;
*) echo "$0: unknown ARCH $arch (aarch64, armhf, s390x)" >&2; exit 1 ;;
esac
prefix=$top/third_party/musl-$arch
if [ -x "$prefix/bin/musl-gcc" ] && [ -f "$prefix/lib/libc.a" ]; then
	exit 0
fi
command -v "${cross}gcc" >/dev/null || {
	echo "$0: ${cross}gcc missing (see tests/packages.txt)" >&2
	exit 1
}
src=$top/$(sh scripts/debsrc.sh musl)
obj=third_party/obj/musl-$arch
rm -rf "$obj" "$prefix"
mkdir -p "$obj"
echo "building musl from ${src#"$top"/} with ${cross}gcc"
# -Os as musl-tools' own build is small-first; the wrapper (musl-gcc)
# runs the cross gcc named here with prefix/lib/musl-gcc.specs.
(cd "$obj" && "$src/configure" --prefix="$prefix" --target="${cross%-}" \
    CROSS_COMPILE="$cross" CC="${cross}gcc" CFLAGS=-Os \
    --disable-shared --enable-wrapper=gcc >/dev/null &&
    make -s -j"$(nproc)" >/dev/null && make -s install >/dev/null)
[ -x "$prefix/bin/musl-gcc" ] || { echo "$0: no $prefix/bin/musl-gcc" >&2; exit 1; }
echo "musl for $arch: $prefix"
