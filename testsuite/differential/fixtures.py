#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every rootfs-fixtures/ step that kmod can run, run by kmod too, on the same fake root.

The integration suite checks kmodx against expectations written down in the fixtures;
nothing made sure those expectations were kmod's. Here each scenario is set up and
stepped through as the integration runner does (kmodx-sim, --root=$ROOT), and before
each step that kmod can run, the root as it is then is copied for each reference (Debian's
kmod 30, and kmod 34.2 from ../shared when it is there). The reference runs in a user and
mount namespace, chrooted into its copy, so that /etc, /lib/modules, /proc and /sys are
the fixture's exactly as kmodx sees them with --root; fake-uname.so makes uname() give
the fixture's proc/sys/kernel/osrelease. Exit code, stdout, stderr and every file of the
root afterwards must be the same, paths compared relative to the root.

Steps kmod can run: modinfo, lsmod, depmod, `kmod static-nodes`/`kmod list`, and modprobe
in its modes that change nothing (-n, -D, -c, -R, --show-*), given with --root=$ROOT.
Loading and removing (insmod, rmmod, modprobe without -n) go to the simulated kernel
only. A step where kmodx differs on purpose names the reference and the reason in
steps/NN/kmod ("kmod-30: why", "kmod-34.2: why" or "all: why"; the reason says where the
difference is documented); a step listed there that no longer differs fails, so the
list stays true, unless the reason starts with "may differ" (where the reference's
answer depends on the host, such as readdir order).

Usage: fixtures.py SIM_BIN_DIR FIXTURES_DIR FAKE_UNAME_SO [SCENARIO...]
Skips (77) where kmod is not installed or user namespaces are not available.
"""
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from common import ORACLE_34, SKIP, Checker, load_script

MODPROBE_LONG = {"--dry-run", "--show", "--show-depends", "--showconfig", "--show-config",
                 "--resolve-alias", "--show-modversions", "--dump-modversions",
                 "--show-exports", "--version", "--help"}
MODPROBE_SHORT = set("nDcRVh")
# Options only kmodx has: such steps are kmodx's own.
KMODX_ONLY = {"--json", "--explain", "--lint", "--no-cache"}
REF = "/.kmodref"  # where the host's /usr, the oracle and the preload appear in the chroot
REF_TIMEOUT = 20  # seconds; every step takes a fraction of one


RUNNER = load_script("runner", "integration/runner.py")


def references():
    """{label: (kmod binary inside the chroot, library path inside it, host dir to bind)}"""
    refs = {}
    if os.access("/usr/bin/kmod", os.X_OK):
        refs["kmod-30"] = (REF + "/usr/bin/kmod", None, None)
    top = os.environ.get("KMODX_ORACLE_34", ORACLE_34)
    if os.access(os.path.join(top, "bin", "kmod"), os.X_OK):
        refs["kmod-34.2"] = (REF + "/oracle/bin/kmod", REF + "/oracle/lib", top)
    return refs


def kmod_argv(words):
    """(argv0 for kmod, its arguments) if kmod can run this step, else None."""
    if "--root=$ROOT" not in words or any(w.split("=")[0] in KMODX_ONLY for w in words):
        return None
    tool, args = words[0], [w for w in words[1:] if w != "--root=$ROOT"]
    if tool == "kmodx" and args and args[0] in ("static-nodes", "list"):
        return "kmod", args
    if tool in ("modinfo", "lsmod", "depmod"):
        return tool, args
    if tool == "modprobe":
        for w in args:
            if w.split("=")[0] in MODPROBE_LONG:
                return tool, args
            if w.startswith("-") and not w.startswith("--") and MODPROBE_SHORT & set(w[1:]):
                return tool, args
    return None


def in_chroot(word):
    """A command-line word as the reference sees it: the root is "/" in its chroot."""
    return word.replace("$ROOT/", "/").replace("$ROOT", "/").replace("$FIXTURE", REF + "/fixture")


# Run as: sh -c SCRIPT sh ROOT FIXTURE ORACLE_DIR PRELOAD_DIR LIBPATH ARGV0 BINARY ARGS...
CHROOT_SCRIPT = r"""
set -e
root=$1 fixture=$2 oracle=$3 preload=$4 libpath=$5 argv0=$6 binary=$7
shift 7
mount -t tmpfs kmodref "$root/.kmodref"
mkdir "$root/.kmodref/usr" "$root/.kmodref/fixture" "$root/.kmodref/preload" \
	"$root/.kmodref/oracle"
mount --rbind /usr "$root/.kmodref/usr"
mount --bind "$fixture" "$root/.kmodref/fixture"
mount --bind "$preload" "$root/.kmodref/preload"
[ -z "$oracle" ] || mount --bind "$oracle" "$root/.kmodref/oracle"
lp=/.kmodref/usr/lib/x86_64-linux-gnu
[ -z "$libpath" ] || lp=$libpath:$lp
exec chroot "$root" /.kmodref/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path "$lp" \
	--preload /.kmodref/preload/fake-uname.so --argv0 "$argv0" "$binary" "$@"
"""


def copy_root(src, dst):
    # cp keeps sparse files sparse (a fixture makes a 2 GiB one) and special files
    subprocess.run(["cp", "-a", "--sparse=always", src, dst], check=True)


def snapshot(root, *others):
    """Every path under root (but the reference's mount point) with a digest of what it
    holds, paths in contents made relative to the root. A copy also holds the paths of
    the root it was copied from: others."""
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not (d == root and x == ".kmodref")]
        # kmodx's depmod keeps its cache, and the previous one, beside the indexes
        # (depmod.8): kmod has none
        files = [x for x in files if x not in ("modules.kmodx-cache",
                                               "modules.kmodx-cache.prev")]
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "-> " + os.readlink(p).replace(root, "")
            elif os.path.isfile(p):
                try:
                    with open(p, "rb") as f:
                        data = f.read(1 << 24)
                except OSError as e:
                    out[rel] = f"unreadable: {e.strerror}"
                    continue
                for r in (root,) + others:
                    data = data.replace(r.encode(), b"")
                out[rel] = hashlib.sha256(data).hexdigest()
            elif os.path.isdir(p):
                out[rel] = "dir"
    return out


def normalise(data, fixture, *roots):
    """Output with the roots as "/" and the fixture as $FIXTURE, as the chroot shows
    them."""
    data = data.replace(fixture.encode(), b"$FIXTURE")
    for root in roots:
        data = data.replace((root + "/").encode(), b"/").replace(root.encode(), b"/")
    return data.replace((REF + "/fixture").encode(), b"$FIXTURE")


class Differential:
    def __init__(self, sim_bin, fixtures, preload, refs):
        self.sim_bin, self.fixtures, self.preload, self.refs = sim_bin, fixtures, preload, refs
        self.chk = Checker()
        self.stats = {"compared": 0, "documented": 0, "kmodx only": 0}

    def run_reference(self, label, root, fixture, words, step_dir, env):
        binary, libpath, oracle = self.refs[label]
        argv0, args = kmod_argv(words)
        os.makedirs(os.path.join(root, ".kmodref"), exist_ok=True)
        env = {k: in_chroot(v) for k, v in env.items()}
        env.pop("ASAN_OPTIONS", None)
        env.pop("UBSAN_OPTIONS", None)
        env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
        argv = (["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                 CHROOT_SCRIPT, "sh", root, fixture, oracle or "",
                 os.path.dirname(self.preload), libpath or "", argv0, binary]
                + [in_chroot(a) for a in args])
        stdin = RUNNER.read(os.path.join(step_dir, "stdin"))
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True, env=env,
                               timeout=REF_TIMEOUT, cwd=root)
        except subprocess.TimeoutExpired:
            # kmod loops forever on some damaged indexes: an answer of its own
            p = subprocess.CompletedProcess(argv, -9, b"", b"(killed after %d s)\n"
                                            % REF_TIMEOUT)
        os.rmdir(os.path.join(root, ".kmodref"))
        return p

    def documented(self, step_dir):
        out = {}
        for line in RUNNER.read(os.path.join(step_dir, "kmod")).decode().splitlines():
            if ":" in line:
                label, why = line.split(":", 1)
                out[label.strip()] = why.strip()
        return out

    def compare_step(self, sc, root, step_dir, words):
        name = f"{sc.name}/{os.path.basename(step_dir)}"
        env = sc.env(root, step_dir)
        copies = {}
        for label in self.refs:
            copies[label] = tempfile.mkdtemp(prefix=f"kmodx-fx-{label}-")
            os.rmdir(copies[label])
            copy_root(root, copies[label])
        mine = sc.run_cmd(" ".join(shlex.quote(w) for w in words), root, step_dir,
                          RUNNER.read(os.path.join(step_dir, "stdin")))
        own = (mine.returncode, normalise(mine.stdout, sc.path, root),
               normalise(mine.stderr, sc.path, root), snapshot(root))
        notes = self.documented(step_dir)
        for label, copy in copies.items():
            try:
                p = self.run_reference(label, copy, sc.path, words, step_dir, env)
                theirs = (p.returncode, normalise(p.stdout, sc.path, copy, root),
                          normalise(p.stderr, sc.path, copy, root), snapshot(copy, root))
            finally:
                shutil.rmtree(copy, ignore_errors=True)
            why = notes.get(label) or notes.get("all")
            same = theirs == own
            if why:
                self.stats["documented"] += 1
                if not why.startswith("may differ"):
                    self.chk.same(f"{name}: differs from {label} as documented ({why})",
                                  False, same)
                continue
            self.stats["compared"] += 1
            if not same:
                self.report(name, label, words, theirs, own)

    def report(self, name, label, words, theirs, own):
        what = f"{name} [{' '.join(words)}] against {label}"
        self.chk.same(what + ": exit code", theirs[0], own[0])
        self.chk.same(what + ": stdout", theirs[1], own[1])
        self.chk.same(what + ": stderr", theirs[2], own[2])
        files = sorted(set(theirs[3]) | set(own[3]))
        changed = [f for f in files if theirs[3].get(f) != own[3].get(f)]
        self.chk.same(what + ": files afterwards (paths that differ)", [], changed)

    def scenario(self, name):
        sc = RUNNER.Scenario(self.args, os.path.join(self.fixtures, name))
        root = tempfile.mkdtemp(prefix=f"kmodx-fx-{name}-")
        try:
            sc.prepare(root)
            for s in sorted(os.listdir(os.path.join(sc.path, "steps"))):
                step_dir = os.path.join(sc.path, "steps", s)
                cmd = RUNNER.read(os.path.join(step_dir, "cmd")).decode().strip()
                words = shlex.split(cmd)
                if os.path.exists(os.path.join(step_dir, "no-stderr")) or not kmod_argv(words):
                    if words and any(w.split("=")[0] in KMODX_ONLY for w in words):
                        self.stats["kmodx only"] += 1
                    sc.run_cmd(cmd, root, step_dir, RUNNER.read(os.path.join(step_dir, "stdin")))
                    continue
                self.compare_step(sc, root, step_dir, words)
        finally:
            shutil.rmtree(root, ignore_errors=True)


class Args:
    """What runner.Scenario reads from its command line."""

    def __init__(self, sim_bin):
        self.bin, self.wrapper, self.timeout = sim_bin, "", 120
        self.generator = RUNNER.load_generator()


def userns_works():
    p = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                       capture_output=True)
    return p.returncode == 0


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    sim_bin, fixtures, preload = (os.path.abspath(a) for a in sys.argv[1:4])
    refs = references()
    if "kmod-30" not in refs:
        print("SKIP: Debian's kmod is not installed (apt-get install kmod)", file=sys.stderr)
        return SKIP
    if not userns_works():
        print("SKIP: user namespaces are not available here", file=sys.stderr)
        return SKIP
    if "kmod-34.2" not in refs:
        print("note: kmod 34.2 (../shared/oracle) is absent: compared with kmod 30 only")
    d = Differential(sim_bin, fixtures, preload, refs)
    d.args = Args(sim_bin)
    names = sys.argv[4:] or sorted(n for n in os.listdir(fixtures)
                                   if os.path.isdir(os.path.join(fixtures, n, "steps")))
    for n in names:
        d.scenario(n)
    print(", ".join(f"{k}: {v}" for k, v in d.stats.items()))
    return d.chk.finish("differential-fixtures")


if __name__ == "__main__":
    sys.exit(main())
