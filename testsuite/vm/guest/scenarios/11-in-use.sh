# SPDX-License-Identifier: GPL-2.0-or-later
# Modules in use without holders: a mounted vfat (on a loop device) holds vfat and loop;
# the kernel's request_module (kmodx as /sbin/modprobe) loads vfat, fat and the nls tables
ln -sf /kmodx/bin/modprobe /sbin/modprobe
mkdir -p /mnt
dd if=/dev/zero of=/tmp/fat.img bs=1024 count=1440 2>/dev/null
expect 0 mkdosfs /tmp/fat.img
expect 0 /kmodx/bin/modprobe loop
expect 0 mount -t vfat -o loop /tmp/fat.img /mnt
loaded vfat
loaded fat
loaded nls_cp437
compare lsmod
compare rc=1 rmmod vfat
compare rc=1 modprobe -r vfat
compare rc=1 rmmod loop
# --wait: kmodx fails once the time is up; kmod 30 exits 0 with vfat still loaded
expect 1 /kmodx/bin/modprobe -r -w 300 vfat
expect_out "modprobe: ERROR: could not remove 'vfat': Resource temporarily unavailable"
loaded vfat
expect 0 /ref/bin/modprobe -r -w 300 vfat
loaded vfat
compare rc=1 rmmod -f fat
expect 0 umount /mnt
compare rc=0 modprobe -r vfat
not_loaded fat
compare lsmod
rm -f /sbin/modprobe
