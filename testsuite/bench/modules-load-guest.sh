# SPDX-License-Identifier: GPL-2.0-or-later
# Guest side of modules-load-vm.py (sourced as a VM scenario): the same list loaded from
# nothing by systemd-modules-load (one module after the other, through libkmod), by
# kmodx modules-load -j 1 and by kmodx modules-load with one worker per vCPU, in
# alternating rounds; each run prints "BENCH <tool> <round> <milliseconds> <modules>".
SD=/sd/lib/systemd/systemd-modules-load
export LD_LIBRARY_PATH=/sd/usr/lib/x86_64-linux-gnu/systemd
# milliseconds since boot, to 10 ms: busybox's date has no %N
ms() {
	read -r up _ </proc/uptime
	c=${up#*.}
	echo $((${up%.*} * 1000 + ${c#0} * 10))
}
run() {
	tool=$1 round=$2
	shift 2
	cleanup
	t0=$(ms)
	"$@" >/tmp/bench.out 2>&1
	rc=$?
	t1=$(ms)
	n=$(wc -l </proc/modules)
	echo "BENCH $tool $round $((t1 - t0)) $n rc=$rc"
	[ $rc -eq 0 ] || head -n 5 /tmp/bench.out
}
echo "BENCH cpus $(grep -c ^processor /proc/cpuinfo) names $(grep -c . /etc/modules-load.d/bench.conf)"
rounds=${BENCH_ROUNDS:-5}
r=1
while [ $r -le "$rounds" ]; do
	run systemd $r $SD
	run kmodx-j1 $r /kmodx/bin/kmodx modules-load -j 1
	run kmodx-jN $r /kmodx/bin/kmodx modules-load
	r=$((r + 1))
done
