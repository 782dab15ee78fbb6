#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""depmod's cache stays bounded when a module comes and goes again and again, DKMS-style,
and every incremental run still writes what a full run writes, byte for byte.

A run that reads a module appends what it holds to the cache's tables of symbols,
references and strings, and the record it replaces becomes garbage. Judged by its
references alone, garbage could reach four times the cache's useful size: a module's
undefined symbols are appended as new symbol entries, with their names, each time it is
read. Here a synthetic tree (testsuite/gen-module.py) has sixty modules that share a few
symbols, and one, churn, that needs a hundred long names of its own; churn is overridden
under updates/ and the override removed, a dozen times, after the tree was indexed
once (which leaves no cache) and a cold run wrote one. The cache must never grow past
twice the size a cold run gives it (each cycle appends about a quarter of that), and each
run's indexes, exit code and messages must be those of a full run (--no-cache -o).

Needs no real tree and no reference kmod. Usage: depmod-cache-growth.py KMODX_BIN_DIR
"""
import os
import shutil
import sys
import tempfile
import time

from common import bin_dir_arg, Checker, load_script, read_file, run

GEN = load_script("gen_module", "gen-module.py")
# the indexes and the cache's name, as the real tree's test knows them
REAL_TREE_TEST = load_script("depmod_cache", "differential/depmod-cache.py")
OUTPUTS, CACHE = REAL_TREE_TEST.OUTPUTS, REAL_TREE_TEST.CACHE
KVER = "6.1.0-kmodx-growth"
SHARED = [f"kmodx_shared_{i}" for i in range(20)]
CYCLES = 12
# a file changed within 2 s before a run is read again by the next one (the cache's
# "racy" rule): the tree ages before the cold run, or every run would read it all
RACY_S = 2.1


def churn(version):
    """The module that comes and goes: a hundred undefined names no other module has."""
    return {"modinfo": [f"version={version}", "license=GPL", "alias=kmodx-churn"],
            "undefined": [f"kmodx_churn_needs_a_rather_long_symbol_name_{i:03d}"
                          for i in range(100)] + SHARED[:2]}


def make_tree(moddir):
    specs = {"kernel/base.ko": {"modinfo": ["license=GPL"], "exports": SHARED}}
    for i in range(60):
        specs[f"kernel/drivers/m{i:02d}.ko"] = {
            "modinfo": ["license=GPL", f"alias=kmodx-m{i}"], "undefined": SHARED}
    specs["kernel/churn.ko"] = churn("1")
    GEN.generate_many(specs, moddir)


def main():
    bindir = bin_dir_arg(__doc__)
    depmod = os.path.join(bindir, "depmod")
    chk = Checker()
    work = tempfile.mkdtemp(prefix="kmodx-cache-growth-")
    root = os.path.join(work, "root")
    moddir = os.path.join(root, "lib/modules", KVER)
    cfg = os.path.join(work, "depmod.d")  # empty: the host's configuration is not read
    os.makedirs(cfg)
    try:
        make_tree(moddir)
        time.sleep(RACY_S)
        argv = [depmod, "-C", cfg, "-b", root, KVER]

        def step(what):
            rc, out, err = run(argv)
            full = os.path.join(work, "full")
            shutil.rmtree(full, ignore_errors=True)
            r = run(argv[:-1] + ["--no-cache", "-o", full, KVER])
            chk.same(f"{what}: exit code", r[0], rc)
            chk.same(f"{what}: stdout", r[1], out)
            chk.same(f"{what}: messages", r[2], err)
            fdir = os.path.join(full, "lib/modules", KVER)
            for f in OUTPUTS:
                chk.same(f"{what}: {f} against a full run",
                         read_file(os.path.join(fdir, f)), read_file(os.path.join(moddir, f)))
            cache = os.path.join(moddir, CACHE)
            return os.path.getsize(cache) if os.path.exists(cache) else None

        # a tree indexed for the first time gets no cache (depmod.8, CACHE), the next
        # run a cold one
        chk.same("first indexing: no cache left", None, step("first indexing"))
        cold = step("cold run")
        override = os.path.join(moddir, "updates/churn.ko")
        largest = cold
        for n in range(CYCLES):
            # another version each time: the override is read, not matched by content
            GEN.generate(churn(f"2.{n}"), override)
            largest = max(largest, step(f"cycle {n}: churn overridden"))
            os.unlink(override)
            largest = max(largest, step(f"cycle {n}: the override removed"))
        print(f"cache: {cold} bytes after the cold run, {largest} at most after "
              f"{CYCLES} cycles")
        chk.same(f"the cache at most twice its cold size ({2 * cold} bytes) after "
                 f"{CYCLES} cycles", True, largest <= 2 * cold)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return chk.finish("depmod cache growth")


if __name__ == "__main__":
    sys.exit(main())
