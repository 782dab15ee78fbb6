// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Signature trailers and PKCS#7: the strict DER reader must agree with libcrypto on every
 * signature it accepts (it may refuse more, leaving those to libcrypto).
 */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "pkcs7.h"
#include "signature.h"

static void compare_with_libcrypto(const uint8_t *der, size_t len, const struct pkcs7_fields *f)
{
	BIO *bio = BIO_new_mem_buf(der, (int)len);
	PKCS7 *p7 = d2i_PKCS7_bio(bio, NULL);
	STACK_OF(PKCS7_SIGNER_INFO) *sis;
	PKCS7_SIGNER_INFO *si;
	unsigned char serial[256];
	char hash[128];
	BIGNUM *bn;
	int n;

	BIO_free(bio);
	if (p7 == NULL)
		abort(); /* the fast path accepted what libcrypto refuses */
	sis = PKCS7_get_signer_info(p7);
	if (sis == NULL || sk_PKCS7_SIGNER_INFO_num(sis) < 1)
		abort();
	si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
	if ((size_t)ASN1_STRING_length(si->enc_digest) != f->sig_len ||
	    memcmp(ASN1_STRING_get0_data(si->enc_digest), f->sig, f->sig_len) != 0)
		abort();
	bn = ASN1_INTEGER_to_BN(si->issuer_and_serial->serial, NULL);
	n = BN_bn2bin(bn, serial);
	BN_free(bn);
	if ((size_t)n != f->serial_len || memcmp(serial, f->serial, f->serial_len) != 0)
		abort();
	OBJ_obj2txt(hash, sizeof(hash), si->digest_alg->algorithm, 0);
	if (strcmp(hash, f->hash_algo) != 0)
		abort();
	PKCS7_free(p7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkcs7_fields f;
	struct sig_info si;

	/* the input as a whole module image with a trailer */
	if (signature_read(data, size, &si)) {
		char *hex = signature_hex(si.sig, si.sig_len);

		free(hex);
		signature_release(&si);
	}
	signature_strip_len(data, size);
	/* the input as a DER blob: where the plain reading answers, libcrypto agrees and
	 * the reading that skips certificates and attributes finds the same */
	if (pkcs7_parse(data, size, &f, 0) == 0) {
		struct pkcs7_fields g;

		compare_with_libcrypto(data, size, &f);
		if (pkcs7_parse(data, size, &g, PKCS7_SKIP_EXTRAS) != 0 ||
		    memcmp(&f, &g, sizeof(f)) != 0)
			abort();
	} else {
		pkcs7_parse(data, size, &f, PKCS7_SKIP_EXTRAS);
	}
	return 0;
}
