# SPDX-License-Identifier: GPL-2.0-or-later
# Files that are not modules: Invalid module format (ENOEXEC) or a read error
for f in garbage truncated empty; do
	compare rc=1 insmod /data/$f.ko
done
expect 1 /kmodx/bin/insmod /data/garbage.ko
expect_out "Invalid module format"
expect 1 /kmodx/bin/insmod /data/truncated.ko
expect_out "Invalid module format"
compare lsmod
