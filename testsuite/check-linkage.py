#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The shipped kmodx is linked the way meson was told (-Dstatic_tools), and says so.

Usage: check-linkage.py KMODX static|dynamic

A static kmodx that quietly became dynamic again would still pass every other test and
only lose its start-up time, which no timed test may catch; this one does. Static means
no program interpreter (PT_INTERP) and no dynamic section, and "+STATIC" in --version.
"""
import struct
import subprocess
import sys

PT_INTERP, PT_DYNAMIC = 3, 2


def segments(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"{path}: not a 64-bit little-endian ELF file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return {struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)}


def main():
    path, want = sys.argv[1], sys.argv[2]
    types = segments(path)
    linked = "dynamic" if PT_INTERP in types or PT_DYNAMIC in types else "static"
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    says = "static" if "+STATIC" in version.stdout.split() else "dynamic"
    errors = []
    if linked != want:
        errors.append(f"{path} is linked {linked}, meson was asked for {want}")
    if says != want:
        errors.append(f"{path} --version says {says}: {version.stdout.strip()!r}")
    for e in errors:
        print(f"FAIL: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
