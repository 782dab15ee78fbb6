#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# udev's coldplug through libkmod.so.2 (testsuite/bench/libkmod-coldplug.c): one context,
# kmod_load_resources(), then kmod_module_new_from_lookup() and the dependencies of what
# it finds for 2,000 modalias strings made from the real tree's modules.alias. The same
# client runs on Debian's libkmod2 (kmod 30), kmod 34.2's (../shared/oracle, when
# there) and kmodx's; their output must be identical. Targets: <= 0.15x libkmod's
# instructions (callgrind), peak memory (maximum RSS) no more than libkmod's.
. "$(dirname "$0")/lib.sh"
client=$build/testsuite/libkmod/libkmod-coldplug
[ -x "$client" ] || { echo "bench: build $client first" >&2; exit 1; }
moddir=$tree/lib/modules/$kver
work=$(mktemp -d)
trap 'rm -rf "$work" "$ref_bin"' EXIT
python3 - "$top/testsuite/differential" "$moddir" > "$work/aliases" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import common
print("\n".join(common.modaliases(sys.argv[2], 2000)))
PY

libs="kmodx:$build/libkmod"
mkdir "$work/debian" && ln -s /usr/lib/x86_64-linux-gnu/libkmod.so.2 "$work/debian/" &&
	libs="debian:$work/debian $libs"
oracle=${KMODX_ORACLE_DIR:-$top/../shared/oracle/kmod-34.2}/lib/libkmod.so.2.5.1
if [ -f "$oracle" ]; then
	mkdir "$work/oracle" && ln -s "$oracle" "$work/oracle/libkmod.so.2"
	libs="kmod-34.2:$work/oracle $libs"
fi

measure() { # name dir: output, instructions, peak RSS (KB, median of 5), wall time (ms, median of 9)
	name=$1 dir=$2
	LD_LIBRARY_PATH=$dir "$client" "$moddir" "$work/aliases" > "$work/out.$name"
	LD_LIBRARY_PATH=$dir valgrind --tool=callgrind --callgrind-out-file="$work/cg.$name" \
		"$client" "$moddir" "$work/aliases" >/dev/null 2>&1
	callgrind_annotate "$work/cg.$name" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' > "$work/ir.$name"
	for i in 1 2 3 4 5; do
		LD_LIBRARY_PATH=$dir /usr/bin/time -f %M "$client" "$moddir" "$work/aliases" 2>&1 >/dev/null
	done | sort -n | sed -n 3p > "$work/rss.$name"
	LD_LIBRARY_PATH=$dir hyperfine -N -w 2 -r 9 "$client $moddir $work/aliases" \
		--export-json "$work/time.$name" >/dev/null 2>&1
}

echo "udev coldplug through libkmod.so.2: 2,000 modaliases on $kver, $(wc -l < "$moddir/modules.alias") aliases"
for l in $libs; do
	measure "${l%%:*}" "${l#*:}"
done
python3 - "$work" $libs <<'PY'
import json, statistics, sys
work, libs = sys.argv[1], [l.split(":")[0] for l in sys.argv[2:]]
def read(kind, name):
    return open(f"{work}/{kind}.{name}", "rb").read()
fail = False
for name in libs:
    same = read("out", name) == read("out", "kmodx")
    fail |= not same
    ir, rss = int(read("ir", name)), int(read("rss", name))
    t = statistics.median(json.load(open(f"{work}/time.{name}"))["results"][0]["times"]) * 1000
    print(f"{name:<10} {ir:>13,} Ir  {rss:>7,} KB peak  {t:8.2f} ms  output {'identical' if same else 'DIFFERS'}")
k = {kind: float(read(kind, "kmodx")) for kind in ("ir", "rss")}
for name in libs:
    if name == "kmodx":
        continue
    ir, rss = int(read("ir", name)), int(read("rss", name))
    print(f"kmodx/{name:<10} instructions {k['ir'] / ir:5.3f}x (target <= 0.15)   "
          f"peak memory {k['rss'] / rss:5.2f}x (target <= 1)")
sys.exit(1 if fail else 0)
PY
