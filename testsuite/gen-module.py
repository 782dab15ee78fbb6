#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Synthetic kernel modules for tests, so fixtures need no kernel build.

A module is described by a JSON object (every key optional):

  "name":      module name in .gnu.linkonce.this_module (default: from the file name)
  "class":     64 or 32                      "endian": "little" or "big"
  "machine":   e_machine (default 62, x86-64; 3 for 32-bit)
  "modinfo":   ["key=value", ...] in .modinfo order (kernel order: reverse of source)
  "modinfo_unterminated": true   leave the last .modinfo string without its NUL
  "versions":  [["symbol", crc], ...]        the __versions table
  "exports":   ["symbol", ...]               __ksymtab_strings (and __crc_ with "crcs")
  "crcs":      {"symbol": crc}               adds __crc_<symbol> to .symtab
  "crc_style": "section" (CRC in a __kcrctab section, Linux >= 5.19) or "abs"
  "undefined": ["symbol", ...]               undefined .symtab entries (binding GLOBAL)
  "weak":      ["symbol", ...]               undefined weak entries
  "signature": null | "pkcs7" | "pgp" | "x509" | "garbage-trailer" | "pkcs7-damaged"
               (the message's first byte changed: not DER any more) | "pkcs7-tampered"
               (signed, then one byte of the module changed)
  "signer":    CN of the test key (pkcs7) or the signer bytes (legacy)
  "compress":  null | "gz" | "xz" | "zst" | "zst-nosize"
  "mutate":    [["truncate", n], ["write", offset, "hex"], ["shdr", index, field, value],
                ["append", "hex"]]  applied to the ELF before signing/compressing

As a program: gen-module.py SPEC.json OUT, or gen-module.py --many SPECS.json ROOT where
SPECS maps paths (relative to ROOT) to specs.
"""
import gzip
import json
import lzma
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
MAGIC = b"~Module signature appended~\n"


class Elf:
    """A relocatable ELF image built section by section."""

    def __init__(self, bits=64, endian="little", machine=62):
        self.bits, self.e = bits, "<" if endian == "little" else ">"
        self.machine = machine
        self.sections = []  # (name, type, flags, data, link, info, align, entsize)

    def add(self, name, data, stype=1, flags=0, link=0, info=0, align=1, entsize=0):
        self.sections.append((name, stype, flags, bytes(data), link, info, align, entsize))
        return len(self.sections)  # index (0 is the null section)

    def build(self):
        shstr = b"\0"
        names = []
        for s in self.sections + [(".shstrtab",)]:
            names.append(len(shstr))
            shstr += s[0].encode() + b"\0"
        secs = self.sections + [(".shstrtab", 3, 0, shstr, 0, 0, 1, 0)]
        ehsize, shsize = (64, 64) if self.bits == 64 else (52, 40)
        body = bytearray(b"\0" * ehsize)
        offsets = []
        for s in secs:
            while len(body) % max(s[6], 1):
                body.append(0)
            offsets.append(len(body))
            body += s[3]
        while len(body) % 8:
            body.append(0)
        shoff = len(body)
        e = self.e
        body += b"\0" * shsize  # the null section
        for i, s in enumerate(secs):
            name, stype, flags, data, link, info, align, entsize = s
            if self.bits == 64:
                body += struct.pack(e + "IIQQQQIIQQ", names[i], stype, flags, 0, offsets[i],
                                    len(data), link, info, align, entsize)
            else:
                body += struct.pack(e + "IIIIIIIIII", names[i], stype, flags, 0, offsets[i],
                                    len(data), link, info, align, entsize)
        ident = b"\x7fELF" + bytes([2 if self.bits == 64 else 1,
                                    1 if e == "<" else 2, 1, 0]) + b"\0" * 8
        if self.bits == 64:
            hdr = ident + struct.pack(e + "HHIQQQIHHHHHH", 1, self.machine, 1, 0, 0, shoff, 0,
                                      ehsize, 0, 0, shsize, len(secs) + 1, len(secs))
        else:
            hdr = ident + struct.pack(e + "HHIIIIIHHHHHH", 1, self.machine, 1, 0, 0, shoff, 0,
                                      ehsize, 0, 0, shsize, len(secs) + 1, len(secs))
        body[:ehsize] = hdr
        return bytes(body)


def sym(elf, name_off, value, info, shndx):
    e = elf.e
    if elf.bits == 64:
        return struct.pack(e + "IBBHQQ", name_off, info, 0, shndx, value, 0)
    return struct.pack(e + "IIIBBH", name_off, value, 0, info, 0, shndx)


def build_elf(spec, default_name):
    bits = spec.get("class", 64)
    elf = Elf(bits, spec.get("endian", "little"), spec.get("machine", 62 if bits == 64 else 3))
    text = elf.add(".text", b"\xc3" * 16, flags=6, align=16)
    modinfo = b"".join(s.encode() + b"\0" for s in spec.get("modinfo", []))
    if spec.get("modinfo_unterminated"):
        modinfo = modinfo[:-1]
    elf.add(".modinfo", modinfo, flags=2)
    crclen = 8 if bits == 64 else 4
    if "versions" in spec:
        v = b""
        for name, crc in spec["versions"]:
            v += crc.to_bytes(crclen, "little" if elf.e == "<" else "big")
            v += name.encode().ljust(64 - crclen, b"\0")[:64 - crclen]
        elf.add("__versions", v, flags=2, align=8)
    exports = spec.get("exports", [])
    if exports:
        elf.add("__ksymtab_strings", b"".join(s.encode() + b"\0" for s in exports), flags=2)
    name = spec.get("name", default_name).encode()
    this_module = bytearray(0x380 if bits == 64 else 0x200)
    off = 24 if bits == 64 else 12
    this_module[off:off + len(name)] = name
    elf.add(".gnu.linkonce.this_module", this_module, flags=3, align=64)
    crcs = spec.get("crcs", {})
    kcrctab = None
    if crcs and spec.get("crc_style", "section") == "section":
        data = b"".join(c.to_bytes(4, "little" if elf.e == "<" else "big") for c in crcs.values())
        kcrctab = elf.add("__kcrctab", data, flags=2, align=4)
    strtab = b"\0"
    syms = [sym(elf, 0, 0, 0, 0)]

    def sname(s):
        nonlocal strtab
        o = len(strtab)
        strtab += s.encode() + b"\0"
        return o

    for i, (s, crc) in enumerate(crcs.items()):
        if kcrctab:
            syms.append(sym(elf, sname("__crc_" + s), 4 * i, 0x10, kcrctab))
        else:
            syms.append(sym(elf, sname("__crc_" + s), crc, 0x10, 0xFFF1))
    for s in exports:
        syms.append(sym(elf, sname(s), 0, 0x12, text))
    for s in spec.get("undefined", []):
        syms.append(sym(elf, sname(s), 0, 0x10, 0))
    for s in spec.get("weak", []):
        syms.append(sym(elf, sname(s), 0, 0x20, 0))
    nsects = len(elf.sections)
    elf.add(".symtab", b"".join(syms), stype=2, link=nsects + 2, info=1, align=8,
            entsize=24 if bits == 64 else 16)
    elf.add(".strtab", strtab, stype=3)
    return elf.build()


def mutate(data, ops):
    data = bytearray(data)
    for op in ops:
        if op[0] == "truncate":
            del data[op[1]:]
        elif op[0] == "write":
            b = bytes.fromhex(op[2])
            data[op[1]:op[1] + len(b)] = b
        elif op[0] == "append":
            data += bytes.fromhex(op[1])
        elif op[0] == "shdr":  # ["shdr", index, "offset"|"size"|"name", value] (ELF64 LE)
            _, idx, field, value = op
            shoff = struct.unpack_from("<Q", data, 40)[0]
            pos = shoff + 64 * idx + {"name": 0, "offset": 24, "size": 32}[field]
            fmt = "<I" if field == "name" else "<Q"
            struct.pack_into(fmt, data, pos, value)
        else:
            raise ValueError(f"unknown mutation {op[0]}")
    return bytes(data)


def pkcs7_sign(data, signer):
    key = os.path.join(KEYS, "signing_key.pem")
    cert = os.path.join(KEYS, "signing_key.x509.pem")
    if signer != "kmodx test key":
        raise ValueError("the committed test key is 'kmodx test key'")
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        der = subprocess.run(["openssl", "smime", "-sign", "-noattr", "-binary", "-nocerts",
                              "-outform", "DER", "-md", "sha256", "-signer", cert, "-inkey", key,
                              "-in", f.name], capture_output=True, check=True).stdout
    return der + struct.pack(">BBBBBxxxI", 0, 0, 2, 0, 0, len(der)) + MAGIC


def legacy_sign(id_type, signer):
    signer = signer.encode()
    key_id = bytes(range(1, 9))
    sig = bytes((i * 7) & 0xff for i in range(48))
    return signer + key_id + sig + struct.pack(">BBBBBxxxI", 1, 4, id_type, len(signer),
                                               len(key_id), len(sig)) + MAGIC


def compress(data, kind):
    if kind == "gz":
        return gzip.compress(data, mtime=0)
    if kind == "xz":
        return lzma.compress(data, check=lzma.CHECK_CRC32)
    if kind in ("zst", "zst-nosize"):
        # From a pipe zstd writes no content size unless told it; kmod 34.2 needs one.
        size = "--no-content-size" if kind == "zst-nosize" else f"--stream-size={len(data)}"
        args = ["zstd", "-q", "-c", size]
        return subprocess.run(args, input=data, capture_output=True, check=True).stdout
    raise ValueError(f"unknown compression {kind}")


def generate(spec, out_path):
    base = os.path.basename(out_path).split(".")[0].replace("-", "_")
    data = build_elf(spec, base)
    data = mutate(data, spec.get("mutate", []))
    kind = spec.get("signature")
    if kind == "pkcs7":
        data += pkcs7_sign(data, spec.get("signer", "kmodx test key"))
    elif kind == "pkcs7-damaged":
        sig = bytearray(pkcs7_sign(data, spec.get("signer", "kmodx test key")))
        sig[0] ^= 0x01
        data += bytes(sig)
    elif kind == "pkcs7-tampered":
        sig = pkcs7_sign(data, spec.get("signer", "kmodx test key"))
        data = bytearray(data)
        data[len(data) - 1] ^= 0x01
        data = bytes(data) + sig
    elif kind in ("pgp", "x509"):
        data += legacy_sign(0 if kind == "pgp" else 1, spec.get("signer", "kmodx legacy signer"))
    elif kind == "garbage-trailer":
        data += b"\xff" * 12 + MAGIC
    if spec.get("compress"):
        data = compress(data, spec["compress"])
    os.makedirs(os.path.dirname(out_path) or ".", exist_ok=True)
    with open(out_path, "wb") as f:
        f.write(data)


def generate_many(specs, root):
    for rel, spec in specs.items():
        generate(spec, os.path.join(root, rel))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--many":
        with open(sys.argv[2]) as f:
            generate_many(json.load(f), sys.argv[3])
    elif len(sys.argv) == 3:
        with open(sys.argv[1]) as f:
            generate(json.load(f), sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
