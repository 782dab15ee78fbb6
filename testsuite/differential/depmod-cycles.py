#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""depmod's report of dependency cycles: kmodx against Debian's kmod 30 and kmod 34.2.

Each case is a dependency graph of generated modules (gen-module.py) in a fresh tree:
named shapes (the cycles of issue 11, a self-loop, cycles sharing modules, a cycle with
modules hanging off both sides, compressed trees, a long ring, no modules.order) and
seeded random graphs. Where a reference finishes, kmodx must give the same exit code, the
same lines in the same order, the same count and the same files left behind, with one
documented difference (depmod.8): kmod prints "Cycle detected: m" naming one module that
is in no cycle; kmodx does not. Where a reference aborts (its walk does not stop on a
second cycle; depmod.8), kmodx must still finish with exit 1, print only real cycles,
cover every module in a cycle and count exactly those, computed here independently.
Usage: depmod-cycles.py KMODX_BIN_DIR
"""
import json
import os
import random
import re
import shutil
import sys
import tempfile

from common import bin_dir_arg, Checker, load_script, oracle_34, reference_bin, run

KVER = "6.1.0"
LINE = re.compile(rb"^depmod: ERROR: Cycle detected: (.*)$")


GEN = load_script("genmodule", "gen-module.py")


class Graph:
    """Modules in array (modules.order) order, each with its dependencies in the order
    its undefined symbols appear."""

    def __init__(self, name, edges, order=None, compress=None, with_order=True):
        self.name, self.edges = name, edges
        self.order = order or list(edges)
        self.compress = compress or {}
        self.with_order = with_order

    def write(self, root):
        specs = {}
        for m in self.order:
            suffix = "." + self.compress[m] if m in self.compress else ""
            specs[f"lib/modules/{KVER}/kernel/{m}.ko{suffix}"] = {
                "exports": [f"{m}_fn"],
                "undefined": [f"{d}_fn" for d in self.edges[m]] + ["printk"],
                "modinfo": ["license=GPL"],
                "compress": self.compress.get(m),
            }
        GEN.generate_many(specs, root)
        moddir = os.path.join(root, "lib/modules", KVER)
        if self.with_order:
            with open(os.path.join(moddir, "modules.order"), "w") as f:
                f.writelines(f"kernel/{m}.ko\n" for m in self.order)
        for name in ("modules.builtin", "modules.builtin.modinfo"):
            open(os.path.join(moddir, name), "w").close()
        return moddir


def cyclic_modules(g):
    """Modules in a strongly connected component with a cycle (Tarjan, recursive: the
    graphs here are small)."""
    index, low, on, stack, out = {}, {}, set(), [], set()

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while not comp or comp[-1] != v:
                comp.append(stack.pop())
                on.discard(comp[-1])
            if len(comp) > 1 or v in g.edges[v]:
                out.update(comp)

    sys.setrecursionlimit(10000)
    for v in g.order:
        if v not in index:
            visit(v)
    return out


def without_lone_names(err):
    """kmod's report minus its "Cycle detected: m" lines that name a single module."""
    return b"".join(l + b"\n" for l in err.splitlines()
                    if not (LINE.match(l) and b" -> " not in l))


def finished(rc, err):
    """Whether a reference ran to its end: exit 0, or exit 1 after its count. Where its
    walk runs away it aborts, is killed, or fails to allocate (with or without a
    message), and there is nothing to compare."""
    lines = err.splitlines()
    return rc == 0 or (rc == 1 and bool(lines) and lines[-1].endswith(
        b"modules in dependency cycles!"))


def check_own_report(chk, g, rc, err):
    """What must hold of kmodx's report on any graph."""
    cyclic = cyclic_modules(g)
    covered = set()
    lines = err.splitlines()
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        path = m.group(1).decode().split(" -> ")
        real = (len(path) >= 2 and path[0] == path[-1] and len(set(path[:-1])) == len(path) - 1
                and all(b in g.edges.get(a, ()) for a, b in zip(path, path[1:])))
        chk.same(f"{g.name}: a real, simple cycle: {m.group(1)!r}", True, real)
        covered.update(path)
    chk.same(f"{g.name}: exit code", 1 if cyclic else 0, rc)
    if cyclic:
        chk.same(f"{g.name}: every module in a cycle is on a printed cycle", sorted(cyclic),
                 sorted(covered))
        chk.same(f"{g.name}: the count", f"depmod: ERROR: Found {len(cyclic)} modules in "
                 "dependency cycles!".encode(), lines[-1] if lines else b"")


def leftovers(moddir):
    """What a run left in the module directory: indexes, and temporary files (kmodx's
    ".<index>.kmodx-tmp.<pid>.<n>", written by the tasks before a cycle is found)."""
    return sorted(f for f in os.listdir(moddir)
                  if (f.startswith("modules.") or ".kmodx-tmp." in f) and
                  f not in ("modules.order", "modules.builtin", "modules.builtin.modinfo"))


def run_case(chk, g, tools, work, stats):
    src = os.path.join(work, "src")
    shutil.rmtree(src, ignore_errors=True)
    g.write(src)
    results = {}
    for label, (binary, env) in tools.items():
        root = os.path.join(work, label)
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(src, root, symlinks=True)
        # kmod's walk can run away (see the docstring): a few seconds and 128 MiB are
        # plenty for these trees, and the reference is then counted as aborted.
        rc, out, err = run([binary, "-b", root, KVER], env=env, timeout=5,
                           memory=None if label == "kmodx" else 1 << 27)
        moddir = os.path.join(root, "lib/modules", KVER)
        results[label] = (rc, out, err.replace(root.encode(), b"$ROOT"), leftovers(moddir))
    rc, out, err, files = results["kmodx"]
    check_own_report(chk, g, rc, err)
    for label, (rrc, rout, rerr, rfiles) in results.items():
        if label == "kmodx":
            continue
        if not finished(rrc, rerr):
            stats[label + " aborted"] = stats.get(label + " aborted", 0) + 1
            continue
        stats[label + " compared"] = stats.get(label + " compared", 0) + 1
        chk.same(f"{g.name}: exit code against {label}", rrc, rc)
        chk.same(f"{g.name}: stdout against {label}", rout, out)
        chk.same(f"{g.name}: stderr against {label}", without_lone_names(rerr), err)
        # modules.weakdep is new in kmod 33; kmod has no cache, and kmodx writes none
        # on a tree's first indexing (depmod.8, CACHE)
        chk.same(f"{g.name}: no cache on a first indexing", False,
                 "modules.kmodx-cache" in files)
        mine = [f for f in files if (label != "kmod-30" or f != "modules.weakdep")
                and f != "modules.kmodx-cache"]
        chk.same(f"{g.name}: files left against {label}", rfiles, mine)


def chain(prefix, n):
    return [f"{prefix}{i}" for i in range(n)]


def named_graphs():
    L = "mod_loop_"
    issue = {L + "d": [L + "e"], L + "e": [L + "d", L + "f"], L + "i": [L + "j"],
             L + "j": [L + "h", L + "k"], L + "k": [L + "h"], L + "h": [L + "i", L + "g"],
             L + "c": [L + "a"], L + "a": [L + "b"], L + "b": [L + "c"], L + "f": [],
             L + "g": []}
    order = [L + x for x in "deijkhcabfg"]
    ring = chain("ring", 40)
    graphs = [
        Graph("issue-11", issue, order),
        Graph("issue-11-other-order", issue, sorted(issue)),
        Graph("issue-11-no-modules.order", issue, order, with_order=False),
        Graph("issue-11-xz-and-zst", issue, order,
              {m: ("xz" if i % 2 else "zst") for i, m in enumerate(order)}),
        Graph("self-loop", {"self": ["self", "below"], "above": ["self"], "below": []}),
        Graph("shared-modules", {"r": ["a", "b"], "a": ["r", "b"], "b": ["r"]}),
        Graph("two-cycles-one-module", {"p": ["q"], "q": ["p", "r"], "r": ["q"]}),
        Graph("hanging-off-both-sides",
              {"user": ["c1"], "c1": ["c2", "leaf"], "c2": ["c1", "mid"], "mid": ["leaf2"],
               "leaf": [], "leaf2": [], "unrelated": ["leaf2"]}),
        Graph("long-ring", {m: [ring[(i + 1) % len(ring)]] for i, m in enumerate(ring)}),
        Graph("no-cycle", {"a": ["b"], "b": ["c"], "c": []}),
    ]
    return graphs


def random_graphs(n, seed):
    rnd = random.Random(seed)
    for k in range(n):
        names = [f"m{i}" for i in range(rnd.randint(2, 9))]
        rnd.shuffle(names)
        p = rnd.choice((0.12, 0.2, 0.3))
        edges = {m: [d for d in names if rnd.random() < p] for m in names}
        for deps in edges.values():
            rnd.shuffle(deps)
        yield Graph(f"random-{seed}-{k}", edges, names)


def main():
    bindir = bin_dir_arg(__doc__)
    tools = {"kmodx": (os.path.join(bindir, "depmod"), None),
             "kmod-30": (os.path.join(reference_bin(), "depmod"), None)}
    o34 = oracle_34()
    if o34:
        tools["kmod-34.2"] = (os.path.join(o34[0], "depmod"), o34[1])
    else:
        print("note: kmod 34.2 (../shared/oracle) is absent: compared with kmod 30 only")
    chk, stats = Checker(), {}
    work = tempfile.mkdtemp(prefix="kmodx-cycles-")
    try:
        for g in named_graphs() + list(random_graphs(150, 2026)):
            run_case(chk, g, tools, work, stats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(", ".join(f"{k}: {v}" for k, v in sorted(stats.items())))
    for label in tools:
        if label != "kmodx" and stats.get(label + " compared", 0) < 50:
            chk.same(f"at least 50 graphs compared with {label}", True, False)
    return chk.finish("differential-depmod-cycles")


if __name__ == "__main__":
    sys.exit(main())
