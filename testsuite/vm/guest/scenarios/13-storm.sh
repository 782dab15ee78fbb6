# SPDX-License-Identifier: GPL-2.0-or-later
# A udev-like storm: 16 modprobe -b calls at once, eight for the same alias and eight for
# different ones, racing on shared dependencies (fat, tls). Every call succeeds with no
# output, and every module ends up loaded, once.
cleanup
dir=/tmp/storm
rm -rf $dir
mkdir -p $dir
i=0
for a in fs-vfat fs-vfat fs-vfat fs-vfat fs-vfat fs-vfat fs-vfat fs-vfat \
	fs-msdos fs-minix fs-bfs fs-omfs rtnl-link-dummy rtnl-link-bond nls_ascii nls_utf8; do
	i=$((i + 1))
	(/kmodx/bin/modprobe -b "$a" >$dir/$i.out 2>&1; echo $? >$dir/$i.rc) &
done
wait
i=0
while [ $i -lt 16 ]; do
	i=$((i + 1))
	check_eq "storm call $i exit" "$(cat $dir/$i.rc)" 0
	check_eq "storm call $i output" "$(cat $dir/$i.out)" ""
done
for m in vfat fat msdos minix bfs omfs dummy bonding tls nls_ascii nls_utf8; do
	check_eq "$m loaded once" "$(grep -c "^$m " /proc/modules)" 1
done
# and the same storm again, everything already there: still all quiet successes
i=0
for a in fs-vfat fs-vfat fs-vfat fs-vfat fs-msdos fs-minix rtnl-link-dummy rtnl-link-bond; do
	i=$((i + 1))
	(/kmodx/bin/modprobe -b "$a" >$dir/again$i.out 2>&1; echo $? >$dir/again$i.rc) &
done
wait
check_eq "second storm" "$(cat $dir/again*.rc | sort -u | tr '\n' ' ')$(cat $dir/again*.out)" "0 "
rm -rf $dir
