# SPDX-License-Identifier: GPL-2.0-or-later
# Compressed modules: the kernel (no MODULE_DECOMPRESS) refuses MODULE_INIT_COMPRESSED_FILE,
# so the tools decompress in process and call init_module.
check_eq "kernel decompression" "$(cat /sys/module/compression 2>&1 >/dev/null | wc -l)" 1
compare rc=0 insmod /data/loop.ko.xz max_loop=2
check_eq "loop max_loop (xz)" "$(cat /sys/module/loop/parameters/max_loop)" 2
check_eq "loop taint (xz)" "$(cat /sys/module/loop/taint)" ""
compare lsmod
compare rc=1 insmod /data/loop.ko.xz
compare rc=0 rmmod loop
compare rc=0 insmod /data/loop.ko.zst max_loop=4
check_eq "loop max_loop (zst)" "$(cat /sys/module/loop/parameters/max_loop)" 4
compare rc=0 rmmod loop
compare rc=0 insmod /data/dummy.ko.zst
compare rc=0 rmmod dummy
# Debian's kmod 30 is built without zlib: check kmodx alone
expect 0 /kmodx/bin/insmod /data/loop.ko.gz max_loop=6
loaded loop
check_eq "loop max_loop (gz)" "$(cat /sys/module/loop/parameters/max_loop)" 6
check_eq "loop taint (gz)" "$(cat /sys/module/loop/taint)" ""
expect 0 /kmodx/bin/rmmod loop
not_loaded loop
# Pretend the kernel decompresses xz itself (a tmpfs over /sys/module with "compression"):
# kmodx then tries finit_module(MODULE_INIT_COMPRESSED_FILE) first, this kernel answers
# EOPNOTSUPP and kmodx must fall back to decompressing and init_module. kmod 30 does
# not know /sys/module/compression: kmodx alone.
mount -t tmpfs fake-sysmodule /sys/module
echo xz >/sys/module/compression
/kmodx/bin/insmod -v -v -v -v /data/loop.ko.xz max_loop=3 >/tmp/e.out 2>&1
rc=$?
umount /sys/module
check_eq "insmod .ko.xz with compression=xz" "$rc" 0
sed 's/^/  out: /' /tmp/e.out
expect_out "the kernel cannot decompress it, decompressing here"
loaded loop
check_eq "loop max_loop (fallback)" "$(cat /sys/module/loop/parameters/max_loop)" 3
check_eq "loop taint (fallback)" "$(cat /sys/module/loop/taint)" ""
expect 0 /kmodx/bin/rmmod loop
