/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct pkcs7_fields {
	const uint8_t *signer; /* issuer CN, pointing into the DER (signer_len bytes) */
	size_t signer_len;
	const uint8_t *serial; /* minimal big-endian magnitude */
	size_t serial_len;
	const char *hash_algo; /* OpenSSL's name for the digest */
	const uint8_t *sig;    /* encryptedDigest */
	size_t sig_len;
};

/* 0, or -EOPNOTSUPP when the signature is not of the plain shape this reader handles
 * (libcrypto must decide then). */
int pkcs7_parse_fast(const uint8_t *der, size_t len, struct pkcs7_fields *fields);
