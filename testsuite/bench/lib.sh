# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the benchmark scripts: where things are, and how to measure.
#   bench_time NAME CMD_KMOD CMD_KMODX   median wall time of each (hyperfine) and the ratio
#   bench_instr NAME CMD_KMOD CMD_KMODX  instructions of each (callgrind) and the ratio
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${KMODX_BUILD:-$top/build}
kmodx_bin=$build/tools
for t in hyperfine valgrind kmod; do
	command -v $t >/dev/null || { echo "bench: $t is required (apt-get install $t)" >&2; exit 1; }
done
[ -x "$kmodx_bin/kmodx" ] || { echo "bench: build kmodx first ($kmodx_bin/kmodx)" >&2; exit 1; }
ref_bin=$(mktemp -d)
trap 'rm -rf "$ref_bin"' EXIT
for t in lsmod insmod rmmod modinfo modprobe depmod; do ln -s "$(command -v kmod)" "$ref_bin/$t"; done
tree=$(python3 "$top/testsuite/realtree.py")
kver=$(ls "$tree/lib/modules" | tail -1)

median() { # hyperfine JSON -> median seconds
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}

bench_time() {
	name=$1 a=$2 b=$3 json=$(mktemp)
	hyperfine -i -N -w 3 -r "${BENCH_RUNS:-15}" "$a" --export-json "$json" >/dev/null 2>&1 ||
		hyperfine -i -w 3 -r "${BENCH_RUNS:-15}" "$a" --export-json "$json" >/dev/null
	ta=$(median "$json")
	hyperfine -i -N -w 3 -r "${BENCH_RUNS:-15}" "$b" --export-json "$json" >/dev/null 2>&1 ||
		hyperfine -i -w 3 -r "${BENCH_RUNS:-15}" "$b" --export-json "$json" >/dev/null
	tb=$(median "$json")
	rm -f "$json"
	python3 -c 'import sys; a,b=float(sys.argv[2]),float(sys.argv[3]); print(f"{sys.argv[1]:<44} kmod {a*1000:9.2f} ms   kmodx {b*1000:9.2f} ms   ratio {b/a:5.2f}")' "$name" "$ta" "$tb"
}

instr() { # total instructions of one run of the command line $1
	out=$(mktemp)
	eval "set -- $1"
	valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1 || true
	callgrind_annotate "$out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
	rm -f "$out"
}

bench_instr() {
	name=$1; shift
	a=$(instr "$1")
	b=$(instr "$2")
	python3 -c 'import sys; a,b=int(sys.argv[2]),int(sys.argv[3]); print(f"{sys.argv[1]:<44} kmod {a:>12,} Ir kmodx {b:>12,} Ir ratio {b/a:5.2f}")' "$name" "$a" "$b"
}
