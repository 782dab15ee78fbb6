#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""depmod's cache: after every kind of change, an incremental run writes what a full run
writes, byte for byte, on copies of the real tree, plain and xz.

One tree is changed step by step and indexed by kmodx with its cache (modules.kmodx-cache)
after each step. The reference is a full run on the same tree at the same moment: kmodx
--no-cache into another output directory (-o), and, on the steps where the cache must be
ignored, kmod 34.2 (../shared) when it is there, whose files must be the same bytes too.
Exit code and messages must be the same. Where strace is installed, the modules each
incremental run opened are counted, so that a cache that was silently not used (every
module read again) fails the test: each step says how many modules it must read. With
KMODX_TEST_SANITIZED set (scripts/test.sh's ASan run): the plain tree only, and no strace
(LeakSanitizer does not work under ptrace).

Steps: a first indexing (no cache); a cold run; nothing changed; a module touched without change; a module added
under updates/ (a new name, then one overriding a module of the tree); the symbols of the
module most others need changing hands (a module exporting them too added and removed,
the module overridden, the override removed, the module removed); a module removed
(the previous cache is then kept, to be written over next time); a module added while a
run holds the previous cache (flock), and removed while one writes the cache; an
unreadable one added, left, removed; an index changed and one removed by hand;
a module replaced in place by another with different symbols; a file renamed; a
compressed module swapped for a plain one (and back); a directory linked in (a symbolic
link), a module added there, the link removed; modules.order changed; the
configuration changed; -E given; the cache truncated, corrupted in either part, and
taken from another kernel release. Usage: depmod-cache.py KMODX_BIN_DIR
"""
import fcntl
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from common import bin_dir_arg, Checker, oracle_34, read_file, run, tree_or_skip
from depmod import copy_tree
import realtree

OUTPUTS = ["modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin",
           "modules.softdep", "modules.weakdep", "modules.symbols", "modules.symbols.bin",
           "modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname"]
# an index and its .bin, built together
TWINS = {a: b for x in ("modules.dep", "modules.alias", "modules.symbols")
         for a, b in ((x, x + ".bin"), (x + ".bin", x))}
CACHE = "modules.kmodx-cache"
SPARE = CACHE + ".prev"
# LeakSanitizer cannot run under ptrace: a sanitized build keeps its leak checks and the
# normal build counts the reads
SANITIZED = bool(os.environ.get("KMODX_TEST_SANITIZED"))
STRACE = None if SANITIZED else shutil.which("strace")
RACY_S = 2.1



class Tree:
    def __init__(self, chk, depmod, o34, src, kver, work, variant):
        self.chk, self.depmod, self.o34, self.kver = chk, depmod, o34, kver
        self.variant = variant
        self.root = os.path.join(work, "root")
        # copies, not hard links: another test linking or unlinking the shared tree's
        # files changes their ctime, and with it every file's identity in the cache
        self.moddir = copy_tree(src, kver, self.root, shutil.copy2)
        self.cfg = os.path.join(work, "depmod.d")
        os.makedirs(self.cfg)
        self.refs = os.path.join(work, "refs")
        self.ext = ".ko.xz" if variant == "xz" else ".ko"

    def modules(self, sub="kernel"):
        return sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(self.moddir, sub))
                      for f in fs if f.endswith(self.ext))

    def argv(self, *extra):
        return [self.depmod, "-C", self.cfg, "-b", self.root, *extra, self.kver]

    def incremental(self, extra):
        """Run with the cache: (exit code, stdout, stderr, .ko files opened or None,
        directories under the module directory read, or None)."""
        argv = self.argv(*extra)
        log = None
        if STRACE:
            log = os.path.join(self.refs, "strace.log")
            argv = [STRACE, "-f", "-qq", "-e", "trace=open,openat", "-o", log] + argv
        rc, out, err = run(argv)
        opened = dirs = None
        if log:
            with open(log) as f:
                text = f.read()
            opened = {m for m in re.findall(r'"([^"]+\.ko(?:\.[a-z]+)?)"', text)}
            # the scan's: not O_PATH (a listing from the cache), not opendir()'s
            # (O_NONBLOCK: the configuration, temporary files), not the module
            # directory's (also opened as where the indexes go)
            dirs = [line for line in text.splitlines()
                    if "O_DIRECTORY" in line and "O_PATH" not in line
                    and "O_NONBLOCK" not in line and f'"{self.moddir}"' not in line]
            os.unlink(log)
        return rc, out, err, opened, dirs

    def outputs(self):
        """Each index's bytes and identity (None where it is missing)."""
        def one(f):
            path = os.path.join(self.moddir, f)
            if not os.path.exists(path):
                return None, None
            st = os.stat(path)
            return read_file(path), (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        return {f: one(f) for f in OUTPUTS}

    def step(self, name, reads, extra=(), keeps_unchanged=False, dirs=None, cache=True):
        """Compare the incremental run with full runs; reads: how many modules it must
        open, or "all" where the cache must be ignored; dirs, if given: how many
        directories under the module directory it must read (the others' listings are
        the cache's); cache: whether the run must leave a cache (not on a tree's first
        indexing). keeps_unchanged:
        the step moves
        no module in the module order, so every index whose bytes stay the same must
        be left as it is, not written again, unless its twin is (an index and its .bin
        are built together); modules.devname excepted: it shares modules.alias's
        fingerprint."""
        what = f"{self.variant}: {name}"
        # a file changed within 2 s before a run is read again by the next one (the
        # cache's "racy" rule): let the changes of the step age first
        time.sleep(RACY_S)
        shutil.rmtree(self.refs, ignore_errors=True)
        os.makedirs(self.refs)
        before = self.outputs()
        rc, out, err, opened, dirs_read = self.incremental(extra)
        after = self.outputs()
        mine = {f: after[f][0] for f in OUTPUTS}
        if keeps_unchanged:
            def unchanged(f):
                return before[f][0] == mine[f]
            same = [f for f in OUTPUTS if f != "modules.devname" and unchanged(f)
                    and unchanged(TWINS.get(f, f))]
            self.chk.same(f"{what}: unchanged indexes left as they were", same,
                          [f for f in same if before[f][1] == after[f][1]])
        full = os.path.join(self.refs, "full")
        r = run(self.argv("--no-cache", "-o", full, *extra))
        self.chk.same(f"{what}: exit code", r[0], rc)
        self.chk.same(f"{what}: stdout", r[1], out)
        self.chk.same(f"{what}: messages", r[2], err)
        fdir = os.path.join(full, "lib/modules", self.kver)
        for f in OUTPUTS:
            self.chk.same(f"{what}: {f} against a full run",
                          read_file(os.path.join(fdir, f)), mine[f])
        # every step is held to kmodx's own full run; kmod 34.2 checks the full runs
        # themselves, on the steps that make one (a new tree shape or new options)
        if self.o34 and reads == "all":
            k = os.path.join(self.refs, "kmod34")
            run([os.path.join(self.o34[0], "depmod"), "-C", self.cfg, "-b", self.root, "-o", k,
                 *extra, self.kver], env=self.o34[1])
            kdir = os.path.join(k, "lib/modules", self.kver)
            for f in OUTPUTS:
                self.chk.same(f"{what}: {f} against kmod 34.2", read_file(os.path.join(kdir, f)),
                              mine[f])
        self.chk.same(f"{what}: the cache exists", cache,
                      os.path.exists(os.path.join(self.moddir, CACHE)))
        if opened is not None:
            # a full run reads each module of the index once
            want = mine["modules.dep"].count(b"\n") if reads == "all" else reads
            self.chk.same(f"{what}: modules read", want, len(opened))
        if dirs_read is not None and dirs is not None:
            self.chk.same(f"{what}: directories read", dirs, len(dirs_read))
        print(f"ok: {what}" + (f" ({len(opened)} modules read)" if opened is not None else ""))


def swap_compression(path):
    """foo.ko.xz -> foo.ko (decompressed) or foo.ko -> foo.ko.xz; the new path."""
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        new, data = path[:-3], lzma.decompress(data)
    else:
        new, data = path + ".xz", lzma.compress(data, check=lzma.CHECK_CRC32)
    os.unlink(path)
    with open(new, "wb") as f:
        f.write(data)
    return new


def corrupt(path, offset):
    data = bytearray(read_file(path))
    data[offset] ^= 0x40
    with open(path, "wb") as f:
        f.write(data)


def copy_new(src, dst):
    """A new file (new inode) with src's bytes."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)


def most_needed(t, avoid):
    """The module of the tree that most modules depend on, not one of avoid."""
    count = {}
    with open(os.path.join(t.moddir, "modules.dep")) as f:
        for line in f:
            for dep in line.split(":", 1)[1].split():
                count[dep] = count.get(dep, 0) + 1
    ranked = sorted(count, key=lambda p: (-count[p], p))
    return next(os.path.join(t.moddir, p) for p in ranked
                if p.startswith("kernel/") and os.path.join(t.moddir, p) not in avoid)


def steps(t, work):
    mods = t.modules()
    ext = t.ext
    t.step("the tree indexed for the first time: no cache left", "all", cache=False)
    t.step("cold run", "all")
    # the directories under the module directory are read only when they changed
    t.step("nothing changed", 0, dirs=0)
    os.utime(mods[10])
    t.step("a module touched without change", 1, dirs=0)
    # DKMS: a module of its own under updates/dkms, then one that overrides the tree's
    copy_new(mods[20], os.path.join(t.moddir, "updates/dkms/kmodx_dkms_new" + ext))
    t.step("a module added under updates/", 1, keeps_unchanged=True, dirs=2)
    over = mods[30]
    copy_new(over, os.path.join(t.moddir, "updates/dkms", os.path.basename(over)))
    t.step("a module added under updates/ overriding the tree's", 1)
    # the dependencies the cache keeps hold only while the symbols keep their owners
    needed = most_needed(t, avoid={mods[i] for i in range(0, 100, 10)} | {mods[51]})
    twin = os.path.join(t.moddir, "updates/dkms/kmodx_twin" + ext)
    copy_new(needed, twin)
    t.step("a module exporting what a much needed one does added (its symbols move)", 1)
    os.unlink(twin)
    t.step("and removed (they move back)", 0)
    override = os.path.join(t.moddir, "updates/dkms", os.path.basename(needed))
    copy_new(needed, override)
    t.step("a much needed module overridden under updates/", 1)
    os.unlink(override)
    # the tree's module lost to the override last time: the cache has no record of it
    t.step("and the override removed", 1)
    os.unlink(needed)
    t.step("a much needed module removed", 0)
    cache, spare = os.path.join(t.moddir, CACHE), os.path.join(t.moddir, SPARE)
    before = os.stat(cache).st_ino
    os.unlink(mods[40])
    t.step("a module removed", 0)
    t.chk.same(f"{t.variant}: the previous cache kept, to be written over next time",
               before, os.stat(spare).st_ino)
    # a run still reading the previous cache: it is not written over
    with open(spare, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_SH)
        kept = read_file(spare)
        added = os.path.join(t.moddir, "extra/kmodx_held" + ext)
        copy_new(mods[90], added)
        t.step("a module added while a run still reads the previous cache", 1)
        t.chk.same(f"{t.variant}: the previous cache in use left as it was",
                   (os.fstat(held.fileno()).st_ino, kept),
                   (os.stat(spare).st_ino, read_file(spare)))
    # a run writing the cache (over the previous one, then exchanged): not read
    with open(cache, "rb") as busy:
        fcntl.flock(busy, fcntl.LOCK_EX)
        os.unlink(added)
        t.step("a module removed while another run writes the cache", "all")
    # its error is printed by every run, the cache's included; every index is rebuilt
    broken = os.path.join(t.moddir, "updates/broken" + ext)
    with open(broken, "w") as f:
        f.write("not a module\n")
    t.step("an unreadable module added", 1)
    t.step("nothing changed, an unreadable module", 0)
    os.unlink(broken)
    t.step("the unreadable module removed", 0)
    # an index changed behind depmod's back is written again, alone (modules.dep kept)
    with open(os.path.join(t.moddir, "modules.symbols"), "a") as f:
        f.write("alias symbol:kmodx_forged kmodx_forged\n")
    os.unlink(os.path.join(t.moddir, "modules.alias.bin"))
    t.step("an index changed and one removed by hand", 0, keeps_unchanged=True)
    # in place, as cp does it: same inode, other contents and symbols
    with open(mods[51], "rb") as f:
        other = f.read()
    with open(mods[50], "r+b") as f:
        f.truncate(0)
        f.write(other)
    t.step("a module replaced in place by one with other symbols", 1)
    renamed = mods[60].replace(ext, "_renamed" + ext)
    os.rename(mods[60], renamed)
    t.step("a file renamed", 1)
    swapped = swap_compression(mods[70])
    t.step("a compressed module swapped for a plain one" if ext != ".ko"
           else "a plain module swapped for a compressed one", 1)
    swap_compression(swapped)
    t.step("and back", 1)
    # a directory reached through a symbolic link: listed from the cache like any other,
    # the link resolved by stat() each time
    outside = os.path.join(work, "outside")
    copy_new(mods[85], os.path.join(outside, "kmodx_linked" + ext))
    linked = os.path.join(t.moddir, "extra/linked")
    os.makedirs(os.path.dirname(linked), exist_ok=True)
    os.symlink(outside, linked)
    t.step("a directory linked in", 1)
    t.step("nothing changed, a directory linked in", 0, dirs=0)
    copy_new(mods[86], os.path.join(outside, "kmodx_linked2" + ext))
    t.step("a module added in the linked directory", 1, dirs=1)
    os.unlink(linked)
    t.step("the link removed", 0)
    order = os.path.join(t.moddir, "modules.order")
    with open(order) as f:
        lines = f.readlines()
    with open(order, "w") as f:
        f.writelines(lines[100:] + lines[:100])
    t.step("modules.order changed", 0)
    with open(os.path.join(t.cfg, "test.conf"), "w") as f:
        name = os.path.basename(over).split(".")[0]
        f.write(f"search built-in updates\noverride {name} * updates/dkms\nexclude dkms\n")
    t.step("configuration changed", "all")
    t.step("nothing changed after the configuration", 0)
    data = read_file(cache)
    with open(cache, "wb") as f:
        f.write(data[:len(data) // 2])
    t.step("the cache truncated", "all")
    corrupt(cache, 2000)  # a record
    t.step("the cache's first part corrupted", "all")
    corrupt(cache, -100)  # the string table
    t.step("its second part corrupted, nothing changed (not read)", 0)
    copy_new(mods[80], os.path.join(t.moddir, "extra/kmodx_second" + ext))
    t.step("its second part corrupted, a module added", "all")
    symvers = os.path.join(work, "Module.symvers")
    with open(symvers, "w") as f:
        f.write("0x12345678\tkfree\tvmlinux\tEXPORT_SYMBOL\t\n"
                "0x0badcafe\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n")
    t.step("-E given", "all", ("-E", symvers))
    t.step("-E given, nothing changed", 0, ("-E", symvers))
    with open(symvers, "a") as f:
        f.write("0x00000001\tkmalloc\tvmlinux\tEXPORT_SYMBOL\t\n")
    t.step("-E file changed", "all", ("-E", symvers))
    t.step("without -E again", "all")


def other_release(t):
    """A cache written for another kernel release of the same modules must be ignored."""
    other = t.kver + "-other"
    os.rename(t.moddir, os.path.join(t.root, "lib/modules", other))
    os.unlink(os.path.join(t.root, "lib/modules", other, CACHE))
    run([t.depmod, "-C", t.cfg, "-b", t.root, other])
    os.rename(os.path.join(t.root, "lib/modules", other), t.moddir)
    t.step("the cache of another kernel release", "all")


def main():
    bindir = bin_dir_arg(__doc__)
    depmod = os.path.join(bindir, "depmod")
    chk = Checker()
    o34 = oracle_34()
    if not o34:
        print("note: kmod 34.2 (../shared/oracle) is absent: compared with full kmodx runs only")
    if not STRACE and not SANITIZED:
        print("note: strace is absent: the number of modules each run reads is not checked")
    variants = (None, "xz")
    if SANITIZED:
        # under ASan the xz variant adds decompression time, not code: the xz reader
        # is covered there by differential-depmod and the fuzz harnesses
        variants = (None,)
        print("note: sanitized build: the plain tree only")
    for variant in variants:
        src = tree_or_skip(variant)
        kver = realtree.kernel_release(src)
        work = tempfile.mkdtemp(prefix="kmodx-depmod-cache-")
        try:
            t = Tree(chk, depmod, o34, src, kver, work, variant or "plain")
            steps(t, work)
            other_release(t)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return chk.finish("depmod cache differential")


if __name__ == "__main__":
    sys.exit(main())
