// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Signature trailers and PKCS#7: the strict DER reader must agree with libcrypto on every
 * signature it accepts (it may refuse more, leaving those to libcrypto). The input is
 * also verified as a module image against the test certificate, with the kernel's
 * answer predicted, and read as /proc/keys: none of it may crash, leak or misbehave.
 */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "fuzz.h"
#include "pkcs7.h"
#include "signature.h"
#include "sigpolicy.h"
#include "verify.h"

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

/* The input as a signed module: verified against the test key's certificate (whose
 * signatures the seeds carry), the kernel's answer predicted. */
static void verify_as_module(const uint8_t *data, size_t size)
{
	static const char *const certs[] = {FUZZ_CERT, NULL};
	static struct kmodx_ctx *ctx;
	struct kmodx_kvlist *report;

	if (ctx == NULL) {
		ctx = fuzz_ctx();
		if (!crypto_load(NULL))
			abort();
	}
	if (verify_image(ctx, "fuzz.ko", data, size, certs, KMODX_VERIFY_KERNEL,
			 &report) != 0)
		abort(); /* a certificate that reads, a module in memory: nothing can fail
			  */
	if (kmodx_kvlist_count(report) < 3)
		abort();
	kmodx_kvlist_free(report);
}

/* The input as /proc/keys, searched for a signer. */
static void parse_as_keys(const uint8_t *data, size_t size)
{
	static const uint8_t serial[] = {0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef};
	const struct signer_id ids[] = {
		{NULL, serial, sizeof(serial), "kmodx test key", 14},
		{"kmodx test key: f787060128880300dd68ade9e3e3613c4f7de1c5", NULL, 0, "",
		 0},
	};
	struct sig_policy p = {.keys_known = true};
	char *text = fuzz_string(data, size);

	if (sig_policy_parse_keys(text, &p) == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
			const char *matched = NULL;

			if (sig_policy_find_key(&p, &ids[i], &matched) != KEY_ABSENT &&
			    !matched)
				abort();
		}
	}
	sig_policy_release(&p);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkcs7_fields f;
	struct sig_info si;

	verify_as_module(data, size);
	parse_as_keys(data, size);

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
