#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run the scenarios of rootfs-fixtures/ and compare everything byte for byte.

A scenario is a directory:

  root/              the fake root, copied to a fresh temporary directory
  modules.json       optional: synthetic modules to generate into it (gen-module.py),
                     a map from paths relative to the root to module specs
  setup              optional: one command per line run (no shell) before the steps,
                     e.g. "depmod --root=$ROOT 6.1.0" to index the generated modules
  steps/NN/cmd       one command line, split like a shell would (no shell runs it):
                     $ROOT is the temporary root, $FIXTURE the scenario directory; the
                     first word is a tool name, run from the simulated-kernel bin dir
  steps/NN/stdout    expected standard output (absent: must be empty)
  steps/NN/stderr    expected standard error (absent: must be empty)
  steps/NN/exit      expected exit status (absent: 0)
  steps/NN/env       optional KEY=VALUE lines for the environment
  steps/NN/stdin     optional standard input
  steps/NN/no-stderr present: the tool runs with its standard error closed (not when
                     a --wrapper runs it)
  steps/NN/after/... files that must exist afterwards with exactly this content
                     (symbolic links: the same target); a directory holding an empty
                     file named .exact must contain nothing else
  steps/NN/absent    paths (relative to the root) that must not exist afterwards
  steps/NN/kmod      not read here: where kmodx differs from kmod on purpose, the
                     reason, for testsuite/differential/fixtures.py

Before comparing, the temporary root's path in the output and in files is replaced by
"$ROOT", and the scenario directory's by "$FIXTURE".
Steps run in name order against the same root. Usage:

  runner.py --bin DIR --fixtures DIR [--wrapper CMD] [--jobs N] [--keep] [SCENARIO...]

--wrapper runs the tools from the bin dir (not other programs a setup line names) under
a command such as valgrind; scenarios run --jobs at a time, each printing its report
when it ends.
"""
import argparse
import concurrent.futures
import difflib
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def load_generator():
    spec = importlib.util.spec_from_file_location("genmodule",
                                                  os.path.join(HERE, "..", "gen-module.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read(path, default=b""):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return default


def diff_text(what, expected, actual):
    exp = expected.decode("utf-8", "replace").splitlines(keepends=True)
    act = actual.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(exp, act, "expected " + what, "actual " + what))
    text = "".join(lines[:80]) if lines else f"  (differ only in bytes: {expected!r} vs {actual!r})\n"
    return text if text.endswith("\n") else text + "\n"


class Scenario:
    def __init__(self, args, path):
        self.args, self.path, self.name = args, path, os.path.basename(path)
        self.problems = []
        self.report = []  # printed when the scenario ends, so parallel runs do not mix

    def say(self, text):
        self.report.append(text if text.endswith("\n") else text + "\n")

    def problem(self, msg):
        self.problems.append(msg)
        self.say(f"FAIL {self.name}: {msg}")

    def expand(self, word, root):
        return word.replace("$ROOT", root).replace("$FIXTURE", self.path)

    def env(self, root, step_dir):
        env = {"PATH": self.args.bin + ":/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
               "HOME": root, "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
               "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
        if step_dir:
            for line in read(os.path.join(step_dir, "env")).decode().splitlines():
                if "=" in line:
                    k, v = line.split("=", 1)
                    env[k] = self.expand(v, root)
        return env

    def run_cmd(self, line, root, step_dir=None, stdin=b""):
        close_stderr = bool(step_dir) and os.path.exists(os.path.join(step_dir, "no-stderr"))
        argv = [self.expand(w, root) for w in shlex.split(line)]
        if not argv:
            raise ValueError("empty command")
        # the tool runs from the bin dir but sees its bare name as argv[0], as when it is
        # found through PATH, so messages naming the program do not depend on where
        executable = os.path.join(self.args.bin, argv[0])
        under_test = os.path.exists(executable)
        if not under_test:
            executable = shutil.which(argv[0]) or argv[0]
        if self.args.wrapper and under_test:
            # a wrapper such as valgrind needs its stderr: the closed-stderr case is
            # checked by the unwrapped run
            close_stderr = False
            # the bare name, found through PATH (the bin dir comes first), so that the
            # tool still sees it as argv[0]
            argv = shlex.split(self.args.wrapper) + argv
            executable = None
        return subprocess.run(argv, executable=executable, input=stdin, capture_output=True,
                              cwd=root, env=self.env(root, step_dir), timeout=self.args.timeout,
                              preexec_fn=(lambda: os.close(2)) if close_stderr else None)

    def placeholders(self, data, root):
        """The temporary root and the scenario directory, as $ROOT and $FIXTURE."""
        return data.replace(root.encode(), b"$ROOT").replace(self.path.encode(), b"$FIXTURE")

    def check_after(self, step, root):
        after = os.path.join(step, "after")
        for d, dirs, files in os.walk(after):
            rel = os.path.relpath(d, after)
            actual_dir = os.path.normpath(os.path.join(root, rel))
            if ".exact" in files:
                expected = sorted(set(dirs) | set(files) - {".exact"})
                try:
                    actual = sorted(os.listdir(actual_dir))
                except FileNotFoundError:
                    actual = None
                if actual != expected:
                    self.problem(f"{os.path.basename(step)}: {rel}/ holds {actual}, expected {expected}")
            links = [s for s in dirs if os.path.islink(os.path.join(d, s))]
            for f in files + links:
                if f == ".exact":
                    continue
                exp_path, act_path = os.path.join(d, f), os.path.join(actual_dir, f)
                if os.path.islink(exp_path):
                    if not os.path.islink(act_path) or os.readlink(act_path) != os.readlink(exp_path):
                        self.problem(f"{os.path.basename(step)}: {rel}/{f} is not a link to {os.readlink(exp_path)}")
                    continue
                if not os.path.exists(act_path):
                    self.problem(f"{os.path.basename(step)}: {rel}/{f} does not exist")
                    continue
                exp, act = read(exp_path), self.placeholders(read(act_path), root)
                if exp != act:
                    self.problem(f"{os.path.basename(step)}: {rel}/{f} differs")
                    self.say(diff_text(f"{rel}/{f}", exp, act))
        for line in read(os.path.join(step, "absent")).decode().splitlines():
            if line.strip() and os.path.lexists(os.path.join(root, line.strip())):
                self.problem(f"{os.path.basename(step)}: {line.strip()} exists")

    def run_step(self, step, root):
        name = os.path.basename(step)
        cmd = read(os.path.join(step, "cmd")).decode().strip()
        p = self.run_cmd(cmd, root, step, read(os.path.join(step, "stdin")))
        out, err = self.placeholders(p.stdout, root), self.placeholders(p.stderr, root)
        exp_exit = int(read(os.path.join(step, "exit"), b"0").decode().strip() or 0)
        ok = True
        if p.returncode != exp_exit:
            self.problem(f"{name}: exit status {p.returncode}, expected {exp_exit}")
            ok = False
        checked = (("stdout", out), ("stderr", err))
        if self.args.wrapper and os.path.exists(os.path.join(step, "no-stderr")):
            checked = checked[:1]  # stderr stayed open for the wrapper: see run_cmd
        for what, actual in checked:
            expected = read(os.path.join(step, what))
            if expected != actual:
                self.problem(f"{name}: {what} differs")
                self.say(diff_text(what, expected, actual))
                ok = False
        if not ok:
            self.say(f"  command: {cmd}")
        self.check_after(step, root)

    def prepare(self, root):
        """The fake root as the steps start from it: root/, generated modules, setup."""
        src = os.path.join(self.path, "root")
        if os.path.isdir(src):
            shutil.copytree(src, root, symlinks=True, dirs_exist_ok=True)
        specs = os.path.join(self.path, "modules.json")
        if os.path.exists(specs):
            with open(specs) as f:
                self.args.generator.generate_many(json.load(f), root)
        for line in read(os.path.join(self.path, "setup")).decode().splitlines():
            if line.strip() and not line.startswith("#"):
                p = self.run_cmd(line, root)
                if p.returncode != 0:
                    self.problem(f"setup '{line}' failed: {p.stderr.decode(errors='replace')}")

    def run(self):
        root = tempfile.mkdtemp(prefix=f"kmodx-{self.name}-")
        try:
            self.prepare(root)
            steps = sorted(os.listdir(os.path.join(self.path, "steps")))
            if not steps:
                self.problem("no steps")
            for s in steps:
                self.run_step(os.path.join(self.path, "steps", s), root)
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            self.problem(f"cannot run: {e}")
        finally:
            if self.args.keep:
                self.say(f"  kept {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)
        return not self.problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--wrapper", default="")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.fixtures = os.path.abspath(args.fixtures)
    args.generator = load_generator()
    names = args.scenarios or sorted(d for d in os.listdir(args.fixtures)
                                     if os.path.isdir(os.path.join(args.fixtures, d, "steps")))
    def run_one(name):
        sc = Scenario(args, os.path.join(args.fixtures, name))
        ok = sc.run()
        sys.stdout.write("".join(sc.report))
        sys.stdout.flush()
        return name, ok

    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(run_one, names))
    failed = [n for n, ok in results if not ok]
    print(f"integration: {len(names)} scenarios, {len(failed)} failed"
          + (": " + " ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
