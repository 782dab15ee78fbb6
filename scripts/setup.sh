#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what building and testing kmodx needs (Debian bookworm; as root, with apt-get),
# then configure and build into $BUILD (default: build/). Safe to run again.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
pkgs="meson ninja-build gcc pkg-config python3 zlib1g-dev liblzma-dev libzstd-dev libssl-dev
libcmocka-dev scdoc kmod zstd xz-utils gzip qemu-system-x86 busybox-static valgrind clang
openssl linux-kbuild-6.1 strace
libclang-rt-14-dev time bash-completion zsh fish"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "setup: installing$missing"
		apt-get update -qq || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	else
		echo "setup: missing packages:$missing (run as root to install them)" >&2
	fi
fi
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$top" ${MESON_ARGS:-}
fi
ninja -C "$build"
