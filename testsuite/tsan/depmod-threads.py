#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""depmod's threads under ThreadSanitizer, on copies of the real tree.

depmod reads directories, modules and the cache on pools of threads, builds the indexes
on three, the cache's records on the first of those to finish or beside the writing of
the indexes, and lets the replaced indexes go on another. Each of its paths runs once
here with a kmodx built with -Db_sanitize=thread (scripts/test.sh builds one): on the
plain tree a cold run, one module added, one overriding a module of the tree, nothing
changed, --lint and a run without the cache, whose indexes must all be a full run's; on the xz tree (modules
decompressed on the pool) a cold run and one module added. Any report of
ThreadSanitizer fails the test.
Usage: depmod-threads.py TSAN_KMODX_BIN_DIR
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "differential"))
from common import Checker, read_file, run, tree_or_skip  # noqa: E402
from depmod import copy_tree  # noqa: E402
import realtree  # noqa: E402

INDEXES = ["modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin",
           "modules.symbols", "modules.symbols.bin", "modules.softdep", "modules.devname"]
RACY_S = 2.1  # files changed this recently are read again (depmod.8, CACHE)



def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    depmod = os.path.join(os.path.abspath(sys.argv[1]), "depmod")
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1:exitcode=66")
    chk = Checker()
    for variant in (None, "xz"):
        src = tree_or_skip(variant)
        kver = realtree.kernel_release(src)
        ext = ".ko.xz" if variant else ".ko"
        label = variant or "plain"
        work = tempfile.mkdtemp(prefix="kmodx-tsan-")
        try:
            root = os.path.join(work, "root")
            moddir = copy_tree(src, kver, root, shutil.copy2)
            ref = os.path.join(work, "ref")

            def depmod_run(what, *extra):
                rc, out, err = run([depmod, "-b", root, *extra, kver], env=env)
                if b"ThreadSanitizer" in err:
                    sys.stdout.write(err.decode(errors="replace"))
                chk.same(f"{label}: {what}: ThreadSanitizer reports", 0,
                         err.count(b"WARNING: ThreadSanitizer"))
                # --lint exits 1 for a tree with problems; 66 is ThreadSanitizer's
                chk.same(f"{label}: {what}: exit code", 0 if "--lint" not in extra else rc,
                         rc)
                chk.same(f"{label}: {what}: not stopped", False, rc == 66)
                return out

            def same_as_full(what):
                run([depmod, "--no-cache", "-b", root, "-o", ref, kver], env=env)
                rdir = os.path.join(ref, "lib/modules", kver)
                for f in INDEXES:
                    chk.same(f"{label}: {what}: {f}", read_file(os.path.join(rdir, f)),
                             read_file(os.path.join(moddir, f)))

            if not variant:
                # a tree's first indexing leaves no cache (depmod.8, CACHE): the cold
                # run that writes one is the second
                depmod_run("first indexing")
            depmod_run("cold run")
            if not variant:
                same_as_full("cold run")
            time.sleep(RACY_S)
            os.makedirs(os.path.join(moddir, "updates/dkms"))
            shutil.copyfile(os.path.join(moddir, "kernel/fs/fat/vfat" + ext),
                            os.path.join(moddir, "updates/dkms/kmodx_tsan" + ext))
            time.sleep(RACY_S)
            depmod_run("one module added")
            if not variant:  # the rest is the same code with or without xz
                same_as_full("one module added")
                # another position for a module with exports: every index changes
                shutil.copyfile(os.path.join(moddir, "kernel/fs/fat/fat" + ext),
                                os.path.join(moddir, "updates/dkms/fat" + ext))
                time.sleep(RACY_S)
                depmod_run("a module overriding the tree's")
                same_as_full("a module overriding the tree's")
                depmod_run("nothing changed")
                depmod_run("lint", "--lint")
                depmod_run("without the cache", "--no-cache")
            print(f"ok: {label}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return chk.finish("depmod under ThreadSanitizer")


if __name__ == "__main__":
    sys.exit(main())
