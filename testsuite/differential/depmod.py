#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""depmod: kmodx against Debian's kmod 30 and kmod 34.2 on the real tree, plain, xz, zstd.

Each tool indexes a copy of the same tree. Text files must be byte-identical. kmod 30
writes the .bin files in the older post-order layout: they are re-serialised in pre-order
by an independent implementation (binindex.py) and must then equal kmodx's byte for byte
(kmod 34.2's, already pre-order, go through the same check unchanged), and every key of
every index must give the same answers. Also -n output, explicit module arguments, and
-F/-e warnings. kmod 34.2 (../shared) runs when it is there. Usage: depmod.py KMODX_BIN_DIR
"""
import os
import shutil
import sys
import tempfile

import binindex
from common import bin_dir_arg, Checker, references, run, tree_or_skip
import realtree

TEXT = ["modules.dep", "modules.alias", "modules.softdep", "modules.symbols", "modules.devname"]
BIN = ["modules.dep.bin", "modules.alias.bin", "modules.symbols.bin", "modules.builtin.bin",
       "modules.builtin.alias.bin"]
INPUTS = ("modules.order", "modules.builtin", "modules.builtin.modinfo")


def copy_tree(src_root, kver, dst_root, copy=os.link):
    """Hard-linked module files plus the kernel's own lists, no indexes (copy: how each
    file gets there)."""
    src = os.path.join(src_root, "lib/modules", kver)
    dst = os.path.join(dst_root, "lib/modules", kver)
    for d, _, files in os.walk(src):
        rel = os.path.relpath(d, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in files:
            if ".ko" in f or f in INPUTS:
                copy(os.path.join(d, f), os.path.join(dst, rel, f))
    return dst


def compare_trees(chk, what, ref_dir, new_dir):
    for f in TEXT:
        with open(os.path.join(ref_dir, f), "rb") as a, open(os.path.join(new_dir, f), "rb") as b:
            chk.same(f"{what}: {f}", a.read(), b.read())
    for f in BIN:
        with open(os.path.join(ref_dir, f), "rb") as a, open(os.path.join(new_dir, f), "rb") as b:
            ref, new = a.read(), b.read()
        ref_tree = binindex.read(ref)
        chk.same(f"{what}: {f} (pre-order bytes)", binindex.write_preorder(ref_tree), new)
        chk.same(f"{what}: {f} (every key and value)", binindex.entries(ref_tree),
                 binindex.entries(binindex.read(new)))
    weak = os.path.join(new_dir, "modules.weakdep")
    with open(weak, "rb") as f:
        chk.same(f"{what}: modules.weakdep header",
                 b"# Weak dependencies extracted from modules themselves.\n", f.read())


def against(chk, label, ref, env, new, work):
    weak = b"# Weak dependencies extracted from modules themselves.\n"
    # kmodx writes modules.weakdep as kmod >= 33 does; kmod 30 does not
    strip = (lambda out: out.replace(weak, b"", 1)) if label == "kmod-30" else (lambda out: out)
    for variant in (None, "xz", "zst"):
        src = tree_or_skip(variant)
        kver = realtree.kernel_release(src)
        name = f"{label}: {variant or 'plain'}"
        roots = {}
        for tool, binary, e in (("ref", ref, env), ("new", new, None)):
            roots[tool] = os.path.join(work, f"{variant}-{tool}")
            copy_tree(src, kver, roots[tool])
            rc, out, err = run([binary, "-b", roots[tool], kver], env=e)
            chk.same(f"{name}: depmod exit code ({tool})", 0, rc)
            chk.same(f"{name}: depmod stderr ({tool})", b"", err)
        moddir = lambda t: os.path.join(roots[t], "lib/modules", kver)  # noqa: E731
        compare_trees(chk, name, moddir("ref"), moddir("new"))
        if variant is None:
            rc1, out1, err1 = run([ref, "-n", "-b", roots["ref"], kver], env=env)
            rc2, out2, err2 = run([new, "-n", "-b", roots["new"], kver])
            chk.same(f"{label}: -n exit code", rc1, rc2)
            chk.same(f"{label}: -n stdout", out1, strip(out2))
            chk.same(f"{label}: -n stderr", err1, err2)
            # -e with -F System.map: the same warnings, in the same order
            smap = os.path.join(src, "boot", "System.map-" + kver)
            if os.path.exists(smap):
                r1 = run([ref, "-n", "-e", "-F", smap, "-b", src, kver], env=env)
                r2 = run([new, "-n", "-e", "-F", smap, "-b", src, kver])
                chk.same(f"{label}: -e -F exit code", r1[0], r2[0])
                chk.same(f"{label}: -e -F stdout", r1[1], strip(r2[1]))
                chk.same(f"{label}: -e -F warnings", r1[2], r2[2])
            # explicit module files: only those are indexed, by absolute path
            some = sorted(os.path.join(moddir("ref"), "kernel/fs/fat", f)
                          for f in ("fat.ko", "vfat.ko", "msdos.ko"))
            for t, binary, e in (("ref", ref, env), ("new", new, None)):
                files = [p.replace(roots["ref"], roots[t]) for p in some]
                run([binary, "-b", roots[t], kver] + files, env=e)
            compare_trees(chk, f"{label}: explicit files", moddir("ref"), moddir("new"))
        shutil.rmtree(roots["ref"])
        shutil.rmtree(roots["new"])


def main():
    bindir = bin_dir_arg(__doc__)
    new = os.path.join(bindir, "depmod")
    chk = Checker()
    work = tempfile.mkdtemp(prefix="kmodx-depmod-diff-")
    try:
        for label, refdir, env in references():
            against(chk, label, os.path.join(refdir, "depmod"), env, new, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return chk.finish("depmod differential")


if __name__ == "__main__":
    sys.exit(main())
