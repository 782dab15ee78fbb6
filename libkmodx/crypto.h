/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcrypto, loaded with dlopen() the first time a signature needs it (dl.h): every
 * function kmodx calls is listed once below and reached through its pointer p_<name>,
 * whose type is taken from OpenSSL's own header.
 *
 * The static kmodx is built without it (KMODX_WITHOUT_LIBCRYPTO, see meson.build):
 * crypto_load() then fails, and `kmodx sign`/`verify` run in the dynamic helper.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef HAVE_OPENSSL
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* clang-format off */
#define CRYPTO_FUNCS(X)                                                                 \
	X(ASN1_INTEGER_to_BN) X(ASN1_STRING_get0_data) X(ASN1_STRING_length)            \
	X(BIO_ctrl) X(BIO_f_buffer) X(BIO_free) X(BIO_free_all) X(BIO_new)              \
	X(BIO_new_mem_buf) X(BIO_push) X(BIO_s_mem) X(BN_bn2bin) X(BN_free)             \
	X(BN_num_bits) X(CMS_add1_signer) X(CMS_ContentInfo_free) X(CMS_final)          \
	X(CMS_get0_eContentType) X(CMS_get0_SignerInfos) X(CMS_get0_type)               \
	X(CMS_is_detached) X(CMS_sign) X(CMS_signed_get_attr_count)                     \
	X(CMS_SignerInfo_cert_cmp) X(CMS_SignerInfo_get0_signer_id) X(CMS_verify)       \
	X(d2i_CMS_bio) X(d2i_PKCS7_bio) X(d2i_X509) X(ERR_clear_error)                  \
	X(ERR_error_string_n) X(ERR_peek_last_error) X(ERR_reason_error_string)         \
	X(EVP_get_digestbyname) X(EVP_PKEY_free) X(i2d_CMS_bio_stream) X(OBJ_obj2nid)   \
	X(OBJ_obj2txt) X(OPENSSL_sk_free) X(OPENSSL_sk_new_null) X(OPENSSL_sk_num)      \
	X(OPENSSL_sk_pop_free) X(OPENSSL_sk_push) X(OPENSSL_sk_value)                   \
	X(OSSL_PROVIDER_try_load) X(OSSL_STORE_close) X(OSSL_STORE_eof)                 \
	X(OSSL_STORE_expect) X(OSSL_STORE_INFO_free) X(OSSL_STORE_INFO_get1_PKEY)       \
	X(OSSL_STORE_INFO_get_type) X(OSSL_STORE_load) X(OSSL_STORE_open)               \
	X(PEM_read_bio_X509) X(PKCS7_free) X(PKCS7_get_signer_info)                     \
	X(UI_destroy_method) X(UI_UTIL_wrap_read_pem_callback) X(X509_free)             \
	X(X509_get0_serialNumber) X(X509_get0_subject_key_id)                           \
	X(X509_get_subject_name) X(X509_NAME_entry_count) X(X509_NAME_ENTRY_get_data)   \
	X(X509_NAME_ENTRY_get_object) X(X509_NAME_get_entry)                            \
	X(X509_NAME_get_index_by_NID)
/* clang-format on */

#define CRYPTO_DECLARE(f) extern __typeof__(&f) p_##f;
CRYPTO_FUNCS(CRYPTO_DECLARE)
#undef CRYPTO_DECLARE

/* Append the certificates of a file (DER, or PEM with one or more) to sk. 0, or
 * -EBADMSG when it holds none, or the error reading it. */
int crypto_read_certs(const char *path, STACK_OF(X509) * sk);
/* Free sk and its certificates; accepts NULL. */
void crypto_free_certs(STACK_OF(X509) * sk);
#endif

/* Load libcrypto once: false if it cannot be had, with *why (may be NULL) saying why. */
bool crypto_load(const char **why);
/* libcrypto's last error as one line in buf ("" if none); clears its error queue. */
const char *crypto_error(char *buf, size_t size);
