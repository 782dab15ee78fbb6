# SPDX-License-Identifier: GPL-2.0-or-later
# kmodx modules-load on the real kernel: a list with dependencies, options, an alias,
# /etc/modules and a missing name, loaded on two workers; then mask, refused by
# modprobe, as a dependency, and through the kernel's own request_module.
mkdir -p /etc/modules-load.d /mnt
printf '# boot list\nbonding\nloop\nfs-vfat\nnosuchmodule\n' >/etc/modules-load.d/vmtest.conf
printf 'nls_utf8\n' >/etc/modules-load.d/zz-masked-by-null.conf
ln -sf /dev/null /etc/modules-load.d/zz-masked-by-null.conf
printf 'ppp_async\n' >/etc/modules
echo "options loop max_loop=5" >/etc/modprobe.d/vmtest.conf
expect 0 /kmodx/bin/kmodx modules-load -j 2
expect_out "Failed to find module 'nosuchmodule'"
for m in bonding tls loop vfat fat ppp_async ppp_generic slhc; do
	loaded $m
done
not_loaded nls_utf8
check_eq "loop.max_loop" "$(cat /sys/module/loop/parameters/max_loop)" 5
# everything loaded already: nothing to do, no error
expect 0 /kmodx/bin/kmodx modules-load -j 2 -v
expect_out "Failed to find module 'nosuchmodule'"
cleanup
rm -f /etc/modules /etc/modules-load.d/*

# mask: by name, as a dependency, from modules-load, and from request_module
echo "mask dummy" >/etc/modprobe.d/vmtest.conf
echo "mask tls" >>/etc/modprobe.d/vmtest.conf
expect 1 /kmodx/bin/modprobe dummy
expect_out "dummy is masked by /etc/modprobe.d/vmtest.conf:1"
not_loaded dummy
expect 1 /kmodx/bin/modprobe bonding
expect_out "it needs tls, which is masked by /etc/modprobe.d/vmtest.conf:2"
not_loaded tls
not_loaded bonding
echo dummy >/etc/modules-load.d/vmtest.conf
expect 1 /kmodx/bin/kmodx modules-load
expect_out "dummy is masked by /etc/modprobe.d/vmtest.conf:1"
not_loaded dummy
ln -sf /kmodx/bin/modprobe /sbin/modprobe
expect 2 ip link add d1 type dummy
not_loaded dummy
# insmod of a path is the escape hatch
expect 0 /kmodx/bin/insmod $MODDIR/kernel/drivers/net/dummy.ko
loaded dummy
rm -f /sbin/modprobe /etc/modprobe.d/vmtest.conf /etc/modules-load.d/vmtest.conf
