#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""modinfo: kmodx against Debian's kmod 30 and kmod 34.2 on every module of the real tree.

Plain, xz and zstd trees must give byte-identical output, errors and exit codes; the gzip
tree (Debian's kmod 30 has no zlib) must give kmodx's own plain output. Then every option
on a sample, builtin modules, aliases and missing names. kmod 34.2 (../shared) runs the
same comparisons when it is there. Usage: modinfo.py KMODX_BIN_DIR
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from common import bin_dir_arg, Checker, references, run, tree_or_skip
import realtree


def module_files(root, kver, ext):
    base = os.path.join(root, "lib/modules", kver)
    out = []
    for d, _, files in os.walk(base):
        out += [os.path.relpath(os.path.join(d, f), base) for f in files if f.endswith(ext)]
    return base, sorted(out)


MAGIC = b"~Module signature appended~\n"
KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keys")


def resigned(chk, ref, new, ko, ref_env):
    """vfat.ko signed again by openssl smime in the shapes other tools make: with the
    certificate, with signed attributes, both, and several digests. The static kmodx reads
    these without libcrypto (pkcs7.c), the dynamic one with it; kmod uses libcrypto."""
    if shutil.which("openssl") is None:
        print("note: no openssl, re-signed modules not compared")
        return
    with open(ko, "rb") as f:
        data = f.read()
    sig_len = struct.unpack(">I", data[-len(MAGIC) - 4:-len(MAGIC)])[0]
    body = data[:-len(MAGIC) - 12 - sig_len]
    with tempfile.TemporaryDirectory(prefix="kmodx-resign-") as work:
        with open(os.path.join(work, "payload"), "wb") as f:
            f.write(b"module payload\n")
        files = []
        for digest in ("sha256", "sha384", "sha512"):
            for shape, extra in (("plain", ["-nocerts", "-noattr"]), ("certs", ["-noattr"]),
                                 ("attrs", ["-nocerts"]), ("attrs-certs", [])):
                der = os.path.join(work, f"{digest}-{shape}.der")
                subprocess.run(["openssl", "smime", "-sign", "-binary", "-outform", "DER",
                                "-md", digest, "-signer", os.path.join(KEYS, "signing_key.x509.pem"),
                                "-inkey", os.path.join(KEYS, "signing_key.pem"),
                                "-in", os.path.join(work, "payload"), "-out", der] + extra,
                               check=True)
                with open(der, "rb") as f:
                    sig = f.read()
                path = os.path.join(work, f"vfat-{digest}-{shape}.ko")
                with open(path, "wb") as f:
                    f.write(body + sig + struct.pack(">BBBBB3xI", 0, 0, 2, 0, 0, len(sig)) + MAGIC)
                files.append(path)
        for path in files:
            chk.compare_runs(f"re-signed {os.path.basename(path)}", [ref, path], [new, path],
                             ref_env=ref_env)

        # a shape nothing but libcrypto could read (BER, indefinite lengths): the static
        # kmodx, which has no libcrypto, shows what kmod built without OpenSSL shows
        version = run([new, "--version"])[1].split()
        if b"+STATIC" in version:
            ber = b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\x00\x00"
            path = os.path.join(work, "vfat-ber.ko")
            with open(path, "wb") as f:
                f.write(body + ber + struct.pack(">BBBBB3xI", 0, 0, 2, 0, 0, len(ber)) + MAGIC)
            for field, want in (("sig_id", b"PKCS#7\n"), ("sig_hashalgo", b"unknown\n"),
                                ("signer", b"\n")):
                rc, out, err = run([new, "-F", field, path])
                chk.same(f"static kmodx, BER signature, {field}", (0, want, b""), (rc, out, err))


def against(chk, label, ref, new, env, root, kver):
    """Every comparison with one reference; returns kmodx's output for the plain tree."""
    def compare(what, ref_argv, new_argv, **kw):
        return chk.compare_runs(f"{label}: {what}", ref_argv, new_argv, ref_env=env, **kw)

    # every module, by path, in one call per tool (as a packaging script would)
    for variant, ext in ((None, ".ko"), ("xz", ".ko.xz"), ("zst", ".ko.zst")):
        vroot = tree_or_skip(variant) if variant else root
        base, mods = module_files(vroot, kver, ext)
        ok = compare(f"all {len(mods)} modules ({ext})", [ref] + mods, [new] + mods, cwd=base)
        print(f"{label}: {'ok' if ok else 'FAILED'}: {len(mods)} {ext} modules")

    # options on a sample, by name through the indexes
    base, mods = module_files(root, kver, ".ko")
    names = sorted({os.path.basename(m)[:-3] for m in mods[::40]} |
                   {"vfat", "loop", "e1000e", "snd-hda-intel", "ext4", "bonding"})
    opts = [[], ["-a"], ["-d"], ["-l"], ["-p"], ["-n"], ["-0"], ["-F", "signer"],
            ["-F", "parm"], ["-F", "name"], ["-F", "filename"], ["-F", "alias"],
            ["-F", "sig_key"], ["-m"], ["-0", "-F", "alias"], ["-0", "-p"], ["--null", "-n"]]
    loc = ["-b", root, "-k", kver]
    for o in opts:
        compare(f"modinfo {' '.join(o)} (sample of {len(names)})", [ref] + loc + o + names,
                [new] + loc + o + names)

    # builtin modules, by name and with -m, plus a few alias strings and missing names
    with open(os.path.join(root, "lib/modules", kver, "modules.builtin")) as f:
        builtin = [os.path.basename(l.strip()).split(".")[0] for l in f if l.strip()]
    for o in ([], ["-m"], ["-F", "name"], ["-0"], ["-p"]):
        compare(f"builtin modules {' '.join(o)}", [ref] + loc + o + builtin,
                [new] + loc + o + builtin)
    aliases = []
    with open(os.path.join(root, "lib/modules", kver, "modules.alias")) as f:
        for i, line in enumerate(f):
            if line.startswith("alias ") and i % 97 == 0:
                aliases.append(line.split()[1].replace("*", "0"))
    aliases += ["fs-vfat", "crypto-sha256", "char-major-10-237",
                "pci:v00008086d00001502sv00001028sd0000052Cbc02sc00i00",
                "symbol:fat_fill_super", "no-such-module", "no_such:alias"]
    for a in aliases:
        compare(f"alias {a}", [ref] + loc + [a], [new] + loc + [a])
    resigned(chk, ref, new, os.path.join(root, "lib/modules", kver, "kernel/fs/fat/vfat.ko"),
             env)
    compare("several missing", [ref] + loc + ["nope", "vfat", "nope2"],
            [new] + loc + ["nope", "vfat", "nope2"])
    compare("missing file argument", [ref, "/nonexistent.ko"], [new, "/nonexistent.ko"])
    compare("no argument", [ref], [new])


def own_checks(chk, new, root, kver):
    """What no reference can show: gzip modules and the static binary's fallback."""
    base, mods = module_files(root, kver, ".ko")
    plain_out = run([new] + mods, cwd=base)[1]
    groot = tree_or_skip("gz")
    base, mods = module_files(groot, kver, ".ko.gz")
    rc, out, err = run([new] + mods, cwd=base)
    chk.same("gz tree exit code", 0, rc)
    chk.same("gz tree stderr", b"", err)
    out = out.replace(b".ko.gz\n", b".ko\n").replace(groot.encode() + b"/", root.encode() + b"/")
    chk.same("gz tree output equals the plain output", plain_out, out)


def main():
    bindir = bin_dir_arg(__doc__)
    new = os.path.join(bindir, "modinfo")
    chk = Checker()
    root = tree_or_skip()
    kver = realtree.kernel_release(root)
    for label, refdir, env in references():
        against(chk, label, os.path.join(refdir, "modinfo"), new, env, root, kver)
    own_checks(chk, new, root, kver)
    return chk.finish("modinfo differential")


if __name__ == "__main__":
    sys.exit(main())
