# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for differential tests: kmodx against Debian's kmod on the real tree."""
import difflib
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile

TESTSUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, TESTSUITE)
import realtree  # noqa: E402

SKIP = 77


def bin_dir_arg(doc):
    """The script's one argument, the directory of the tools, made absolute; with any other
    number of arguments, the usage (doc) on stderr and exit status 2."""
    if len(sys.argv) != 2:
        print(doc, file=sys.stderr)
        sys.exit(2)
    return os.path.abspath(sys.argv[1])


def read_file(path):
    """A file's bytes, or None if it does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def load_script(name, relpath):
    """A script of testsuite/ whose file name is no module name (gen-module.py), loaded
    as module name."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(TESTSUITE, relpath))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


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


ORACLE_34 = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "..", "..", "..", "shared", "oracle", "kmod-34.2"))


def oracle_34():
    """kmod 34.2 from ../shared (the second reference: where it and kmod 30 differ, 34.2
    is the target) as (bin dir with the tool names, environment), or None when ../shared
    is absent, as in a user's fresh clone. $KMODX_ORACLE_34 overrides the location."""
    top = os.environ.get("KMODX_ORACLE_34", ORACLE_34)
    kmod = os.path.join(top, "bin", "kmod")
    if not os.access(kmod, os.X_OK):
        return None
    d = tempfile.mkdtemp(prefix="kmod-34-")
    for t in ("lsmod", "insmod", "rmmod", "modinfo", "modprobe", "depmod"):
        os.symlink(kmod, os.path.join(d, t))
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(top, "lib"))
    return d, env


def references():
    """[(label, dir with the tool names, environment)]: Debian's kmod 30, then kmod 34.2
    when ../shared has it (34.2 is the target where the two differ)."""
    refs = [("kmod-30", reference_bin(), None)]
    o34 = oracle_34()
    if o34:
        refs.append(("kmod-34.2", o34[0], o34[1]))
    else:
        print("note: kmod 34.2 (../shared/oracle) is absent: compared with kmod 30 only")
    return refs


def tree_or_skip(variant=None):
    try:
        return realtree.ensure_variant(variant) if variant else realtree.ensure_tree()
    except Exception as e:  # noqa: BLE001 - any failure to obtain the tree is a skip
        print(f"SKIP: the real module tree is not available: {e}", file=sys.stderr)
        sys.exit(SKIP)


def _limit_memory(limit):
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run(argv, cwd=None, env=None, timeout=600, memory=None):
    """(exit code, stdout, stderr). With memory (bytes), the address space is limited to
    it; a run that outlives timeout seconds is killed and reported as exit code -9."""
    limit = (lambda: _limit_memory(memory)) if memory else None
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, env=env, timeout=timeout,
                           preexec_fn=limit)
    except subprocess.TimeoutExpired as e:
        return -9, e.stdout or b"", e.stderr or b""
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
            diff = [l if len(l) <= 300 else l[:300] + f"... ({len(l)} chars)\n"
                    for l in difflib.unified_diff(exp, act, "kmod", "kmodx")]
            sys.stdout.writelines(diff[:max_lines])
            if len(diff) > max_lines:
                print(f"... {len(diff) - max_lines} more diff lines")
        else:
            print(f"  kmod:  {expected!r}\n  kmodx: {actual!r}")
        return False

    def compare_runs(self, what, ref_argv, new_argv, cwd=None, env=None, ref_env=None):
        rc1, out1, err1 = run(ref_argv, cwd, ref_env or env)
        rc2, out2, err2 = run(new_argv, cwd, env)
        ok = self.same(what + " [exit code]", rc1, rc2)
        ok &= self.same(what + " [stdout]", out1, out2)
        ok &= self.same(what + " [stderr]", err1, err2)
        return ok

    def finish(self, name):
        print(f"{name}: {self.checks} comparisons, {self.failures} failed")
        return 1 if self.failures else 0
