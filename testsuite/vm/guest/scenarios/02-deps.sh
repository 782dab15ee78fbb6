# SPDX-License-Identifier: GPL-2.0-or-later
# insmod with a missing dependency, then with it; rmmod of a dependency in use; rmmod -f
BOND=$MODDIR/kernel/drivers/net/bonding/bonding.ko
TLS=$MODDIR/kernel/net/tls/tls.ko
compare rc=1 insmod $BOND
expect 1 /kmodx/bin/insmod $BOND
expect_out "could not insert module $BOND: Unknown symbol in module"
not_loaded bonding
compare rc=0 insmod $TLS
compare rc=0 insmod $BOND
check_eq "tls holders" "$(grep '^tls ' /proc/modules | cut -d' ' -f3,4)" "1 bonding,"
compare lsmod
compare rc=1 rmmod tls
expect 1 /kmodx/bin/rmmod tls
expect_out "rmmod: ERROR: Module tls is in use by: bonding"
compare rc=1 rmmod -f tls
compare rc=0 rmmod bonding
compare rc=0 rmmod -f tls
compare rc=0 insmod $MODDIR/kernel/fs/fat/fat.ko
compare rc=0 insmod $MODDIR/kernel/fs/fat/vfat.ko
compare rc=0 insmod $MODDIR/kernel/lib/crc-itu-t.ko
compare rc=0 insmod $MODDIR/kernel/fs/omfs/omfs.ko
compare lsmod
compare rc=1 rmmod fat crc_itu_t
compare rc=0 rmmod vfat omfs fat crc-itu-t
compare lsmod
