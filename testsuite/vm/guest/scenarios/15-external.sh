# SPDX-License-Identifier: GPL-2.0-or-later
# An external module directory from depmod.d (issue 11): both depmods index it with an
# absolute path, and both modprobes load the real module from there. When the file is
# gone, kmodx names it and makes no system call; kmod passes the error on as if the
# kernel had refused the module.
EXT=/lib/modules/external
cp -a $MODDIR /tmp/moddir-14
mkdir -p $EXT /etc/depmod.d
mv $MODDIR/kernel/fs/minix/minix.ko $EXT/
printf 'external %s %s\nsearch external built-in\n' "$KVER" "$EXT" >/etc/depmod.d/external.conf

/ref/bin/depmod -a
mkdir -p /tmp/ref-14
cp $MODDIR/modules.dep $MODDIR/modules.alias $MODDIR/modules.symbols /tmp/ref-14/
expect 0 /kmodx/bin/depmod -a
for f in modules.dep modules.alias modules.symbols; do
	N=$((N + 1))
	if cmp -s /tmp/ref-14/$f $MODDIR/$f; then
		echo "ok $N: $f identical"
	else
		fail "$f differs from kmod's"
		diff -u /tmp/ref-14/$f $MODDIR/$f | head -n 20
	fi
done
check_eq "modules.dep names the external module" \
	"$(grep -c "^$EXT/minix.ko:" $MODDIR/modules.dep)" 1

compare modprobe -D minix
compare rc=0 modprobe minix
loaded minix
compare modinfo -F filename minix
compare rc=0 modprobe -r minix
not_loaded minix

# the file is gone: one line naming it, and nothing reaches the kernel
rm $EXT/minix.ko
expect 1 /kmodx/bin/modprobe minix
expect_out "could not insert 'minix': $EXT/minix.ko: No such file or directory"
not_loaded minix
expect 1 /ref/bin/modprobe minix
expect_out "could not insert 'minix': Unknown symbol in module, or unknown parameter"

rm -rf $EXT /etc/depmod.d/external.conf $MODDIR
mv /tmp/moddir-14 $MODDIR
