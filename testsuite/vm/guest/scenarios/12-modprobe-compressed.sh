# SPDX-License-Identifier: GPL-2.0-or-later
# modprobe, modinfo and rmmod on module trees whose modules are all .ko.xz or .ko.zst
# (in /alt-xz and /alt-zst, indexed by kmod): loaded through in-process decompression
for kind in xz zst; do
	R=/alt-$kind
	compare modprobe -d $R -D bonding
	compare rc=0 modprobe -d $R bonding
	loaded tls
	check_eq "bonding taint ($kind)" "$(cat /sys/module/bonding/taint)" ""
	compare lsmod
	compare rc=0 modprobe -d $R -r bonding
	not_loaded tls
	compare rc=0 modprobe -d $R -a vfat ppp_async omfs
	compare lsmod
	compare rc=1 rmmod fat
	compare rc=0 modprobe -d $R -r -a vfat ppp_async omfs
	compare modinfo -b $R vfat
	compare modinfo -b $R -F depends ppp_async
	compare rc=0 modprobe -d $R loop max_loop=3
	check_eq "loop max_loop ($kind)" "$(cat /sys/module/loop/parameters/max_loop)" 3
	compare rc=0 rmmod loop
done
