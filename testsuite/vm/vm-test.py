#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run kmodx against a real Linux kernel under QEMU, side by side with Debian's kmod.

The host side: get Debian's kernel and modules (testsuite/realtree.py), extract the ELF
vmlinux from the bzImage once, build an uncompressed newc initramfs (written here, no cpio
binary needed) with kmodx, kmod, dash, busybox, a subset of real modules and the scenario
scripts, boot one VM per boot group (boots.conf) and read the markers the guest prints on
its serial console:

    KMODX-VM: BEGIN <scenario>
    KMODX-VM: PASS <scenario>   or   KMODX-VM: FAIL <scenario>
    KMODX-VM: DONE <group>

Exit status: 0 all passed, 1 a failure, 77 skipped (not root without a cache, or QEMU
cannot run here).
"""
import argparse
import concurrent.futures
import fnmatch
import gzip
import lzma
import os
import shutil
import stat
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import realtree  # noqa: E402

SKIP = 77
MARK = "KMODX-VM: "
TOOLS = ["lsmod", "insmod", "rmmod", "modinfo", "modprobe", "depmod"]
DLOPEN_LIBS = ["libz.so.1", "liblzma.so.5", "libzstd.so.1", "libcrypto.so.3"]
BUSYBOX_EXCLUDE = set(TOOLS) | {"sh", "ash", "init", "linuxrc"}
BOOT_TIMEOUT = 300  # seconds per VM, host side (about 70 s on a busy 2-CPU machine)
SCENARIO_TIMEOUT = int(os.environ.get("KMODX_VM_SCENARIO_TIMEOUT", "120"))  # guest watchdog
SIG_MAGIC = b"~Module signature appended~\n"
LDCONFIG = shutil.which("ldconfig") or "/sbin/ldconfig"


def skip(msg):
    line = "*" * 72
    print(f"{line}\n* SKIP: real-kernel tests not run\n* {msg}\n{line}", flush=True)
    sys.exit(SKIP)


def log(msg):
    print(f"vm-test: {msg}", flush=True)


# ---------------------------------------------------------------- packages, kernel

def ensure_packages():
    need = {"/usr/bin/qemu-system-x86_64": "qemu-system-x86", "/bin/busybox": "busybox-static",
            "/usr/bin/kmod": "kmod", "/usr/bin/dash": "dash", LDCONFIG: "libc-bin",
            "/usr/bin/zstd": "zstd"}
    missing = sorted({p for b, p in need.items() if not os.path.exists(b)})
    if os.path.exists("/bin/busybox") and "not a dynamic executable" not in subprocess.run(
            ["ldd", "/bin/busybox"], capture_output=True, text=True).stderr:
        missing.append("busybox-static")  # the dynamic busybox cannot run in the image
    if not missing:
        return
    if os.geteuid() != 0:
        skip(f"missing packages {' '.join(missing)} and not root to install them")
    log(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
    r = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends"]
                       + missing, env=env, stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        skip(f"apt-get install {' '.join(missing)} failed")


def extract_vmlinux(bzimage, dst):
    """The ELF kernel inside a bzImage: payload located by the boot header, xz-compressed."""
    if os.path.exists(dst):
        return dst
    data = open(bzimage, "rb").read()
    if data[0x202:0x206] != b"HdrS":
        raise RuntimeError(f"{bzimage}: not a bzImage")
    setup_sects = data[0x1f1] or 4
    payload_off, payload_len = struct.unpack_from("<II", data, 0x248)
    start = (setup_sects + 1) * 512 + payload_off
    payload = data[start:start + payload_len]
    if payload.startswith(b"\xfd7zXZ\x00"):
        dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        elf = dec.decompress(payload)
    else:
        raise RuntimeError(f"{bzimage}: payload compression not supported: {payload[:6].hex()}")
    if not elf.startswith(b"\x7fELF"):
        raise RuntimeError(f"{bzimage}: payload is not ELF")
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        f.write(elf)
    os.rename(tmp, dst)
    return dst


# ---------------------------------------------------------------- initramfs (newc)

class Cpio:
    """An uncompressed newc archive built in memory."""

    def __init__(self):
        self.parts = []
        self.ino = 1000
        self.seen = set()

    def _entry(self, name, mode, data=b"", nlink=1):
        self.ino += 1
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08X}" for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        blob = hdr.encode() + name_b
        blob += b"\0" * (-len(blob) % 4)
        blob += data
        blob += b"\0" * (-len(blob) % 4)
        self.parts.append(blob)

    def dir(self, path):
        path = path.strip("/")
        if not path or path in self.seen:
            return
        self.dir(os.path.dirname(path))
        self.seen.add(path)
        self._entry(path, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        if path in self.seen:
            return
        self.seen.add(path)
        self._entry(path, stat.S_IFREG | mode, data)

    def symlink(self, path, target):
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        if path in self.seen:
            return
        self.seen.add(path)
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def tree(self, src, dst):
        """Copy a host directory tree (files, dirs, symlinks)."""
        for d, dirs, files in os.walk(src):
            rel = os.path.relpath(d, src)
            base = dst if rel == "." else os.path.join(dst, rel)
            self.dir(base)
            for n in sorted(dirs + files):
                p = os.path.join(d, n)
                if os.path.islink(p):
                    self.symlink(os.path.join(base, n), os.readlink(p))
                elif os.path.isfile(p):
                    mode = os.stat(p).st_mode & 0o777
                    self.file(os.path.join(base, n), open(p, "rb").read(), mode)

    def bytes(self):
        self._entry("TRAILER!!!", 0)
        out = b"".join(self.parts)
        self.parts.pop()
        return out + b"\0" * (-len(out) % 512)


def shared_libs(binaries):
    libs = set()
    for b in binaries:
        out = subprocess.run(["ldd", b], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            for p in parts:
                if p.startswith("/"):
                    libs.add(p)
    cache = subprocess.run([LDCONFIG, "-p"], capture_output=True, text=True).stdout
    for soname in DLOPEN_LIBS:
        for line in cache.splitlines():
            line = line.strip()
            if line.startswith(soname + " ") and "x86-64" in line:
                libs.add(line.split("=>")[-1].strip())
                break
    return sorted(libs)


def add_file_at(cpio, host_path, image_path=None):
    """Add host_path under its own path (or image_path), with /lib and /lib64 as on the host."""
    real = os.path.realpath(host_path)
    data = open(real, "rb").read()
    mode = os.stat(real).st_mode & 0o777
    path = image_path or host_path
    # the image has merged /usr like Debian: /lib -> usr/lib, /lib64 -> usr/lib64,
    # /bin -> usr/bin
    for top in ("lib", "lib64", "bin"):
        if path.startswith(f"/{top}/"):
            path = "/usr" + path
    cpio.file(path, data, mode)


# ---------------------------------------------------------------- modules and test data

def read_modules_list(path):
    names = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def module_closure(moddir, names):
    """Relative paths of the named modules and everything they depend on."""
    dep = {}
    byname = {}
    for line in open(os.path.join(moddir, "modules.dep")):
        path, _, deps = line.partition(":")
        dep[path] = deps.split()
        n = os.path.basename(path).split(".ko")[0].replace("-", "_")
        byname[n] = path
    todo = []
    for n in names:
        key = n.replace("-", "_")
        if key not in byname:
            raise RuntimeError(f"modules.list: {n} is not a module of this kernel")
        todo.append(byname[key])
    out = set()
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.add(p)
        todo.extend(dep[p])
    return sorted(out)


def elf_sections(data):
    """{name: (offset, size)} of an ELF64 little-endian file."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]
    out = {}
    for h in hdrs:
        end = data.index(b"\0", stroff + h[0])
        out[data[stroff + h[0]:end].decode()] = (h[4], h[5])
    return out


def strip_signature(data):
    if not data.endswith(SIG_MAGIC):
        raise RuntimeError("module is not signed")
    siglen, = struct.unpack_from(">I", data, len(data) - len(SIG_MAGIC) - 4)
    return data[:len(data) - len(SIG_MAGIC) - 12 - siglen]


def compress(kind, data):
    if kind == "xz":  # CRC32 as the kernel's own xz modules use
        return lzma.compress(data, check=lzma.CHECK_CRC32)
    if kind == "gz":
        return gzip.compress(data, mtime=0)
    # zstd: not in Python's standard library
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                          check=True).stdout


def make_test_data(cpio, moddir, rels):
    """Files under /data: compressed, unsigned, modified, truncated, garbage, empty."""
    def mod(name):
        for r in rels:
            if os.path.basename(r) == name + ".ko":
                return open(os.path.join(moddir, r), "rb").read()
        raise RuntimeError(f"test data: {name}.ko not in the image (modules.list)")

    loop = mod("loop")
    cpio.file("/data/loop.ko", loop)
    for kind in ("xz", "zst", "gz"):
        cpio.file(f"/data/loop.ko.{kind}", compress(kind, loop))
    bfs = mod("bfs")
    cpio.file("/data/bfs.ko", bfs)
    cpio.file("/data/bfs-nosig.ko", strip_signature(bfs))
    cpio.file("/data/bfs-nosig.ko.xz", compress("xz", strip_signature(bfs)))
    # one changed byte in .modinfo (read by nothing that executes): the signature breaks
    off, size = elf_sections(bfs)[".modinfo"]
    desc = bfs.index(b"description=", off, off + size) + len("description=")
    changed = bytearray(bfs)
    changed[desc] ^= 0x20  # flip the case of the first letter
    cpio.file("/data/bfs-changed.ko", bytes(changed))
    cpio.file("/data/truncated.ko", loop[:len(loop) // 3])
    cpio.file("/data/garbage.ko", bytes((i * 151 + 7) & 0xff for i in range(8192)))
    cpio.file("/data/empty.ko", b"")
    dummy = mod("dummy")
    cpio.file("/data/dummy.ko.zst", compress("zst", dummy))
    cpio.file("/data/dummy-nosig.ko", strip_signature(dummy))
    # out of tree, the way the kernel tells: no "intree=Y" in .modinfo (the key renamed,
    # so nothing moves; the signature is stripped since the bytes changed)
    minix = strip_signature(mod("minix"))
    if minix.count(b"intree=Y") != 1:
        raise RuntimeError("test data: minix.ko has no single intree=Y")
    cpio.file("/data/minix-oot.ko", minix.replace(b"intree=Y", b"xntree=Y"))


def make_signed_data(cpio, kmodx, moddir, rels, workdir):
    """bfs.ko re-signed by `kmodx sign` with a key made here, which the kernel does not
    know (/data/bfs-unknown.ko, its certificate /data/unknown.x509), and bfs.ko with its
    PKCS#7 message damaged (/data/bfs-badp7.ko: the first DER byte changed, the trailer
    intact)."""
    d = os.path.join(workdir, "sign")
    os.makedirs(d, exist_ok=True)
    key, crt = os.path.join(d, "unknown.priv"), os.path.join(d, "unknown.x509")
    subprocess.run(["openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500",
                    "-batch", "-x509", "-newkey", "rsa:2048", "-subj",
                    "/CN=kmodx VM test key, unknown to the kernel",
                    "-addext", "keyUsage=digitalSignature", "-keyout", key, "-out", crt,
                    "-outform", "DER"], check=True, capture_output=True)
    bfs = [r for r in rels if os.path.basename(r) == "bfs.ko"][0]
    signed = os.path.join(d, "bfs-unknown.ko")
    shutil.copy(os.path.join(moddir, bfs), signed)
    subprocess.run([kmodx, "sign", "--resign", "sha256", key, crt, signed], check=True)
    cpio.file("/data/bfs-unknown.ko", open(signed, "rb").read())
    cpio.file("/data/unknown.x509", open(crt, "rb").read())
    data = open(os.path.join(moddir, bfs), "rb").read()
    start = len(strip_signature(data))
    damaged = bytearray(data)
    damaged[start] ^= 0x01  # SEQUENCE (0x30) becomes SET OF... (0x31): not PKCS#7
    cpio.file("/data/bfs-badp7.ko", bytes(damaged))


# ---------------------------------------------------------------- libkmod.so.2 payload

LIBDIR = "/usr/lib/x86_64-linux-gnu"
SYSTEMD_PACKAGES = ["systemd", "udev", "libsystemd-shared"]
SYSTEMD_BINARIES = ["lib/systemd/systemd-modules-load", "bin/udevadm"]


def systemd_root(workdir):
    """Debian's systemd, udev and libsystemd-shared unpacked (downloaded once into the
    cache): the binaries that use libkmod.so.2 at boot."""
    debs = os.path.join(realtree.cache_dir(), "vm", "debs")
    os.makedirs(debs, exist_ok=True)
    root = os.path.join(workdir, "systemd-root")
    shutil.rmtree(root, ignore_errors=True)
    for pkg in SYSTEMD_PACKAGES:
        have = [f for f in os.listdir(debs) if f.startswith(pkg + "_") and f.endswith(".deb")]
        if not have:
            subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            have = [f for f in os.listdir(debs) if f.startswith(pkg + "_") and f.endswith(".deb")]
        subprocess.run(["dpkg-deb", "-x", os.path.join(debs, sorted(have)[-1]), root],
                       check=True)
    return root


def add_libkmod(cpio, root, libkmod, base_libs, workdir):
    """Debian's binaries linked against libkmod2, their libraries, kmodx's libkmod.so.2
    where the system's goes, kmod's out of the library path in /ref/lib for the
    comparison, and a loader cache for it all."""
    private = os.path.join(root, LIBDIR.lstrip("/"), "systemd")
    env = dict(os.environ, LD_LIBRARY_PATH=private)
    libs = {}  # image path -> host path
    for b in SYSTEMD_BINARIES:
        add_file_at(cpio, os.path.join(root, b), "/" + b)
        out = subprocess.run(["ldd", os.path.join(root, b)], capture_output=True, text=True,
                             env=env).stdout
        for line in out.split("\n"):
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "=>" and parts[2].startswith("/"):
                host = parts[2]
                image = host[len(root):] if host.startswith(root + "/") else host
                libs[image] = host
    for image, host in sorted(libs.items()):
        if os.path.basename(image).startswith("libkmod.so"):
            add_file_at(cpio, host, "/ref/lib/libkmod.so.2")
        else:
            add_file_at(cpio, host, image)
    add_file_at(cpio, libkmod, LIBDIR + "/libkmod.so.2")
    add_file_at(cpio, libkmod, "/kmodx/lib/libkmod.so.2")
    # the loader's cache over the base image's libraries and these
    libroot = os.path.join(workdir, "ldroot-libkmod")
    shutil.rmtree(libroot, ignore_errors=True)
    everything = [(lib, lib) for lib in base_libs] + [
        (i, h) for i, h in libs.items() if not os.path.basename(i).startswith("libkmod.so")]
    everything.append((LIBDIR + "/libkmod.so.2", libkmod))
    for image, host in everything:
        real = os.path.realpath(host)
        dst = os.path.join(libroot, os.path.dirname(os.path.realpath(image)).lstrip("/"),
                           os.path.basename(image))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(real, dst)
    os.makedirs(os.path.join(libroot, "etc"), exist_ok=True)
    subprocess.run([LDCONFIG, "-r", libroot], check=True, capture_output=True)
    cpio.file("/etc/ld.so.cache", open(os.path.join(libroot, "etc/ld.so.cache"), "rb").read())


# ---------------------------------------------------------------- image

def read_boots(path):
    """[(group, [scenario patterns], [extra kernel parameters], [additions])]"""
    groups = []
    for line in open(path):
        line = line.split("#", 1)[0].split()
        if line:
            pats = [w for w in line[1:] if ":" not in w]
            extra = [w[len("cmdline:"):] for w in line[1:] if w.startswith("cmdline:")]
            adds = [w[len("with:"):] for w in line[1:] if w.startswith("with:")]
            groups.append((line[0], pats, extra, adds))
    return groups


def scenarios_for(patterns, all_names):
    out = []
    for n in all_names:
        if any(fnmatch.fnmatch(n, p) for p in patterns) and n not in out:
            out.append(n)
    return out


def build_base(kmodx, tree, kver, workdir):
    """Everything but the group's scenario list, as a Cpio object."""
    cpio = Cpio()
    for d in ("dev", "proc", "sys", "tmp", "run", "etc/modprobe.d", "usr/bin", "usr/lib",
              "usr/lib64", "sbin", "root"):
        cpio.dir(d)
    cpio.symlink("/lib", "usr/lib")
    cpio.symlink("/lib64", "usr/lib64")
    cpio.symlink("/bin", "usr/bin")
    # the tools; a static kmodx execs its dynamic helper for sign and verify
    add_file_at(cpio, kmodx, "/kmodx/bin/kmodx")
    helper = os.path.join(os.path.dirname(kmodx), "kmodx-crypto")
    helpers = [helper] if os.path.exists(helper) else []
    for h in helpers:
        add_file_at(cpio, h, "/kmodx/bin/kmodx-crypto")
    kmod = "/usr/bin/kmod"
    add_file_at(cpio, kmod, "/ref/bin/kmod")
    for t in TOOLS:
        cpio.symlink(f"/kmodx/bin/{t}", "kmodx")
        cpio.symlink(f"/ref/bin/{t}", "kmod")
    cpio.symlink("/kmodx/bin/kmod", "kmodx")  # kmod static-nodes, as systemd runs it
    dash = "/bin/dash"
    add_file_at(cpio, dash, "/usr/bin/dash")
    cpio.symlink("/usr/bin/sh", "dash")
    busybox = "/bin/busybox"
    add_file_at(cpio, busybox, "/usr/bin/busybox")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split()
    for a in applets:
        if a not in BUSYBOX_EXCLUDE and a != "busybox":
            cpio.symlink(f"/usr/bin/{a}", "busybox")
    for lib in shared_libs([kmodx, kmod, dash] + helpers):
        add_file_at(cpio, lib)
    # module subset with kmod's indexes
    src = os.path.join(tree, "lib/modules", kver)
    rels = module_closure(src, read_modules_list(os.path.join(HERE, "modules.list")))
    stage = os.path.join(workdir, "modroot")
    shutil.rmtree(stage, ignore_errors=True)
    sdir = os.path.join(stage, "lib/modules", kver)
    for r in rels:
        os.makedirs(os.path.dirname(os.path.join(sdir, r)), exist_ok=True)
        shutil.copy(os.path.join(src, r), os.path.join(sdir, r))
    with open(os.path.join(sdir, "modules.order"), "w") as f:
        for line in open(os.path.join(src, "modules.order")):
            if line.strip() in rels:
                f.write(line)
    for n in ("modules.builtin", "modules.builtin.modinfo"):
        shutil.copy(os.path.join(src, n), os.path.join(sdir, n))
    subprocess.run(["/sbin/depmod", "-b", stage, kver],
                   check=True)
    cpio.tree(os.path.join(stage, "lib/modules"), "/usr/lib/modules")
    # the same modules compressed, in their own roots for modprobe -d (kmod 30 cannot
    # index .ko.gz: xz and zst only)
    for kind in ("xz", "zst"):
        croot = os.path.join(workdir, "modroot-" + kind)
        shutil.rmtree(croot, ignore_errors=True)
        cdir = os.path.join(croot, "lib/modules", kver)
        for r in rels:
            dst = os.path.join(cdir, r + "." + kind)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as f:
                f.write(compress(kind, open(os.path.join(sdir, r), "rb").read()))
        for n in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
            shutil.copy(os.path.join(sdir, n), os.path.join(cdir, n))
        subprocess.run(["/sbin/depmod", "-b", croot, kver], check=True)
        cpio.tree(os.path.join(croot, "lib/modules"), f"/alt-{kind}/lib/modules")
    make_test_data(cpio, sdir, rels)
    make_signed_data(cpio, kmodx, sdir, rels, workdir)
    # loader cache for the image (dlopen of the compression and crypto libraries)
    libroot = os.path.join(workdir, "ldroot")
    shutil.rmtree(libroot, ignore_errors=True)
    for lib in shared_libs([kmodx, kmod, dash] + helpers):
        real = os.path.realpath(lib)
        dst = os.path.join(libroot, os.path.dirname(real).lstrip("/"), os.path.basename(lib))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(real, dst)
    os.makedirs(os.path.join(libroot, "etc"), exist_ok=True)
    r = subprocess.run([LDCONFIG, "-r", libroot], capture_output=True)
    cache = os.path.join(libroot, "etc/ld.so.cache")
    if r.returncode == 0 and os.path.exists(cache):
        cpio.file("/etc/ld.so.cache", open(cache, "rb").read())
    # guest scripts
    guest = os.path.join(HERE, "guest")
    cpio.file("/init", open(os.path.join(guest, "init"), "rb").read(), 0o755)
    cpio.file("/tests/lib.sh", open(os.path.join(guest, "lib.sh"), "rb").read())
    cpio.tree(os.path.join(guest, "scenarios"), "/tests/scenarios")
    cpio.file("/tests/timeout", f"{SCENARIO_TIMEOUT}\n".encode())
    return cpio


# ---------------------------------------------------------------- boot and markers

def qemu_cmd(vmlinux, initrd, extra):
    return ["qemu-system-x86_64", "-M", "pc", "-accel", "tcg", "-cpu", "max", "-smp", "1",
            "-m", "256M", "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", "-serial", "stdio", "-kernel", vmlinux, "-initrd", initrd,
            "-append", " ".join(["console=ttyS0 panic=-1 oops=panic quiet rdinit=/init"]
                                + extra)]


def boot(vmlinux, initrd, extra, logpath):
    t0 = time.monotonic()
    timed_out = False
    with open(logpath, "wb") as logf:
        p = subprocess.Popen(qemu_cmd(vmlinux, initrd, extra), stdin=subprocess.DEVNULL,
                             stdout=logf, stderr=subprocess.STDOUT)
        try:
            p.wait(timeout=BOOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            timed_out = True
            p.kill()
            p.wait()
    return p.returncode, timed_out, time.monotonic() - t0


def parse_console(text):
    """[(scenario, result or None, [lines])], done flag."""
    results = []
    cur = None
    done = False
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if line.startswith(MARK):
            word, _, rest = line[len(MARK):].partition(" ")
            name = rest.split()[0] if rest.split() else ""
            if word == "BEGIN":
                cur = [name, None, []]
                results.append(cur)
                continue
            if word in ("PASS", "FAIL") and cur and cur[0] == name:
                cur[1] = word
                cur = None
                continue
            if word == "DONE":
                done = True
                continue
        if cur is not None:
            cur[2].append(line)
    return results, done


def libkmod_ready(args, workdir):
    """Whether the boots with libkmod.so.2 can run: kmodx's library given, Debian's
    systemd and udev packages to be had. Remembers where they were unpacked."""
    if not args.libkmod or not os.path.exists(args.libkmod):
        log("SKIP boots with:libkmod: no libkmod.so.2 given (--libkmod)")
        return False
    if not hasattr(libkmod_ready, "root"):
        try:
            libkmod_ready.root = systemd_root(workdir)
        except (OSError, subprocess.CalledProcessError) as e:
            log(f"SKIP boots with:libkmod: Debian's systemd packages unavailable: {e}")
            libkmod_ready.root = None
    return libkmod_ready.root is not None


def qemu_works():
    try:
        r = subprocess.run(["qemu-system-x86_64", "-accel", "help"], capture_output=True,
                           text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and "tcg" in r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kmodx", required=True)
    ap.add_argument("--libkmod", help="kmodx's libkmod.so.2, for the boots 'with:libkmod'")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--group", action="append", help="boot only this group (repeatable)")
    args = ap.parse_args()

    cache_env = os.environ.get("KMODX_CACHE")
    if os.geteuid() != 0:
        c = cache_env or os.path.expanduser("~/.cache/kmodx")
        if not os.path.exists(os.path.join(c, "tree.ready")):
            skip("not root and no prepared kernel cache (run once as root, or set KMODX_CACHE)")
    ensure_packages()
    if not qemu_works():
        skip("qemu-system-x86_64 cannot run here (TCG unavailable)")
    try:
        tree = realtree.ensure_tree()
    except (realtree.Unavailable, subprocess.CalledProcessError) as e:
        skip(f"Debian kernel package unavailable: {e}")
    kver = realtree.kernel_release(tree)
    vmdir = os.path.join(realtree.cache_dir(), "vm", kver)
    os.makedirs(vmdir, exist_ok=True)
    vmlinux = extract_vmlinux(os.path.join(tree, "boot", "vmlinuz-" + kver),
                              os.path.join(vmdir, "vmlinux"))

    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    kmodx = os.path.abspath(args.kmodx)
    if not os.access(kmodx, os.X_OK):
        print(f"vm-test: {kmodx}: not an executable", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    base = build_base(kmodx, tree, kver, workdir)
    all_names = sorted(f[:-3] for f in os.listdir(os.path.join(HERE, "guest", "scenarios"))
                       if f.endswith(".sh"))
    groups = read_boots(os.path.join(HERE, "boots.conf"))
    orphans = [n for n in all_names
               if not any(scenarios_for(g[1], [n]) for g in groups)]
    if orphans:
        print(f"vm-test: scenarios in no boot group of boots.conf: {' '.join(orphans)}",
              file=sys.stderr)
        return 1
    if args.group:
        unknown = set(args.group) - {g[0] for g in groups}
        if unknown:
            print(f"vm-test: unknown group(s): {' '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        groups = [g for g in groups if g[0] in args.group]
    jobs = []
    for name, pats, extra, adds in groups:
        if "libkmod" in adds and not libkmod_ready(args, workdir):
            continue
        names = scenarios_for(pats, all_names)
        base.file(f"/tests/groups/{name}", "".join(n + "\n" for n in names).encode())
        jobs.append((name, names, extra, adds))
    for name, names, extra, adds in jobs:
        # the group's name (and its additions) are the only difference between the images
        tail = Cpio()  # a second archive appended: the kernel unpacks both
        tail.file("/tests/group", (name + "\n").encode())
        if "libkmod" in adds:
            add_libkmod(tail, libkmod_ready.root, os.path.abspath(args.libkmod),
                        shared_libs([kmodx, "/usr/bin/kmod", "/bin/dash"]), workdir)
        path = os.path.join(workdir, f"initramfs-{name}.cpio")
        with open(path, "wb") as f:
            f.write(base.bytes() + tail.bytes())
    log(f"kernel {kver}, images built in {time.monotonic() - t0:.1f}s, "
        f"{len(jobs)} boot(s): {' '.join(j[0] for j in jobs)}")

    failed = False

    def run(job):
        name, names, extra, _ = job
        logpath = os.path.join(workdir, f"console-{name}.log")
        rc, timed_out, secs = boot(vmlinux, os.path.join(workdir, f"initramfs-{name}.cpio"),
                                   extra, logpath)
        return name, names, logpath, rc, timed_out, secs

    with concurrent.futures.ThreadPoolExecutor(max(1, min(len(jobs), os.cpu_count() or 1))) as ex:
        outcomes = list(ex.map(run, jobs))
    for name, names, logpath, rc, timed_out, secs in outcomes:
        text = open(logpath, "rb").read().decode("utf-8", "replace")
        results, done = parse_console(text)
        seen = {r[0]: r for r in results}
        npass = sum(1 for r in results if r[1] == "PASS")
        log(f"boot {name}: {npass}/{len(names)} passed in {secs:.1f}s (console: {logpath})")
        for s in names:
            r = seen.get(s)
            if r and r[1] == "PASS":
                print(f"  PASS {s}")
                continue
            failed = True
            why = "FAIL" if r and r[1] == "FAIL" else "NO RESULT (hang, panic or crash)"
            print(f"  {why} {s}")
            lines = r[2] if r else []
            if not r:
                lines = text.splitlines()[-40:]
            for line in lines[-200:]:
                print(f"    | {line}")
        if timed_out:
            failed = True
            print(f"  boot {name}: host timeout after {BOOT_TIMEOUT}s")
        elif not done:
            failed = True
            print(f"  boot {name}: the guest did not finish (qemu exit {rc}); last lines:")
            for line in text.splitlines()[-30:]:
                print(f"    | {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
