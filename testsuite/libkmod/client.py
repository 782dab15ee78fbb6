# SPDX-License-Identifier: GPL-2.0-or-later
"""Running testsuite/libkmod/libkmod-client on a chosen libkmod.so.2, optionally in a
user and mount namespace whose /sys/module and /proc are made up (make_kernel()), so
that nothing of the host's running kernel is read. Shared by the differential and
valgrind tests."""
import os
import shutil
import subprocess

# The state and probe passes: a made up running kernel.
PROC_MODULES = """\
ext4 1003520 1 - Live 0xffffffffc0a00000
jbd2 180224 1 ext4, Live 0xffffffffc0900000
mbcache 16384 1 ext4, Live 0xffffffffc0800000
crc16 16384 1 ext4, Live 0xffffffffc0700000
xfs 2035712 0 - Live 0xffffffffc0600000
loop 40960 0 - Loading 0xffffffffc0500000
dummy 16384 0 - Unloading 0xffffffffc0400000
"""
SYS_MODULES = {
    "ext4": ("live", 1, 1003520, []),
    "jbd2": ("live", 1, 180224, ["ext4"]),
    "mbcache": ("live", 1, 16384, ["ext4"]),
    "crc16": ("live", 1, None, ["ext4"]),  # no coresize: /proc/modules has it
    "xfs": ("live", 0, 2035712, []),
    "loop": ("coming", 0, 40960, []),
    "dummy": ("going", 0, 16384, []),
}
CMDLINE = "BOOT_IMAGE=/vmlinuz root=/dev/vda ro e1000e.debug=2 quiet modprobe.blacklist=xfs\n"


def make_kernel(work):
    """A /sys/module and /proc for the namespace."""
    sysmod = os.path.join(work, "sys-module")
    proc = os.path.join(work, "proc")
    os.makedirs(proc)
    with open(os.path.join(proc, "modules"), "w") as f:
        f.write(PROC_MODULES)
    with open(os.path.join(proc, "cmdline"), "w") as f:
        f.write(CMDLINE)
    # the process's own entries stay real (valgrind reads /proc/self/maps): the real
    # /proc is mounted at real-proc in the namespace
    os.makedirs(os.path.join(work, "real-proc"))
    for entry in ("self", "thread-self"):
        os.symlink(os.path.join(work, "real-proc", entry), os.path.join(proc, entry))
    for name, (state, refcnt, size, holders) in SYS_MODULES.items():
        d = os.path.join(sysmod, name)
        os.makedirs(os.path.join(d, "holders"))
        os.makedirs(os.path.join(d, "sections"))
        for attr, value in (("initstate", state), ("refcnt", refcnt), ("coresize", size)):
            if value is not None:
                with open(os.path.join(d, attr), "w") as f:
                    f.write(f"{value}\n")
        for h in holders:
            os.symlink(f"../../{h}", os.path.join(d, "holders", h))
        for i, sec in enumerate((".text", ".data", ".bss")):
            with open(os.path.join(d, "sections", sec), "w") as f:
                f.write(f"0x{0xffffffffc0a00000 + 0x1000 * i:x}\n")
    # a builtin module with parameters: a directory without initstate
    os.makedirs(os.path.join(sysmod, "8250", "parameters"))
    return sysmod, proc


def sandbox_ok():
    if shutil.which("unshare") is None:
        return False
    p = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return p.returncode == 0


class Runner:
    def __init__(self, client, moddir, config, work, sysmod, proc):
        self.client, self.moddir, self.config = client, moddir, config
        self.work, self.sysmod, self.proc = work, sysmod, proc

    def run(self, libdir, api30, cmd, arg=None, sandbox=False, wrapper=()):
        argv = list(wrapper) + [self.client] + (["--api=30"] if api30 else [])
        argv += [self.moddir, self.config, cmd] + ([arg] if arg else [])
        if sandbox:
            script = ('mount --bind "$1" /sys/module && mount --rbind /proc "$3" && '
                      'mount --bind "$2" /proc && shift 3 && exec "$@"')
            argv = ["unshare", "-rm", "sh", "-c", script, "sh", self.sysmod, self.proc,
                    os.path.join(self.work, "real-proc")] + argv
        env = dict(os.environ, LD_LIBRARY_PATH=libdir)
        env.pop("KMOD_LOG", None)
        p = subprocess.run(argv, capture_output=True, env=env, timeout=1200)
        self.stderr = p.stderr
        return p.returncode, p.stdout

    def which(self, libdir):
        env = dict(os.environ, LD_LIBRARY_PATH=libdir)
        return subprocess.run([self.client, "which"], capture_output=True, text=True,
                              env=env).stdout.strip()
