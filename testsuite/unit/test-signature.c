// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Appended module signatures (signature.c, pkcs7.c) against index-format.md §8: the
 * trailer rules, legacy and PKCS#7 signatures made with the committed test key
 * (testsuite/keys: CN "kmodx test key", serial 1234567890ABCDEF, RSA 2048), the fast
 * DER reader agreeing with libcrypto, malformed DER, and modinfo's keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#ifdef UNIT_LIBCRYPTO
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#endif

#include "libkmodx.h"
#include "pkcs7.h"
#include "signature.h"
#include "unit.h"

#define TEST_SIGNER "kmodx test key"
static const uint8_t test_serial[] = {0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef};

/* "PAYLOAD" + signer + key id + sig + struct module_signature + magic */
static uint8_t *make_signed(const uint8_t *sig, size_t sig_len, uint8_t algo,
			    uint8_t hash, uint8_t id_type, const char *signer,
			    const uint8_t *key_id, uint8_t key_id_len, size_t *len)
{
	size_t signer_len = signer ? strlen(signer) : 0;
	size_t n = 7 + signer_len + key_id_len + sig_len + 12 + MODULE_SIG_MAGIC_LEN;
	uint8_t *p = malloc(n), *q = p;

	assert_non_null(p);
	memcpy(q, "PAYLOAD", 7);
	q += 7;
	if (signer_len)
		memcpy(q, signer, signer_len);
	q += signer_len;
	if (key_id_len)
		memcpy(q, key_id, key_id_len);
	q += key_id_len;
	if (sig_len)
		memcpy(q, sig, sig_len);
	q += sig_len;
	q[0] = algo;
	q[1] = hash;
	q[2] = id_type;
	q[3] = (uint8_t)signer_len;
	q[4] = key_id_len;
	q[5] = q[6] = q[7] = 0;
	q[8] = (uint8_t)(sig_len >> 24);
	q[9] = (uint8_t)(sig_len >> 16);
	q[10] = (uint8_t)(sig_len >> 8);
	q[11] = (uint8_t)sig_len;
	memcpy(q + 12, MODULE_SIG_MAGIC, MODULE_SIG_MAGIC_LEN);
	*len = n;
	return p;
}

static void assert_bytes(const uint8_t *p, size_t n, const void *want, size_t wantn)
{
	assert_int_equal(n, wantn);
	assert_memory_equal(p, want, n);
}

/* ---- the trailer ---- */

static void test_legacy_trailer(void **state)
{
	static const uint8_t kid[] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t sig[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x11};
	struct sig_info si;
	uint8_t *img;
	size_t len;

	(void)state;
	img = make_signed(sig, sizeof(sig), 1, 4, 0, "signer name", kid, 8, &len);
	assert_true(signature_read(img, len, &si));
	assert_string_equal(si.id_type, "PGP");
	assert_string_equal(si.hash_algo, "sha256");
	assert_bytes(si.signer, si.signer_len, "signer name", 11);
	assert_bytes(si.key_id, si.key_id_len, kid, 8);
	assert_bytes(si.sig, si.sig_len, sig, sizeof(sig));
	assert_int_equal(signature_strip_len(img, len), 7);
	signature_release(&si);
	free(img);

	/* every hash name of §8, and X509 */
	static const char *const hashes[] = {"md4",    "md5",	 "sha1",
					     "rmd160", "sha256", "sha384",
					     "sha512", "sha224", "sm3"};
	for (uint8_t h = 0; h < 9; h++) {
		img = make_signed(sig, sizeof(sig), 0, h, 1, NULL, NULL, 0, &len);
		assert_true(signature_read(img, len, &si));
		assert_string_equal(si.id_type, "X509");
		assert_string_equal(si.hash_algo, hashes[h]);
		assert_int_equal(si.signer_len, 0);
		assert_int_equal(si.key_id_len, 0);
		signature_release(&si);
		free(img);
	}
}

static void test_trailer_rejected(void **state)
{
	static const uint8_t sig[] = {1, 2, 3, 4};
	struct sig_info si;
	uint8_t *img;
	size_t len;

	(void)state;
	/* field limits: algo < 2, hash < 9, id_type < 3, sig_len > 0 */
	static const uint8_t bad[][3] = {
		{2, 4, 1}, {255, 4, 1}, {1, 9, 1}, {1, 4, 3}, {1, 4, 255}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		img = make_signed(sig, sizeof(sig), bad[i][0], bad[i][1], bad[i][2], "s",
				  NULL, 0, &len);
		assert_false(signature_read(img, len, &si));
		assert_int_equal(signature_strip_len(img, len), len);
		free(img);
	}
	img = make_signed(NULL, 0, 1, 4, 1, "s", NULL, 0, &len);
	assert_false(signature_read(img, len, &si));
	free(img);

	/* lengths reaching exactly the start of the file are fine; one more is not */
	img = make_signed(sig, sizeof(sig), 1, 4, 1, "s", NULL, 0, &len);
	size_t body = len - 12 - MODULE_SIG_MAGIC_LEN; /* bytes before the struct */
	uint8_t *q = img + body;
	q[3] = (uint8_t)(body - sizeof(sig)); /* signer_len covers "PAYLOAD" + "s" */
	assert_true(signature_read(img, len, &si));
	assert_int_equal(si.signer_len, 8);
	assert_bytes(si.signer, 8, "PAYLOADs", 8);
	assert_int_equal(signature_strip_len(img, len), 0);
	signature_release(&si);
	q[3]++;
	assert_false(signature_read(img, len, &si));
	assert_int_equal(signature_strip_len(img, len), len);
	q[3] = 0;
	q[11] = 0xff; /* sig_len larger than the file */
	assert_false(signature_read(img, len, &si));
	q[8] = 0xff; /* and one that would overflow 32 bits with the other lengths */
	q[3] = 0xff;
	q[4] = 0xff;
	assert_false(signature_read(img, len, &si));
	free(img);

	/* no magic, a damaged magic, no room for the struct, too short for the magic */
	img = make_signed(sig, sizeof(sig), 1, 4, 1, "s", NULL, 0, &len);
	img[len - 1] = '\0';
	assert_false(signature_read(img, len, &si));
	assert_int_equal(signature_strip_len(img, len), len);
	img[len - 1] = '\n';
	assert_true(signature_read(img, len, &si));
	signature_release(&si);
	assert_false(signature_read(img + len - MODULE_SIG_MAGIC_LEN - 11,
				    MODULE_SIG_MAGIC_LEN + 11, &si));
	assert_false(signature_read(img + len - MODULE_SIG_MAGIC_LEN,
				    MODULE_SIG_MAGIC_LEN, &si));
	assert_false(signature_read(img + len - 5, 5, &si));
	assert_false(signature_read(img, 0, &si));
	assert_int_equal(signature_strip_len(img, 0), 0);
	free(img);
}

static void test_hex(void **state)
{
	uint8_t bytes[41];
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 17);
	s = signature_hex(bytes, 0);
	assert_string_equal(s, "");
	free(s);
	s = signature_hex((const uint8_t *)"\x0a\xff", 2);
	assert_string_equal(s, "0A:FF");
	free(s);
	/* exactly 20 bytes: no continuation line */
	s = signature_hex(bytes, 20);
	assert_int_equal(strlen(s), 20 * 3 - 1);
	assert_null(strchr(s, '\n'));
	free(s);
	/* 21 and 41 bytes: "\n\t\t" after the ':' of each 20th byte with a follower */
	s = signature_hex(bytes, 21);
	assert_string_equal(s + 19 * 3, "43:\n\t\t54"); /* 19 * 17 = 0x143 */
	free(s);
	s = signature_hex(bytes, 41);
	assert_int_equal(strlen(s), 41 * 3 - 1 + 2 * 3);
	assert_string_equal(s + strlen(s) - 6, ":\n\t\tA8"); /* 40 * 17 = 0x2a8 */
	free(s);
}

/* ---- PKCS#7 ---- */

static uint8_t *sig_image(const char *der_name, size_t *len, uint8_t **der,
			  size_t *derlen)
{
	*der = unit_slurp(UNIT_BUILD_DIR, der_name, derlen);
	return make_signed(*der, *derlen, 0, 0, 2, NULL, NULL, 0, len);
}

static void check_test_key(const struct sig_info *si, const char *hash)
{
	assert_string_equal(si->id_type, "PKCS#7");
	assert_bytes(si->signer, si->signer_len, TEST_SIGNER, strlen(TEST_SIGNER));
	assert_bytes(si->key_id, si->key_id_len, test_serial, sizeof(test_serial));
	assert_string_equal(si->hash_algo, hash);
	assert_int_equal(si->sig_len, 256); /* RSA 2048 */
}

static void test_pkcs7_fast(void **state)
{
	static const struct {
		const char *file, *hash;
	} cases[] = {{"sig-sha256.der", "sha256"}, {"sig-sha512.der", "sha512"}};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct pkcs7_fields f;
		struct sig_info si;
		uint8_t *img, *der;
		size_t len, derlen;

		img = sig_image(cases[i].file, &len, &der, &derlen);
		/* the plain shape sign-file writes: the fast reader answers */
		assert_int_equal(pkcs7_parse(der, derlen, &f, 0), 0);
		assert_bytes(f.signer, f.signer_len, TEST_SIGNER, strlen(TEST_SIGNER));
		assert_bytes(f.serial, f.serial_len, test_serial, sizeof(test_serial));
		assert_string_equal(f.hash_algo, cases[i].hash);
		assert_int_equal(f.sig_len, 256);
		/* the encryptedDigest is the last 256 bytes of the DER */
		assert_ptr_equal(f.sig, der + derlen - 256);

		assert_true(signature_read(img, len, &si));
		check_test_key(&si, cases[i].hash);
		assert_int_equal(signature_strip_len(img, len), 7);
		signature_release(&si);
		free(img);
		free(der);
	}
}

/*
 * Certificates and signed attributes: the plain reading steps aside, the one for builds
 * without libcrypto steps over them and finds the same SignerInfo. Cut anywhere, the
 * signature is refused by both.
 */
static void test_pkcs7_skip_extras(void **state)
{
	static const struct {
		const char *file, *hash;
	} cases[] = {{"sig-sha256-certs.der", "sha256"},
		     {"sig-sha384-certs.der", "sha384"},
		     {"sig-sha256-attrs.der", "sha256"},
		     {"sig-sha512-attrs-certs.der", "sha512"}};
	struct pkcs7_fields plain, f;
	uint8_t *der, *plain_der;
	size_t derlen, plain_len;

	(void)state;
	/* the plain shape reads the same either way */
	plain_der = unit_slurp(UNIT_BUILD_DIR, "sig-sha256.der", &plain_len);
	assert_int_equal(pkcs7_parse(plain_der, plain_len, &plain, 0), 0);
	assert_int_equal(pkcs7_parse(plain_der, plain_len, &f, PKCS7_SKIP_EXTRAS), 0);
	assert_memory_equal(&plain, &f, sizeof(f));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		der = unit_slurp(UNIT_BUILD_DIR, cases[i].file, &derlen);
		assert_int_equal(pkcs7_parse(der, derlen, &f, 0), -EOPNOTSUPP);
		assert_int_equal(pkcs7_parse(der, derlen, &f, PKCS7_SKIP_EXTRAS), 0);
		assert_bytes(f.signer, f.signer_len, TEST_SIGNER, strlen(TEST_SIGNER));
		assert_bytes(f.serial, f.serial_len, test_serial, sizeof(test_serial));
		assert_string_equal(f.hash_algo, cases[i].hash);
		assert_int_equal(f.sig_len, 256);
		for (size_t n = 0; n < derlen; n++)
			assert_int_equal(pkcs7_parse(der, n, &f, PKCS7_SKIP_EXTRAS), -EOPNOTSUPP);
		free(der);
	}
	free(plain_der);
}

#ifdef HAVE_OPENSSL
/* With certificates the fast reader steps aside; libcrypto must say the same thing. */
static void test_pkcs7_libcrypto_agrees(void **state)
{
	struct sig_info fast, slow;
	struct pkcs7_fields f;
	uint8_t *img1, *img2, *der1, *der2;
	size_t len1, len2, derlen1, derlen2;

	(void)state;
	img1 = sig_image("sig-sha256.der", &len1, &der1, &derlen1);
	img2 = sig_image("sig-sha256-certs.der", &len2, &der2, &derlen2);
	assert_int_equal(pkcs7_parse(der2, derlen2, &f, 0), -EOPNOTSUPP);
	assert_true(signature_read(img1, len1, &fast));
	assert_true(signature_read(img2, len2, &slow));
	assert_null(fast.priv);
	assert_non_null(slow.priv); /* really went through libcrypto */
	check_test_key(&slow, "sha256");
	assert_bytes(slow.sig, slow.sig_len, fast.sig, fast.sig_len);
	signature_release(&fast);
	signature_release(&slow);
	assert_null(slow.priv);
	free(img1);
	free(img2);
	free(der1);
	free(der2);

	img2 = sig_image("sig-sha384-certs.der", &len2, &der2, &derlen2);
	assert_true(signature_read(img2, len2, &slow));
	check_test_key(&slow, "sha384");
	signature_release(&slow);
	free(img2);
	free(der2);

	/* signed attributes: libcrypto reads the same SignerInfo as the skipping reader */
	img2 = sig_image("sig-sha512-attrs-certs.der", &len2, &der2, &derlen2);
	assert_int_equal(pkcs7_parse(der2, derlen2, &f, PKCS7_SKIP_EXTRAS), 0);
	assert_true(signature_read(img2, len2, &slow));
	assert_non_null(slow.priv);
	check_test_key(&slow, "sha512");
	assert_bytes(slow.sig, slow.sig_len, f.sig, f.sig_len);
	signature_release(&slow);
	free(img2);
	free(der2);
}
#endif

static void test_pkcs7_malformed(void **state)
{
	uint8_t *der, *img, *bad;
	size_t derlen, len;
	struct sig_info si;
	struct pkcs7_fields f;

	(void)state;
	der = unit_slurp(UNIT_BUILD_DIR, "sig-sha256.der", &derlen);
	bad = malloc(derlen);
	assert_non_null(bad);
	/* every truncation of the DER, inside a well-formed trailer */
	for (size_t n = 1; n < derlen; n++) {
		assert_int_not_equal(pkcs7_parse(der, n, &f, 0), 0);
		img = make_signed(der, n, 0, 0, 2, NULL, NULL, 0, &len);
		if (signature_read(img, len, &si))
			fail_msg("DER cut to %zu of %zu bytes accepted", n, derlen);
		free(img);
	}
	/* not a SEQUENCE; an indefinite length; a length past the end; junk */
	memcpy(bad, der, derlen);
	bad[0] = 0x31;
	img = make_signed(bad, derlen, 0, 0, 2, NULL, NULL, 0, &len);
	assert_false(signature_read(img, len, &si));
	free(img);
	memcpy(bad, der, derlen);
	bad[1] = 0x80;
	assert_int_equal(pkcs7_parse(bad, derlen, &f, 0), -EOPNOTSUPP);
	bad[1] = 0x84;
	img = make_signed(bad, derlen, 0, 0, 2, NULL, NULL, 0, &len);
	assert_false(signature_read(img, len, &si));
	free(img);
	for (size_t i = 0; i < derlen; i++)
		bad[i] = (uint8_t)(i * 131 + 7);
	img = make_signed(bad, derlen, 0, 0, 2, NULL, NULL, 0, &len);
	assert_false(signature_read(img, len, &si));
	free(img);

	/* every single-byte change: the fast reader either refuses, or agrees with itself
	 * on where the fields are (inside the DER); never reads outside */
	for (size_t i = 0; i < derlen; i++) {
		memcpy(bad, der, derlen);
		bad[i] ^= 0x5a;
		if (pkcs7_parse(bad, derlen, &f, 0) == 0) {
			assert_true(f.signer >= bad &&
				    f.signer + f.signer_len <= bad + derlen);
			assert_true(f.serial >= bad &&
				    f.serial + f.serial_len <= bad + derlen);
			assert_true(f.sig >= bad && f.sig + f.sig_len <= bad + derlen);
			assert_non_null(f.hash_algo);
		}
		img = make_signed(bad, derlen, 0, 0, 2, NULL, NULL, 0, &len);
		if (signature_read(img, len, &si))
			signature_release(&si);
		free(img);
	}
	free(bad);
	free(der);
}

#ifdef UNIT_LIBCRYPTO
/*
 * What libcrypto reads from a DER signature, the way §8.1 describes kmod's use of it:
 * the first SignerInfo's issuer CN (or the last entry without one, cut at a NUL), its
 * serial as a minimal big-endian string, its digest name and its encryptedDigest.
 */
struct reference {
	char signer[256];
	uint8_t serial[64];
	size_t serial_len;
	char hash[128];
	uint8_t sig[1024];
	size_t sig_len;
};

static bool libcrypto_read(const uint8_t *der, size_t len, struct reference *ref)
{
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	STACK_OF(PKCS7_SIGNER_INFO) * sis;
	PKCS7_SIGNER_INFO *si;
	X509_NAME_ENTRY *e = NULL;
	BIGNUM *bn;
	bool ok = false;
	int n;

	memset(ref, 0, sizeof(*ref));
	if (p7 == NULL)
		return false;
	sis = PKCS7_get_signer_info(p7);
	if (sis == NULL || sk_PKCS7_SIGNER_INFO_num(sis) < 1)
		goto out;
	si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
	if (si == NULL || si->issuer_and_serial == NULL || si->enc_digest == NULL)
		goto out;
	n = X509_NAME_entry_count(si->issuer_and_serial->issuer);
	for (int i = 0; i < n; i++) {
		e = X509_NAME_get_entry(si->issuer_and_serial->issuer, i);
		if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) == NID_commonName)
			break;
	}
	if (e != NULL) {
		const ASN1_STRING *d = X509_NAME_ENTRY_get_data(e);

		snprintf(ref->signer, sizeof(ref->signer), "%.*s", ASN1_STRING_length(d),
			 (const char *)ASN1_STRING_get0_data(d));
	}
	bn = ASN1_INTEGER_to_BN(si->issuer_and_serial->serial, NULL);
	if (bn == NULL || BN_num_bytes(bn) > (int)sizeof(ref->serial)) {
		BN_free(bn);
		goto out;
	}
	ref->serial_len = (size_t)BN_bn2bin(bn, ref->serial);
	BN_free(bn);
	OBJ_obj2txt(ref->hash, sizeof(ref->hash), si->digest_alg->algorithm, 0);
	ref->sig_len = (size_t)ASN1_STRING_length(si->enc_digest);
	if (ref->sig_len > sizeof(ref->sig))
		goto out;
	memcpy(ref->sig, ASN1_STRING_get0_data(si->enc_digest), ref->sig_len);
	ok = true;
out:
	PKCS7_free(p7);
	return ok;
}

static void check_agree(const uint8_t *der, size_t len, const char *what)
{
	struct pkcs7_fields f;
	struct reference ref;
	char signer[256];

	if (pkcs7_parse(der, len, &f, 0) != 0)
		return; /* the fast reader stepped aside: libcrypto decides */
	if (!libcrypto_read(der, len, &ref))
		fail_msg("%s: the fast reader accepted what libcrypto refuses", what);
	snprintf(signer, sizeof(signer), "%.*s", (int)f.signer_len,
		 (const char *)f.signer);
	if (strcmp(signer, ref.signer) != 0)
		fail_msg("%s: signer \"%s\", libcrypto \"%s\"", what, signer, ref.signer);
	if (f.serial_len != ref.serial_len ||
	    memcmp(f.serial, ref.serial, f.serial_len) != 0)
		fail_msg("%s: serial differs", what);
	if (strcmp(f.hash_algo, ref.hash) != 0)
		fail_msg("%s: hash %s, libcrypto %s", what, f.hash_algo, ref.hash);
	if (f.sig_len != ref.sig_len || memcmp(f.sig, ref.sig, f.sig_len) != 0)
		fail_msg("%s: encryptedDigest differs", what);
}

/* Wherever the fast DER reader answers, libcrypto must give the same answer. */
static void test_pkcs7_fast_vs_libcrypto(void **state)
{
	static const char *const files[] = {"sig-sha256.der", "sig-sha512.der"};
	static const uint8_t xors[] = {0x01, 0x02, 0x04, 0x08, 0x10,
				       0x20, 0x40, 0x80, 0xff};

	(void)state;
	for (size_t fi = 0; fi < 2; fi++) {
		size_t len;
		uint8_t *der = unit_slurp(UNIT_BUILD_DIR, files[fi], &len);
		uint8_t *bad = malloc(len);
		struct pkcs7_fields f;
		int accepted = 0;

		assert_non_null(bad);
		assert_int_equal(pkcs7_parse(der, len, &f, 0), 0);
		check_agree(der, len, files[fi]);
		for (size_t i = 0; i < len; i++) {
			for (size_t x = 0; x < sizeof(xors); x++) {
				char what[128];

				memcpy(bad, der, len);
				bad[i] ^= xors[x];
				snprintf(what, sizeof(what), "%s byte %zu ^ 0x%02x",
					 files[fi], i, xors[x]);
				check_agree(bad, len, what);
				accepted += pkcs7_parse(bad, len, &f, 0) == 0;
			}
		}
		/* changes inside the name, serial and signature bytes stay well-formed */
		assert_true(accepted > 0);
		free(bad);
		free(der);
	}
}
#endif

/* ---- whole modules through the public API ---- */

struct info {
	char text[8192];
};

static void module_info(const char *file, struct info *out)
{
	char path[4096], tmp[] = "/tmp/kmodx-unit-sig-XXXXXX";
	struct kmodx_ctx *ctx = NULL;
	struct kmodx_module *mod = NULL;
	struct kmodx_kvlist *l = NULL;
	size_t n = 0;

	/* hermetic: an empty root, no configuration, no command line */
	assert_non_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/modules/%s", UNIT_BUILD_DIR, file);
	ctx = unit_ctx(tmp, "6.1.0-unit");
	assert_int_equal(kmodx_module_new_from_path(ctx, path, &mod), 0);
	assert_int_equal(kmodx_module_get_info(mod, &l), 0);
	out->text[0] = '\0';
	for (size_t i = 0; i < kmodx_kvlist_count(l); i++)
		n += (size_t)snprintf(out->text + n, sizeof(out->text) - n, "%s=%s\n",
				      kmodx_kvlist_key(l, i), kmodx_kvlist_value(l, i));
	kmodx_kvlist_free(l);
	kmodx_module_unref(mod);
	kmodx_ctx_unref(ctx);
	rmdir(tmp);
}

static void test_modinfo_keys(void **state)
{
	struct info info;
	char *sig;

	(void)state;
	module_info("signed.ko", &info);
	/* .modinfo first, in section order, then the signature keys in §8.1's order */
	sig = strstr(info.text,
		     "sig_id=PKCS#7\nsigner=" TEST_SIGNER "\n"
		     "sig_key=12:34:56:78:90:AB:CD:EF\nsig_hashalgo=sha256\nsignature=");
	assert_non_null(sig);
	assert_true(strstr(info.text, "license=GPL\n") < sig);
	assert_true(strstr(info.text, "vermagic=") < sig);
	/* 256 bytes of hex: 13 lines of 20 bytes, continuation lines start with tabs */
	sig = strstr(sig, "signature=") + strlen("signature=");
	assert_int_equal(strlen(sig), 256 * 3 - 1 + 12 * 3 + 1);

	module_info("signed.ko.xz", &info);
	assert_non_null(strstr(info.text, "sig_id=PKCS#7\nsigner=" TEST_SIGNER "\n"));

	module_info("pgp.ko", &info);
	assert_non_null(strstr(info.text,
			       "sig_id=PGP\nsigner=kmodx legacy signer\n"
			       "sig_key=01:02:03:04:05:06:07:08\nsig_hashalgo=sha256\n"
			       "signature=00:07:0E:15:1C:23"));
	module_info("x509.ko", &info);
	assert_non_null(strstr(info.text, "sig_id=X509\nsigner=legacy x509 signer\n"));

	/* unsigned, or a trailer that fails the checks: no signature keys at all */
	module_info("plain.ko", &info);
	assert_non_null(strstr(info.text, "license=GPL\n"));
	assert_null(strstr(info.text, "sig_"));
	module_info("garbage.ko", &info);
	assert_non_null(strstr(info.text, "license=GPL\n"));
	assert_null(strstr(info.text, "sig_"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legacy_trailer),
		cmocka_unit_test(test_trailer_rejected),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_pkcs7_fast),
		cmocka_unit_test(test_pkcs7_skip_extras),
#ifdef HAVE_OPENSSL
		cmocka_unit_test(test_pkcs7_libcrypto_agrees),
#endif
		cmocka_unit_test(test_pkcs7_malformed),
#ifdef UNIT_LIBCRYPTO
		cmocka_unit_test(test_pkcs7_fast_vs_libcrypto),
#endif
		cmocka_unit_test(test_modinfo_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
