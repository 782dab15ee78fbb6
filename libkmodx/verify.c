// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Checking a module's signature offline, the way the kernel checks it at load time:
 * the trailer by the kernel's rules (signature_kernel_check), the PKCS#7 message by
 * libcrypto, the signature against the certificates the caller trusts, and, with
 * KMODX_VERIFY_KERNEL, the kernel's answer (sigpolicy.c). Certificates are looked up
 * by what the signature names (issuer and serial number, or subjectKeyIdentifier), as
 * the kernel looks up its keys; they are not checked against each other, nor their
 * dates, which the kernel ignores too.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto.h"
#include "file.h"
#include "libkmodx-private.h"
#include "signature.h"
#include "sigpolicy.h"
#include "verify.h"
#include "util/path.h"
#include "util/strbuf.h"

#ifdef HAVE_OPENSSL
struct verify {
	struct kmodx_ctx *ctx;
	struct kmodx_kvlist *report;
	const uint8_t *data; /* the module image */
	size_t size;
	struct sig_span span;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	struct sig_facts facts;
	STACK_OF(X509) * certs;	    /* every certificate given */
	struct ptrarray cert_files; /* the file each came from, by index */
	X509 *cert;		    /* the one that names the signer */
	const char *cert_file;
	char *kernel_desc; /* what the kernel would call cert's key */
};

static int add(struct verify *v, const char *key, const char *value, uint64_t number)
{
	return kvlist_add(v->report, key, strlen(key), value, strlen(value), number);
}

/* ---- certificates ---- */

static int certs_add_file(struct verify *v, const char *path, bool from_dir)
{
	int before = p_OPENSSL_sk_num((OPENSSL_STACK *)v->certs), r;
	char *copy;

	r = crypto_read_certs(path, v->certs);
	if (r < 0 && from_dir) {
		DBG(v->ctx, "%s: no certificate (%s), skipped", path, strerror(-r));
		return 0; /* a key or a README next to the certificates */
	}
	if (r < 0) {
		ERR(v->ctx, "%s: %s", path,
		    r == -EBADMSG ? "no X.509 certificate in it" : strerror(-r));
		return r;
	}
	for (int i = before; i < p_OPENSSL_sk_num((OPENSSL_STACK *)v->certs); i++) {
		copy = strdup(path);
		if (copy == NULL || ptrarray_push(&v->cert_files, copy) < 0) {
			free(copy);
			return -ENOMEM;
		}
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of a directory, in name order, so that the first match is stable. */
static int certs_add_dir(struct verify *v, const char *dir)
{
	struct ptrarray names = {0};
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (d == NULL)
		return -errno;
	while (r == 0 && (de = readdir(d)) != NULL) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = path_join(dir, de->d_name);
		r = p ? ptrarray_push(&names, p) : -ENOMEM;
		if (r < 0)
			free(p);
	}
	closedir(d);
	if (names.n > 0)
		qsort(names.v, names.n, sizeof(names.v[0]), name_cmp);
	for (size_t i = 0; i < names.n; i++) {
		struct stat st;

		if (r == 0 && stat(names.v[i], &st) == 0 && S_ISREG(st.st_mode))
			r = certs_add_file(v, names.v[i], true);
		free(names.v[i]);
	}
	ptrarray_release(&names);
	return r;
}

static int certs_load(struct verify *v, const char *const *paths)
{
	int r = 0;

	v->certs = (STACK_OF(X509) *)p_OPENSSL_sk_new_null();
	if (v->certs == NULL)
		return -ENOMEM;
	for (size_t i = 0; paths && paths[i] && r == 0; i++) {
		struct stat st;

		if (stat(paths[i], &st) < 0) {
			r = -errno;
			ERR(v->ctx, "%s: %s", paths[i], strerror(-r));
		} else if (S_ISDIR(st.st_mode)) {
			r = certs_add_dir(v, paths[i]);
			if (r < 0)
				ERR(v->ctx, "%s: %s", paths[i], strerror(-r));
		} else {
			r = certs_add_file(v, paths[i], false);
		}
	}
	return r;
}

/* ---- the PKCS#7 message ---- */

/* What the kernel refuses for modules even from a trusted key. */
static int check_shape(struct verify *v)
{
	v->facts.bad_shape = true;
	if (p_OBJ_obj2nid(p_CMS_get0_eContentType(v->cms)) != NID_pkcs7_data)
		return add(v, "problem", "the signed content is not of type data", 0);
	if (p_CMS_is_detached(v->cms) != 1)
		return add(v, "problem", "the module is embedded in the signature", 0);
	if (p_CMS_signed_get_attr_count(v->si) > 0)
		return add(v, "problem",
			   "the signature has signed attributes, which the kernel "
			   "refuses for "
			   "modules",
			   0);
	v->facts.bad_shape = false;
	return 0;
}

/* Parse it as the kernel would: a SignedData over detached data; signed attributes or
 * other content are refused for modules (pkcs7_verify, VERIFYING_MODULE_SIGNATURE). */
static int cms_parse(struct verify *v)
{
	BIO *bio = p_BIO_new_mem_buf(v->span.sig, (int)v->span.sig_len);
	STACK_OF(CMS_SignerInfo) * sis;
	char err[256];

	if (bio == NULL)
		return -ENOMEM;
	v->cms = p_d2i_CMS_bio(bio, NULL);
	p_BIO_free(bio);
	if (v->cms == NULL ||
	    p_OBJ_obj2nid(p_CMS_get0_type(v->cms)) != NID_pkcs7_signed) {
		v->facts.malformed = true;
		crypto_error(err, sizeof(err));
		return add(v, "signature", "malformed", 0)
			       ?: add(v, "problem",
				      "the PKCS#7 message does not parse as CMS "
				      "SignedData",
				      0);
	}
	sis = p_CMS_get0_SignerInfos(v->cms);
	if (sis == NULL || p_OPENSSL_sk_num((OPENSSL_STACK *)sis) < 1) {
		v->facts.malformed = true;
		return add(v, "signature", "malformed", 0)
			       ?: add(v, "problem", "the PKCS#7 message has no signer",
				      0);
	}
	v->si = p_OPENSSL_sk_value((OPENSSL_STACK *)sis, 0);
	return add(v, "signature", "pkcs7", 0) ?: check_shape(v);
}

/* The fields modinfo shows, read the same way. */
static int add_fields(struct verify *v)
{
	_cleanup_(freep) char *key = NULL;
	struct sig_info si;
	int r;

	if (!signature_read(v->data, v->size, &si))
		return 0;
	key = signature_hex(si.key_id, si.key_id_len);
	r = key ? kvlist_add(v->report, "signer", 6, (const char *)si.signer,
			     si.signer_len, 0)
		: -ENOMEM;
	if (r == 0)
		r = add(v, "key_id", key, 0);
	if (r == 0)
		r = add(v, "hash", si.hash_algo ? si.hash_algo : "", 0);
	signature_release(&si);
	return r;
}

/* ---- the signature against the certificates ---- */

/* "the signature does not match the module (libcrypto's reason)" */
static const char *mismatch_reason(char *buf, size_t size)
{
	unsigned long e = p_ERR_peek_last_error();
	const char *why = e ? p_ERR_reason_error_string(e) : NULL;

	p_ERR_clear_error();
	snprintf(buf, size, "the signature does not match the module%s%s%s",
		 why ? " (" : "", why ? why : "", why ? ")" : "");
	return buf;
}

/*
 * The module for CMS_verify(), behind a buffering filter: given a memory BIO directly,
 * OpenSSL 3.0 copies it into one of its own, which it leaks when the message's digest
 * algorithms cannot be set up.
 */
static BIO *content_bio(const struct verify *v)
{
	BIO *mem = p_BIO_new_mem_buf(v->data, (int)v->span.content_len);
	BIO *buf = mem ? p_BIO_new(p_BIO_f_buffer()) : NULL;

	if (buf == NULL) {
		if (mem)
			p_BIO_free(mem);
		return NULL;
	}
	return p_BIO_push(buf, mem);
}

static int check_certs(struct verify *v)
{
	int n = p_OPENSSL_sk_num((OPENSSL_STACK *)v->certs), r;
	STACK_OF(X509) * one;
	BIO *content;
	char err[256];

	for (int i = 0; i < n && v->cert == NULL; i++) {
		X509 *x = p_OPENSSL_sk_value((OPENSSL_STACK *)v->certs, i);

		if (p_CMS_SignerInfo_cert_cmp(v->si, x) == 0) {
			v->cert = x;
			v->cert_file = v->cert_files.v[i];
		}
	}
	if (v->cert == NULL) {
		v->facts.crypto = -1;
		r = add(v, "valid", "no", 0);
		return r ? r
			 : add(v, "reason", "no certificate given names the signer", 0);
	}
	r = add(v, "certificate", v->cert_file, 0);
	one = (STACK_OF(X509) *)p_OPENSSL_sk_new_null();
	content = content_bio(v);
	if (r == 0 && (one == NULL || content == NULL ||
		       p_OPENSSL_sk_push((OPENSSL_STACK *)one, v->cert) <= 0))
		r = -ENOMEM;
	if (r == 0) {
		v->facts.crypto = p_CMS_verify(v->cms, one, NULL, content, NULL,
					       CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY |
						       CMS_NOINTERN) == 1;
		r = add(v, "valid", v->facts.crypto ? "yes" : "no",
			(uint64_t)v->facts.crypto);
		if (r == 0 && !v->facts.crypto)
			r = add(v, "reason", mismatch_reason(err, sizeof(err)), 0);
	}
	if (content)
		p_BIO_free_all(content);
	if (one)
		p_OPENSSL_sk_free((OPENSSL_STACK *)one);
	return r;
}

/* ---- the kernel's name for a certificate's key (x509_key_preparse) ---- */

/* The value of the last attribute nid in the name, or NULL. */
static const uint8_t *name_part(X509_NAME *name, int nid, int *len)
{
	int i = -1, last = -1;
	ASN1_STRING *data;

	while ((i = p_X509_NAME_get_index_by_NID(name, nid, i)) >= 0)
		last = i;
	if (last < 0)
		return NULL;
	data = p_X509_NAME_ENTRY_get_data(p_X509_NAME_get_entry(name, last));
	*len = p_ASN1_STRING_length(data);
	return p_ASN1_STRING_get0_data(data);
}

/* The kernel's subject name: CN, O, or "O: CN" when CN does not already start with O
 * (nor share its first 7 characters); the e-mail address without either. */
static int subject_name(X509 *x, struct strbuf *sb)
{
	X509_NAME *name = p_X509_get_subject_name(x);
	int cn_len = 0, o_len = 0, mail_len = 0;
	const uint8_t *cn = name_part(name, NID_commonName, &cn_len);
	const uint8_t *o = name_part(name, NID_organizationName, &o_len);
	const uint8_t *mail = name_part(name, NID_pkcs9_emailAddress, &mail_len);

	if (cn && o && !(cn_len >= o_len && memcmp(cn, o, (size_t)o_len) == 0) &&
	    !(cn_len >= 7 && o_len >= 7 && memcmp(cn, o, 7) == 0)) {
		if (strbuf_append(sb, o, (size_t)o_len) < 0 || strbuf_puts(sb, ": ") < 0)
			return -ENOMEM;
	}
	if (cn)
		return strbuf_append(sb, cn, (size_t)cn_len);
	if (o)
		return strbuf_append(sb, o, (size_t)o_len);
	return mail ? strbuf_append(sb, mail, (size_t)mail_len) : 0;
}

/* The serial number as the DER integer's contents: a leading zero byte stays. */
static int serial_hex(X509 *x, struct strbuf *sb)
{
	BIGNUM *bn = p_ASN1_INTEGER_to_BN(p_X509_get0_serialNumber(x), NULL);
	uint8_t buf[64];
	int n, r = 0;

	if (bn == NULL)
		return -ENOMEM;
	n = (p_BN_num_bits(bn) + 7) / 8;
	if (n > (int)sizeof(buf) - 1) {
		p_BN_free(bn);
		return -EINVAL;
	}
	p_BN_bn2bin(bn, buf + 1);
	p_BN_free(bn);
	buf[0] = 0;
	/* 0 is one zero byte; a high bit set needs the zero byte before it */
	for (int i = (n == 0 || (buf[1] & 0x80)) ? 0 : 1; i <= n && r == 0; i++)
		r = strbuf_printf(sb, "%02x", buf[i]);
	return r;
}

static int kernel_desc(X509 *x, char **out)
{
	_cleanup_(strbuf_releasep) struct strbuf sb = {0};
	const ASN1_OCTET_STRING *skid = p_X509_get0_subject_key_id(x);
	int r = subject_name(x, &sb);

	if (r == 0)
		r = strbuf_puts(&sb, ": ");
	if (r == 0 && skid) {
		const uint8_t *p = p_ASN1_STRING_get0_data(skid);

		for (int i = 0; i < p_ASN1_STRING_length(skid) && r == 0; i++)
			r = strbuf_printf(&sb, "%02x", p[i]);
	} else if (r == 0) {
		r = serial_hex(x, &sb);
	}
	if (r < 0)
		return r;
	*out = strbuf_steal(&sb);
	return *out ? 0 : -ENOMEM;
}

/* ---- the kernel's answer ---- */

static const char *const presence_names[] = {
	[KEY_ABSENT] = "absent",
	[KEY_PROBABLE] = "probable",
	[KEY_PRESENT] = "present",
	[KEY_UNKNOWN] = "unknown",
};

/* Who the signature names, for a lookup in /proc/keys. */
static void signer_id_get(struct verify *v, struct signer_id *id, struct sig_info *si)
{
	ASN1_OCTET_STRING *keyid = NULL;
	ASN1_INTEGER *sno = NULL;
	X509_NAME *issuer = NULL;

	memset(id, 0, sizeof(*id));
	id->kernel_desc = v->kernel_desc;
	if (signature_read(v->data, v->size, si)) {
		id->serial = si->key_id;
		id->serial_len = si->key_id_len;
		id->issuer = (const char *)si->signer;
		id->issuer_len = si->signer_len;
	}
	/* a signer named by subjectKeyIdentifier: the kernel's description ends in it */
	if (v->si && p_CMS_SignerInfo_get0_signer_id(v->si, &keyid, &issuer, &sno) == 1 &&
	    keyid) {
		id->serial = p_ASN1_STRING_get0_data(keyid);
		id->serial_len = (size_t)p_ASN1_STRING_length(keyid);
	}
}

static int predict(struct verify *v)
{
	enum kmodx_sig_outcome o;
	struct sig_policy p;
	struct signer_id id;
	struct sig_info si = {0};
	const char *matched = NULL;
	int r = sig_policy_read(v->ctx, &p);

	if (r < 0)
		return r;
	if (v->cert && kernel_desc(v->cert, &v->kernel_desc) < 0)
		r = -ENOMEM;
	signer_id_get(v, &id, &si);
	if (v->facts.trailer == 0 && !v->facts.malformed)
		v->facts.key = sig_policy_find_key(&p, &id, &matched);
	signature_release(&si);
	o = sig_predict(&v->facts, &p);
	if (r == 0 && v->facts.trailer == 0 && !v->facts.malformed)
		r = add(v, "kernel_key", presence_names[v->facts.key], 0);
	if (r == 0 && matched)
		r = add(v, "kernel_key_desc", matched, 0);
	if (r == 0)
		r = add(v, "sig_enforce", p.enforce < 0 ? "unknown" : p.enforce ? "yes" : "no", 0);
	if (r == 0)
		r = add(v, "lockdown", p.lockdown[0] ? p.lockdown : "unknown", 0);
	if (r == 0)
		r = add(v, "outcome", sig_outcome_name(o), (uint64_t)o);
	sig_policy_release(&p);
	return r;
}

/* ---- one module ---- */

static int check_trailer(struct verify *v)
{
	v->facts.trailer = signature_kernel_check(v->data, v->size, &v->span);
	switch (v->facts.trailer) {
	case -ENODATA:
		return add(v, "signature", "none", 0);
	case -EBADMSG:
		return add(v, "signature", "malformed", 0)
			       ?: add(v, "problem", "the signature trailer is damaged",
				      0);
	case -ENOPKG:
		return add(v, "signature", "unsupported", 0)
			       ?: add(v, "problem", "not a PKCS#7 signature", 0);
	default:
		break;
	}
	if (v->span.sig_len > INT32_MAX)
		return -EFBIG;
	return cms_parse(v);
}

static int add_invalid(struct verify *v)
{
	const char *why = "the kernel does not accept this signature";
	int r = add(v, "valid", "no", 0);

	if (v->facts.trailer == -ENODATA)
		why = "the module is not signed";
	else if (v->facts.trailer == -EBADMSG || v->facts.malformed)
		why = "the signature is malformed";
	return r ? r : add(v, "reason", why, 0);
}

static int verify(struct verify *v, const char *const *certs, unsigned flags)
{
	bool has_certs = certs && certs[0], usable;
	int r = check_trailer(v);

	v->facts.crypto = -1;
	usable = r == 0 && v->facts.trailer == 0 && !v->facts.malformed;
	if (r == 0 && usable)
		r = add_fields(v);
	usable = usable && !v->facts.bad_shape;
	if (r == 0 && has_certs)
		r = certs_load(v, certs);
	if (r == 0 && usable && has_certs)
		r = check_certs(v);
	else if (r == 0 && usable)
		r = add(v, "valid", "unchecked", 0);
	else if (r == 0)
		r = add_invalid(v);
	if (r == 0 && (flags & KMODX_VERIFY_KERNEL))
		r = predict(v);
	return r;
}

static void verify_release(struct verify *v)
{
	if (v->cms)
		p_CMS_ContentInfo_free(v->cms);
	crypto_free_certs(v->certs);
	ptrarray_release_with(&v->cert_files, free);
	free(v->kernel_desc);
}

int verify_image(struct kmodx_ctx *ctx, const char *path, const uint8_t *data,
		 size_t size, const char *const *certs, unsigned flags,
		 struct kmodx_kvlist **report)
{
	struct verify v = {.ctx = ctx, .data = data, .size = size};
	int r = kvlist_new(&v.report);

	if (r == 0)
		r = add(&v, "file", path, 0);
	if (r == 0)
		r = verify(&v, certs, flags);
	verify_release(&v);
	if (r < 0) {
		kmodx_kvlist_free(v.report);
		return r;
	}
	*report = v.report;
	return 0;
}

static int verify_file(struct kmodx_ctx *ctx, const char *path, const char *const *certs,
		       unsigned flags, struct kmodx_kvlist **report)
{
	struct kmodx_file *f = NULL;
	int r = file_open(ctx, path, &f);

	if (r < 0) {
		ERR(ctx, "%s: %s", path, strerror(-r));
		return r;
	}
	r = file_load(ctx, f);
	if (r == 0)
		r = verify_image(ctx, path, f->data, f->size, certs, flags, report);
	file_free(f);
	return r;
}
#endif

_public_ int kmodx_verify_module(struct kmodx_ctx *ctx, const char *path,
				 const char *const *certs, unsigned flags,
				 struct kmodx_kvlist **report)
{
	const char *why = NULL;

	if (ctx == NULL || path == NULL || report == NULL)
		return -EINVAL;
#ifdef HAVE_OPENSSL
	if (crypto_load(&why))
		return verify_file(ctx, path, certs, flags, report);
#else
	why = "this kmodx was built without OpenSSL";
#endif
	ERR(ctx, "verifying signatures needs libcrypto: %s", why);
	return -ELIBACC;
}
