#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# depmod, kmodx against the system's kmod on copies of the real tree: plain, xz, zstd and
# gzip (kmod 30 cannot read gzip: kmodx only). Median wall time, ratio, peak memory.
# Targets: <= 0.35x kmod's time plain, <= 0.55x xz, <= 0.35x zstd; memory <= kmod's.
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work" "$ref_bin"' EXIT
peak() { # peak RSS in KiB of one run
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
}
for v in plain xz zst gz; do
	src=$tree
	[ $v = plain ] || src=$(python3 "$top/testsuite/realtree.py" --variant $v)
	rm -rf "$work/t" && mkdir -p "$work/t/lib/modules"
	cp -al "$src/lib/modules/$kver" "$work/t/lib/modules/"
	runs=15
	[ $v = xz ] && runs=5
	if [ $v = gz ]; then
		BENCH_RUNS=$runs bench_time "depmod $v (kmodx only: kmod 30 lacks zlib)" \
			"$kmodx_bin/depmod -b $work/t $kver" "$kmodx_bin/depmod -b $work/t $kver"
		continue
	fi
	BENCH_RUNS=$runs bench_time "depmod $v" "$ref_bin/depmod -b $work/t $kver" \
		"$kmodx_bin/depmod -b $work/t $kver"
	printf '%-44s kmod %9s KiB   kmodx %9s KiB\n' "  peak memory" \
		"$(peak "$ref_bin/depmod" -b "$work/t" "$kver")" "$(peak "$kmodx_bin/depmod" -b "$work/t" "$kver")"
done
