# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for differential tests: kmodx against Debian's kmod on the real tree."""
import difflib
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import realtree  # noqa: E402

SKIP = 77


def reference_bin():
    """A directory with kmod's tools under their names (kmod is a multicall binary)."""
    kmod = shutil.which("kmod") or "/usr/bin/kmod"
    if not os.path.exists(kmod):
        print("SKIP: Debian's kmod is not installed (apt-get install kmod)", file=sys.stderr)
        sys.exit(SKIP)
    d = tempfile.mkdtemp(prefix="kmod-ref-")
    for t in ("lsmod", "insmod", "rmmod", "modinfo", "modprobe", "depmod"):
        os.symlink(kmod, os.path.join(d, t))
    return d


def tree_or_skip(variant=None):
    try:
        return realtree.ensure_variant(variant) if variant else realtree.ensure_tree()
    except Exception as e:  # noqa: BLE001 - any failure to obtain the tree is a skip
        print(f"SKIP: the real module tree is not available: {e}", file=sys.stderr)
        sys.exit(SKIP)


def run(argv, cwd=None, env=None):
    p = subprocess.run(argv, cwd=cwd, capture_output=True, env=env, timeout=600)
    return p.returncode, p.stdout, p.stderr


def concretize(pattern, fill, rnd):
    """A string the modules.alias pattern matches: each * becomes fill, ? a random
    character, a bracket expression its first character."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(fill)
        elif c == "?":
            out.append(rnd.choice("0A"))
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                out.append("[")
            else:
                body = pattern[i + 1:j].lstrip("!^")
                out.append(body[0] if body and pattern[i + 1] not in "!^" else "Z")
                i = j
        else:
            out.append(c)
        i += 1
    return "".join(out)



def modaliases(moddir, count, seed=42):
    """count concrete modalias strings made from the tree's modules.alias patterns (half
    with empty wildcards, half with zeros), in a fixed pseudo-random order."""
    rnd = random.Random(seed)
    with open(os.path.join(moddir, "modules.alias")) as f:
        patterns = [line.split()[1] for line in f if line.startswith("alias ")]
    out = []
    for p in rnd.sample(patterns, (count + 1) // 2):
        out.append(concretize(p, "", rnd))
        out.append(concretize(p, "0" * rnd.randint(1, 6), rnd))
    return out[:count]


class Checker:
    """Counts comparisons and prints a bounded diff for each mismatch."""

    def __init__(self):
        self.checks = 0
        self.failures = 0

    def same(self, what, expected, actual, max_lines=40):
        self.checks += 1
        if expected == actual:
            return True
        self.failures += 1
        print(f"FAIL: {what}")
        if isinstance(expected, bytes):
            exp = expected.decode("utf-8", "replace").splitlines(keepends=True)
            act = actual.decode("utf-8", "replace").splitlines(keepends=True)
            diff = list(difflib.unified_diff(exp, act, "kmod", "kmodx"))
            sys.stdout.writelines(diff[:max_lines])
            if len(diff) > max_lines:
                print(f"... {len(diff) - max_lines} more diff lines")
        else:
            print(f"  kmod:  {expected!r}\n  kmodx: {actual!r}")
        return False

    def compare_runs(self, what, ref_argv, new_argv, cwd=None, env=None):
        rc1, out1, err1 = run(ref_argv, cwd, env)
        rc2, out2, err2 = run(new_argv, cwd, env)
        ok = self.same(what + " [exit code]", rc1, rc2)
        ok &= self.same(what + " [stdout]", out1, out2)
        ok &= self.same(what + " [stderr]", err1, err2)
        return ok

    def finish(self, name):
        print(f"{name}: {self.checks} comparisons, {self.failures} failed")
        return 1 if self.failures else 0
