# SPDX-License-Identifier: GPL-2.0-or-later
# kmodx taint and kmodx params on the real kernel (kmodx only: kmod has neither). Taints
# stay for the rest of the boot, so this runs last in its group.
T0=$(cat /proc/sys/kernel/tainted)
echo "tainted before: $T0"
# an out-of-tree module (no intree=Y; unsigned too): O and E
expect 0 /kmodx/bin/insmod /data/minix-oot.ko
check_eq "minix taint (out of tree, unsigned)" "$(cat /sys/module/minix/taint)" OE
# an unsigned one: E
expect 0 /kmodx/bin/insmod /data/dummy-nosig.ko
check_eq "dummy taint (unsigned)" "$(cat /sys/module/dummy/taint)" E
# a forced load: F (and E: the kernel ignores the signature of a forced module)
expect 0 /kmodx/bin/insmod -f /data/bfs-nosig.ko
check_eq "bfs taint (forced)" "$(cat /sys/module/bfs/taint)" FE
T=$(cat /proc/sys/kernel/tainted)
check_eq "taint bits O, E and F set" "$((T & 0x3002))" "$((0x3002))"

expect 0 /kmodx/bin/kmodx taint
expect_out "Value: $T ("
expect_out " O  12  an externally built (out-of-tree) module was loaded (modules: minix)"
expect_out " F   1  a module was loaded by force (modules: bfs)"
expect_out " E  13  an unsigned module was loaded (modules: bfs, dummy, minix)"
# every set bit has its line, and no other bit does
lines=$(grep -c '^ [A-Z?]  *[0-9]*  ' /tmp/e.out)
bits=0
b=0
while [ $b -lt 63 ]; do
	if [ $(((T >> b) & 1)) = 1 ]; then
		bits=$((bits + 1))
		grep -q "^ [A-Z?]  *$b  " /tmp/e.out || fail "kmodx taint: no line for bit $b"
	fi
	b=$((b + 1))
done
check_eq "kmodx taint: one line per set bit" "$lines" "$bits"
expect 0 /kmodx/bin/kmodx taint --json
expect_out "\"value\": $T,"
expect_out "\"name\": \"OOT_MODULE\","
expect 1 /kmodx/bin/kmodx taint -q
expect 0 /kmodx/bin/kmodx taint -q 0

# the kernel's own string: a backtrace (sysrq l) prints "Tainted: <flags> <release>"
ours=$(/kmodx/bin/kmodx taint | head -n 1)
echo l >/proc/sysrq-trigger
sleep 1
kernel=$(dmesg | grep -o 'Tainted: .*' | tail -n 1)
echo "kernel: '$kernel'"
echo "kmodx:  '$ours'"
case "$kernel" in
"$ours"*)
	# the kernel pads to its number of flags (19 on 6.1), then the release follows
	rest=${kernel#"$ours"}
	check_eq "after kmodx's string, the kernel's has padding then the release" \
		"$(echo "$rest" | sed 's/^ *//' | cut -d' ' -f1)" "$KVER"
	;;
*) fail "the kernel's '$kernel' does not start with kmodx's '$ours'" ;;
esac

# parameters: a real writable one (printk.time, built in), a value the kernel refuses,
# a read-only one (loop.max_loop), types and descriptions from the module file
old=$(cat /sys/module/printk/parameters/time)
expect 0 /kmodx/bin/kmodx params printk
expect_out "time "
expect 0 /kmodx/bin/kmodx params printk time=N
expect_out "time=N"
check_eq "printk.time after the write" "$(cat /sys/module/printk/parameters/time)" N
expect 1 /kmodx/bin/kmodx params printk time=maybe
expect_out "could not set parameter time of printk to 'maybe': Invalid argument"
check_eq "printk.time after a refused write" "$(cat /sys/module/printk/parameters/time)" N
expect 0 /kmodx/bin/kmodx params printk time=Y
check_eq "printk.time back" "$(cat /sys/module/printk/parameters/time)" Y
[ "$old" = Y ] || /kmodx/bin/kmodx params printk "time=$old"
expect 0 /kmodx/bin/modprobe loop max_loop=5
expect 0 /kmodx/bin/kmodx params loop
# max_loop has its own setter and no parmtype; max_part is a plain int
grep -Eq '^max_loop +5 +0444 +read-only +- +Maximum number of loop devices$' /tmp/e.out ||
	fail "kmodx params loop: no 'max_loop 5 0444 read-only - <description>' line"
grep -Eq '^max_part +0 +0444 +read-only +int +Maximum number of partitions' /tmp/e.out ||
	fail "kmodx params loop: no 'max_part 0 0444 read-only int <description>' line"
expect 1 /kmodx/bin/kmodx params loop max_loop=3
expect_out "could not set parameter max_loop of loop to '3': read-only parameter"
expect 0 /kmodx/bin/kmodx params --json loop
expect_out "\"value\": \"5\","
expect 1 /kmodx/bin/kmodx params loop nope=1
expect_out "no such parameter"
cleanup
