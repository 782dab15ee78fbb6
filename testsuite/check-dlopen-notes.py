#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The ELF dlopen metadata of a binary (systemd's "ELF dlopen metadata" specification):
notes in section .note.dlopen (SHT_NOTE), owner "FDO", type 0x407c0c0a, each a
NUL-terminated JSON array of objects with "feature", "description", "priority" (required,
recommended or suggested) and "soname" (a list). The sonames found must be exactly the
expected ones (none: the libraries are linked in, or there are none).

Usage: check-dlopen-notes.py FILE [SONAME...]

Read with this file's own ELF reader, not readelf, so that the test checks the bytes an
initramfs builder would read.
"""
import json
import struct
import sys

SHT_NOTE = 7
NOTE_TYPE = 0x407C0C0A


def sections(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    heads = []
    for i in range(shnum):
        name, typ, _flags, _addr, off, size = struct.unpack_from("<IIQQQQ", data,
                                                               shoff + i * shentsize)
        heads.append((name, typ, off, size))
    stroff = heads[shstrndx][2]
    for name, typ, off, size in heads:
        end = data.index(b"\0", stroff + name)
        yield data[stroff + name:end].decode(), typ, data[off:off + size]


def notes(sec):
    pos = 0
    while pos + 12 <= len(sec):
        namesz, descsz, typ = struct.unpack_from("<III", sec, pos)
        pos += 12
        name = sec[pos:pos + namesz]
        pos += (namesz + 3) & ~3
        desc = sec[pos:pos + descsz]
        pos += (descsz + 3) & ~3
        yield name, typ, desc


def main():
    path, want = sys.argv[1], set(sys.argv[2:])
    with open(path, "rb") as f:
        data = f.read()
    errors, got = [], set()
    for name, typ, sec in sections(data):
        if name != ".note.dlopen":
            continue
        if typ != SHT_NOTE:
            errors.append(f".note.dlopen has section type {typ}, not SHT_NOTE")
        for owner, ntype, desc in notes(sec):
            if owner != b"FDO\0" or ntype != NOTE_TYPE:
                errors.append(f"a note with owner {owner!r} and type {ntype:#x}")
                continue
            if not desc.endswith(b"\0"):
                errors.append("a note's JSON is not NUL-terminated")
            for entry in json.loads(desc.rstrip(b"\0")):
                if set(entry) != {"feature", "description", "priority", "soname"}:
                    errors.append(f"unexpected keys: {sorted(entry)}")
                if entry.get("priority") not in ("required", "recommended", "suggested"):
                    errors.append(f"bad priority in {entry}")
                print(f"{path}: {entry.get('feature')} {entry.get('priority')} "
                      f"{entry.get('soname')}")
                got.update(entry.get("soname", []))
    if got != want:
        errors.append(f"sonames {sorted(got)}, expected {sorted(want)}")
    for e in errors:
        print(f"FAIL: {path}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
