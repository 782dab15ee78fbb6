#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# depmod with its cache, kmodx against the system's kmod (which has none and reads every
# module each time) on copies of the real tree, plain and xz, each tool on a copy of its
# own:
#   one module added under updates/dkms, DKMS-style (a new name), and one overriding a
#     module of the tree: the indexes and the cache are those that kmodx's run on the
#     tree before the module came left;
#   nothing changed since the last run;
#   a full run with a cold cache (none), also against a baseline kmodx when
#     KMODX_BASELINE names the tools directory of another build (main's, say).
# Targets: added <= 0.05x kmod's time, nothing changed <= 0.03x, cold no slower than the
# baseline. BENCH_VARIANTS picks the trees (default: "plain xz").
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work" "$ref_bin"' EXIT
# Changes made in the 2 s before a run are read again by the next one (depmod.8, CACHE):
# let the copies age before the timed runs.
age() { sleep 2.1; }

for v in ${BENCH_VARIANTS:-plain xz}; do
	src=$tree ext=.ko runs=15
	[ $v = plain ] || { src=$(python3 "$top/testsuite/realtree.py" --variant $v); ext=.ko.xz; runs=5; }
	# kmodx's copy is a real one: another job linking or unlinking the shared tree's
	# files changes their ctime, and with it their identities in the cache
	for t in kmod kmodx; do
		rm -rf "$work/$t" && mkdir -p "$work/$t/lib/modules"
		cp -a$([ $t = kmodx ] || echo l) "$src/lib/modules/$kver" "$work/$t/lib/modules/"
	done
	kd=$work/kmodx/lib/modules/$kver
	new=$work/new$ext over=$work/over$ext
	cp "$src/lib/modules/$kver/kernel/fs/fat/vfat$ext" "$new"
	cp "$src/lib/modules/$kver/kernel/fs/isofs/isofs$ext" "$over"
	age
	# before each run: the tree as it was, indexed (kmodx: the indexes and the cache that
	# its run left, as DKMS finds them), and the module arriving (a new file)
	for t in kmod kmodx; do
		cat > "$work/add-$t.sh" <<-SH
		rm -rf "$work/$t/lib/modules/$kver/updates"
		[ $t = kmod ] || "$kmodx_bin/depmod" -b "$work/kmodx" "$kver"
		mkdir -p "$work/$t/lib/modules/$kver/updates/dkms"
		cp "\$1" "$work/$t/lib/modules/$kver/updates/dkms/\$2$ext"
		SH
	done
	k="$ref_bin/depmod -b $work/kmod $kver" x="$kmodx_bin/depmod -b $work/kmodx $kver"
	BENCH_RUNS=$runs BENCH_PREPARE_A="sh $work/add-kmod.sh $new kmodx_dkms" \
		BENCH_PREPARE_B="sh $work/add-kmodx.sh $new kmodx_dkms" \
		bench_time "depmod $v: one module added (new name)" "$k" "$x"
	BENCH_RUNS=$runs BENCH_PREPARE_A="sh $work/add-kmod.sh $over isofs" \
		BENCH_PREPARE_B="sh $work/add-kmodx.sh $over isofs" \
		bench_time "depmod $v: one module added (overriding)" "$k" "$x"
	rm -rf "$work/kmod/lib/modules/$kver/updates" "$kd/updates"
	"$kmodx_bin/depmod" -b "$work/kmodx" "$kver"
	age
	BENCH_RUNS=$runs bench_time "depmod $v: nothing changed" "$k" "$x"
	echo "rm -f $kd/modules.kmodx-cache" > "$work/cold.sh"
	BENCH_RUNS=$runs BENCH_PREPARE_B="sh $work/cold.sh" \
		bench_time "depmod $v: cold cache (kmod vs kmodx)" "$k" "$x"
	if [ -n "${KMODX_BASELINE:-}" ]; then
		BENCH_RUNS=$runs BENCH_PREPARE_A="sh $work/cold.sh" BENCH_PREPARE_B="sh $work/cold.sh" \
			bench_time "depmod $v: cold cache (baseline vs kmodx)" \
			"$KMODX_BASELINE/depmod -b $work/kmodx $kver" "$x"
	fi
done
