#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""kmodx sign and verify against the kernel's sign-file, openssl and kmod's modinfo.

On unsigned copies of real modules: RSA 2048 and 4096 with sha256/384/512 must give
byte-identical files (and .p7s) to Debian's sign-file; ECDSA P-256 and P-384 signatures
must verify with `openssl cms -verify` and `kmodx verify`; .ko.xz, .ko.zst and .ko.gz
signed inside their compression must decompress to what sign-file makes of the plain
module, in the kernel's settings (xz: CRC32, dictionary <= 1 MiB; zstd: content size);
modinfo must show the same signature fields as kmod for all of them. Then `kmodx
verify` must agree with `openssl cms -verify` on valid, tampered, truncated-signature,
wrong-certificate and unsigned modules. Usage: sign.py KMODX_BIN_DIR
"""
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from common import bin_dir_arg, Checker, reference_bin, run, SKIP, tree_or_skip
import realtree

MAGIC = b"~Module signature appended~\n"
SAMPLE = ["vfat", "loop", "af_key", "bonding", "e1000e", "ext4"]


def sign_file_or_skip():
    found = sorted(glob.glob("/usr/lib/linux-kbuild-*/scripts/sign-file"))
    if not found or shutil.which("openssl") is None:
        print("SKIP: needs sign-file (apt-get install linux-kbuild-6.1) and openssl",
              file=sys.stderr)
        sys.exit(SKIP)
    return found[-1]


def strip(data):
    """The module without its signature (the kernel's trailer rules)."""
    while data.endswith(MAGIC):
        sig_len = struct.unpack(">I", data[-len(MAGIC) - 4:-len(MAGIC)])[0]
        data = data[:-len(MAGIC) - 12 - sig_len]
    return data


def split(data):
    """(module, PKCS#7 DER) of a signed module."""
    sig_len = struct.unpack(">I", data[-len(MAGIC) - 4:-len(MAGIC)])[0]
    end = len(data) - len(MAGIC) - 12
    return data[:end - sig_len], data[end - sig_len:end]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def make_keys(work):
    keys = {}
    for name, args in (("rsa2048", ["-newkey", "rsa:2048"]), ("rsa4096", ["-newkey", "rsa:4096"]),
                       ("p256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]),
                       ("p384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1"])):
        key, crt = os.path.join(work, name + ".pem"), os.path.join(work, name + ".crt")
        # the recipe of the kernel's module-signing documentation
        subprocess.run(["openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500",
                        "-batch", "-x509", "-subj", f"/O=kmodx test/CN=kmodx {name} key",
                        "-addext", "keyUsage=digitalSignature", "-keyout", key,
                        "-out", crt, "-outform", "DER"] + args,
                       check=True, capture_output=True)
        keys[name] = (key, crt)
    return keys


def openssl_verify(module, crt, work):
    """openssl's answer for a module file: True if its signature verifies with crt."""
    data = read(module)
    if not data.endswith(MAGIC):
        return False
    body, sig = split(data)
    write(os.path.join(work, "os.content"), body)
    write(os.path.join(work, "os.sig"), sig)
    p = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER",
                        "-in", os.path.join(work, "os.sig"), "-content",
                        os.path.join(work, "os.content"), "-certfile", crt, "-nointern",
                        "-noverify", "-out", "/dev/null"], capture_output=True)
    return p.returncode == 0


def modinfo_same(chk, ref_modinfo, new_modinfo, path, what):
    chk.compare_runs(f"modinfo {what}", [ref_modinfo, path], [new_modinfo, path])


def rsa_identical(chk, env, mods, keys):
    for kname in ("rsa2048", "rsa4096"):
        key, crt = keys[kname]
        for h in ("sha256", "sha384", "sha512"):
            for m in mods:
                ref, new = f"{m}.{kname}.{h}.ref", f"{m}.{kname}.{h}.new"
                subprocess.run([env["sign_file"], h, key, crt, m, ref], check=True)
                rc, out, err = run([env["kmodx"], "sign", h, key, crt, m, new])
                chk.same(f"sign {os.path.basename(m)} {kname} {h}: exit, output", (0, b"", b""),
                         (rc, out, err))
                chk.same(f"sign {os.path.basename(m)} {kname} {h}: bytes", read(ref), read(new))
                modinfo_same(chk, env["ref_modinfo"], env["new_modinfo"], new,
                             f"{os.path.basename(m)} {kname} {h}")


def detached_and_inplace(chk, env, m, keys, work):
    """-p and -d write the same .p7s; in place (no DEST) and the sign-file name too."""
    key, crt = keys["rsa2048"]
    for flag in ("-p", "-d"):
        a, b = os.path.join(work, "ref" + flag), os.path.join(work, "new" + flag)
        for d in (a, b):
            os.makedirs(d, exist_ok=True)
            shutil.copy(m, os.path.join(d, "m.ko"))
        subprocess.run([env["sign_file"], flag, "sha256", key, crt, os.path.join(a, "m.ko")],
                       check=True)
        rc = run([env["sign_file_link"], flag, "sha256", key, crt, os.path.join(b, "m.ko")])[0]
        chk.same(f"sign-file name {flag}: exit", 0, rc)
        for f in ("m.ko", "m.ko.p7s"):
            chk.same(f"{flag}: {f}", read(os.path.join(a, f)), read(os.path.join(b, f)))


def key_forms(chk, env, m, keys, work):
    """-k, -s, a DER key, an encrypted key with KBUILD_SIGN_PIN, and a PKCS#11 URI."""
    key, crt = keys["rsa2048"]
    sf, kx = env["sign_file"], env["kmodx"]

    def both(what, ref_argv, new_argv, renv=None):
        ref, new = os.path.join(work, "kf.ref"), os.path.join(work, "kf.new")
        subprocess.run(ref_argv + [m, ref], check=True, env=renv)
        rc, out, err = run(new_argv + [m, new], env=renv)
        chk.same(f"{what}: exit, output", (0, b"", b""), (rc, out, err))
        chk.same(f"{what}: bytes", read(ref), read(new))

    both("-k (subjectKeyIdentifier)", [sf, "-k", "sha256", key, crt],
         [kx, "sign", "-k", "sha256", key, crt])
    p7s = os.path.join(work, "raw.p7s")
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-noattr", "-nocerts", "-outform",
                    "DER", "-md", "sha256", "-signer", crt, "-inkey", key, "-in", m,
                    "-out", p7s], check=True, capture_output=True)
    both("-s (a raw signature)", [sf, "-s", p7s, "sha256", crt],
         [kx, "sign", "-s", p7s, "sha256", crt])
    der = os.path.join(work, "rsa2048.der")
    subprocess.run(["openssl", "pkey", "-in", key, "-outform", "DER", "-out", der], check=True)
    both("DER private key", [sf, "sha256", key, crt], [kx, "sign", "sha256", der, crt])
    enc = os.path.join(work, "rsa2048-enc.pem")
    subprocess.run(["openssl", "pkey", "-in", key, "-aes256", "-passout", "pass:s3cret",
                    "-out", enc], check=True)
    penv = dict(os.environ, KBUILD_SIGN_PIN="s3cret")
    both("encrypted key, KBUILD_SIGN_PIN", [sf, "sha256", enc, crt],
         [kx, "sign", "sha256", enc, crt], renv=penv)
    rc, _, err = run([kx, "sign", "sha256", enc, crt, m, os.path.join(work, "kf.bad")],
                     env=dict(os.environ, KBUILD_SIGN_PIN="wrong"))
    chk.same("wrong KBUILD_SIGN_PIN: fails naming the key", True,
             rc == 1 and b"rsa2048-enc.pem" in err)
    if not glob.glob("/usr/lib/*/ossl-modules/pkcs11.so"):
        rc, _, err = run([kx, "sign", "sha256", "pkcs11:token=none;object=key", crt, m,
                          os.path.join(work, "kf.p11")])
        chk.same("PKCS#11 without the provider: one clear error", (1, 1, True),
                 (rc, err.count(b"\n"), b"pkcs11 provider" in err))


def ecdsa_valid(chk, env, mods, keys, work):
    for kname in ("p256", "p384"):
        key, crt = keys[kname]
        for m in mods[:3]:
            new = f"{m}.{kname}.new"
            rc = run([env["kmodx"], "sign", "sha256", key, crt, m, new])[0]
            chk.same(f"ecdsa {kname} {os.path.basename(m)}: exit", 0, rc)
            chk.same(f"ecdsa {kname} {os.path.basename(m)}: openssl cms -verify", True,
                     openssl_verify(new, crt, work))
            rc = run([env["kmodx"], "verify", "--cert", crt, new])[0]
            chk.same(f"ecdsa {kname} {os.path.basename(m)}: kmodx verify", 0, rc)
            modinfo_same(chk, env["ref_modinfo"], env["new_modinfo"], new, f"ecdsa {kname}")


def xz_settings_ok(path):
    """CRC32 and a dictionary of at most 1 MiB, as xz --robot lists them."""
    out = subprocess.run(["xz", "--robot", "-lvv", path], capture_output=True, text=True,
                         check=True).stdout
    checks = {line.split("\t")[8] for line in out.splitlines() if line.startswith("stream\t")}
    dicts = [f for line in out.splitlines() if line.startswith("block\t")
             for f in line.split("\t") if f.startswith("--lzma2=")]
    ok_dict = all("dict=" in d and (d.split("dict=")[1].split(",")[0] in
                                    ("1MiB", "512KiB", "256KiB")) for d in dicts)
    return checks == {"CRC32"} and ok_dict


def zstd_has_content_size(path):
    data = read(path)
    fhd = data[4]
    return (fhd >> 6) != 0 or (fhd & 0x20) != 0  # Frame_Content_Size present


def compressed(chk, env, mods, keys, work):
    key, crt = keys["rsa2048"]
    tools = {"xz": (["xz", "--check=crc32", "--lzma2=dict=1MiB", "-kf"], ["xz", "-dc"]),
             "zst": (["zstd", "-qkf"], ["zstd", "-dcq"]),
             "gz": (["gzip", "-nkf"], ["gzip", "-dc"])}
    for m in mods[:3]:
        ref = f"{m}.ref-plain"
        subprocess.run([env["sign_file"], "sha256", key, crt, m, ref], check=True)
        for ext, (comp, decomp) in tools.items():
            if shutil.which(comp[0]) is None:
                continue
            subprocess.run(comp + [m], check=True)
            packed = f"{m}.{ext}"
            target = os.path.join(work, os.path.basename(m).replace(".ko", "") + ".ko." + ext)
            shutil.move(packed, target)
            rc, out, err = run([env["kmodx"], "sign", "sha256", key, crt, target])
            chk.same(f"sign {os.path.basename(target)}: exit, output", (0, b"", b""),
                     (rc, out, err))
            plain = subprocess.run(decomp + [target], capture_output=True, check=True).stdout
            chk.same(f"{os.path.basename(target)} decompresses to sign-file's", read(ref), plain)
            if ext == "xz":
                chk.same(f"{os.path.basename(target)}: CRC32, dict <= 1 MiB", True,
                         xz_settings_ok(target))
            if ext == "zst":
                chk.same(f"{os.path.basename(target)}: content size", True,
                         zstd_has_content_size(target))
            if ext != "gz":  # kmod 30 has no zlib
                modinfo_same(chk, env["ref_modinfo"], env["new_modinfo"], target, ext)


def resign_and_atomic(chk, env, orig, m, keys, work):
    """--resign on a Debian-signed module equals sign-file on the stripped one; a failed
    signing leaves the file as it was."""
    key, crt = keys["rsa2048"]
    ref = os.path.join(work, "resign.ref")
    subprocess.run([env["sign_file"], "sha256", key, crt, m, ref], check=True)
    target = os.path.join(work, "resign.ko")
    shutil.copy(orig, target)
    rc = run([env["kmodx"], "sign", "--resign", "sha256", key, crt, target])[0]
    chk.same("--resign: exit", 0, rc)
    chk.same("--resign: same as signing the unsigned module", read(ref), read(target))
    before = read(target)
    rc, _, err = run([env["kmodx"], "sign", "sha256", os.path.join(work, "missing.pem"), crt,
                      target])
    chk.same("missing key: fails", True, rc != 0 and b"missing.pem" in err)
    chk.same("missing key: module unchanged", before, read(target))
    chk.same("missing key: no temporary file left", [],
             [f for f in os.listdir(work) if f.startswith("resign.ko.")])


def tampered_cases(env, m, keys, work):
    """(name, path, certificate) of modules verify and openssl must agree on."""
    key, crt = keys["rsa2048"]
    valid = os.path.join(work, "case-valid.ko")
    subprocess.run([env["kmodx"], "sign", "sha256", key, crt, m, valid], check=True)
    data = read(valid)
    body, sig = split(data)
    cases = [("valid", valid, crt), ("wrong certificate", valid, keys["rsa4096"][1]),
             ("unsigned", m, crt)]
    tampered = bytearray(data)
    tampered[len(body) // 2] ^= 0x01
    cut = sig[:-16]
    for name, content in (("tampered", bytes(tampered)),
                          ("truncated signature", body + cut + struct.pack(
                              ">BBBBB3xI", 0, 0, 2, 0, 0, len(cut)) + MAGIC),
                          ("flipped signature byte", body + sig[:-3] + bytes([sig[-3] ^ 0x40]) +
                           sig[-2:] + data[len(body) + len(sig):])):
        path = os.path.join(work, "case-" + name.replace(" ", "-") + ".ko")
        write(path, content)
        cases.append((name, path, crt))
    return cases


def verify_agrees(chk, env, m, keys, work):
    for name, path, crt in tampered_cases(env, m, keys, work):
        want = openssl_verify(path, crt, work)
        rc, out, err = run([env["kmodx"], "verify", "--cert", crt, path])
        chk.same(f"verify agrees with openssl: {name}", want, rc == 0)
        chk.same(f"verify {name}: one verdict line, no crash", True,
                 rc in (0, 1) and out.startswith(path.encode() + b": "))
    # the expected answers themselves, so that a broken openssl call cannot hide a bug
    expect = {"valid": True, "wrong certificate": False, "unsigned": False, "tampered": False,
              "truncated signature": False, "flipped signature byte": False}
    for name, path, crt in tampered_cases(env, m, keys, work):
        chk.same(f"openssl's answer for {name}", expect[name], openssl_verify(path, crt, work))


def main():
    bindir = bin_dir_arg(__doc__)
    env = {"sign_file": sign_file_or_skip(), "kmodx": os.path.join(bindir, "kmodx"),
           "sign_file_link": os.path.join(bindir, "sign-file"),
           "new_modinfo": os.path.join(bindir, "modinfo"),
           "ref_modinfo": os.path.join(reference_bin(), "modinfo")}
    chk = Checker()
    root = tree_or_skip()
    base = os.path.join(root, "lib/modules", realtree.kernel_release(root))
    found = {}
    for d, _, files in os.walk(base):
        for f in files:
            if f.endswith(".ko") and f[:-3].replace("-", "_") in SAMPLE:
                found[f[:-3]] = os.path.join(d, f)
    with tempfile.TemporaryDirectory(prefix="sign-diff-") as work:
        keys = make_keys(work)
        mods = []
        for name in sorted(found):
            m = os.path.join(work, name + ".ko")
            write(m, strip(read(found[name])))
            mods.append(m)
        chk.same("sample modules found", len(SAMPLE), len(mods))
        rsa_identical(chk, env, mods, keys)
        detached_and_inplace(chk, env, mods[0], keys, work)
        key_forms(chk, env, mods[1], keys, work)
        ecdsa_valid(chk, env, mods, keys, work)
        compressed(chk, env, mods, keys, work)
        resign_and_atomic(chk, env, found[sorted(found)[0]], mods[0], keys, work)
        verify_agrees(chk, env, mods[0], keys, work)
    return chk.finish("sign")


if __name__ == "__main__":
    sys.exit(main())
