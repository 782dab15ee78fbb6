#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every long option a tool's --help shows is documented in its man page, and every
option the man page documents exists. The option tables in tools/*.c drive --help, so
this keeps the three in step. Usage: check-manpages.py KMODX MANDIR TOOL[=PAGE]...
(PAGE: the man page's name when it is not the tool's, as kmodx-taint for taint)."""
import re
import subprocess
import sys


def main():
    kmodx, mandir, tools = sys.argv[1], sys.argv[2], sys.argv[3:]
    failures = 0
    for arg in tools:
        tool, _, page = arg.partition("=")
        page = page or tool
        help_text = subprocess.run([kmodx, tool, "--help"], capture_output=True, text=True,
                                   check=True).stdout
        from_help = set(re.findall(r"--([a-z][a-z0-9-]*)", help_text))
        with open(f"{mandir}/{page}.8.scd") as f:
            man = f.read()
        from_man = set(re.findall(r"\*--([a-z][a-z0-9-]*)", man))
        for opt in sorted(from_help - from_man):
            print(f"FAIL: {tool}: --{opt} is in --help but not in {page}.8")
            failures += 1
        for opt in sorted(from_man - from_help):
            print(f"FAIL: {tool}: --{opt} is in {page}.8 but not in --help")
            failures += 1
        if not from_help:
            print(f"FAIL: {tool}: --help lists no option")
            failures += 1
    print(f"man pages: {len(tools)} tools checked, {failures} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
