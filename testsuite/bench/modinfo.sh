#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# modinfo, kmodx against the system's kmod on the real tree: one module and every module
# in one call, plain and xz; instruction counts for one module.
# Targets: all modules <= 0.4x kmod's time (plain); one module <= 0.5x its instructions.
. "$(dirname "$0")/lib.sh"
mods=$(mktemp)
cd "$tree/lib/modules/$kver" && find kernel -name '*.ko' | sort > "$mods"
xztree=$(python3 "$top/testsuite/realtree.py" --variant xz)
xzmods=$(mktemp)
(cd "$xztree/lib/modules/$kver" && find kernel -name '*.ko.xz' | sort > "$xzmods")
all() { echo "sh -c 'cd $1 && exec $2 \$(cat $3) >/dev/null'"; }
echo "modinfo ($(wc -l < "$mods") modules, $kver)"
bench_time "one module by path (vfat.ko)" "$ref_bin/modinfo $tree/lib/modules/$kver/kernel/fs/fat/vfat.ko" \
	"$kmodx_bin/modinfo $tree/lib/modules/$kver/kernel/fs/fat/vfat.ko"
bench_time "one module by name (-b -k vfat)" "$ref_bin/modinfo -b $tree -k $kver vfat" \
	"$kmodx_bin/modinfo -b $tree -k $kver vfat"
bench_time "all modules, plain" "$(all "$tree/lib/modules/$kver" "$ref_bin/modinfo" "$mods")" \
	"$(all "$tree/lib/modules/$kver" "$kmodx_bin/modinfo" "$mods")"
BENCH_RUNS=5 bench_time "all modules, xz" "$(all "$xztree/lib/modules/$kver" "$ref_bin/modinfo" "$xzmods")" \
	"$(all "$xztree/lib/modules/$kver" "$kmodx_bin/modinfo" "$xzmods")"
bench_instr "one module, instructions" "$ref_bin/modinfo $tree/lib/modules/$kver/kernel/fs/fat/vfat.ko" \
	"$kmodx_bin/modinfo $tree/lib/modules/$kver/kernel/fs/fat/vfat.ko"
rm -f "$mods" "$xzmods"
