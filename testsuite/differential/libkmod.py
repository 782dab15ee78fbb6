#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""libkmod.so.2: kmodx's library against kmod 34.2's and Debian's kmod 30 on the real tree.

One client program (testsuite/libkmod/libkmod-client.c) calls every exported function
and prints what it gets; it runs on each library in turn (LD_LIBRARY_PATH) and the
outputs must be identical:
- kmodx's against kmod 34.2's (all 75 functions), when ../shared/oracle/kmod-34.2 is
  there ($KMODX_ORACLE_DIR overrides; skipped otherwise);
- kmodx's against Debian's libkmod2 (kmod 30) without the weak dependencies kmod 30
  lacks, after the documented kmod 30 to 34 changes (KMOD30_CHANGES below).
Passes: the context, the configuration iterators on a rich modprobe.d, every index dump,
all modules by name (info, dependencies, softdeps, weakdeps, symbols, versions,
dependency symbols, filters), 2,000 modalias strings and the configured aliases, hostile
and unusual module files, NULL arguments; and, in a user and mount namespace with a made
up /sys/module and /proc (skipped where unshare cannot make one), the running kernel's
state, insert/remove answers and dry-run probes with every flag.

The inputs avoid the deliberate differences documented in README.md ("libkmod.so.2"):
names that are paths, zstd frames without a content size, softdeps next to an install
command, holders sorted the way sysfs lists them, /proc/modules standing in for a
missing /sys/module/<name>.

Usage: libkmod.py BUILD_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from common import bin_dir_arg, Checker, modaliases, tree_or_skip
import realtree

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../libkmod"))
from client import Runner, make_kernel, sandbox_ok  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "../.."))
DEBIAN_LIB = "/usr/lib/x86_64-linux-gnu/libkmod.so.2"

# kmod 30 answers that kmod 34 changed; 34.2 wins, so both outputs are rewritten before
# comparing with kmod 30 (the comparison with 34.2 sees them as they are).
KMOD30_CHANGES = [
    # no __versions or no exports: ENOENT in kmod 30, ENODATA in 34 (and ENOENT for a
    # module without a file in both)
    (re.compile(rb"^(  (?:versions|symbols)): -(?:2|61)$", re.M), rb"\1: -ENOENT/ENODATA"),
]

def library_dirs(work):
    """name -> directory holding libkmod.so.2 for that library, and the API it has."""
    libs = {}
    oracle = os.environ.get("KMODX_ORACLE_DIR",
                            os.path.join(SRC, "..", "shared", "oracle", "kmod-34.2"))
    oracle_lib = os.path.join(oracle, "lib", "libkmod.so.2.5.1")
    for name, target in (("kmod-34.2", oracle_lib), ("kmod-30", DEBIAN_LIB)):
        if not os.path.exists(target):
            print(f"SKIP part: {name}'s library is not available ({target})")
            continue
        d = os.path.join(work, "lib-" + name)
        os.makedirs(d)
        os.symlink(os.path.realpath(target), os.path.join(d, "libkmod.so.2"))
        libs[name] = d
    return libs


def compare(chk, what, ref, new, max_lines=20):
    """Like Checker.same, without difflib on outputs of a million lines."""
    chk.checks += 1
    if ref == new:
        return
    chk.failures += 1
    a, b = ref.split(b"\n"), new.split(b"\n")
    print(f"FAIL: {what} ({len(a)} and {len(b)} lines)")
    shown = 0
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else b"<end>"
        y = b[i] if i < len(b) else b"<end>"
        if x != y:
            print(f"  line {i + 1}:\n    reference: {x[:200]!r}\n    kmodx:     {y[:200]!r}")
            shown += 1
            if shown == max_lines or len(a) != len(b):
                break


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def inputs(work, moddir):
    names = []
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            base = os.path.basename(line.split(":")[0])
            names.append(base.split(".")[0].replace("-", "_"))
    # a builtin module, an alias, a name with dashes and a suffix, nothing at all
    extra = ["crc32c_generic", "8250", "my-ext", "snd-hda-intel.ko", "no_such_module"]
    aliases = modaliases(moddir, 2000)
    aliases += ["my-ext", "my_fs_x", "net-pf-99", "pci:v00008086d0000FFFFsv0sd0bc0sc0i0",
                "blk-dev", "builtin-thing", "nowhere", "snd-card-2", "snd-card-7",
                "symbol:jbd2_journal_start", "fs-ext4", "nfs-fake", "fake-only-command",
                "dummy", "no-such-thing", "platform:nope", "[bad", "usb:*"]
    probes = ["ext4", "xfs", "btrfs", "e1000e", "pcspkr", "snd-pcsp", "my-ext", "blk-dev",
              "nfs-fake", "fake-only-command", "loop", "jbd2", "crc32c_generic", "8250",
              "snd-card-1", "vfat", "fs-vfat"]
    return (write_lines(os.path.join(work, "names"), extra + names),
            write_lines(os.path.join(work, "aliases"), aliases),
            write_lines(os.path.join(work, "probes"), probes))


def edge_files(work, moddir):
    """Hostile and unusual module files; kmod 30 reads no gzip (Debian builds it
    without zlib), so those are listed separately."""
    d = os.path.join(work, "edge")
    subprocess.run([sys.executable, os.path.join(SRC, "testsuite/gen-module.py"), "--many",
                    os.path.join(SRC, "testsuite/libkmod/edge-modules.json"), d], check=True)
    with open(os.path.join(d, "text.ko"), "w") as f:
        f.write("not an ELF file\n")
    open(os.path.join(d, "empty.ko"), "w").close()
    real = os.path.join(moddir, "kernel/fs/ext4/ext4.ko")
    for tool, ext in (("xz", "xz"), ("zstd", "zst"), ("gzip", "gz")):
        if shutil.which(tool):
            out = os.path.join(d, "ext4-real.ko." + ext)
            # from the file, not a pipe: zstd then records the size kmod needs
            with open(out, "wb") as dst:
                subprocess.run([tool, "-q", "-c", real], stdout=dst, check=True)
    files = sorted(os.path.join(d, f) for f in os.listdir(d)) + [os.path.join(d, "missing.ko")]
    return (write_lines(os.path.join(work, "files"), files),
            write_lines(os.path.join(work, "files-no-gz"), [f for f in files if not f.endswith(".gz")]))


def main():
    build = bin_dir_arg(__doc__)
    client = os.path.join(build, "testsuite/libkmod/libkmod-client")
    ours = os.path.join(build, "libkmod")
    root = tree_or_skip()
    moddir = os.path.join(root, "lib/modules", realtree.kernel_release(root))
    work = tempfile.mkdtemp(prefix="libkmod-diff-")
    chk = Checker()
    try:
        libs = library_dirs(work)
        if not libs:
            print("SKIP: neither kmod 34.2's nor Debian's libkmod.so.2 is available",
                  file=sys.stderr)
            return 77
        sysmod, proc = make_kernel(work)
        sandbox = sandbox_ok()
        if not sandbox:
            print("SKIP part: no user and mount namespace (unshare -rm): state and probe passes")
        r = Runner(client, moddir, os.path.join(SRC, "testsuite/libkmod/modprobe.d"), work,
                   sysmod, proc)
        names, aliases, probes = inputs(work, moddir)
        files, files_no_gz = edge_files(work, moddir)
        chk.same("kmodx's client loads kmodx's library", os.path.realpath(r.which(ours)),
                 os.path.realpath(os.path.join(ours, "libkmod.so.2")))
        passes = [("ctx", None, False), ("config", None, False), ("dump", None, False),
                  ("null", None, False), ("modules", names, False), ("lookup", aliases, False),
                  ("state", None, True), ("probe", probes, True)]
        for ref, libdir in libs.items():
            api30 = ref == "kmod-30"
            chk.same(f"the client loads {ref}'s library", os.path.realpath(r.which(libdir)),
                     os.path.realpath(os.path.join(libdir, "libkmod.so.2")))
            for cmd, arg, needs_sandbox in passes + [("paths", files_no_gz if api30 else files, False)]:
                if (needs_sandbox and not sandbox) or (api30 and cmd == "null"):
                    continue
                # in the namespace when there is one: /proc/cmdline is then ours too
                rc1, out1 = r.run(libdir, api30, cmd, arg, sandbox)
                rc2, out2 = r.run(ours, api30, cmd, arg, sandbox)
                if api30:
                    for pattern, repl in KMOD30_CHANGES:
                        out1, out2 = pattern.sub(repl, out1), pattern.sub(repl, out2)
                what = f"{cmd} against {ref}"
                chk.same(what + " [exit code]", rc1, rc2)
                compare(chk, what + " [output]", out1, out2)
                print(f"{what}: {len(out2.splitlines())} lines")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return chk.finish("libkmod differential")


if __name__ == "__main__":
    sys.exit(main())
