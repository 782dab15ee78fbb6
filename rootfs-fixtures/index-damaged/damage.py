#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""damage.py ROOT INDEX MODE [no-twin]: put every index of ROOT's module directory back
as setup left it (kept in ROOT/good/), then damage INDEX (modules.alias, ...):

  empty   the .bin file is cut to 0 bytes
  header  it is cut inside its 12-byte header
  node    it is cut inside the root node's first child: the header and the root are
          whole, so only a search that goes down the trie meets the damage
  flip    the root node's first child reference gets an offset past the end (bytes
          changed in place, the size stays)

With no-twin, the text file of the same index is removed too."""
import os
import shutil
import sys

KVER = "6.1.0"
TWIN = {"modules.builtin.alias": "modules.builtin.modinfo"}


def u32(data, at):
    return int.from_bytes(data[at:at + 4], "big")


def first_child_ref(data):
    """(position of the root node's first non-zero child reference, its value)"""
    ref = u32(data, 8)
    pos = ref & 0x0FFFFFFF
    if ref & 0x80000000:
        pos = data.index(b"\0", pos) + 1
    if not ref & 0x20000000:
        raise SystemExit("the root node has no children")
    first, last = data[pos], data[pos + 1]
    for i in range(last - first + 1):
        at = pos + 2 + 4 * i
        child = u32(data, at)
        if child:
            return at, child
    raise SystemExit("no child")


def main():
    root, index, mode = sys.argv[1:4]
    moddir = os.path.join(root, "lib/modules", KVER)
    good = os.path.join(root, "good")
    for name in os.listdir(good):
        if name.startswith("modules."):
            shutil.copyfile(os.path.join(good, name), os.path.join(moddir, name))
    path = os.path.join(moddir, index + ".bin")
    with open(path, "rb") as f:
        data = f.read()
    if mode == "empty":
        data = b""
    elif mode == "header":
        data = data[:7]
    elif mode == "node":
        data = data[:(first_child_ref(data)[1] & 0x0FFFFFFF) + 1]
    elif mode == "flip":
        at, child = first_child_ref(data)
        bad = (child & 0xF0000000) | 0x0FFFFFF0
        data = data[:at] + bad.to_bytes(4, "big") + data[at + 4:]
    else:
        raise SystemExit(f"unknown mode {mode}")
    with open(path, "wb") as f:
        f.write(data)
    if sys.argv[4:] == ["no-twin"]:
        os.remove(os.path.join(moddir, TWIN.get(index, index)))


if __name__ == "__main__":
    main()
