#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The real module tree from Debian's linux-image-amd64, cached outside the repository.

ensure_tree() downloads the package the meta-package depends on (never a pinned
version), unpacks it and indexes it with the system's depmod (kmod) as the reference.
ensure_variant() adds copies with every module recompressed (xz, zst, gz). Everything
lives under $KMODX_CACHE (default /var/cache/kmodx, or ~/.cache/kmodx when not root).

ensure_headers() unpacks the kernel's linux-headers packages (Module.symvers) beside.
Run as a script it prints the tree's root directory (preparing it first), or with
--variant xz|zst|gz the root of that variant. Exit 77 when the tree cannot be had.
"""
import concurrent.futures
import os
import shutil
import subprocess
import sys

SKIP = 77


def cache_dir():
    d = os.environ.get("KMODX_CACHE")
    if not d:
        d = "/var/cache/kmodx" if os.geteuid() == 0 else os.path.expanduser("~/.cache/kmodx")
    os.makedirs(d, exist_ok=True)
    return d


class Unavailable(Exception):
    pass


def _run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def _package_name():
    out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], capture_output=True,
                         text=True)
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith("Depends: linux-image-"):
            return line.split()[1]
    raise Unavailable("apt-cache cannot resolve linux-image-amd64")


def kernel_release(root):
    mods = os.path.join(root, "lib/modules")
    rels = sorted(os.listdir(mods)) if os.path.isdir(mods) else []
    if not rels:
        raise Unavailable(f"no kernel release under {mods}")
    return rels[-1]


def ensure_tree():
    """Root of the unpacked package, with kmod's indexes generated."""
    cache = cache_dir()
    root = os.path.join(cache, "tree")
    stamp = os.path.join(cache, "tree.ready")
    if os.path.exists(stamp) and os.path.isdir(root):
        return root
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise Unavailable("apt-get/dpkg-deb not available")
    pkg = _package_name()
    debs = [f for f in os.listdir(cache) if f.startswith(pkg + "_") and f.endswith(".deb")]
    if not debs:
        _run(["apt-get", "download", pkg], cwd=cache, stdout=subprocess.DEVNULL)
        debs = [f for f in os.listdir(cache) if f.startswith(pkg + "_") and f.endswith(".deb")]
    if not debs:
        raise Unavailable(f"could not download {pkg}")
    shutil.rmtree(root, ignore_errors=True)
    _run(["dpkg-deb", "-x", os.path.join(cache, sorted(debs)[-1]), root])
    depmod = shutil.which("depmod") or "/usr/sbin/depmod"
    _run([depmod, "-b", root, kernel_release(root)])
    open(stamp, "w").close()
    return root


def _headers_packages(kver):
    """linux-headers-<kver> (Module.symvers) and the -common package it depends on."""
    pkg = "linux-headers-" + kver
    out = subprocess.run(["apt-cache", "depends", pkg], capture_output=True, text=True)
    common = [line.split()[1] for line in out.stdout.splitlines()
              if line.strip().startswith("Depends: linux-headers-")
              and line.split()[1].endswith("-common")]
    if out.returncode != 0 or not common:
        raise Unavailable(f"apt-cache cannot resolve {pkg}")
    return [pkg, common[0]]


def ensure_headers():
    """Root of Debian's linux-headers packages for the tree's kernel unpacked (with its
    usr/src/linux-headers-<release>/Module.symvers), under the cache directory."""
    kver = kernel_release(ensure_tree())
    cache = os.path.join(cache_dir(), "headers")
    root = os.path.join(cache, "root")
    stamp = cache + ".ready"
    if os.path.exists(stamp) and os.path.isdir(root):
        return root
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise Unavailable("apt-get/dpkg-deb not available")
    os.makedirs(cache, exist_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    for pkg in _headers_packages(kver):
        debs = [f for f in os.listdir(cache) if f.startswith(pkg + "_") and f.endswith(".deb")]
        if not debs:
            _run(["apt-get", "download", pkg], cwd=cache, stdout=subprocess.DEVNULL)
            debs = [f for f in os.listdir(cache) if f.startswith(pkg + "_")
                    and f.endswith(".deb")]
        if not debs:
            raise Unavailable(f"could not download {pkg}")
        _run(["dpkg-deb", "-x", os.path.join(cache, sorted(debs)[-1]), root])
    if not os.path.exists(os.path.join(root, "usr/src/linux-headers-" + kver,
                                       "Module.symvers")):
        raise Unavailable(f"linux-headers-{kver} has no Module.symvers")
    open(stamp, "w").close()
    return root


def _compress(args):
    kind, src, dst = args
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if kind == "xz":
        cmd = ["xz", "-1", "--check=crc32", "-c", src]
    elif kind == "zst":
        cmd = ["zstd", "-q", "-1", "-c", src]
    else:
        cmd = ["gzip", "-n", "-1", "-c", src]
    with open(dst, "wb") as out:
        subprocess.run(cmd, stdout=out, check=True)


def ensure_variant(kind):
    """A copy of the tree whose modules are all compressed with kind (xz, zst, gz)."""
    base = ensure_tree()
    kver = kernel_release(base)
    cache = cache_dir()
    root = os.path.join(cache, "tree-" + kind)
    stamp = root + ".ready"
    if os.path.exists(stamp) and os.path.isdir(root):
        return root
    shutil.rmtree(root, ignore_errors=True)
    src_dir = os.path.join(base, "lib/modules", kver)
    dst_dir = os.path.join(root, "lib/modules", kver)
    jobs = []
    for d, _, files in os.walk(src_dir):
        for f in files:
            src = os.path.join(d, f)
            rel = os.path.relpath(src, src_dir)
            if f.endswith(".ko"):
                jobs.append((kind, src, os.path.join(dst_dir, rel + "." + kind)))
            elif f in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
                os.makedirs(dst_dir, exist_ok=True)
                shutil.copy(src, os.path.join(dst_dir, rel))
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        list(ex.map(_compress, jobs))
    if kind != "gz":  # Debian's kmod 30 is built without zlib
        _run([shutil.which("depmod") or "/usr/sbin/depmod", "-b", root, kver])
    open(stamp, "w").close()
    return root


def main():
    try:
        if len(sys.argv) == 3 and sys.argv[1] == "--variant":
            print(ensure_variant(sys.argv[2]))
        else:
            print(ensure_tree())
    except (Unavailable, subprocess.CalledProcessError, OSError) as e:
        print(f"realtree: SKIP: {e}", file=sys.stderr)
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
