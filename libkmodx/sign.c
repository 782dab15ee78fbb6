// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Signing modules as the kernel's scripts/sign-file does. The signature is a CMS
 * SignedData over the whole module image: detached content of type data, no
 * certificates, no signed attributes (nor S/MIME capabilities), the signer named by
 * issuer and serial number (or subjectKeyIdentifier with -k). It is appended in DER
 * with the trailer described in signature.h; sign-file's -p also keeps it as
 * <module>.p7s. Built with the same libcrypto calls and flags, the bytes are the
 * same as sign-file's for a deterministic algorithm (RSA PKCS#1 v1.5).
 *
 * Beyond sign-file: compressed modules are signed inside their compression (compress.c
 * recompresses them in the kernel's settings), --resign strips old signatures first,
 * and every file is replaced atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto.h"
#include "file.h"
#include "libkmodx-private.h"
#include "signature.h"
#include "util/fileio.h"

#ifdef HAVE_OPENSSL
struct signer {
	EVP_PKEY *key;
	STACK_OF(X509) * certs; /* the certificate file's */
	X509 *cert;		/* the first of them */
	const EVP_MD *md;
	unsigned flags;
};

/* The passphrase callback: the PIN is offered once, as sign-file does, so that a wrong
 * one is not retried. */
static int pin_cb(char *buf, int size, int rwflag, void *data)
{
	const char **pin = data;
	size_t n;

	(void)rwflag;
	if (pin == NULL || *pin == NULL)
		return -1;
	n = strlen(*pin);
	if (n >= (size_t)size)
		return -1;
	memcpy(buf, *pin, n + 1);
	*pin = NULL;
	return (int)n;
}

static EVP_PKEY *store_load_key(OSSL_STORE_CTX *store)
{
	EVP_PKEY *key = NULL;

	p_OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY);
	while (key == NULL && !p_OSSL_STORE_eof(store)) {
		OSSL_STORE_INFO *info = p_OSSL_STORE_load(store);

		if (info == NULL)
			break;
		if (p_OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
			key = p_OSSL_STORE_INFO_get1_PKEY(info);
		p_OSSL_STORE_INFO_free(info);
	}
	return key;
}

/* A PEM or DER file, or a PKCS#11 URI through OpenSSL's pkcs11 provider. */
static int load_key(struct kmodx_ctx *ctx, const char *uri, const char *pin,
		    EVP_PKEY **out)
{
	const char *pin_left = pin;
	char err[256];
	OSSL_STORE_CTX *store;
	UI_METHOD *ui;

	if (strstartswith(uri, "pkcs11:") &&
	    p_OSSL_PROVIDER_try_load(NULL, "pkcs11", 1) == NULL) {
		ERR(ctx,
		    "%s: PKCS#11 keys need OpenSSL's pkcs11 provider, which could not be "
		    "loaded (is pkcs11-provider installed?)",
		    uri);
		p_ERR_clear_error();
		return -ENOPKG;
	}
	ui = p_UI_UTIL_wrap_read_pem_callback(pin_cb, 0);
	if (ui == NULL)
		return -ENOMEM;
	store = p_OSSL_STORE_open(uri, ui, &pin_left, NULL, NULL);
	*out = store ? store_load_key(store) : NULL;
	if (store)
		p_OSSL_STORE_close(store);
	p_UI_destroy_method(ui);
	if (*out == NULL) {
		ERR(ctx, "%s: could not read the private key%s%s", uri,
		    crypto_error(err, sizeof(err))[0] ? ": " : "", err);
		return -EKEYREJECTED;
	}
	p_ERR_clear_error();
	return 0;
}

/* The first certificate of the file; the stack keeps it. */
static int load_cert(struct kmodx_ctx *ctx, const char *path, struct signer *s)
{
	int r;

	s->certs = (STACK_OF(X509) *)p_OPENSSL_sk_new_null();
	if (s->certs == NULL)
		return -ENOMEM;
	r = crypto_read_certs(path, s->certs);
	if (r < 0) {
		ERR(ctx, "%s: %s", path,
		    r == -EBADMSG ? "no X.509 certificate in it" : strerror(-r));
		return r;
	}
	s->cert = p_OPENSSL_sk_value((OPENSSL_STACK *)s->certs, 0);
	return 0;
}

static int signer_init(struct kmodx_ctx *ctx, const struct kmodx_sign_opts *o,
		       struct signer *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->flags = o->flags;
	s->md = p_EVP_get_digestbyname(o->hash);
	if (s->md == NULL) {
		ERR(ctx, "unknown hash algorithm '%s'", o->hash);
		return -EINVAL;
	}
	r = load_key(ctx, o->key, o->pin, &s->key);
	if (r == 0)
		r = load_cert(ctx, o->cert, s);
	return r;
}

static void signer_release(struct signer *s)
{
	if (s->key)
		p_EVP_PKEY_free(s->key);
	crypto_free_certs(s->certs);
}

static int bio_take(BIO *bio, uint8_t **out, size_t *len)
{
	char *p = NULL;
	long n = p_BIO_ctrl(bio, BIO_CTRL_INFO, 0, (char *)&p);

	if (n <= 0 || p == NULL)
		return -EIO;
	*out = malloc((size_t)n);
	if (*out == NULL)
		return -ENOMEM;
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	return 0;
}

/* The CMS message over data, in DER; sign-file's calls and flags. */
static int cms_make(const struct signer *s, const uint8_t *data, size_t len,
		    uint8_t **der, size_t *der_len)
{
	const unsigned add_flags = CMS_NOCERTS | CMS_BINARY | CMS_NOSMIMECAP |
				   CMS_NOATTR |
				   (s->flags & KMODX_SIGN_USE_KEYID ? CMS_USE_KEYID : 0);
	BIO *in = p_BIO_new_mem_buf(data, (int)len), *out = p_BIO_new(p_BIO_s_mem());
	CMS_ContentInfo *cms = NULL;
	int r = -EIO;

	if (in == NULL || out == NULL)
		goto out;
	cms = p_CMS_sign(NULL, NULL, NULL, NULL,
			 CMS_NOCERTS | CMS_PARTIAL | CMS_BINARY | CMS_DETACHED |
				 CMS_STREAM);
	if (cms && p_CMS_add1_signer(cms, s->cert, s->key, s->md, add_flags) &&
	    p_CMS_final(cms, in, NULL, CMS_NOCERTS | CMS_BINARY) == 1 &&
	    p_i2d_CMS_bio_stream(out, cms, NULL, 0) == 1)
		r = bio_take(out, der, der_len);
out:
	if (cms)
		p_CMS_ContentInfo_free(cms);
	if (in)
		p_BIO_free(in);
	if (out)
		p_BIO_free(out);
	return r;
}

/* The module image to sign: decompressed, and without old signatures for --resign. */
struct image {
	struct kmodx_file *file;
	size_t len;    /* what is signed: file->data[0, len) */
	unsigned mode; /* of the original file */
};

static int image_load(struct kmodx_ctx *ctx, const char *path, unsigned flags,
		      struct image *img)
{
	struct stat st;
	int r = file_open(ctx, path, &img->file);

	if (r < 0) {
		ERR(ctx, "%s: %s", path, strerror(-r));
		return r;
	}
	r = file_load(ctx, img->file);
	if (r < 0)
		return r;
	img->len = img->file->size;
	if (flags & KMODX_SIGN_RESIGN) {
		/* a module signed twice carries two trailers: strip until none is left */
		for (size_t n;
		     (n = signature_strip_len(img->file->data, img->len)) != img->len;)
			img->len = n;
	}
	img->mode = fstat(img->file->fd, &st) == 0 ? st.st_mode & 07777 : 0644;
	return 0;
}

static int sign_data(struct kmodx_ctx *ctx, const struct kmodx_sign_opts *o,
		     const uint8_t *data, size_t len, uint8_t **sig, size_t *sig_len)
{
	struct signer s;
	char err[256];
	int r;

	if (o->raw_sig) {
		size_t n;

		r = read_file_at(AT_FDCWD, o->raw_sig, MODULE_MAX_SIZE, (char **)sig, &n);
		if (r < 0)
			ERR(ctx, "%s: %s", o->raw_sig, strerror(-r));
		*sig_len = n;
		return r;
	}
	r = signer_init(ctx, o, &s);
	if (r == 0) {
		r = cms_make(&s, data, len, sig, sig_len);
		if (r < 0)
			ERR(ctx, "could not sign: %s", crypto_error(err, sizeof(err)));
	}
	signer_release(&s);
	return r;
}

static void trailer_make(uint8_t t[MODULE_SIG_INFO_LEN], size_t sig_len)
{
	memset(t, 0, MODULE_SIG_INFO_LEN);
	t[2] = 2; /* id_type: PKCS#7 */
	t[8] = (uint8_t)(sig_len >> 24);
	t[9] = (uint8_t)(sig_len >> 16);
	t[10] = (uint8_t)(sig_len >> 8);
	t[11] = (uint8_t)sig_len;
}

/* A compressed module gets its signed image compressed again, in the same format. */
static int write_compressed(struct kmodx_ctx *ctx, const char *dest, enum compression c,
			    const struct fileio_part *parts, size_t n, unsigned mode)
{
	_cleanup_(freep) uint8_t *plain = NULL;
	_cleanup_(freep) uint8_t *packed = NULL;
	size_t len = 0, packed_len;
	const char *why = NULL;
	struct fileio_part out;
	int r;

	for (size_t i = 0; i < n; i++)
		len += parts[i].len;
	plain = malloc(len);
	if (plain == NULL)
		return -ENOMEM;
	len = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(plain + len, parts[i].data, parts[i].len);
		len += parts[i].len;
	}
	r = compress_image(c, plain, len, &packed, &packed_len, &why);
	if (r < 0) {
		ERR(ctx, "%s: could not compress with %s: %s", dest, compression_name(c),
		    why ? why : strerror(-r));
		return r;
	}
	out = (struct fileio_part){packed, packed_len};
	return write_file_atomic(dest, &out, 1, mode);
}

static int write_signed(struct kmodx_ctx *ctx, const struct image *img, const char *dest,
			const uint8_t *sig, size_t sig_len)
{
	uint8_t trailer[MODULE_SIG_INFO_LEN];
	struct stat st;
	unsigned mode = img->mode;
	const struct fileio_part parts[] = {
		{img->file->data, img->len},
		{sig, sig_len},
		{trailer, sizeof(trailer)},
		{MODULE_SIG_MAGIC, MODULE_SIG_MAGIC_LEN},
	};
	int r;

	trailer_make(trailer, sig_len);
	if (!streq(dest, img->file->path))
		mode = stat(dest, &st) == 0 ? st.st_mode & 07777 : 0644;
	if (img->file->compression != COMPRESSION_NONE)
		r = write_compressed(ctx, dest, img->file->compression, parts,
				     ARRAY_SIZE(parts), mode);
	else
		r = write_file_atomic(dest, parts, ARRAY_SIZE(parts), mode);
	if (r < 0)
		ERR(ctx, "could not write %s: %s", dest, strerror(-r));
	return r;
}

static int write_detached(struct kmodx_ctx *ctx, const char *path, const uint8_t *sig,
			  size_t sig_len)
{
	_cleanup_(freep) char *p7s = NULL;
	struct fileio_part part = {sig, sig_len};
	int r;

	if (asprintf(&p7s, "%s.p7s", path) < 0)
		return -ENOMEM;
	r = write_file_atomic(p7s, &part, 1, 0644);
	if (r < 0)
		ERR(ctx, "could not write %s: %s", p7s, strerror(-r));
	return r;
}

static int sign_module(struct kmodx_ctx *ctx, const char *path, const char *dest,
		       const struct kmodx_sign_opts *o)
{
	struct image img = {0};
	_cleanup_(freep) uint8_t *sig = NULL;
	size_t sig_len = 0;
	int r = image_load(ctx, path, o->flags, &img);

	if (r == 0)
		r = sign_data(ctx, o, img.file->data, img.len, &sig, &sig_len);
	if (r == 0 && !o->raw_sig &&
	    (o->flags & (KMODX_SIGN_KEEP_DETACHED | KMODX_SIGN_DETACHED_ONLY)))
		r = write_detached(ctx, path, sig, sig_len);
	if (r == 0 && !(o->flags & KMODX_SIGN_DETACHED_ONLY))
		r = write_signed(ctx, &img, dest ? dest : path, sig, sig_len);
	if (img.file)
		file_free(img.file);
	return r;
}
#endif

_public_ int kmodx_sign_module(struct kmodx_ctx *ctx, const char *path, const char *dest,
			       const struct kmodx_sign_opts *opts)
{
	const char *why = NULL;

	if (ctx == NULL || path == NULL || opts == NULL ||
	    (opts->raw_sig == NULL && (!opts->hash || !opts->key || !opts->cert)))
		return -EINVAL;
#ifdef HAVE_OPENSSL
	if (opts->raw_sig || crypto_load(&why))
		return sign_module(ctx, path, dest, opts);
#else
	why = "this kmodx was built without OpenSSL";
#endif
	ERR(ctx, "signing needs libcrypto: %s", why);
	return -ELIBACC;
}
