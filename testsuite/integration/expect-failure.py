#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run the runner on scenarios that are wrong on purpose, one at a time: each must be
reported as failed, so the runner cannot pass what it should not.
Usage: expect-failure.py RUNNER BIN SELFTEST_DIR"""
import os
import subprocess
import sys

runner, bindir, fixtures = sys.argv[1:4]
bad = 0
for name in sorted(os.listdir(fixtures)):
    p = subprocess.run([sys.executable, runner, "--bin", bindir, "--fixtures", fixtures, name],
                       capture_output=True, text=True)
    if p.returncode == 0 or "FAIL " + name not in p.stdout:
        print(f"FAIL: the runner passed the wrong scenario {name}:\n{p.stdout}")
        bad += 1
    else:
        print(f"ok: {name} was reported: {p.stdout.splitlines()[0]}")
sys.exit(1 if bad else 0)
