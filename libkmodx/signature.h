/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Appended module signatures. A signed module image ends with:
 *
 *   [ module image ][ signer ][ key id ][ signature ][ struct module_signature ][ magic ]
 *
 * struct module_signature is 12 bytes: u8 algo (0 DSA, 1 RSA), u8 hash (index into
 * hash_names), u8 id_type (0 PGP, 1 X509, 2 PKCS#7), u8 signer_len, u8 key_id_len,
 * u8 pad[3], u32 big-endian sig_len; the magic is "~Module signature appended~\n".
 * PKCS#7 signatures have signer_len = key_id_len = 0 and carry a DER SignedData whose
 * first SignerInfo names the issuer, serial number and digest algorithm.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MODULE_SIG_MAGIC     "~Module signature appended~\n"
#define MODULE_SIG_MAGIC_LEN 28
#define MODULE_SIG_INFO_LEN  12

struct sig_info {
	const char *id_type;     /* "PGP", "X509", "PKCS#7" */
	const char *hash_algo;   /* "sha256", ... ("unknown" without libcrypto) */
	const uint8_t *signer;   /* signer_len bytes */
	size_t signer_len;
	const uint8_t *key_id;   /* key_id_len bytes */
	size_t key_id_len;
	const uint8_t *sig;      /* sig_len bytes */
	size_t sig_len;
	void *priv;              /* libcrypto objects that own the PKCS#7 fields */
	char hash_buf[128];
};

/* The signature's place, as the kernel finds it. */
struct sig_span {
	size_t content_len; /* the signed module image: mem[0, content_len) */
	const uint8_t *sig; /* the PKCS#7 message */
	size_t sig_len;
};

/*
 * The kernel's checks of the trailer (module_sig_check, mod_check_sig): -ENODATA
 * without the magic (unsigned), -EBADMSG for a trailer it calls malformed, -ENOPKG for
 * a signature that is not PKCS#7; 0 and *span for a PKCS#7 signature to verify.
 */
int signature_kernel_check(const uint8_t *mem, size_t size, struct sig_span *span);
/* Where the signed part of an image ends (the image size if it is not signed). */
size_t signature_strip_len(const uint8_t *mem, size_t size);
/* true if the image carries a well-formed trailer the fields could be read from. */
bool signature_read(const uint8_t *mem, size_t size, struct sig_info *info);
void signature_release(struct sig_info *info);
/* "AA:BB:..." with "\n\t\t" after every 20th byte (modinfo's layout), malloc'ed. */
char *signature_hex(const uint8_t *p, size_t len);
