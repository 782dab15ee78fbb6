// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto.h"
#include "dl.h"
#include "util/fileio.h"
#include "util/macro.h"

#define CERT_FILE_MAX ((size_t)16 << 20)

/* The static kmodx leaves libcrypto out (see meson.build): its start-up code alone would
 * cost every modprobe more than the lookup itself. */
#if defined(HAVE_OPENSSL) && !defined(KMODX_WITHOUT_LIBCRYPTO)
#define CRYPTO_DEFINE(f) __typeof__(&f) p_##f;
CRYPTO_FUNCS(CRYPTO_DEFINE)
#define CRYPTO_SYM(f) DL_SYM(f),
static const struct dl_sym crypto_syms[] = {CRYPTO_FUNCS(CRYPTO_SYM)};
static struct dl_lib crypto_lib = DL_LIB(CRYPTO_SONAME, crypto_syms);
/* signing, verifying, and the details of signatures other than sign-file's shape */
DL_NOTE(crypto_note, "openssl", "Module signing and the details of every PKCS#7 signature",
	"suggested", CRYPTO_SONAME);

bool crypto_load(const char **why)
{
	return dl_load(&crypto_lib, why);
}

const char *crypto_error(char *buf, size_t size)
{
	unsigned long e = p_ERR_peek_last_error();

	buf[0] = '\0';
	if (e != 0)
		p_ERR_error_string_n(e, buf, size);
	p_ERR_clear_error();
	return buf;
}
#else
#ifdef HAVE_OPENSSL
/* Never set: crypto_load() fails first. */
#define CRYPTO_DEFINE(f) __typeof__(&f) p_##f;
CRYPTO_FUNCS(CRYPTO_DEFINE)
#endif

bool crypto_load(const char **why)
{
	if (why)
		*why = "this kmodx was built without libcrypto";
	return false;
}

const char *crypto_error(char *buf, size_t size)
{
	if (size > 0)
		buf[0] = '\0';
	return buf;
}
#endif

#ifdef HAVE_OPENSSL
/* sign-file's rule: DER when it starts like a long-form SEQUENCE, else PEM. */
static bool looks_der(const char *data, size_t len)
{
	return len >= 2 && (uint8_t)data[0] == 0x30 && (uint8_t)data[1] >= 0x81 &&
	       (uint8_t)data[1] <= 0x84;
}

static int certs_from_der(const char *data, size_t len, STACK_OF(X509) * sk)
{
	const unsigned char *p = (const unsigned char *)data, *end = p + len;

	while (p < end) {
		X509 *x = p_d2i_X509(NULL, &p, (long)(end - p));

		if (x == NULL)
			return -EBADMSG;
		if (p_OPENSSL_sk_push((OPENSSL_STACK *)sk, x) <= 0) {
			p_X509_free(x);
			return -ENOMEM;
		}
	}
	return 0;
}

static int certs_from_pem(const char *data, size_t len, STACK_OF(X509) * sk)
{
	BIO *bio = p_BIO_new_mem_buf(data, (int)len);
	int n = 0, r = 0;
	X509 *x;

	if (bio == NULL)
		return -ENOMEM;
	while ((x = p_PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (p_OPENSSL_sk_push((OPENSSL_STACK *)sk, x) <= 0) {
			p_X509_free(x);
			r = -ENOMEM;
			break;
		}
		n++;
	}
	p_BIO_free(bio);
	p_ERR_clear_error(); /* the end of the file is an "error" too */
	return r < 0 ? r : n > 0 ? 0 : -EBADMSG;
}

int crypto_read_certs(const char *path, STACK_OF(X509) * sk)
{
	_cleanup_(freep) char *data = NULL;
	size_t len;
	int r = read_file_at(AT_FDCWD, path, CERT_FILE_MAX, &data, &len);

	if (r < 0)
		return r;
	if (len > INT32_MAX)
		return -EFBIG;
	return looks_der(data, len) ? certs_from_der(data, len, sk)
				    : certs_from_pem(data, len, sk);
}

void crypto_free_certs(STACK_OF(X509) * sk)
{
	if (sk)
		p_OPENSSL_sk_pop_free((OPENSSL_STACK *)sk, (void (*)(void *))p_X509_free);
}
#endif
