#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""libkmod.so.2 exports kmod 34.2's 75 functions, each in kmod's version node, and nothing
else; the nodes chain as kmod's do (LIBKMOD_5 <- 6 <- 22 <- 30 <- 33).

Usage: check-exports.py LIBKMOD_SO

The expected list is written out here from kmod's documentation (not read from
libkmod.sym), so that a wrong version script fails. One addition: the LIBKMOD_5 version
of kmod_module_new_from_name_lookup that kmod 30 (Debian's libkmod2) exported, so that
binaries linked against it keep running.
"""
import re
import subprocess
import sys

NODES = {
    "LIBKMOD_5": """
        kmod_new kmod_ref kmod_unref kmod_get_log_priority kmod_set_log_priority
        kmod_set_log_fn kmod_get_userdata kmod_set_userdata kmod_list_next kmod_list_prev
        kmod_list_last kmod_load_resources kmod_unload_resources kmod_validate_resources
        kmod_config_get_blacklists kmod_config_get_install_commands
        kmod_config_get_remove_commands kmod_config_get_aliases kmod_config_get_options
        kmod_config_get_softdeps kmod_config_iter_get_key kmod_config_iter_get_value
        kmod_config_iter_next kmod_config_iter_free_iter kmod_dump_index
        kmod_module_new_from_name kmod_module_new_from_path kmod_module_new_from_lookup
        kmod_module_new_from_loaded kmod_module_ref kmod_module_unref
        kmod_module_unref_list kmod_module_get_module kmod_module_remove_module
        kmod_module_insert_module kmod_module_probe_insert_module
        kmod_module_get_dependencies kmod_module_get_softdeps
        kmod_module_get_filtered_blacklist kmod_module_get_name kmod_module_get_path
        kmod_module_initstate_str kmod_module_get_initstate kmod_module_get_refcnt
        kmod_module_get_sections kmod_module_section_free_list
        kmod_module_section_get_name kmod_module_section_get_address
        kmod_module_get_holders kmod_module_get_size kmod_module_get_options
        kmod_module_get_install_commands kmod_module_get_remove_commands
        kmod_module_get_info kmod_module_info_get_key kmod_module_info_get_value
        kmod_module_info_free_list kmod_module_get_versions
        kmod_module_version_get_symbol kmod_module_version_get_crc
        kmod_module_versions_free_list kmod_module_get_symbols
        kmod_module_symbol_get_symbol kmod_module_symbol_get_crc
        kmod_module_symbols_free_list kmod_module_get_dependency_symbols
        kmod_module_dependency_symbol_get_symbol kmod_module_dependency_symbol_get_crc
        kmod_module_dependency_symbol_get_bind kmod_module_dependency_symbols_free_list
    """,
    "LIBKMOD_6": "kmod_module_apply_filter",
    "LIBKMOD_22": "kmod_get_dirname",
    "LIBKMOD_30": "kmod_module_new_from_name_lookup",
    "LIBKMOD_33": "kmod_config_get_weakdeps kmod_module_get_weakdeps",
}
CHAIN = ["LIBKMOD_5", "LIBKMOD_6", "LIBKMOD_22", "LIBKMOD_30", "LIBKMOD_33"]
COMPAT = {("kmod_module_new_from_name_lookup", "LIBKMOD_5", False)}


def expected():
    want = set()
    for node, names in NODES.items():
        for name in names.split():
            want.add((name, node, True))
    return want


def exported(path):
    """(name, version, default) of every defined dynamic symbol."""
    out = subprocess.run(["readelf", "--dyn-syms", "-W", path], capture_output=True,
                         text=True, check=True).stdout
    syms = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 8 or f[6] == "UND" or f[4] not in ("GLOBAL", "WEAK"):
            continue
        m = re.fullmatch(r"([^@]+)(@@?)(\S+)", f[7])
        if f[7].split("@")[0] in CHAIN:  # a version node's own symbol
            continue
        if m is None:
            syms.add((f[7], None, True))
        else:
            syms.add((m.group(1), m.group(3), m.group(2) == "@@"))
    return syms


def chain(path):
    """Version definitions as (name, parent) in file order."""
    out = subprocess.run(["readelf", "-V", "-W", path], capture_output=True, text=True,
                         check=True).stdout
    defs = []
    for line in out.split("Version needs")[0].splitlines():
        m = re.search(r"Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)", line)
        if m and m.group(1) != "BASE":
            defs.append([m.group(2), None])
        m = re.search(r"Parent 1: (\S+)", line)
        if m and defs:
            defs[-1][1] = m.group(1)
    return defs


def main():
    path = sys.argv[1]
    errors = []
    got = exported(path)
    want = expected() | COMPAT
    n = len(expected())
    if n != 75:
        errors.append(f"the expected list has {n} names, not 75")
    for s in sorted(want - got, key=str):
        errors.append(f"missing: {s[0]}{'@@' if s[2] else '@'}{s[1]}")
    for s in sorted(got - want, key=str):
        errors.append(f"unexpected export: {s[0]}{'@@' if s[2] else '@'}{s[1]}")
    defs = chain(path)
    want_defs = [[CHAIN[0], None]] + [[CHAIN[i], CHAIN[i - 1]] for i in range(1, len(CHAIN))]
    if defs != want_defs:
        errors.append(f"version nodes {defs}, expected {want_defs}")
    for e in errors:
        print(f"FAIL: {e}", file=sys.stderr)
    print(f"{path}: {len(got)} exports in {len(defs)} version nodes checked")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
