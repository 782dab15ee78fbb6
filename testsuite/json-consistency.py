#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""--json carries exactly the fields and values of the plain output.

Each JSON document is parsed (strictly: Python's json, which also rejects invalid UTF-8)
and rendered back into the plain format the tool's man page describes; the rendering
must equal the tool's plain output byte for byte (modinfo: each module's lines as a
multiset, since JSON groups a module's values by key) and the exit status must be the
same. The renderings are written from the documented formats, not from kmodx's code.

  json-consistency.py tree KMODX_BIN_DIR      modinfo of every module of the real tree
                                               (plain, xz, zst) and modprobe -c on it;
                                               exit 77 without the tree
  json-consistency.py fixtures SIM_BIN_DIR FIXTURES
                                               lsmod, modprobe -D/-R/-c/--show-modversions/
                                               --show-exports, static-nodes, modinfo,
                                               depmod --lint on the scenarios of
                                               rootfs-fixtures/
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
SIG_KEYS = ("sig_id", "signer", "sig_key", "sig_hashalgo", "signature")


class Checker:
    def __init__(self):
        self.checks = self.failures = 0

    def same(self, what, expected, actual):
        self.checks += 1
        if expected == actual:
            return True
        self.failures += 1
        print(f"FAIL: {what}\n  plain:    {expected!r:.600}\n  from json: {actual!r:.600}")
        return False


def run(argv, cwd=None):
    p = subprocess.run(argv, capture_output=True, cwd=cwd, timeout=600)
    return p.returncode, p.stdout, p.stderr


def both(chk, what, argv, json_argv=None):
    """Plain and JSON runs of one command: the parsed document, the plain stdout (bytes),
    or None when the exit statuses differ or the document does not parse."""
    rc1, plain, _ = run(argv)
    rc2, doc, err = run(json_argv or argv + ["--json"])
    if not chk.same(f"{what}: exit status", rc1, rc2):
        print(err.decode(errors="replace")[:400])
        return None, None
    try:
        parsed = json.loads(doc.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        chk.same(f"{what}: a JSON document", "valid JSON", str(e))
        return None, None
    chk.same(f"{what}: schema", 1, parsed.get("schema"))
    return parsed, plain


# ---- modinfo ----

def wrap_hex(value):
    """modinfo's layout of long hex values: 20 bytes a line, then a tab-tab indent."""
    parts = value.split(":")
    if len(parts) <= 20:
        return value
    lines = [":".join(parts[i:i + 20]) for i in range(0, len(parts), 20)]
    return ":\n\t\t".join(lines)


def field(key, value):
    return f"{key}:{' ' * max(0, 15 - len(key))}{value}"


def modinfo_lines(m):
    out = []
    if m["builtin"]:
        out.append(field("name", m["name"]))
    out.append(field("filename", m["filename"] if not m["builtin"] else "(builtin)"))
    for key, values in m["info"].items():
        if key == "depends":
            values = [",".join(values)]
        out += [field(key, v) for v in values]
    for p in m["parameters"]:
        if p["description"] is None:
            text = p["type"]
        elif p["type"] is None:
            text = p["description"]
        else:
            text = f"{p['description']} ({p['type']})"
        out.append(field("parm", f"{p['name']}:{text}"))
    for key in SIG_KEYS:
        if m["signature"] and key in m["signature"]:
            out.append(field(key, wrap_hex(m["signature"][key])))
    return "\n".join(out).encode() + b"\n"


def check_modinfo(chk, what, argv):
    doc, plain = both(chk, what, argv)
    if doc is None:
        return
    # modules follow each other without a separator: take as many lines as the JSON
    # module renders to, and compare them as multisets (JSON groups values by key)
    lines = plain.split(b"\n")
    pos = 0
    for m in doc["modules"]:
        mine = modinfo_lines(m).split(b"\n")[:-1]
        theirs = lines[pos:pos + len(mine)]
        pos += len(mine)
        if not chk.same(f"{what}: module {m['name']}", sorted(theirs), sorted(mine)):
            return
    chk.same(f"{what}: nothing left over", [b""], lines[pos:])


# ---- modprobe, lsmod, static-nodes ----

def render_config(doc):
    c = doc["config"]
    out = [f"blacklist {b}" for b in c["blacklist"]]
    out += [f"install {e['module']} {e['command']}" for e in c["install"]]
    out += [f"remove {e['module']} {e['command']}" for e in c["remove"]]
    out += [f"alias {e['alias']} {e['module']}" for e in c["alias"]]
    out += [f"options {e['module']} {e['options']}" for e in c["options"]]
    for e in c["softdep"]:
        # modprobe(8): no space between the two parts, as kmod prints it
        pre = "pre:" + "".join(" " + d for d in e["pre"]) if e["pre"] else ""
        post = "post:" + "".join(" " + d for d in e["post"]) if e["post"] else ""
        out.append(f"softdep {e['module']} {pre}{post}")
    out += [f"weakdep {e['module']} {' '.join(e['modules'])}" for e in c["weakdep"]]
    out += [f"mask {m}" for m in c.get("mask", [])]
    text = "".join(line + "\n" for line in out)
    text += "\n# End of configuration files. Dumping indexes now:\n\n"
    text += "".join(f"alias {e['alias']} {e['module']}\n" for e in doc["index"]["aliases"])
    text += "".join(f"alias symbol:{e['symbol']} {e['module']}\n"
                    for e in doc["index"]["symbols"])
    return text.encode()


def render_actions(doc):
    out = []
    for a in doc["actions"]:
        if a["action"] == "insmod":
            out.append(f"insmod {a['path']} {a['options']}")
        elif a["action"] == "install":
            out.append(f"install {a['command']} {a['options']}")
        else:
            out.append(f"{a['action']} {a['module']}")
    return "".join(line + "\n" for line in out).encode()


def render_resolved(doc):
    return "".join(m + "\n" for a in doc["aliases"] for m in a["modules"]).encode()


def render_symbols(doc):
    entries = doc.get("versions", doc.get("exports", []))
    return "".join(f"0x{e['crc']:08x}\t{e['symbol']}\n" for e in entries).encode()


def render_lsmod(doc):
    out = "Module                  Size  Used by\n"
    for m in doc["modules"]:
        out += f"{m['name']:<19} {m['size']:>8}  {m['refcnt']}"
        out += (" " + ",".join(m["used_by"])) if m["used_by"] else ""
        out += "\n"
    return out.encode()


def render_devname(doc):
    return "".join(f"{n['module']} {n['devname']} {n['type']}{n['major']}:{n['minor']}\n"
                   for n in doc["nodes"]).encode()


def render_lint(doc):
    """depmod --lint's report (depmod.8, LINT), from its document."""
    def n(count, one, more):
        return f"{count} {one if count == 1 else more}"

    ex, out = doc["kernel_exports"], []
    if ex["stub"]:
        out.append(f"kernel exports: {ex['stub']} is a stub (no exported symbol): not used")
    if ex["file"]:
        out.append(f"kernel exports: {ex['file']} ({ex['kind']}, "
                   f"{n(ex['symbols'], 'symbol', 'symbols')})")
    else:
        out.append("kernel exports: none found (-E, -F, or Module.symvers in the module "
                   "directory's build/ or /usr/src/linux-headers-<release>/): taken to be "
                   "what the modules of kernel/ need and no module provides")
    if not doc["firmware_checked"]:
        out.append("firmware: not checked: no /lib/firmware directory")
    if doc["cycles"]:
        out.append(f"dependency cycles: {len(doc['cycles'])}")
    out += ["  " + " ".join(c["modules"]) for c in doc["cycles"]]
    u = doc["unknown_symbols"]
    if u:
        out.append(f"unknown symbols: {sum(len(x['symbols']) for x in u)} in "
                   f"{n(len(u), 'module', 'modules')}")
    out += [f"  {x['module']} ({len(x['symbols'])}): " + " ".join(x["symbols"]) for x in u]
    v = doc["vermagic_differs"]
    if v:
        out.append(f"vermagic: {n(len(v), 'module differs', 'modules differ')} from the "
                   f"kernel's ({doc['vermagic']})")
    out += [f"  {x['module']}: {x['vermagic'] or '(none)'}" for x in v]
    if doc["duplicates"]:
        out.append(f"duplicate modules: {len(doc['duplicates'])}")
    out += [f"  {x['name']}: {x['used']} is used, not: " + " ".join(x["ignored"])
            for x in doc["duplicates"]]
    m = doc["missing_modules"]
    if m:
        out.append(f"missing modules: {sum(len(x['names']) for x in m)}")
    out += [f"  {x['in']} {x['kind']}: " + " ".join(x["names"]) for x in m]
    f = doc["missing_firmware"]
    if f:
        out.append(f"missing firmware: {sum(len(x['files']) for x in f)} in "
                   f"{n(len(f), 'module', 'modules')}")
    out += [f"  {x['module']} ({len(x['files'])}): " + " ".join(x["files"]) for x in f]
    if doc["unreadable"]:
        out.append(f"unreadable modules: {len(doc['unreadable'])}")
    out += [f"  {x['module']}: {x['error']}" for x in doc["unreadable"]]
    p = doc["problems"]
    out.append(n(p, "problem", "problems") if p else "no problems")
    return "".join(line + "\n" for line in out).encode()


def check_rendered(chk, what, argv, render, json_argv=None):
    doc, plain = both(chk, what, argv, json_argv)
    if doc is not None:
        chk.same(f"{what}: content", plain, render(doc))


# ---- the real tree ----

def tree(bindir):
    sys.path.insert(0, HERE)
    import realtree
    chk = Checker()
    kmodx = os.path.join(bindir, "kmodx")
    for variant in (None, "xz", "zst"):
        try:
            root = realtree.ensure_variant(variant) if variant else realtree.ensure_tree()
        except Exception as e:  # noqa: BLE001 - any failure to get the tree is a skip
            print(f"SKIP: the real module tree is not available: {e}")
            return SKIP
        kver = realtree.kernel_release(root)
        base = os.path.join(root, "lib/modules", kver)
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(base) for f in fs
                       if ".ko" in f)
        name = variant or "plain"
        print(f"{name}: {len(files)} modules")
        check_modinfo(chk, f"modinfo {name} tree", [kmodx, "modinfo"] + files)
        # names, builtin modules and aliases resolved through the indexes
        check_modinfo(chk, f"modinfo -b {name} names",
                      [kmodx, "modinfo", "-b", root, "-k", kver, "vfat", "ext4", "8250",
                       "fs-vfat", "pci:v00008086d00001502sv*sd*bc*sc*i*", "no-such-module"])
        if variant is None:
            check_rendered(chk, "modprobe -c on the tree",
                           [kmodx, "modprobe", "-c", "-C", "/nonexistent", "-d", root, "-S", kver],
                           render_config)
    print(f"json-consistency tree: {chk.checks} comparisons, {chk.failures} failed")
    return 1 if chk.failures else 0


# ---- fixtures ----

def prepare(fixture, bindir):
    """A scenario's root as the integration runner prepares it (generated modules,
    setup lines)."""
    spec = importlib.util.spec_from_file_location("runner",
                                                  os.path.join(HERE, "integration", "runner.py"))
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    args = type("Args", (), {"bin": bindir, "wrapper": "", "timeout": 60})()
    args.generator = runner.load_generator()
    sc = runner.Scenario(args, fixture)
    root = tempfile.mkdtemp(prefix="kmodx-json-")
    if os.path.isdir(os.path.join(fixture, "root")):
        shutil.copytree(os.path.join(fixture, "root"), root, symlinks=True, dirs_exist_ok=True)
    specs = os.path.join(fixture, "modules.json")
    if os.path.exists(specs):
        with open(specs) as f:
            args.generator.generate_many(json.load(f), root)
    for line in runner.read(os.path.join(fixture, "setup")).decode().splitlines():
        if line.strip() and not line.startswith("#"):
            sc.run_cmd(line, root)
    return root


def module_dirs(root):
    base = os.path.join(root, "lib/modules")
    return [os.path.join(base, k) for k in sorted(os.listdir(base))] if os.path.isdir(base) else []


def fixture_checks(chk, bindir, name, root):
    tool = lambda t: [os.path.join(bindir, t), "--root=" + root]  # noqa: E731
    if os.path.exists(os.path.join(root, "proc/modules")):
        check_rendered(chk, f"{name}: lsmod", tool("lsmod"), render_lsmod)
    for mdir in module_dirs(root):
        kver = os.path.basename(mdir)
        modprobe = tool("modprobe") + ["-S", kver]
        if kver[:1].isdigit() and "." in kver:  # depmod refuses other names
            check_rendered(chk, f"{name}: depmod --lint", tool("depmod") + ["--lint", kver],
                           render_lint)
        check_rendered(chk, f"{name}: modprobe -c", modprobe + ["-c"], render_config)
        check_rendered(chk, f"{name}: static-nodes",
                       [os.path.join(bindir, "kmodx"), "static-nodes", "--root=" + root,
                        "--format=devname"], render_devname,
                       [os.path.join(bindir, "kmodx"), "static-nodes", "--root=" + root,
                        "--json"])
        names, aliases = set(), set()
        for idx, into in (("modules.dep", names), ("modules.alias", aliases)):
            try:
                with open(os.path.join(mdir, idx), errors="replace") as f:
                    for line in f:
                        if idx == "modules.dep" and ":" in line:
                            path = line.split(":")[0]
                            into.add(os.path.basename(path).split(".")[0])
                            if not path.startswith("/"):
                                path = os.path.join(mdir, path)
                            if os.path.exists(path):
                                ko = path
                                for mode in ("--show-modversions", "--show-exports"):
                                    check_rendered(chk, f"{name}: modprobe {mode} {ko}",
                                                   modprobe + [mode, ko], render_symbols)
                                check_modinfo(chk, f"{name}: modinfo {ko}",
                                              tool("modinfo") + [ko])
                        elif line.startswith("alias "):
                            into.add(line.split()[1])
            except OSError:
                pass
        for n in sorted(names):
            check_rendered(chk, f"{name}: modprobe -D {n}", modprobe + ["-D", n], render_actions)
        for a in sorted(aliases) + ["no-such-alias"]:
            check_rendered(chk, f"{name}: modprobe -R {a}", modprobe + ["-R", a], render_resolved)
        if names:
            check_modinfo(chk, f"{name}: modinfo by name", tool("modinfo") + ["-k", kver]
                          + sorted(names))


def fixtures(bindir, fixtures_dir):
    chk = Checker()
    bindir = os.path.abspath(bindir)
    for name in sorted(os.listdir(fixtures_dir)):
        fixture = os.path.join(os.path.abspath(fixtures_dir), name)
        if not os.path.isdir(os.path.join(fixture, "steps")):
            continue
        root = prepare(fixture, bindir)
        try:
            fixture_checks(chk, bindir, name, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(f"json-consistency fixtures: {chk.checks} comparisons, {chk.failures} failed")
    return 1 if chk.failures or chk.checks == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "tree":
        sys.exit(tree(sys.argv[2]))
    if len(sys.argv) >= 4 and sys.argv[1] == "fixtures":
        sys.exit(fixtures(sys.argv[2], sys.argv[3]))
    print(__doc__)
    sys.exit(2)
