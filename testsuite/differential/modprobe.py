#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""modprobe: kmodx against Debian's kmod 30 and kmod 34.2 on the real tree, loading nothing.

-D (--show-depends) for every module, one call each for a sample and all of them in one
call; -R for thousands of concrete modalias strings derived from modules.alias, and
strings that match nothing; -c with a rich modprobe.d set; and dry runs through aliases,
blacklists, softdeps and install/remove commands. Output, errors and exit codes must be
identical, except the source locations Debian's kmod prints in its library's messages.
kmod 34.2 (../shared) runs the same comparisons when it is there.

Both tools get the same explicit configuration (-C); kmodx also gets --root pointing at a
directory holding a copy of the host's /proc/cmdline, which kmod reads directly.
Usage: modprobe.py KMODX_BIN_DIR
"""
import os
import random
import re
import shutil
import sys
import tempfile

from common import bin_dir_arg, Checker, concretize, references, run, tree_or_skip
import realtree

# Debian's kmod prints the source location of its library's messages; and messages from
# parsing configuration, which kmod emits before modprobe sets up its logging, come out
# as "libkmod: ERROR <location> <function>: ..." in kmod 30 and "libkmod: ERROR:
# <function>: ..." in kmod 34 (kmodx: "modprobe: ERROR: ...", modprobe.8).
LIBKMOD_LOCATION = re.compile(rb"\.\./libkmod/[a-z-]+\.c:\d+ [a-z_]+\(\) ")
LIBKMOD_DEFAULT_LOG = re.compile(
    rb"^libkmod: ERROR(?: \.\./libkmod/[a-z-]+\.c:\d+|:) [a-z_]+: ", re.M)
# kmod 30 answered ENOENT where a module has no symbol table section; kmod 34 and kmodx
# ENODATA (modinfo.8)
NO_SECTION_30 = re.compile(rb"^(modprobe: FATAL: could not get (?:symbols|modversions) of "
                           rb".*: )No such file or directory$", re.M)


def normalize_kmod_stderr(err, label):
    err = LIBKMOD_DEFAULT_LOG.sub(b"modprobe: ERROR: ", LIBKMOD_LOCATION.sub(b"", err))
    if label == "kmod-30":
        err = NO_SECTION_30.sub(rb"\1No data available", err)
    return err

RICH_CONFIG = """\
# a rich configuration
alias my-vfat vfat
alias pci:v0000DEADd* e1000e
alias fs-* loop
options loop max_loop=8
options	vfat	utf8=1 \\
  shortname=mixed
options my-vfat codepage=850
install dummy /bin/true
install bogus-cmd /bin/echo installing $CMDLINE_OPTS
remove dummy /bin/true
blacklist pcspkr
blacklist snd-pcsp
softdep vfat pre: nls_cp437 nls_iso8859-1 post: nls_utf8
softdep ext4 pre: crc32c
softdep cifs
softdep fat post: nls_ascii
garbage line here
options
"""


def main():
    bindir = bin_dir_arg(__doc__)
    new = os.path.join(bindir, "modprobe")
    chk = Checker()
    for label, refdir, env in references():
        against(chk, label, os.path.join(refdir, "modprobe"), env, new)
    return chk.finish("modprobe differential")


def against(chk, label, ref, env, new):
    root = tree_or_skip()
    kver = realtree.kernel_release(root)
    moddir = os.path.join(root, "lib/modules", kver)
    work = tempfile.mkdtemp(prefix="kmodx-modprobe-diff-")
    try:
        fake = os.path.join(work, "root")
        os.makedirs(os.path.join(fake, "proc"))
        try:
            shutil.copy("/proc/cmdline", os.path.join(fake, "proc", "cmdline"))
        except OSError:
            open(os.path.join(fake, "proc", "cmdline"), "w").close()
        empty = os.path.join(work, "empty.d")
        os.makedirs(empty)
        rich = os.path.join(work, "rich.d")
        os.makedirs(rich)
        with open(os.path.join(rich, "50-test.conf"), "w") as f:
            f.write(RICH_CONFIG)
        with open(os.path.join(rich, "10-first.conf"), "w") as f:
            f.write("alias my-loop loop\noptions loop max_part=4\n")

        def compare(what, args, config=empty):
            what = f"{label}: {what}"
            common = ["-d", root, "-S", kver, "-C", config]
            rc1, out1, err1 = run([ref] + common + args, env=env)
            rc2, out2, err2 = run([new, "--root", fake] + common + args)
            ok = chk.same(what + " [exit code]", rc1, rc2)
            ok &= chk.same(what + " [stdout]", out1, out2)
            ok &= chk.same(what + " [stderr]", normalize_kmod_stderr(err1, label), err2)
            return ok

        names = []
        with open(os.path.join(moddir, "modules.dep")) as f:
            for line in f:
                names.append(os.path.basename(line.split(":")[0]).split(".")[0])
        rnd = random.Random(42)
        for name in rnd.sample(names, 250) + ["vfat", "bonding", "snd-hda-intel", "8250"]:
            compare(f"-D {name}", ["-D", name])
        compare(f"-a -D (all {len(names)} modules in one call)", ["-a", "-D"] + names)
        compare("-D with the rich configuration", ["-a", "-D", "vfat", "ext4", "my-vfat",
                                                    "my-loop", "loop", "fat", "dummy"], rich)

        aliases = []
        with open(os.path.join(moddir, "modules.alias")) as f:
            patterns = [l.split()[1] for l in f if l.startswith("alias ")]
        for p in rnd.sample(patterns, 1200):
            aliases.append(concretize(p, "", rnd))
            aliases.append(concretize(p, "0" * rnd.randint(1, 6), rnd))
        aliases += ["pci:v0000FFFFd0000FFFFsv0sd0bc0sc0i0", "usb:v0000p0000d0000dc00dsc00dp00ic00isc00ip00in00",
                    "no-such-thing", "acpi:NOPE:", "platform:nope", "cpu:type:x86,ven0000fam0006mod003F:feature:,0000"]
        for start in range(0, len(aliases), 400):
            chunk = aliases[start:start + 400]
            compare(f"-a -R modaliases {start}..{start + len(chunk)}", ["-a", "-R"] + chunk)
        for a in rnd.sample(aliases, 120):
            compare(f"-R {a}", ["-R", a])
        print(f"modalias strings resolved: {len(aliases)}")

        compare("-c with the rich configuration", ["-c"], rich)
        compare("-c with no configuration", ["-c"])
        for args in (["-n", "-v", "my-vfat"], ["-n", "-v", "pcspkr"], ["-n", "-v", "-b", "pcspkr"],
                     ["-n", "-v", "snd-pcsp"], ["-R", "pcspkr"], ["-n", "-v", "-i", "vfat"],
                     ["-n", "-v", "bogus-cmd", "x=1", "y=a b"], ["-D", "dummy"], ["-D", "-i", "dummy"],
                     ["-n", "-v", "-r", "dummy"], ["-n", "-v", "-r", "-i", "dummy"], ["-D", "fs-anything"],
                     ["-n", "-v", "loop", "max_loop=2"], ["--show-depends", "my-loop"],
                     ["-D", "-a", "nope", "vfat"], ["-D", "nope"], ["-r", "nope"], ["-D", "symbol:fat_fill_super"],
                     ["-R"], []):
            compare("modprobe " + " ".join(args), args, rich)
        mods = [os.path.join(moddir, "kernel/fs/fat/vfat.ko"), os.path.join(moddir, "kernel/drivers/net/bonding/bonding.ko")]
        for m in mods:
            compare(f"--show-modversions {os.path.basename(m)}", ["--show-modversions", m])
            compare(f"--show-exports {os.path.basename(m)}", ["--show-exports", m])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
