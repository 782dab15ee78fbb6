# SPDX-License-Identifier: GPL-2.0-or-later
# insmod/rmmod of a plain module: parameters, EEXIST, removal, removal of a module not loaded
compare rc=0 insmod /data/loop.ko max_loop=3
check_eq "loop max_loop" "$(cat /sys/module/loop/parameters/max_loop)" 3
compare lsmod
compare rc=1 insmod /data/loop.ko
compare rc=0 rmmod loop
compare rc=1 rmmod loop
compare rc=1 insmod /data/loop.ko max_loop=abc
compare rc=0 insmod /data/loop.ko no_such_param=1
compare rc=0 rmmod /data/loop.ko
compare rc=1 insmod /nonexistent.ko
compare lsmod
