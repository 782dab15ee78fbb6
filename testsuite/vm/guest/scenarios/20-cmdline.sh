# SPDX-License-Identifier: GPL-2.0-or-later
# Options and blacklist from the kernel command line (boots.conf: dummy.numdummies=3
# loop.max_loop=9 modprobe.blacklist=bfs,minix)
CONF=/etc/modprobe.d/vmtest.conf
check_eq "kernel command line" "$(grep -o 'dummy.numdummies=3 loop.max_loop=9' /proc/cmdline)" \
	"dummy.numdummies=3 loop.max_loop=9"
compare modprobe -D dummy
compare rc=0 modprobe dummy
check_eq "dummy interfaces" "$(ls /sys/class/net | grep -c '^dummy')" 3
compare rc=0 modprobe -r dummy
compare rc=0 modprobe loop
check_eq "loop max_loop (kernel command line)" "$(cat /sys/module/loop/parameters/max_loop)" 9
compare rc=0 modprobe -r loop
# the configuration first, then the kernel command line, then modprobe's arguments
echo "options loop max_loop=4" >$CONF
compare rc=0 modprobe loop
check_eq "loop max_loop (config, then command line)" "$(cat /sys/module/loop/parameters/max_loop)" 9
compare rc=0 modprobe -r loop
compare rc=0 modprobe loop max_loop=2
check_eq "loop max_loop (argument last)" "$(cat /sys/module/loop/parameters/max_loop)" 2
compare rc=0 modprobe -r loop
rm -f $CONF
compare modprobe -c
# modprobe.blacklist=: through an alias and with -b not loaded, by name loaded
compare modprobe fs-bfs
not_loaded bfs
compare modprobe -b minix
not_loaded minix
compare rc=0 modprobe bfs
loaded bfs
compare rc=0 modprobe -r bfs
ln -sf /kmodx/bin/modprobe /sbin/modprobe
mkdir -p /mnt
expect 255 mount -t minix /dev/null /mnt
not_loaded minix
expect 255 mount -t omfs /dev/null /mnt
loaded omfs
rm -f /sbin/modprobe
