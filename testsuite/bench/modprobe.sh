#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# modprobe lookups, kmodx against the system's kmod on the real tree, as udev runs them
# (modprobe -R/-b on a modalias) and as people do (-n -v, -D). Both tools read the same
# empty configuration. Targets: <= 0.25x kmod's instructions, <= 0.5x its wall time.
. "$(dirname "$0")/lib.sh"
conf=$(mktemp -d)
trap 'rm -rf "$conf" "$ref_bin"' EXIT
alias_of() { grep -m1 "$1" "$tree/lib/modules/$kver/modules.alias" | awk '{print $2}' | sed 's/\*//g'; }
pci=$(alias_of '^alias pci:v00008086d000015B8')
usb=$(alias_of '^alias usb:v0BDAp8153')
platform=$(alias_of '^alias platform:')
cpu='cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0001,0002,0003,0004,0005,0006,0007,0008,0009,000B,000C,000D,000E,000F,0010,0011,0013,0015,0016,0017,0018,0019,001A,001B,001C,001D,001F,002B,0034,003A,003B,003D,0068,006A,006B,006C,006D,006F,0070,0072,0074,0075,0076,0078,0079,007C,0080,0081,0082,0083,0084,0085,0086,0087,0088,0089,008B,008C,008D,008E,008F,0091,0093,0094,0095,0096,0097,0098,0099,009A,009B,009C,009D,009E,00C0,00C5,00E1,00E3,00EB,00ED,00F0,00F1,00F3,00F5,00F6,00F9,00FA,00FB,00FD,00FF,0120,0123,0125,0127,0128,0129,012A,012D,0140,0165,024A,025A,025B,025C,025D,025F'
common="-d $tree -S $kver -C $conf"
echo "modprobe lookups on $kver ($(wc -l < "$tree/lib/modules/$kver/modules.alias") aliases)"
for q in "-R $pci" "-R $usb" "-R $platform" "-R $cpu" "-R pci:v0000FFFFd0000FFFFsv0sd0bc0sc0i0" \
	"-b -n $pci" "-n -v vfat" "-D bonding" "-D snd-hda-intel"; do
	label=$(echo "$q" | cut -c1-40)
	BENCH_RUNS=${BENCH_RUNS:-200} bench_time "$label" "$ref_bin/modprobe $common $q" "$kmodx_bin/modprobe $common $q"
	bench_instr "  (instructions)" "$ref_bin/modprobe $common $q" "$kmodx_bin/modprobe $common $q"
done
