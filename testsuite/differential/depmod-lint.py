#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""depmod --lint on the real tree: clean, it reports nothing; with problems injected, it
reports exactly those.

The clean tree is linted with every source of kernel exports: none (the rule for trees
without one), -E with Debian's linux-headers Module.symvers (with which kmod's depmod -e
-E warns about nothing either, checked too), the same file found by itself in a root that
has the headers where Debian installs them, and -F with Debian's stub System.map (named
as a stub). Then, in that root: a module needing a symbol nothing exports, a module
built for another kernel, a module of the tree again under updates/, a softdep on a
module that does not exist, two modules needing each other, a file that is no module,
and a firmware file that is missing (every firmware file the tree's modules name is put
under /lib/firmware, empty, so that only that one is missing). The JSON report must list
exactly those, and the text report must say as much; and without the headers, where the
kernel's exports are guessed, the same. Usage: depmod-lint.py KMODX_BIN_DIR
"""
import json
import os
import shutil
import sys
import tempfile
import time

from common import bin_dir_arg, Checker, load_script, run, SKIP, tree_or_skip
import realtree

GROUPS = ("cycles", "unknown_symbols", "vermagic_differs", "duplicates", "missing_modules",
          "missing_firmware", "unreadable")




def lint(chk, what, depmod, args, kver, exports=None, problems=0, messages=b""):
    """Run --lint and --lint --json; check the exit status and return the document."""
    rc, out, err = run([depmod, "--lint", "--json"] + args + [kver])
    chk.same(f"{what}: exit status", 1 if problems else 0, rc)
    chk.same(f"{what}: messages", messages, err)
    doc = json.loads(out)
    chk.same(f"{what}: problems", problems, doc["problems"])
    if exports is not None:
        chk.same(f"{what}: kernel exports from", exports, doc["kernel_exports"]["file"])
    rc, out, _ = run([depmod, "--lint"] + args + [kver])
    last = out.decode().splitlines()[-1] if out else ""
    chk.same(f"{what}: text summary", f"{problems} problems" if problems else "no problems",
             last)
    return doc


def lint_messages(root, kver):
    broken = os.path.join(root, "lib/modules", kver, "updates/broken.ko")
    return f"depmod: ERROR: failed to load symbols from {broken}: Exec format error\n".encode()


def make_root(src, headers, kver, work):
    """The tree (hard links) with the headers where Debian puts them."""
    root = os.path.join(work, "root")
    moddir = os.path.join(root, "lib/modules", kver)
    shutil.copytree(os.path.join(src, "lib/modules", kver), moddir, copy_function=os.link)
    os.symlink("/usr/src/linux-headers-" + kver, os.path.join(moddir, "build"))
    os.makedirs(os.path.join(root, "usr/src"))
    os.symlink(os.path.join(headers, "usr/src/linux-headers-" + kver),
               os.path.join(root, "usr/src/linux-headers-" + kver))
    return root, moddir


def clean(chk, depmod, src, headers, kver, root):
    symvers = os.path.join(headers, "usr/src/linux-headers-" + kver, "Module.symvers")
    rc, _, err = run([shutil.which("depmod") or "/usr/sbin/depmod", "-n", "-e", "-E", symvers,
                      "-b", src, kver])
    chk.same("kmod depmod -e -E on the clean tree: warnings", b"", err)
    doc = lint(chk, "clean, no source", depmod, ["-b", src], kver, exports=None)
    chk.same("clean: firmware checked", False, doc["firmware_checked"])
    doc = lint(chk, "clean, -E", depmod, ["-E", symvers, "-b", src], kver, exports=symvers)
    chk.same("clean, -E: symbols", True, doc["kernel_exports"]["symbols"] > 10000)
    found = os.path.join(root, "usr/src/linux-headers-" + kver, "Module.symvers")
    lint(chk, "clean, Module.symvers found", depmod, ["-b", root], kver, exports=found)
    smap = os.path.join(src, "boot", "System.map-" + kver)
    if os.path.exists(smap):
        doc = lint(chk, "clean, -F stub", depmod, ["-F", smap, "-b", root], kver,
                   exports=found)
        chk.same("clean, -F stub: named", smap, doc["kernel_exports"]["stub"])
    for g in GROUPS:
        chk.same(f"clean: {g}", [], doc[g])


def firmware_of_tree(kmodx, moddir):
    """Every firmware file the tree's modules name."""
    mods = sorted(os.path.join(d, f) for d, _, fs in os.walk(moddir) for f in fs
                  if f.endswith(".ko"))
    rc, out, _ = run([kmodx, "modinfo", "-F", "firmware"] + mods)
    return sorted(set(out.decode().split()))


def inject(kmodx, root, moddir, vermagic):
    gen = load_script("genmodule", "gen-module.py")
    dkms = "lib/modules/" + os.path.basename(moddir) + "/updates/dkms/"
    good = ["license=GPL", "vermagic=" + vermagic]
    specs = {
        dkms + "kmodx_unknown.ko": {"modinfo": good, "undefined": ["_printk", "kmodx_gone"]},
        dkms + "kmodx_oldmagic.ko": {"modinfo": ["license=GPL",
                                                 "vermagic=6.1.0-1-amd64 SMP mod_unload"],
                                     "undefined": ["_printk"]},
        dkms + "kmodx_softdep.ko": {"modinfo": good + ["softdep=pre: kmodx_no_such post: vfat"],
                                    "undefined": ["_printk"]},
        dkms + "kmodx_cyc_a.ko": {"modinfo": good, "exports": ["kmodx_a"],
                                  "undefined": ["kmodx_b", "_printk"]},
        dkms + "kmodx_cyc_b.ko": {"modinfo": good, "exports": ["kmodx_b"],
                                  "undefined": ["kmodx_a", "_printk"]},
        dkms + "kmodx_fw.ko": {"modinfo": good + ["firmware=kmodx/missing.bin",
                                                  "firmware=kmodx/present.bin"],
                               "undefined": ["_printk"]},
    }
    gen.generate_many(specs, root)
    os.link(os.path.join(moddir, "kernel/fs/isofs/isofs.ko"),
            os.path.join(moddir, "updates/isofs.ko"))
    with open(os.path.join(moddir, "updates/broken.ko"), "w") as f:
        f.write("not a module\n")
    fw = os.path.join(root, "lib/firmware")
    for name in firmware_of_tree(kmodx, moddir) + ["kmodx/present.bin"]:
        if name == "kmodx/missing.bin":
            continue
        os.makedirs(os.path.dirname(os.path.join(fw, name)), exist_ok=True)
        open(os.path.join(fw, name), "w").close()


def expected():
    d = "updates/dkms/"
    return {
        "cycles": [{"modules": [d + "kmodx_cyc_a.ko", d + "kmodx_cyc_b.ko"]}],
        "unknown_symbols": [{"module": d + "kmodx_unknown.ko", "symbols": ["kmodx_gone"]}],
        "vermagic_differs": [{"module": d + "kmodx_oldmagic.ko",
                              "vermagic": "6.1.0-1-amd64 SMP mod_unload"}],
        "duplicates": [{"used": "updates/isofs.ko", "name": "isofs",
                        "ignored": ["kernel/fs/isofs/isofs.ko"]}],
        "missing_modules": [{"in": d + "kmodx_softdep.ko", "kind": "softdep",
                             "names": ["kmodx_no_such"]}],
        "missing_firmware": [{"module": d + "kmodx_fw.ko", "files": ["kmodx/missing.bin"]}],
        "unreadable": [{"module": "updates/broken.ko", "error": "Exec format error"}],
    }


def cached(chk, depmod, root, moddir, kver, want):
    """--lint where a normal run left its cache: the report of a run without it. The
    cycle goes first (a tree with one gets no indexes, hence no cache), and the files
    must be older than the cache's 2 s racy window, or they would be read again."""
    for f in ("kmodx_cyc_a.ko", "kmodx_cyc_b.ko"):
        os.unlink(os.path.join(moddir, "updates/dkms", f))
    time.sleep(2.1)
    # (twice: a tree's first indexing leaves no cache, depmod.8, CACHE)
    for _ in range(2):
        rc, _, _ = run([depmod, "-b", root, kver])
    chk.same("normal run: exit status", 0, rc)
    chk.same("normal run: its cache", True,
             os.path.exists(os.path.join(moddir, "modules.kmodx-cache")))
    rc, out, err = run([depmod, "--lint", "--json", "-b", root, kver])
    rc2, out2, err2 = run([depmod, "--lint", "--json", "--no-cache", "-b", root, kver])
    chk.same("with the cache: exit status", rc2, rc)
    chk.same("with the cache: messages", err2, err)
    chk.same("with the cache: report", json.loads(out2), json.loads(out))
    chk.same("with the cache: unknown symbols", want["unknown_symbols"],
             json.loads(out)["unknown_symbols"])


def main():
    bindir = bin_dir_arg(__doc__)
    depmod, kmodx = os.path.join(bindir, "depmod"), os.path.join(bindir, "kmodx")
    src = tree_or_skip()
    try:
        headers = realtree.ensure_headers()
    except Exception as e:  # noqa: BLE001 - any failure to get the headers is a skip
        print(f"SKIP: Debian's linux-headers are not available: {e}", file=sys.stderr)
        return SKIP
    kver = realtree.kernel_release(src)
    chk = Checker()
    work = tempfile.mkdtemp(prefix="kmodx-depmod-lint-")
    try:
        root, moddir = make_root(src, headers, kver, work)
        clean(chk, depmod, src, headers, kver, root)
        rc, out, _ = run([kmodx, "modinfo", "-F", "vermagic",
                          os.path.join(moddir, "kernel/fs/fat/vfat.ko")])
        inject(kmodx, root, moddir, out.decode().rstrip("\n"))  # its trailing space too
        want = expected()
        doc = lint(chk, "injected", depmod, ["-b", root], kver, problems=len(want),
                   messages=lint_messages(root, kver))
        # a cycle's modules come in module order, which for these is kmod's hash order
        doc["cycles"] = [{"modules": sorted(c["modules"])} for c in doc["cycles"]]
        for g in GROUPS:
            chk.same(f"injected: {g}", want[g], doc[g])
        # without the headers: the kernel's exports are what kernel/'s modules need
        bare = os.path.join(work, "bare")
        shutil.copytree(os.path.join(root, "lib"), os.path.join(bare, "lib"), symlinks=True,
                        copy_function=os.link)
        doc = lint(chk, "injected, no source", depmod, ["-b", bare], kver, exports=None,
                   problems=len(want), messages=lint_messages(bare, kver))
        doc["cycles"] = [{"modules": sorted(c["modules"])} for c in doc["cycles"]]
        chk.same("injected, no source: unknown symbols", want["unknown_symbols"],
                 doc["unknown_symbols"])
        cached(chk, depmod, root, moddir, kver, want)
        rc, out, err = run([depmod, "--lint", "-b", root, kver])
        print(out.decode())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return chk.finish("depmod lint on the real tree")


if __name__ == "__main__":
    sys.exit(main())
