# SPDX-License-Identifier: GPL-2.0-or-later
# modprobe: softdeps, holders, --remove-holders, config aliases, remove commands, -c,
# modversions and exports of real modules
CONF=/etc/modprobe.d/vmtest.conf
echo "softdep loop pre: minix post: bfs" >$CONF
compare modprobe -D loop
compare rc=0 modprobe loop
loaded minix
loaded bfs
compare lsmod
compare rc=0 modprobe -r loop
not_loaded minix
compare rc=0 modprobe -i loop
not_loaded minix
compare rc=0 modprobe -r loop
# fat held by two modules
compare rc=0 modprobe -a vfat msdos
check_eq "fat holders" "$(grep '^fat ' /proc/modules | cut -d' ' -f3)" 2
compare lsmod
compare rc=1 rmmod fat
compare rc=1 modprobe -r fat
# Removing the holders also removes fat (an unused dependency of the last holder).
# kmodx counts fat, gone meanwhile, as removed; kmod 30 fails on it (ENOENT, exit 1).
expect 0 /kmodx/bin/modprobe -r --remove-holders fat
check_eq "modprobe -r --remove-holders fat: output" "$(cat /tmp/e.out)" ""
not_loaded vfat
not_loaded msdos
not_loaded fat
expect 0 /ref/bin/modprobe -a vfat msdos
expect 1 /ref/bin/modprobe -r --remove-holders fat
expect_out "could not remove 'fat': No such file or directory"
not_loaded fat
compare lsmod
# an alias and a remove command from the configuration
printf 'alias my-disk loop\nremove loop /bin/true\n' >$CONF
compare rc=0 modprobe my-disk
loaded loop
compare rc=0 modprobe -R my-disk
compare rc=0 modprobe -r loop
loaded loop
compare rc=0 modprobe -r --ignore-remove loop
not_loaded loop
compare modprobe -c
rm -f $CONF
compare modprobe --show-modversions $MODDIR/kernel/fs/fat/vfat.ko
compare modprobe --show-exports $MODDIR/kernel/fs/fat/fat.ko
compare modprobe -q no_such_module
compare modprobe -a -q loop no_such_module
compare modprobe -r -a -q loop no_such_module
