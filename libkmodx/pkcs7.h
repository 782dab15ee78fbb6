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

/* Also step over certificates, CRLs and attributes (see pkcs7.c). */
#define PKCS7_SKIP_EXTRAS 1u

/* 0, or -EOPNOTSUPP when the signature is not of the shape this reader handles (with
 * flags 0, the plain shape sign-file makes: libcrypto must decide otherwise). */
int pkcs7_parse(const uint8_t *der, size_t len, struct pkcs7_fields *fields, unsigned flags);
