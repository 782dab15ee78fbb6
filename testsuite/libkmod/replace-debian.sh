#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's "Replacing kmod and libkmod2 on Debian", run for real in a throwaway
# system: the host's / as the lower layer of an overlay in a private mount namespace,
# chroot'ed into, so that nothing of the host changes. Needs root, a Debian bookworm host
# with kmod and libkmod2 installed, network for apt-get, and the real module tree
# (testsuite/realtree.py). Not part of meson test: run it by hand after changing the
# README's steps.
#   testsuite/libkmod/replace-debian.sh STAGE_DIR
# STAGE_DIR: DESTDIR of "meson install" of a build configured as the README says.
set -eu
[ "$(id -u)" = 0 ] || { echo "replace-debian: needs root" >&2; exit 77; }
stage=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
tree=$(python3 "$top/testsuite/realtree.py")
kver=$(ls "$tree/lib/modules" | tail -1)
work=$(mktemp -d /tmp/libkmod-replace-XXXXXX)
trap 'rm -rf "$work"' EXIT

# what runs inside the throwaway system
cat >"$work/steps.sh" <<STEPS
set -eux
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q udev initramfs-tools >/dev/null
kver=$kver
STEPS
cat >>"$work/steps.sh" <<'STEPS'
libkmod_of() { readlink -f "$(ldd "$1" | awk '/libkmod.so.2/ {print $3}')"; }

echo "=== the README's steps"
mkdir -p /usr/lib/kmod-diverted
dpkg-divert --local --rename --divert /usr/lib/kmod-diverted/kmod --add /bin/kmod
dpkg-divert --local --rename --divert /usr/lib/kmod-diverted/libkmod.so.2.4.0 \
	--add /usr/lib/x86_64-linux-gnu/libkmod.so.2.4.0
dpkg-divert --local --rename --divert /usr/lib/kmod-diverted/libkmod.so.2 \
	--add /usr/lib/x86_64-linux-gnu/libkmod.so.2
install -m 0755 /stage/usr/sbin/kmodx /bin/kmod
install -m 0644 /stage/usr/lib/x86_64-linux-gnu/libkmod.so.2.5.1 /usr/lib/x86_64-linux-gnu/
ln -s libkmod.so.2.5.1 /usr/lib/x86_64-linux-gnu/libkmod.so.2
ldconfig
update-initramfs -c -k "$kver"

echo "=== checks"
kmod --version | grep -q kmodx
modprobe --version | grep -q kmodx
test "$(libkmod_of /bin/udevadm)" = /usr/lib/x86_64-linux-gnu/libkmod.so.2.5.1
test "$(libkmod_of /lib/systemd/systemd-modules-load)" = /usr/lib/x86_64-linux-gnu/libkmod.so.2.5.1
modprobe -S "$kver" -D ext4 | tail -n 1 | grep -q ext4.ko
lsinitramfs "/boot/initrd.img-$kver" | grep -E "libkmod|bin/kmod|modprobe"
mkdir /tmp/initrd
unmkinitramfs "/boot/initrd.img-$kver" /tmp/initrd
k=$(find /tmp/initrd -name "libkmod.so.2*" -type f | head -n 1)
test -n "$k" && cmp "$k" /usr/lib/x86_64-linux-gnu/libkmod.so.2.5.1
m=$(find /tmp/initrd -path "*bin/kmod" -type f | head -n 1)
test -n "$m" && cmp "$m" /stage/usr/sbin/kmodx

echo "=== a reinstall of Debian's packages keeps the diversions"
cd /tmp
apt-get download -q kmod libkmod2
dpkg -i kmod_*.deb libkmod2_*.deb >/dev/null
cd /
test "$(readlink -f /usr/lib/x86_64-linux-gnu/libkmod.so.2)" = /usr/lib/x86_64-linux-gnu/libkmod.so.2.5.1
kmod --version | grep -q kmodx
test -f /usr/lib/kmod-diverted/libkmod.so.2.4.0

echo "=== the way back"
rm /bin/kmod /usr/lib/x86_64-linux-gnu/libkmod.so.2 /usr/lib/x86_64-linux-gnu/libkmod.so.2.5.1
dpkg-divert --rename --remove /usr/lib/x86_64-linux-gnu/libkmod.so.2
dpkg-divert --rename --remove /usr/lib/x86_64-linux-gnu/libkmod.so.2.4.0
dpkg-divert --rename --remove /bin/kmod
ldconfig
kmod --version | grep -q "kmod version"
test "$(libkmod_of /bin/udevadm)" = /usr/lib/x86_64-linux-gnu/libkmod.so.2.4.0
dpkg --verify kmod libkmod2
echo "=== all steps passed"
STEPS

# the throwaway system around them
cat >"$work/outer.sh" <<'OUTER'
set -eu
work=$1 stage=$2 tree=$3 kver=$4
mount -t tmpfs tmpfs "$work/fs"
mkdir "$work/fs/upper" "$work/fs/work" "$work/fs/root"
r=$work/fs/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/fs/upper,workdir=$work/fs/work" "$r"
for d in proc sys dev; do mount --rbind "/$d" "$r/$d"; done
mkdir -p "$r/stage" "$r/lib/modules/$kver"
mount --bind "$stage" "$r/stage"
mount --bind "$tree/lib/modules/$kver" "$r/lib/modules/$kver"
cp "$tree/boot/config-$kver" "$r/boot/" 2>/dev/null || true
cp "$work/steps.sh" "$r/steps.sh"
chroot "$r" sh /steps.sh
OUTER
mkdir "$work/fs"
unshare -m sh "$work/outer.sh" "$work" "$stage" "$tree" "$kver"
