# SPDX-License-Identifier: GPL-2.0-or-later
# libkmod.so.2 (own boot, with:libkmod): Debian's own systemd-modules-load and udevadm,
# linked against kmod's libkmod2, run on kmodx's libkmod.so.2, which is the one in the
# library path; kmod's is only in /ref/lib, outside it, for the same runs to compare
# with (LD_LIBRARY_PATH=/ref/lib). Each check starts with no modules loaded.
SML=/lib/systemd/systemd-modules-load
UDEVADM=/bin/udevadm
KLIB=/usr/lib/x86_64-linux-gnu/libkmod.so.2
export SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=debug

# the libkmod.so.2 the loader gives a binary
libkmod_of() {
	env "$@" LD_TRACE_LOADED_OBJECTS=1 "$SML" 2>&1 | awk '/libkmod.so.2/ {print $3}'
}
check_eq "libkmod.so.2 loaded by default" "$(libkmod_of)" "$KLIB"
check_eq "libkmod.so.2 for the reference runs" "$(libkmod_of LD_LIBRARY_PATH=/ref/lib)" \
	/ref/lib/libkmod.so.2
cmp -s "$KLIB" /kmodx/lib/libkmod.so.2 || fail "$KLIB is not kmodx's library"
for f in /usr/lib/x86_64-linux-gnu/libkmod.so.2.* /lib/x86_64-linux-gnu/libkmod.so.2.*; do
	[ -e "$f" ] && fail "kmod's library is in the library path: $f"
done

# side ref|kmodx CMD...: run CMD from no modules loaded with kmod's or kmodx's library;
# exit code, output and the modules and parameters it leaves in /tmp/SIDE.*
side() {
	s=$1
	shift
	cleanup
	if [ "$s" = ref ]; then
		LD_LIBRARY_PATH=/ref/lib "$@" >/tmp/$s.out 2>&1
	else
		"$@" >/tmp/$s.out 2>&1
	fi
	echo $? >/tmp/$s.rc
	modstate >/tmp/$s.state
	p=/sys/module/loop/parameters/max_loop
	[ -r "$p" ] && echo "$p=$(cat "$p")" >>/tmp/$s.state
}

# same_sides WHAT WANT_STATE...: both sides left the same state, containing each line
same_sides() {
	what=$1
	shift
	N=$((N + 1))
	bad=
	cmp -s /tmp/ref.rc /tmp/kmodx.rc || bad="$bad exit($(cat /tmp/ref.rc)/$(cat /tmp/kmodx.rc))"
	cmp -s /tmp/ref.state /tmp/kmodx.state || bad="$bad state"
	for want in "$@"; do
		grep -q "$want" /tmp/kmodx.state || bad="$bad missing:$want"
	done
	if [ -n "$bad" ]; then
		fail "$what differs:$bad"
		show "kmod's library: exit $(cat /tmp/ref.rc), output" /tmp/ref.out
		show "kmodx's library: exit $(cat /tmp/kmodx.rc), output" /tmp/kmodx.out
		show "kmod's library: state" /tmp/ref.state
		show "kmodx's library: state" /tmp/kmodx.state
	else
		echo "ok $N: $what (exit $(cat /tmp/kmodx.rc))"
		sed 's/^/  state: /' /tmp/kmodx.state
		grep -i "insert\|load\|kmod" /tmp/kmodx.out | head -n 8 | sed 's/^/  log: /'
	fi
}

# 1. systemd-modules-load: bonding needs tls, loop gets its options from modprobe.d
mkdir -p /etc/modules-load.d
printf '# test\nbonding\nloop\n' >/etc/modules-load.d/test.conf
echo "options loop max_loop=11" >/etc/modprobe.d/loop.conf
side ref "$SML"
side kmodx "$SML"
same_sides "systemd-modules-load" "^bonding " "^tls 1 bonding," "^loop " "max_loop=11"
rm -f /etc/modules-load.d/test.conf /etc/modprobe.d/loop.conf

# 2. udev's kmod builtin on a real device's modalias: the PIIX4 power management
#    function of QEMU's pc machine, driven by i2c_piix4
dev=$(grep -l '^pci:v00008086d00007113' /sys/bus/pci/devices/*/modalias | head -n 1)
dev=$(dirname "$dev")
alias=$(cat "$dev/modalias")
echo "  device $dev, modalias $alias"
side ref "$UDEVADM" test-builtin "kmod load $alias" "$dev"
side kmodx "$UDEVADM" test-builtin "kmod load $alias" "$dev"
same_sides "udevadm test-builtin 'kmod load $alias'" "^i2c_piix4 "

# 3. kmod-static-nodes.service's command line, kmodx as kmod
N=$((N + 1))
/ref/bin/kmod static-nodes --format=tmpfiles --output=/tmp/ref.nodes
rrc=$?
/kmodx/bin/kmod static-nodes --format=tmpfiles --output=/tmp/kmodx.nodes
xrc=$?
if [ "$rrc" = "$xrc" ] && cmp -s /tmp/ref.nodes /tmp/kmodx.nodes && [ -s /tmp/kmodx.nodes ]; then
	echo "ok $N: kmod static-nodes --format=tmpfiles (exit $xrc, $(wc -l </tmp/kmodx.nodes) lines)"
else
	fail "kmod static-nodes differs: exit $rrc/$xrc"
	show "kmod" /tmp/ref.nodes
	show "kmodx" /tmp/kmodx.nodes
fi
