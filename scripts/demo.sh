#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job on a real tree: build kmodx, then depmod and modprobe/modinfo queries on
# the running system's /lib/modules when it has modules, or else on Debian's
# linux-image-amd64 module tree (downloaded once into a cache). Nothing is loaded and
# nothing outside a temporary copy is written.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
bin=${BUILD:-$top/build}/tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kver=$(uname -r)
if [ -d "/lib/modules/$kver/kernel" ]; then
	src=/
else
	src=$(python3 "$top/testsuite/realtree.py")
	kver=$(ls "$src/lib/modules" | tail -1)
fi
echo "== indexing $(find "$src/lib/modules/$kver" -name '*.ko*' | wc -l) modules of $kver from $src"
mkdir -p "$work/lib/modules"
cp -as "$src/lib/modules/$kver" "$work/lib/modules/" 2>/dev/null || cp -a "$src/lib/modules/$kver" "$work/lib/modules/"
rm -f "$work/lib/modules/$kver"/modules.*.bin
time "$bin/depmod" -b "$work" "$kver"
ls -l "$work/lib/modules/$kver"/modules.*
echo "== modinfo vfat"
"$bin/modinfo" -b "$work" -k "$kver" vfat
echo "== module names for the alias fs-vfat and a PCI modalias"
"$bin/modprobe" -d "$work" -S "$kver" -R fs-vfat
"$bin/modprobe" -d "$work" -S "$kver" -R 'pci:v00008086d000015B8sv00008086sd00000000bc02sc00i00'
echo "== what modprobe would do for vfat (dry run)"
"$bin/modprobe" -d "$work" -S "$kver" --show-depends vfat
