# SPDX-License-Identifier: GPL-2.0-or-later
"""An independent reader and writer of the module index (.bin) format, for tests.

It parses a file in either layout (kmod <= 33 writes children before parents, kmod >= 34
parents first) into nodes and writes it back in the pre-order layout, so that an index
written by Debian's kmod 30 can be compared byte for byte with kmodx's. It also lists
every (key, value, priority) in key order.
"""
import struct

PREFIX, VALUES, CHILDS, MASK = 0x80000000, 0x40000000, 0x20000000, 0x0FFFFFFF


class Node:
    __slots__ = ("prefix", "children", "values")

    def __init__(self):
        self.prefix = b""
        self.children = {}  # byte -> Node
        self.values = []  # [(priority, value)] in file order


def read(data):
    magic, version, root = struct.unpack_from(">III", data, 0)
    if magic != 0xB007F457 or version >> 16 != 2:
        raise ValueError("not a module index")

    def node(ref, depth=0):
        if depth > 4096:
            raise ValueError("index too deep (loop?)")
        n = Node()
        off = ref & MASK
        if ref & PREFIX:
            end = data.index(b"\0", off)
            n.prefix, off = data[off:end], end + 1
        if ref & CHILDS:
            first, last = data[off], data[off + 1]
            off += 2
            for i in range(last - first + 1):
                (child,) = struct.unpack_from(">I", data, off + 4 * i)
                if child & MASK:
                    n.children[first + i] = node(child, depth + 1)
            off += 4 * (last - first + 1)
        if ref & VALUES:
            (count,) = struct.unpack_from(">I", data, off)
            off += 4
            for _ in range(count):
                (prio,) = struct.unpack_from(">I", data, off)
                end = data.index(b"\0", off + 4)
                n.values.append((prio, data[off + 4:end]))
                off = end + 1
        return n

    return node(root)


def _flags(n):
    return (PREFIX if n.prefix else 0) | (CHILDS if n.children else 0) | (VALUES if n.values else 0)


def _size(n):
    size = len(n.prefix) + 1 if n.prefix else 0
    if n.children:
        size += 2 + 4 * (max(n.children) - min(n.children) + 1)
    if n.values:
        size += 4 + sum(4 + len(v) + 1 for _, v in n.values)
    return size


def write_preorder(root):
    out = bytearray(struct.pack(">III", 0xB007F457, 0x00020001, 0))
    total = {}

    def measure(n):
        t = _size(n) + sum(measure(c) for c in n.children.values())
        total[id(n)] = t
        return t

    measure(root)

    def emit(n, off):
        assert len(out) == off
        if n.prefix:
            out.extend(n.prefix + b"\0")
        child_off = off + _size(n)
        if n.children:
            first, last = min(n.children), max(n.children)
            out.extend(bytes([first, last]))
            offs = {}
            o = child_off
            for c in sorted(n.children):
                offs[c] = o
                o += total[id(n.children[c])]
            for c in range(first, last + 1):
                ch = n.children.get(c)
                out.extend(struct.pack(">I", (offs[c] | _flags(ch)) if ch else 0))
        if n.values:
            out.extend(struct.pack(">I", len(n.values)))
            for prio, v in n.values:
                out.extend(struct.pack(">I", prio) + v + b"\0")
        o = child_off
        for c in sorted(n.children):
            emit(n.children[c], o)
            o += total[id(n.children[c])]

    struct.pack_into(">I", out, 8, 12 | _flags(root))
    emit(root, 12)
    return bytes(out)


def entries(root):
    """[(key, priority, value)] in key order, values in file order."""
    out = []

    def walk(n, key):
        key += n.prefix
        out.extend((key, p, v) for p, v in n.values)
        for c in sorted(n.children):
            walk(n.children[c], key + bytes([c]))

    walk(root, b"")
    return out
