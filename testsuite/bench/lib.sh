# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the benchmark scripts: where things are, and how to measure.
#   bench_time NAME CMD_KMOD CMD_KMODX   median wall time of each (hyperfine, interleaved)
#                                        and the ratio
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

# One block of runs of a command; hyperfine's JSON lands in $2. Without -N (no shell) if
# the command allows it. $4, if given, is a command run before each run, untimed (the
# state a run must start from).
hyperfine_block() {
	hb_cmd=$1 hb_json=$2 hb_runs=$3 hb_prep=${4:-}
	if [ -n "$hb_prep" ]; then set -- --prepare "$hb_prep"; else set --; fi
	hyperfine -i -N -w 2 -r "$hb_runs" "$hb_cmd" --export-json "$hb_json" "$@" >/dev/null 2>&1 ||
		hyperfine -i -w 2 -r "$hb_runs" "$hb_cmd" --export-json "$hb_json" "$@" >/dev/null
}

# Median wall time of each command over BENCH_RUNS runs (default 15), and the ratio. The
# runs go in BENCH_ROUNDS alternating blocks (default 10, fewer if runs are few), so
# that the machine drifting (another job, frequency, cache) weighs on both alike; the
# ratio of each round's two blocks is summed up too (median, least, greatest).
# BENCH_PREPARE_A and BENCH_PREPARE_B: commands run before each run of A and B, untimed.
bench_time() {
	name=$1 a=$2 b=$3 dir=$(mktemp -d)
	runs=${BENCH_RUNS:-15} rounds=${BENCH_ROUNDS:-10}
	[ "$rounds" -le $((runs / 2)) ] || rounds=$((runs / 2))
	[ "$rounds" -ge 1 ] || rounds=1
	per=$(((runs + rounds - 1) / rounds))
	[ "$per" -ge 2 ] || per=2
	i=0
	while [ $i -lt "$rounds" ]; do
		hyperfine_block "$a" "$dir/a$i.json" "$per" "${BENCH_PREPARE_A:-}"
		hyperfine_block "$b" "$dir/b$i.json" "$per" "${BENCH_PREPARE_B:-}"
		i=$((i + 1))
	done
	python3 - "$name" "$dir" <<-'PY'
	import glob, json, statistics, sys
	name, d = sys.argv[1], sys.argv[2]
	def times(pattern):
	    return [x for f in glob.glob(f"{d}/{pattern}.json") for x in json.load(open(f))["results"][0]["times"]]
	a, b = statistics.median(times("a*")), statistics.median(times("b*"))
	# each round's ratio too: a round's two blocks ran a second apart, and this host
	# changes speed by a fifth from one minute to the next
	rounds = sorted(statistics.median(times(f"b{i}")) / statistics.median(times(f"a{i}"))
	                for i in range(len(glob.glob(f"{d}/a*.json"))))
	print(f"{name:<44} kmod {a*1000:9.2f} ms   kmodx {b*1000:9.2f} ms   ratio {b/a:6.3f}"
	      f"   (rounds: median {statistics.median(rounds):.3f}, {rounds[0]:.3f} to {rounds[-1]:.3f})")
	PY
	rm -rf "$dir"
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
	python3 -c 'import sys; a,b=int(sys.argv[2]),int(sys.argv[3]); print(f"{sys.argv[1]:<44} kmod {a:>12,} Ir kmodx {b:>12,} Ir ratio {b/a:6.3f}")' "$name" "$a" "$b"
}
