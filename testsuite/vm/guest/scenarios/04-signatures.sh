# SPDX-License-Identifier: GPL-2.0-or-later
# Signatures without enforcement: unsigned loads and taints E, a changed byte is rejected,
# insmod -f (the kernel then ignores the signature: taint F and E)
check_eq "sig_enforce" "$(cat /sys/module/module/parameters/sig_enforce)" N
compare rc=0 insmod /data/bfs-nosig.ko
check_eq "bfs taint (unsigned)" "$(cat /sys/module/bfs/taint)" E
compare rc=0 rmmod bfs
compare rc=0 insmod /data/bfs-nosig.ko.xz
check_eq "bfs taint (unsigned xz)" "$(cat /sys/module/bfs/taint)" E
compare rc=0 rmmod bfs
compare rc=1 insmod /data/bfs-changed.ko
expect 1 /kmodx/bin/insmod /data/bfs-changed.ko
expect_out "Key was rejected by service"
not_loaded bfs
compare rc=0 insmod /data/bfs.ko
check_eq "bfs taint (signed)" "$(cat /sys/module/bfs/taint)" ""
compare rc=0 rmmod bfs
compare rc=0 insmod -f /data/loop.ko
check_eq "loop taint (forced)" "$(cat /sys/module/loop/taint 2>&1)" FE
compare rc=0 rmmod loop
# forcing a compressed module edits the decompressed image: its signature breaks
compare rc=1 insmod -f /data/loop.ko.xz
not_loaded loop
# an unsigned compressed module can be forced
compare rc=0 insmod -f /data/bfs-nosig.ko.xz
check_eq "bfs taint (forced, unsigned xz)" "$(cat /sys/module/bfs/taint 2>&1)" FE
compare rc=0 rmmod bfs
