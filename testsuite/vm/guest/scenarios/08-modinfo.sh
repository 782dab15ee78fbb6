# SPDX-License-Identifier: GPL-2.0-or-later
# modinfo by name, alias, path (plain, compressed, unsigned), builtin; field options
for m in loop bonding vfat ppp_async bfs /data/bfs-nosig.ko /data/loop.ko.xz \
		/data/loop.ko.zst crc-ccitt 8250 fs-vfat fs-debugfs zpool-zbud rtnl-link-dummy no_such_module \
		/data/garbage.ko /data/empty.ko; do
	compare modinfo $m
done
compare modinfo -F depends bonding
compare modinfo -p loop
compare modinfo -n vfat fat
compare modinfo -0 loop
compare modinfo -a -d -l bfs
compare modinfo -k $KVER minix
compare modinfo -F signer /data/loop.ko
