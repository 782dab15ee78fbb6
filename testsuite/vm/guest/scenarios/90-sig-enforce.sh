# SPDX-License-Identifier: GPL-2.0-or-later
# Signature enforcement switched on at runtime (it cannot be switched off: its own boot)
echo 1 >/sys/module/module/parameters/sig_enforce
check_eq "sig_enforce" "$(cat /sys/module/module/parameters/sig_enforce)" Y
compare rc=1 insmod /data/bfs-nosig.ko
expect 1 /kmodx/bin/insmod /data/bfs-nosig.ko
expect_out "Key was rejected by service"
compare rc=1 insmod /data/bfs-nosig.ko.xz
compare rc=1 insmod /data/bfs-changed.ko
compare rc=0 insmod /data/bfs.ko
compare rc=0 rmmod bfs
compare rc=0 insmod /data/loop.ko.xz
compare rc=0 rmmod loop
compare rc=0 insmod /data/loop.ko.zst
compare rc=0 rmmod loop
expect 0 /kmodx/bin/insmod /data/loop.ko.gz
expect 0 /kmodx/bin/rmmod loop
compare rc=1 insmod -f /data/loop.ko
compare rc=1 insmod -f /data/loop.ko.xz
compare rc=0 modprobe bonding
compare lsmod
compare rc=0 modprobe -r bonding
not_loaded bonding
