#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""libkmod.so.2 under valgrind's memcheck: the client of every function
(libkmod-client) over a small generated tree, each pass once. An invalid access or a
definite or indirect leak fails the test (valgrind exits 99 and prints its report).

The tree: the unit tests' depmod tree and the hostile modules of edge-modules.json,
indexed by kmodx's depmod, with testsuite/libkmod/modprobe.d. The passes that look at
the running kernel run in a user and mount namespace with a made-up /sys/module and
/proc (skipped where unshare cannot make one).

Usage: valgrind.py BUILD_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

from client import Runner, make_kernel, sandbox_ok

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "../.."))
KVER = "6.1.0-valgrind"
VALGRIND = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
            "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect"]


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def make_tree(build, work):
    root = os.path.join(work, "root")
    moddir = os.path.join(root, "lib/modules", KVER)
    gen = os.path.join(SRC, "testsuite/gen-module.py")
    subprocess.run([sys.executable, gen, "--many",
                    os.path.join(SRC, "testsuite/unit/data/depmod-tree.json"), moddir], check=True)
    edge = os.path.join(moddir, "kernel/edge")
    subprocess.run([sys.executable, gen, "--many",
                    os.path.join(HERE, "edge-modules.json"), edge], check=True)
    with open(os.path.join(moddir, "modules.builtin"), "w") as f:
        f.write("kernel/fs/bi.ko\n")
    with open(os.path.join(moddir, "modules.builtin.modinfo"), "wb") as f:
        f.write(b"bi.alias=bi-alias\0bi.license=GPL\0")
    subprocess.run([os.path.join(build, "tools/kmodx"), "depmod", "-b", root, KVER],
                   check=True, capture_output=True)
    files = sorted(os.path.join(edge, f) for f in os.listdir(edge))
    return moddir, files


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if shutil.which("valgrind") is None:
        print("SKIP: valgrind is not installed", file=sys.stderr)
        return 77
    build = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="libkmod-valgrind-")
    failures = 0
    try:
        moddir, files = make_tree(build, work)
        sysmod, proc = make_kernel(work)
        sandbox = sandbox_ok()
        r = Runner(os.path.join(build, "testsuite/libkmod/libkmod-client"), moddir,
                   os.path.join(HERE, "modprobe.d"), work, sysmod, proc)
        names = write_lines(os.path.join(work, "names"),
                            ["a", "b", "c", "bi", "edge-plain", "no_such_module"])
        aliases = write_lines(os.path.join(work, "aliases"),
                              ["fs-b", "pci:v00001234d00000001", "c-new", "symbol:a_func",
                               "bi-alias", "my-ext", "blk-dev", "nowhere", "dummy", "[bad"])
        paths = write_lines(os.path.join(work, "files"), files)
        passes = [("ctx", None), ("config", None), ("dump", None), ("null", None),
                  ("modules", names), ("lookup", aliases), ("paths", paths),
                  ("state", None), ("probe", aliases)]
        for cmd, arg in passes:
            if cmd in ("state", "probe") and not sandbox:
                print(f"SKIP part: {cmd} (no user and mount namespace)")
                continue
            rc, out = r.run(os.path.join(build, "libkmod"), False, cmd, arg, sandbox, VALGRIND)
            print(f"{cmd}: exit {rc}, {len(out.splitlines())} lines")
            if rc != 0:
                failures += 1
                print(f"FAIL: {cmd} under valgrind exits {rc}")
                sys.stdout.write(r.stderr.decode("utf-8", "replace")[-4000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"libkmod valgrind: {len(passes)} passes, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
