# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel's own request_module runs /sbin/modprobe: kmodx, then kmod for comparison
mkdir -p /mnt
check_eq "modprobe path" "$(cat /proc/sys/kernel/modprobe)" /sbin/modprobe
for impl in /kmodx/bin /ref/bin; do
	ln -sf $impl/modprobe /sbin/modprobe
	expect 0 ip link add d0 type dummy
	loaded dummy
	expect 0 ip link del d0
	expect 0 $impl/rmmod dummy
	# the file system type is looked up (fs-minix) before the device is
	expect 255 mount -t minix /dev/null /mnt
	loaded minix
	expect 0 $impl/rmmod minix
	echo "blacklist dummy" >/etc/modprobe.d/vmtest.conf
	expect 2 ip link add d1 type dummy
	not_loaded dummy
	rm -f /etc/modprobe.d/vmtest.conf
done
rm -f /sbin/modprobe
