# SPDX-License-Identifier: GPL-2.0-or-later
# modprobe: dependencies, removal, blacklist, install commands, options, builtins
CONF=/etc/modprobe.d/vmtest.conf
compare rc=0 modprobe bonding
loaded tls
check_eq "tls holders" "$(grep '^tls ' /proc/modules | cut -d' ' -f3,4)" "1 bonding,"
compare lsmod
compare rc=1 rmmod tls
compare rc=0 modprobe bonding
compare rc=1 modprobe --first-time bonding
compare rc=0 modprobe -r bonding
not_loaded tls
compare rc=1 modprobe -r --first-time bonding
compare rc=0 modprobe ppp_async
compare lsmod
compare rc=0 modprobe -r ppp_async
compare rc=1 modprobe no_such_module
compare rc=0 modprobe -a minix bfs vfat
compare lsmod
compare rc=0 modprobe -r -a minix bfs vfat
compare rc=0 modprobe fs-omfs
compare rc=0 modprobe -r omfs
compare rc=0 modprobe loop max_loop=5
check_eq "loop max_loop" "$(cat /sys/module/loop/parameters/max_loop)" 5
compare rc=0 modprobe -r loop
# blacklist: applies to aliases (and to names with -b)
echo "blacklist minix" >$CONF
compare modprobe fs-minix
not_loaded minix
compare modprobe -b minix
not_loaded minix
compare rc=0 modprobe minix
loaded minix
compare rc=0 modprobe -r minix
# install command
echo "install bfs /bin/false" >$CONF
compare rc=1 modprobe bfs
not_loaded bfs
compare rc=0 modprobe -i bfs
loaded bfs
compare rc=0 modprobe -r bfs
echo "install bfs /kmodx/bin/modprobe --ignore-install bfs \$CMDLINE_OPTS" >$CONF
compare rc=0 modprobe bfs
loaded bfs
compare rc=0 modprobe -r bfs
# options from the configuration
echo "options loop max_loop=7" >$CONF
compare rc=0 modprobe loop
check_eq "loop max_loop (config)" "$(cat /sys/module/loop/parameters/max_loop)" 7
compare rc=0 modprobe -r loop
rm -f $CONF
# dry runs
compare modprobe -n -v vfat
compare modprobe -D bonding
compare modprobe -R fs-vfat
# builtin modules
compare rc=0 modprobe crc-ccitt
compare rc=0 modprobe 8250
compare rc=1 modprobe -r 8250
expect 1 /kmodx/bin/modprobe -r 8250
expect_out "Module 8250 is builtin."
compare rc=1 rmmod crc_ccitt
# built in through modules.builtin.alias only (debugfs is not in modules.builtin)
compare rc=0 modprobe fs-debugfs
compare modprobe -D fs-debugfs
compare rc=1 modprobe -r fs-debugfs
