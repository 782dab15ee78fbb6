// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "pkcs7.h"
#include "signature.h"
#include "util/macro.h"

/* The static kmodx leaves libcrypto out (see meson.build): its start-up code alone would
 * cost every modprobe more than the lookup itself, and the reader in pkcs7.c answers for
 * every signature sign-file makes. */
#if defined(HAVE_OPENSSL) && !defined(KMODX_WITHOUT_LIBCRYPTO)
#define USE_LIBCRYPTO 1
#endif

#ifdef USE_LIBCRYPTO
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#endif

static const char *const id_types[] = {"PGP", "X509", "PKCS#7"};
static const char *const hash_names[] = {"md4",    "md5",    "sha1",   "rmd160", "sha256",
					 "sha384", "sha512", "sha224", "sm3"};
enum { ID_PGP, ID_X509, ID_PKCS7 };

struct trailer {
	uint8_t algo, hash, id_type, signer_len, key_id_len;
	uint32_t sig_len;
	size_t end; /* offset of the struct: signature data ends here */
};

static bool trailer_parse(const uint8_t *mem, size_t size, struct trailer *t)
{
	const uint8_t *s;

	if (size < MODULE_SIG_MAGIC_LEN ||
	    memcmp(mem + size - MODULE_SIG_MAGIC_LEN, MODULE_SIG_MAGIC, MODULE_SIG_MAGIC_LEN))
		return false;
	size -= MODULE_SIG_MAGIC_LEN;
	if (size < MODULE_SIG_INFO_LEN)
		return false;
	size -= MODULE_SIG_INFO_LEN;
	s = mem + size;
	t->algo = s[0];
	t->hash = s[1];
	t->id_type = s[2];
	t->signer_len = s[3];
	t->key_id_len = s[4];
	t->sig_len = (uint32_t)s[8] << 24 | (uint32_t)s[9] << 16 | (uint32_t)s[10] << 8 | s[11];
	t->end = size;
	if (t->algo >= 2 || t->hash >= ARRAY_SIZE(hash_names) || t->id_type >= ARRAY_SIZE(id_types))
		return false;
	return t->sig_len != 0 &&
	       (uint64_t)t->sig_len + t->signer_len + t->key_id_len <= (uint64_t)size;
}

size_t signature_strip_len(const uint8_t *mem, size_t size)
{
	struct trailer t;

	if (!trailer_parse(mem, size, &t))
		return size;
	return t.end - t.sig_len - t.signer_len - t.key_id_len;
}

#ifdef USE_LIBCRYPTO
static BIO *(*p_BIO_new_mem_buf)(const void *, int);
static int (*p_BIO_free)(BIO *);
static PKCS7 *(*p_d2i_PKCS7_bio)(BIO *, PKCS7 **);
static void (*p_PKCS7_free)(PKCS7 *);
static STACK_OF(PKCS7_SIGNER_INFO) *(*p_PKCS7_get_signer_info)(PKCS7 *);
static int (*p_OPENSSL_sk_num)(const OPENSSL_STACK *);
static void *(*p_OPENSSL_sk_value)(const OPENSSL_STACK *, int);
static int (*p_X509_NAME_entry_count)(const X509_NAME *);
static X509_NAME_ENTRY *(*p_X509_NAME_get_entry)(const X509_NAME *, int);
static ASN1_OBJECT *(*p_X509_NAME_ENTRY_get_object)(const X509_NAME_ENTRY *);
static ASN1_STRING *(*p_X509_NAME_ENTRY_get_data)(const X509_NAME_ENTRY *);
static int (*p_OBJ_obj2nid)(const ASN1_OBJECT *);
static int (*p_OBJ_obj2txt)(char *, int, const ASN1_OBJECT *, int);
static const unsigned char *(*p_ASN1_STRING_get0_data)(const ASN1_STRING *);
static int (*p_ASN1_STRING_length)(const ASN1_STRING *);
static BIGNUM *(*p_ASN1_INTEGER_to_BN)(const ASN1_INTEGER *, BIGNUM *);
static int (*p_BN_num_bits)(const BIGNUM *);
static int (*p_BN_bn2bin)(const BIGNUM *, unsigned char *);
static void (*p_BN_free)(BIGNUM *);

static const struct dl_sym crypto_syms[] = {
	DL_SYM(BIO_new_mem_buf),
	DL_SYM(BIO_free),
	DL_SYM(d2i_PKCS7_bio),
	DL_SYM(PKCS7_free),
	DL_SYM(PKCS7_get_signer_info),
	DL_SYM(OPENSSL_sk_num),
	DL_SYM(OPENSSL_sk_value),
	DL_SYM(X509_NAME_entry_count),
	DL_SYM(X509_NAME_get_entry),
	DL_SYM(X509_NAME_ENTRY_get_object),
	DL_SYM(X509_NAME_ENTRY_get_data),
	DL_SYM(OBJ_obj2nid),
	DL_SYM(OBJ_obj2txt),
	DL_SYM(ASN1_STRING_get0_data),
	DL_SYM(ASN1_STRING_length),
	DL_SYM(ASN1_INTEGER_to_BN),
	DL_SYM(BN_num_bits),
	DL_SYM(BN_bn2bin),
	DL_SYM(BN_free),
};
static struct dl_lib crypto_lib = DL_LIB(CRYPTO_SONAME, crypto_syms);
/* only the details of signatures other than sign-file's shape need it (pkcs7.c) */
DL_NOTE(crypto_note, "openssl", "Details of every PKCS#7 module signature", "suggested",
	CRYPTO_SONAME);

struct pkcs7_priv {
	PKCS7 *pkcs7;
	uint8_t *serial;
};

/* The issuer's first commonName; without one, the last entry (kmod does the same). */
static void issuer_name(X509_NAME *name, struct sig_info *info)
{
	X509_NAME_ENTRY *e = NULL;
	int n = p_X509_NAME_entry_count(name), len;
	ASN1_STRING *data;
	const char *s;

	for (int i = 0; i < n; i++) {
		e = p_X509_NAME_get_entry(name, i);
		if (p_OBJ_obj2nid(p_X509_NAME_ENTRY_get_object(e)) == NID_commonName)
			break;
	}
	if (e == NULL)
		return;
	/* cut at the first NUL like kmod's strlen(), but within the string: libcrypto
	 * does not NUL-terminate every string it decodes */
	data = p_X509_NAME_ENTRY_get_data(e);
	s = (const char *)p_ASN1_STRING_get0_data(data);
	len = p_ASN1_STRING_length(data);
	info->signer = (const uint8_t *)s;
	info->signer_len = s && len > 0 ? strnlen(s, (size_t)len) : 0;
}

/* A shape pkcs7.c does not read: libcrypto is the authority. -ELIBACC when there is
 * none to ask; else 0, or -EINVAL for a signature libcrypto refuses. */
static int pkcs7_fill_libcrypto(const uint8_t *der, size_t len, struct sig_info *info)
{
	struct pkcs7_priv *priv;
	STACK_OF(PKCS7_SIGNER_INFO) *sis;
	PKCS7_SIGNER_INFO *si;
	BIGNUM *bn;
	BIO *bio;
	int n;

	if (!dl_load(&crypto_lib, NULL))
		return -ELIBACC;
	if (len > INT32_MAX)
		return -EINVAL;
	priv = calloc(1, sizeof(*priv));
	if (priv == NULL)
		return -EINVAL;
	bio = p_BIO_new_mem_buf(der, (int)len);
	if (bio != NULL) {
		priv->pkcs7 = p_d2i_PKCS7_bio(bio, NULL);
		p_BIO_free(bio);
	}
	info->priv = priv;
	if (priv->pkcs7 == NULL)
		return -EINVAL;
	sis = p_PKCS7_get_signer_info(priv->pkcs7);
	if (sis == NULL || p_OPENSSL_sk_num((OPENSSL_STACK *)sis) < 1)
		return -EINVAL;
	si = p_OPENSSL_sk_value((OPENSSL_STACK *)sis, 0);
	if (si == NULL || si->issuer_and_serial == NULL || si->enc_digest == NULL ||
	    si->digest_alg == NULL)
		return -EINVAL;
	info->sig = p_ASN1_STRING_get0_data(si->enc_digest);
	info->sig_len = (size_t)p_ASN1_STRING_length(si->enc_digest);
	bn = p_ASN1_INTEGER_to_BN(si->issuer_and_serial->serial, NULL);
	if (bn == NULL)
		return -EINVAL;
	n = (p_BN_num_bits(bn) + 7) / 8;
	priv->serial = malloc(n > 0 ? (size_t)n : 1);
	if (priv->serial != NULL)
		p_BN_bn2bin(bn, priv->serial);
	p_BN_free(bn);
	if (priv->serial == NULL)
		return -EINVAL;
	info->key_id = priv->serial;
	info->key_id_len = (size_t)n;
	issuer_name(si->issuer_and_serial->issuer, info);
	if (p_OBJ_obj2txt(info->hash_buf, sizeof(info->hash_buf), si->digest_alg->algorithm,
			  0) < 0)
		return -EINVAL;
	info->hash_algo = info->hash_buf;
	return 0;
}

void signature_release(struct sig_info *info)
{
	struct pkcs7_priv *priv = info->priv;

	if (priv == NULL)
		return;
	if (priv->pkcs7)
		p_PKCS7_free(priv->pkcs7);
	free(priv->serial);
	free(priv);
	info->priv = NULL;
}
#else
static int pkcs7_fill_libcrypto(const uint8_t *der, size_t len, struct sig_info *info)
{
	(void)der;
	(void)len;
	(void)info;
	return -ELIBACC;
}

void signature_release(struct sig_info *info)
{
	(void)info;
}
#endif

static bool pkcs7_fill(const uint8_t *der, size_t len, struct sig_info *info)
{
	struct pkcs7_fields f;
	int r = pkcs7_parse(der, len, &f, 0);

	if (r < 0) {
		r = pkcs7_fill_libcrypto(der, len, info);
		if (r != -ELIBACC)
			return r == 0;
		r = pkcs7_parse(der, len, &f, PKCS7_SKIP_EXTRAS);
	}
	if (r < 0) {
		/* no libcrypto, and a shape beyond pkcs7.c: what kmod built without
		 * OpenSSL shows, the type and nothing more */
		info->hash_algo = "unknown";
		return true;
	}
	info->signer = f.signer;
	info->signer_len = f.signer_len;
	info->key_id = f.serial;
	info->key_id_len = f.serial_len;
	info->hash_algo = f.hash_algo;
	info->sig = f.sig;
	info->sig_len = f.sig_len;
	return true;
}

bool signature_read(const uint8_t *mem, size_t size, struct sig_info *info)
{
	struct trailer t;
	size_t off;

	memset(info, 0, sizeof(*info));
	if (!trailer_parse(mem, size, &t))
		return false;
	info->id_type = id_types[t.id_type];
	off = t.end - t.sig_len;
	if (t.id_type == ID_PKCS7) {
		if (pkcs7_fill(mem + off, t.sig_len, info))
			return true;
		signature_release(info);
		return false;
	}
	info->sig = mem + off;
	info->sig_len = t.sig_len;
	off -= t.key_id_len;
	info->key_id = mem + off;
	info->key_id_len = t.key_id_len;
	off -= t.signer_len;
	info->signer = mem + off;
	info->signer_len = t.signer_len;
	info->hash_algo = hash_names[t.hash];
	return true;
}

char *signature_hex(const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	char *s = malloc(len * 3 + (len / 20) * 3 + 1), *q = s;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		q[0] = digits[p[i] >> 4];
		q[1] = digits[p[i] & 15];
		q[2] = ':';
		q += 3;
		if ((i + 1) % 20 == 0 && i + 1 < len) {
			memcpy(q, "\n\t\t", 3);
			q += 3;
		}
	}
	if (len > 0)
		q--; /* no ':' after the last byte */
	*q = '\0';
	return s;
}
