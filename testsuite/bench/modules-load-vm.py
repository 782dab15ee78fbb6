#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""kmodx modules-load against systemd-modules-load on a real kernel with 2 vCPUs.

Boots the VM of testsuite/vm (vm-test.py's image, plus the modules of
modules-load.list and Debian's systemd-modules-load with libsystemd-shared, from
apt-get download and dpkg-deb -x) with -smp 2, loads the list from nothing in
alternating rounds with systemd-modules-load (sequential), kmodx modules-load -j 1
and kmodx modules-load -j 2, and prints the median wall time of each and the ratios.
Under TCG the absolute times are slow; the ratios are what to read.

Usage (root, like vm-test.py): modules-load-vm.py --kmodx build/tools/kmodx
    --workdir /tmp/ml-bench [--rounds N]
"""
import argparse
import glob
import importlib.util
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VM = os.path.join(HERE, "..", "vm")


def load_vm():
    spec = importlib.util.spec_from_file_location("vmtest", os.path.join(VM, "vm-test.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def systemd_root(cache):
    """Debian's systemd and libsystemd-shared, unpacked once into the cache."""
    root = os.path.join(cache, "systemd-root")
    if os.path.exists(os.path.join(root, "lib/systemd/systemd-modules-load")):
        return root
    debs = os.path.join(cache, "systemd-debs")
    os.makedirs(debs, exist_ok=True)
    subprocess.run(["apt-get", "download", "systemd", "libsystemd-shared"], cwd=debs,
                   check=True, capture_output=True)
    for deb in glob.glob(os.path.join(debs, "*.deb")):
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    return root


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kmodx", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    vm = load_vm()
    vm.ensure_packages()
    tree = vm.realtree.ensure_tree()
    kver = vm.realtree.kernel_release(tree)
    vmdir = os.path.join(vm.realtree.cache_dir(), "vm", kver)
    os.makedirs(vmdir, exist_ok=True)
    vmlinux = vm.extract_vmlinux(os.path.join(tree, "boot", "vmlinuz-" + kver),
                                 os.path.join(vmdir, "vmlinux"))
    bench = vm.read_modules_list(os.path.join(HERE, "modules-load.list"))
    plain = vm.read_modules_list
    vm.read_modules_list = lambda path: plain(path) + bench
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    base = vm.build_base(os.path.abspath(args.kmodx), tree, kver, workdir)
    sd = systemd_root(vm.realtree.cache_dir())
    sml = os.path.join(sd, "lib/systemd/systemd-modules-load")
    vm.add_file_at(base, sml, "/sd/lib/systemd/systemd-modules-load")
    for lib in glob.glob(os.path.join(sd, "usr/lib/x86_64-linux-gnu/systemd/*.so")):
        vm.add_file_at(base, lib, "/sd/usr/lib/x86_64-linux-gnu/systemd/" + os.path.basename(lib))
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(sd, "usr/lib/x86_64-linux-gnu/systemd"))
    out = subprocess.run(["ldd", sml], capture_output=True, text=True, env=env).stdout
    for path in re.findall(r"=> (/\S+)", out):
        if "/systemd/" not in path:
            vm.add_file_at(base, path)
    base.file("/etc/modules-load.d/bench.conf", "".join(m + "\n" for m in bench).encode())
    base.file("/tests/scenarios/bench.sh",
              f"BENCH_ROUNDS={args.rounds}\n".encode()
              + open(os.path.join(HERE, "modules-load-guest.sh"), "rb").read())
    base.file("/tests/groups/bench", b"bench\n")
    tail = vm.Cpio()
    tail.file("/tests/group", b"bench\n")
    tail.file("/tests/timeout", b"1500\n")
    initrd = os.path.join(workdir, "initramfs-bench.cpio")
    with open(initrd, "wb") as f:
        f.write(base.bytes() + tail.bytes())
    cmd = vm.qemu_cmd
    vm.qemu_cmd = lambda *a: [("2" if w == "1" and i and c[i - 1] == "-smp" else
                               "1024M" if w == "256M" else w)
                              for c in [cmd(*a)] for i, w in enumerate(c)]
    vm.BOOT_TIMEOUT = 1800
    logpath = os.path.join(workdir, "console-bench.log")
    rc, timed_out, secs = vm.boot(vmlinux, initrd, [], logpath)
    text = open(logpath, "rb").read().decode("utf-8", "replace")
    times = {}
    for line in text.splitlines():
        m = re.match(r"BENCH (\S+) (\d+) (\d+) (\d+) rc=(\d+)", line)
        if m:
            times.setdefault(m.group(1), []).append((int(m.group(3)), int(m.group(4)),
                                                     int(m.group(5))))
        elif line.startswith("BENCH "):
            print(line)
    if not times:
        print(f"modules-load-vm: no measurements (qemu exit {rc}, timed out: {timed_out});"
              f" console: {logpath}")
        return 1
    med = {}
    for tool, runs in times.items():
        med[tool] = statistics.median(t for t, _, _ in runs)
        print(f"{tool:10} median {med[tool]:7.0f} ms over {len(runs)} runs "
              f"(each: {' '.join(str(t) for t, _, _ in runs)}; modules loaded "
              f"{sorted(set(n for _, n, _ in runs))}, exit {sorted(set(r for _, _, r in runs))})")
    base_t = med.get("systemd")
    for tool in ("kmodx-j1", "kmodx-jN"):
        if base_t and tool in med:
            print(f"ratio {tool}/systemd: {med[tool] / base_t:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
