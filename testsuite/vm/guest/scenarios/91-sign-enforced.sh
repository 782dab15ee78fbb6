# SPDX-License-Identifier: GPL-2.0-or-later
# Booted with module.sig_enforce=1: a module signed by kmodx with a key the kernel does
# not know, and a damaged PKCS#7 message, are refused as verify --keyring predicted, and
# insmod says why.
check_eq "sig_enforce" "$(cat /sys/module/module/parameters/sig_enforce)" Y
# valid for its certificate (exit 0), refused by this kernel
expect 0 /kmodx/bin/kmodx verify --keyring --cert /data/unknown.x509 /data/bfs-unknown.ko
expect_out "outcome      EKEYREJECTED"
expect 1 /kmodx/bin/insmod /data/bfs-unknown.ko
expect_out "Key was rejected by service"
expect_out "which is not in the kernel's trusted keyrings, and the kernel enforces module signatures"
not_loaded bfs
compare rc=1 insmod /data/bfs-unknown.ko
expect 1 /kmodx/bin/kmodx verify --keyring /data/bfs-badp7.ko
expect_out "outcome      EBADMSG"
expect 1 /kmodx/bin/insmod /data/bfs-badp7.ko
expect_out "Bad message"
not_loaded bfs
expect 1 /kmodx/bin/kmodx verify --keyring /data/bfs-nosig.ko
expect_out "outcome      EKEYREJECTED"
