#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""depmod never leaves a broken index behind.

On a tree of a few hundred real modules, indexed once ("old"), then changed (modules
removed and added, whose indexes are "new"):
- write errors (full disk, read-only directory, failing flush, file size limit), made by
  faultinject.so or RLIMIT_FSIZE: depmod fails with an error naming the directory and
  the cause, and every index is still the old one, byte for byte, with no temporary file
  left;
- a failing rename half way: each index is old or new, never anything else;
- SIGKILL at random moments: each index is old or new, and the next run succeeds and
  removes what the killed run left.
And its cache (modules.kmodx-cache), with which most runs read only what changed:
- SIGKILL at random moments of incremental runs (from the old tree's cache to the new
  tree): each index is old or new, the next run writes the new indexes, and the run
  after it still does (the cache it left is sound);
- the cache failing to be written (its file cannot be created, the disk fills while it
  is written): the run still succeeds with the new indexes, leaves no temporary file,
  and the next run is right;
- the cache cut at random lengths: the next run is right.
Usage: depmod-safety.py KMODX FAULTINJECT_SO
"""
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import realtree  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "differential"))
from common import read_file  # noqa: E402

CACHE = "modules.kmodx-cache"
RACY_S = 2.1  # files changed this recently are read again by the next run (depmod.8)
OUTPUTS = ["modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin",
           "modules.softdep", "modules.weakdep", "modules.symbols", "modules.symbols.bin",
           "modules.builtin.bin", "modules.builtin.alias.bin", "modules.devname"]
SUBDIRS = ["kernel/fs", "kernel/lib", "kernel/crypto", "kernel/drivers/net/ethernet/intel"]
failures = 0



def preload_env(faultlib, **extra):
    """The environment that preloads the fault injector; in an ASan build the sanitizer's
    runtime is already first in the link order, so tell it not to insist on being first
    in the preload list too."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    asan = f"{asan}:verify_asan_link_order=0" if asan else "verify_asan_link_order=0"
    return dict(os.environ, LD_PRELOAD=faultlib, ASAN_OPTIONS=asan, **extra)

def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def make_tree(src, kver, dst):
    s = os.path.join(src, "lib/modules", kver)
    d = os.path.join(dst, "lib/modules", kver)
    for sub in SUBDIRS:
        shutil.copytree(os.path.join(s, sub), os.path.join(d, sub), copy_function=os.link)
    for f in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        shutil.copy(os.path.join(s, f), d)
    return d


def snapshot(moddir):
    out = {}
    for f in OUTPUTS:
        try:
            with open(os.path.join(moddir, f), "rb") as fp:
                out[f] = fp.read()
        except FileNotFoundError:
            out[f] = None
    return out


def temps(moddir):
    return [f for f in os.listdir(moddir) if ".kmodx-tmp." in f]


def change_tree(moddir):
    """Remove every fifth module, add copies under updates/, and give one module's path
    another module's file (other symbols, same path: what the cache must notice): new
    indexes."""
    mods = sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(moddir, "kernel"))
                  for f in fs if f.endswith(".ko"))
    os.makedirs(os.path.join(moddir, "updates"), exist_ok=True)
    for m in mods[1::7]:
        os.link(m, os.path.join(moddir, "updates", os.path.basename(m)))
    os.unlink(mods[3])
    shutil.copyfile(mods[4], mods[3])
    for m in mods[::5]:
        os.unlink(m)


def restore(moddir, state):
    for f, data in state.items():
        path = os.path.join(moddir, f)
        if data is None:
            if os.path.exists(path):
                os.unlink(path)
        else:
            with open(path, "wb") as fp:
                fp.write(data)
    for t in temps(moddir):
        os.unlink(os.path.join(moddir, t))


def write(path, data):
    if data is None:
        if os.path.exists(path):
            os.unlink(path)
        return
    with open(path, "wb") as f:
        f.write(data)


def kill_at_random(binary, root, kver, rnd, runtime, old, new, what):
    """A depmod run killed at a random moment of its usual runtime: every index must be
    the old one or the new one, whole."""
    proc = subprocess.Popen([binary, "depmod", "-b", root, kver], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(rnd.uniform(0, runtime * 1.2))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    now = snapshot(os.path.join(root, "lib/modules", kver))
    bad = [f for f in OUTPUTS if now[f] not in (old[f], new[f])]
    if bad:
        fail(f"{what}: broken indexes: {bad}")


def cache_cases(binary, faultlib, root, moddir, kver, old, new, old_cache, runtime):
    """The cache's share of the suite: the tree is in its new state, old_cache is what a
    run on the old tree left."""
    rnd = random.Random(11)
    kills = 30
    cache = os.path.join(moddir, CACHE)
    for i in range(kills):
        restore(moddir, old)
        write(cache, old_cache)
        kill_at_random(binary, root, kver, rnd, runtime, old, new, f"cache kill {i}")
        for n in ("next", "the one after"):
            p = depmod(binary, root, kver)
            if p.returncode != 0 or snapshot(moddir) != new:
                fail(f"cache kill {i}: the {n} run did not leave the new indexes")
        if temps(moddir):
            fail(f"cache kill {i}: temporary files left: {temps(moddir)}")
    print(f"ok: {kills} kills of incremental runs at random moments")

    outputs = sum(len(v) for v in new.values() if v)
    for name, fault in (("cache file cannot be created", f"openat:28:{len(OUTPUTS)}"),
                        ("disk full while the cache is written", f"write:28:{outputs + 4096}")):
        restore(moddir, old)
        write(cache, old_cache)
        p = depmod(binary, root, kver, env=preload_env(faultlib, KMODX_FAULT=fault))
        if p.returncode != 0 or snapshot(moddir) != new:
            fail(f"{name}: the run failed or left other indexes:\n{p.stderr.decode()}")
        if temps(moddir):
            fail(f"{name}: temporary files left: {temps(moddir)}")
        p = depmod(binary, root, kver)
        if p.returncode != 0 or snapshot(moddir) != new:
            fail(f"{name}: the next run did not leave the new indexes")
        print(f"ok: {name}: the run succeeds, the next one is right")

    threads_refused(binary, faultlib, root, moddir, kver, old, new, old_cache)

    cuts = 25
    for i in range(cuts):
        restore(moddir, old)
        write(cache, old_cache[:rnd.randrange(len(old_cache))])
        p = depmod(binary, root, kver)
        if p.returncode != 0 or snapshot(moddir) != new:
            fail(f"cache cut {i}: the run did not leave the new indexes")
    print(f"ok: the cache cut at {cuts} random lengths: every next run is right")


def threads_refused(binary, faultlib, root, moddir, kver, old, new, old_cache):
    """Every thread depmod starts (scan, load, output tasks, flusher, cache, its checker,
    the matching, the letting go) refused in turn, from the first on, in a run with the
    old tree's cache and in one without a cache: the work is done on the threads that
    exist, and the indexes are the new ones."""
    calls_file = os.path.join(os.path.dirname(root), "pthread-calls")
    cache = os.path.join(moddir, CACHE)
    for label, cached in (("incremental", True), ("cold", False)):
        def prepare():
            restore(moddir, old)
            if cached:
                write(cache, old_cache)
            elif os.path.exists(cache):
                os.unlink(cache)
        prepare()
        depmod(binary, root, kver, env=preload_env(
            faultlib, KMODX_FAULT="pthread_create:11:1000000", KMODX_FAULT_CALLS=calls_file))
        with open(calls_file) as f:
            calls = int(f.read())
        # (on one processor, only the threads that wait for the disk or overlap it)
        if calls < 3 and len(os.sched_getaffinity(0)) > 1:
            fail(f"threads refused, {label}: only {calls} threads started: the test "
                 "would prove little")
        for n in range(calls + 1):
            prepare()
            p = depmod(binary, root, kver,
                       env=preload_env(faultlib, KMODX_FAULT=f"pthread_create:11:{n}"))
            if p.returncode != 0 or snapshot(moddir) != new:
                fail(f"threads refused, {label}, after {n} started: the run failed or "
                     f"left other indexes:\n{p.stderr.decode(errors='replace')}")
            if temps(moddir):
                fail(f"threads refused, {label}, after {n}: temporary files left")
        print(f"ok: threads refused, {label} run: each of the {calls} it starts, in turn")


def depmod(binary, root, kver, env=None, preexec=None):
    return subprocess.run([binary, "depmod", "-b", root, kver], capture_output=True, env=env,
                          preexec_fn=preexec, timeout=120)


def main():
    binary = os.path.abspath(sys.argv[1])  # kmodx, dynamically linked (LD_PRELOAD)
    faultlib = os.path.abspath(sys.argv[2])
    try:
        src = realtree.ensure_tree()
    except Exception as e:  # noqa: BLE001
        print(f"SKIP: the real module tree is not available: {e}", file=sys.stderr)
        return 77
    kver = realtree.kernel_release(src)
    work = tempfile.mkdtemp(prefix="kmodx-safety-")
    try:
        root = os.path.join(work, "root")
        moddir = make_tree(src, kver, root)
        time.sleep(RACY_S)
        # twice: a tree's first indexing leaves no cache (depmod.8, CACHE)
        for _ in range(2):
            p = depmod(binary, root, kver)
            if p.returncode != 0:
                fail(f"first depmod failed: {p.stderr.decode()}")
                return 1
        old = snapshot(moddir)
        old_cache = read_file(os.path.join(moddir, CACHE))
        if old_cache is None:
            fail("the first run left no cache")
            return 1
        change_tree(moddir)
        time.sleep(RACY_S)
        ref_root = os.path.join(work, "ref")
        shutil.copytree(root, ref_root, copy_function=os.link)
        depmod(binary, ref_root, kver)
        new = snapshot(os.path.join(ref_root, "lib/modules", kver))
        if old == new:
            fail("the change did not change the indexes: the test would prove nothing")

        half = sum(len(v) for v in new.values() if v) // 2
        largest = max(len(v) for v in new.values() if v)
        cases = [
            ("disk full at once", {"KMODX_FAULT": "write:28:0"}, None, "No space left on device"),
            ("disk full half way", {"KMODX_FAULT": f"write:28:{half}"}, None,
             "No space left on device"),
            ("read-only directory", {"KMODX_FAULT": "openat:30:0"}, None, "Read-only file system"),
            ("flush fails", {"KMODX_FAULT": "fdatasync:5:4"}, None, "Input/output error"),
        ]
        limit = (lambda: (signal.signal(signal.SIGXFSZ, signal.SIG_IGN),
                          resource.setrlimit(resource.RLIMIT_FSIZE, (largest // 2, largest // 2))))
        cases.append(("file size limit", {}, limit, "File too large"))
        for name, extra, preexec, cause in cases:
            restore(moddir, old)
            env = preload_env(faultlib, **extra) if extra else None
            p = depmod(binary, root, kver, env=env, preexec=preexec)
            err = p.stderr.decode(errors="replace")
            if p.returncode == 0:
                fail(f"{name}: depmod succeeded")
            if cause not in err or moddir not in err:
                fail(f"{name}: the error does not name the directory and the cause:\n{err}")
            if snapshot(moddir) != old:
                fail(f"{name}: an index changed")
            if temps(moddir):
                fail(f"{name}: temporary files left: {temps(moddir)}")
            print(f"ok: {name}: {(err.strip().splitlines() or [''])[0]}")

        restore(moddir, old)
        env = preload_env(faultlib, KMODX_FAULT="renameat:5:3")
        p = depmod(binary, root, kver, env=env)
        now = snapshot(moddir)
        mixed = [f for f in OUTPUTS if now[f] != old[f]]
        if p.returncode == 0 or any(now[f] not in (old[f], new[f]) for f in OUTPUTS):
            fail("rename failure: an index is neither old nor new")
        print(f"ok: rename failure half way: {len(mixed)} new, {len(OUTPUTS) - len(mixed)} old")

        start = time.monotonic()
        depmod(binary, root, kver)
        runtime = time.monotonic() - start
        rnd = random.Random(7)
        kills = 40
        for i in range(kills):
            restore(moddir, old)
            kill_at_random(binary, root, kver, rnd, runtime, old, new, f"kill {i}")
            left = temps(moddir)
            p = depmod(binary, root, kver)
            if p.returncode != 0 or snapshot(moddir) != new:
                fail(f"kill {i}: the next run did not produce the new indexes")
            if temps(moddir):
                fail(f"kill {i}: the next run left temporary files {temps(moddir)} (had {left})")
        print(f"ok: {kills} kills at random moments within {runtime * 1000:.0f} ms")
        write(os.path.join(moddir, CACHE), old_cache)
        restore(moddir, old)
        start = time.monotonic()
        depmod(binary, root, kver)
        cache_cases(binary, faultlib, root, moddir, kver, old, new, old_cache,
                    time.monotonic() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"depmod safety: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
