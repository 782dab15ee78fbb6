# SPDX-License-Identifier: GPL-2.0-or-later
# depmod -a on the image's module directory: the same text indexes as kmod's; the .bin
# indexes read back by kmod itself give the same answers (kmod 30 writes them in an older
# node order, so they are not byte-identical); kmodx also writes modules.weakdep (kmod 33+)
ORDER=$(sed 's|.*/||; s|\.ko.*||' $MODDIR/modules.order)
# what kmod's own reader sees in the indexes of $MODDIR
index_view() {
	/ref/bin/modprobe -c | sed -n '/^# End of configuration files/,$p'
	for m in $ORDER crc-ccitt crc_ccitt 8250 fs-vfat fs-debugfs rtnl-link-dummy \
			symbol:fat_fill_super char-major-10-237 block-major-7-0 no_such; do
		echo "== $m"
		/ref/bin/modprobe -D $m 2>&1
		/ref/bin/modprobe -R $m 2>&1
	done
}
cp -a $MODDIR /tmp/orig
/ref/bin/depmod -a
mkdir -p /tmp/ref-idx
cp $MODDIR/modules.* /tmp/ref-idx/
index_view >/tmp/ref-idx.view
rm -f $MODDIR/modules.*
cp /tmp/orig/modules.order /tmp/orig/modules.builtin /tmp/orig/modules.builtin.modinfo $MODDIR/
expect 0 /kmodx/bin/depmod -a
for f in /tmp/ref-idx/modules.*; do
	n=$(basename $f)
	case $n in *.bin) continue ;; esac
	N=$((N + 1))
	if cmp -s $f $MODDIR/$n; then
		echo "ok $N: $n identical"
	else
		fail "$n differs from kmod's"
		diff -u $f $MODDIR/$n | head -n 20
	fi
done
check_eq "modules.weakdep" "$(cat $MODDIR/modules.weakdep)" \
	"# Weak dependencies extracted from modules themselves."
index_view >/tmp/x-idx.view
N=$((N + 1))
if cmp -s /tmp/ref-idx.view /tmp/x-idx.view; then
	echo "ok $N: kmod reads kmodx's .bin indexes like its own ($(wc -l </tmp/x-idx.view) lines)"
else
	fail "kmod reads kmodx's .bin indexes differently"
	diff -u /tmp/ref-idx.view /tmp/x-idx.view | head -n 40
fi
compare rc=0 modprobe bonding
compare rc=0 modprobe -r bonding
compare rc=0 modprobe fs-debugfs
# depmod -n prints the text indexes: the same, plus modules.weakdep's header from kmodx
/ref/bin/depmod -n >/tmp/ref.n 2>&1
/kmodx/bin/depmod -n 2>&1 | grep -vxF "# Weak dependencies extracted from modules themselves." >/tmp/x.n
N=$((N + 1))
if cmp -s /tmp/ref.n /tmp/x.n; then
	echo "ok $N: depmod -n output identical (without the modules.weakdep header)"
else
	fail "depmod -n output differs"
	diff -u /tmp/ref.n /tmp/x.n | head -n 40
fi
rm -rf $MODDIR
cp -a /tmp/orig $MODDIR
