#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The generated shell completions cover every command and every option of the tools'
option tables (read through --help, independently of the generator), and they work:
bash (with bash-completion) and fish complete options, commands, module names from the
module directory's index, loaded modules and parameters on a fake root; zsh's file is
checked for syntax. A shell that is not installed is skipped, with a note.

Usage: check-completions.py KMODX COMPLETIONS_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def helptext(kmodx, *args):
    return subprocess.run([kmodx, *args, "--help"], capture_output=True, text=True,
                          check=True).stdout


def tables(kmodx):
    """{command: [(short or None, long)]} and the programs (lsmod, insmod, ...)."""
    top = helptext(kmodx)
    cmds = re.findall(r"^\t([a-z][a-z-]*) +\S", top.split("Commands:")[1], re.M)
    programs = re.search(r"^\t([a-z|]+) \[options\]", top, re.M).group(1).split("|")
    out = {}
    for c in cmds:
        if c == "help":
            continue
        text = helptext(kmodx, "lsmod" if c == "list" else c)
        out[c] = re.findall(r"^\t(?:-(\S), |    )--([a-z0-9-]+)", text, re.M)
    return cmds, programs, out


def function_body(text, name):
    m = re.search(r"^" + re.escape(name) + r"\(\)\s*\n?\{(.*?)^\}", text, re.M | re.S)
    return m.group(1) if m else ""


class Checker:
    def __init__(self):
        self.checks = self.failures = 0

    def ok(self, cond, what):
        self.checks += 1
        if not cond:
            self.failures += 1
            print(f"FAIL: {what}")


def word_in(word, text):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


def static_checks(chk, cmds, programs, opts, d):
    with open(os.path.join(d, "kmodx")) as f:
        bash = f.read()
    with open(os.path.join(d, "_kmodx")) as f:
        zsh = f.read()
    fish = {}
    for p in programs + ["kmodx"]:
        with open(os.path.join(d, p + ".fish")) as f:
            fish[p] = f.read()
    main_fn = function_body(bash, "_kmodx")
    for c in cmds:
        chk.ok(word_in(c, main_fn), f"bash: command {c} not offered")
        chk.ok(word_in(c, zsh.split("_kmodx_command()")[1]), f"zsh: command {c} not offered")
        chk.ok(f"-a {c} " in fish["kmodx"], f"fish: command {c} not offered")
    for c, table in opts.items():
        fn = c.replace("-", "_")
        b = function_body(bash, f"_kmodx_tool_{fn}")
        z = function_body(zsh, f"_kmodx_cmd_{fn}")
        f_lines = [line for line in fish["kmodx"].splitlines()
                   if f"__fish_seen_subcommand_from {c}'" in line]
        chk.ok(b and z and f_lines, f"{c}: no completion function")
        for short, long in table:
            chk.ok(word_in("--" + long, b), f"bash: {c} --{long} missing")
            chk.ok(word_in("--" + long, z), f"zsh: {c} --{long} missing")
            chk.ok(any(f"-l {long} " in line for line in f_lines), f"fish: kmodx {c} --{long} missing")
            if short:
                chk.ok(word_in("-" + short, b), f"bash: {c} -{short} missing")
                chk.ok(word_in("-" + short, z), f"zsh: {c} -{short} missing")
                chk.ok(any(f"-s {short} -l {long} " in line for line in f_lines),
                       f"fish: kmodx {c} -{short} missing")
            if c in programs:
                chk.ok(f"-l {long} " in fish[c], f"fish: {c}.fish --{long} missing")
                if short:
                    chk.ok(f"-s {short} -l {long} " in fish[c], f"fish: {c}.fish -{short} missing")
        if c in programs:
            chk.ok(re.search(rf"^complete -F \S+ {c}$", bash, re.M), f"bash: {c} not registered")
            chk.ok(word_in(c, zsh.splitlines()[0]), f"zsh: {c} not in #compdef")


def fake_root():
    root = tempfile.mkdtemp(prefix="kmodx-completion-")
    files = {
        "lib/modules/6.1.0/modules.dep": "kernel/fs/vfat.ko.zst: kernel/fs/fat.ko.zst\n"
                                         "kernel/fs/fat.ko.zst:\n",
        "lib/modules/6.1.0/modules.builtin": "kernel/fs/ext4/ext4.ko\n",
        "proc/modules": "loop 32768 0 - Live 0xffffffffc0000000\n",
        "sys/module/loop/parameters/max_loop": "8\n",
        "sys/module/loop/parameters/max_part": "0\n",
    }
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)
    return root


# (command line up to the cursor, candidates that must be offered, candidates that must
# not be); $R is the fake root
CASES = [
    ("modprobe --sh", ["--show-depends", "--show-config", "--show-modversions"], ["--all"]),
    ("kmodx ta", ["taint"], ["params"]),
    ("kmodx ", ["params", "static-nodes", "modprobe", "list"], []),
    ("kmodx modprobe --js", ["--json"], []),
    ("modprobe --root=$R -S 6.1.0 ", ["vfat", "fat", "ext4"], ["loop"]),
    ("modprobe --root=$R -S 6.1.0 -r ", ["loop"], ["vfat"]),
    ("modinfo --root=$R -k 6.1.0 vf", ["vfat"], []),
    ("rmmod --root=$R ", ["loop"], []),
    ("kmodx params --root=$R ", ["loop"], []),
    ("kmodx params --root=$R loop max_l", ["max_loop="], ["max_part="]),
    ("kmodx static-nodes --format=", ["human", "tmpfiles", "devname"], []),
    ("depmod --root=$R ", ["6.1.0"], []),
    ("kmodx taint --", ["--quiet", "--json", "--root"], []),
]

BASH_DRIVER = r'''
source "$1"; source "$2"
line=$3
read -r -a COMP_WORDS <<< "$line"
[[ $line == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE=$line; COMP_POINT=${#line}
compopt() { :; }
spec=$(complete -p "${COMP_WORDS[0]}")
fn=${spec#*-F }; fn=${fn%% *}
COMPREPLY=()
"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]-}"
printf '%s\n' "${COMPREPLY[@]}"
'''


def candidates_bash(d, line):
    p = subprocess.run(["bash", "-c", BASH_DRIVER, "bash", BASH_COMPLETION,
                        os.path.join(d, "kmodx"), line], capture_output=True, text=True)
    return p.stdout.split()


def candidates_fish(d, bindir, line):
    env = dict(os.environ, PATH=bindir + ":" + os.environ.get("PATH", ""))
    script = f"set fish_complete_path {d} $fish_complete_path; complete -C {shell_quote(line)}"
    p = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True,
                       text=True, env=env)
    return [c.split("\t")[0] for c in p.stdout.splitlines()]


def shell_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def offered(word, got):
    """An option may come as --root= (bash: the value follows), an option's value with
    the option in front (fish: --format=human)."""
    return any(c in (word, word + "=") or c.endswith("=" + word) for c in got)


def functional(chk, kmodx, d):
    root = fake_root()
    # fish completes a command only when it exists: kmodx and its tool names
    bindir = tempfile.mkdtemp(prefix="kmodx-completion-bin-")
    for name in ("kmodx", "kmod", "lsmod", "insmod", "rmmod", "modinfo", "modprobe", "depmod"):
        os.symlink(os.path.abspath(kmodx), os.path.join(bindir, name))
    shells = []
    if os.path.exists(BASH_COMPLETION) and shutil.which("bash"):
        shells.append(("bash", lambda line: candidates_bash(d, line)))
    else:
        print("note: bash-completion is not installed: bash completions not run")
    if shutil.which("fish"):
        shells.append(("fish", lambda line: candidates_fish(d, bindir, line)))
    else:
        print("note: fish is not installed: fish completions not run")
    try:
        for shell, complete in shells:
            for line, want, unwanted in CASES:
                line = line.replace("$R", root)
                got = complete(line)
                for w in want:
                    chk.ok(offered(w, got), f"{shell}: '{line}' does not offer {w} (offers {got[:20]})")
                for w in unwanted:
                    chk.ok(not offered(w, got), f"{shell}: '{line}' offers {w}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(bindir, ignore_errors=True)
    if shutil.which("zsh"):
        p = subprocess.run(["zsh", "-n", os.path.join(d, "_kmodx")], capture_output=True,
                           text=True)
        chk.ok(p.returncode == 0, f"zsh: syntax: {p.stderr}")
    else:
        print("note: zsh is not installed: _kmodx not checked for syntax")
    if shutil.which("bash"):
        p = subprocess.run(["bash", "-n", os.path.join(d, "kmodx")], capture_output=True,
                           text=True)
        chk.ok(p.returncode == 0, f"bash: syntax: {p.stderr}")


def main():
    kmodx, d = sys.argv[1], sys.argv[2]
    cmds, programs, opts = tables(kmodx)
    chk = Checker()
    static_checks(chk, cmds, programs, opts, d)
    nopts = sum(len(t) for t in opts.values())
    functional(chk, kmodx, d)
    print(f"completions: {len(cmds)} commands, {nopts} options, {chk.checks} checks, "
          f"{chk.failures} failed")
    return 1 if chk.failures else 0


if __name__ == "__main__":
    sys.exit(main())
