# SPDX-License-Identifier: GPL-2.0-or-later
# kmodx sign with a key the kernel does not know, and a damaged PKCS#7 message, without
# enforcement: verify --keyring predicts each answer, then the kernel gives it.
cat /proc/keys | grep -E 'asymmetri|keyring   \.(builtin|secondary|machine|platform)' |
	sed 's/^/  proc-keys: /'
expect 0 /kmodx/bin/kmodx verify --keyring --cert /data/unknown.x509 /data/bfs-unknown.ko
expect_out "kernel_key   absent"
expect_out "outcome      load-taint"
expect 0 /kmodx/bin/insmod /data/bfs-unknown.ko
loaded bfs
check_eq "bfs taint" "$(cat /sys/module/bfs/taint)" E
expect 0 /kmodx/bin/rmmod bfs
expect 1 /kmodx/bin/kmodx verify --keyring /data/bfs-badp7.ko
expect_out "outcome      EBADMSG"
expect 1 /kmodx/bin/insmod /data/bfs-badp7.ko
expect_out "Bad message"
expect_out "insmod: ERROR: the module's signature is damaged"
not_loaded bfs
compare rc=1 insmod /data/bfs-badp7.ko
# Debian's own signature: the kernel's key is found by name only (no certificate given)
expect 0 /kmodx/bin/kmodx verify --keyring /data/bfs.ko
expect_out "kernel_key   probable"
expect_out "outcome      load"
