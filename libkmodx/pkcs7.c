// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A strict DER reader for the one shape of PKCS#7 that kernel module signatures have
 * (RFC 2315; what the kernel's sign-file writes):
 *
 *   ContentInfo  SEQUENCE { OID signedData, [0] EXPLICIT SignedData }
 *   SignedData   SEQUENCE { INTEGER version, SET OF AlgorithmIdentifier,
 *                           SEQUENCE { OID data },            -- detached content
 *                           SET OF SignerInfo }               -- no certificates, no CRLs
 *   SignerInfo   SEQUENCE { INTEGER version,
 *                           SEQUENCE { Name issuer, INTEGER serialNumber },
 *                           AlgorithmIdentifier digestAlgorithm,
 *                           AlgorithmIdentifier digestEncryptionAlgorithm,
 *                           OCTET STRING encryptedDigest }   -- no attributes
 *   Name         SEQUENCE OF SET OF SEQUENCE { OID, UTF8/Printable/IA5 String }
 *
 * Why not only libcrypto: loading libcrypto costs a single modinfo call about 90% of its
 * instructions. This reader answers for that common shape and says -EOPNOTSUPP for
 * anything else (BER, certificates, attributes, unusual string types or digests), and
 * the caller then asks libcrypto, which stays the authority. Both must agree wherever
 * this one answers; the tests and the fuzzer check that.
 *
 * Where there is no libcrypto to ask (the static kmodx, or libcrypto.so missing), the
 * caller asks again with PKCS7_SKIP_EXTRAS: certificates, CRLs and signed or unsigned
 * attributes are then stepped over unread, since the fields shown come from the
 * SignerInfo alone. libcrypto might refuse a signature whose certificate is malformed
 * where this still answers; showing the SignerInfo is the better answer then.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pkcs7.h"

struct der {
	const uint8_t *p, *end;
};

struct tlv {
	uint8_t tag;
	const uint8_t *val;
	size_t len;
};

/* Read one TLV; strict DER lengths only (no indefinite form, minimal long form). */
static int der_next(struct der *d, struct tlv *t)
{
	size_t left = (size_t)(d->end - d->p), len, nlen;
	const uint8_t *p = d->p;

	if (left < 2 || (p[0] & 0x1f) == 0x1f)
		return -EOPNOTSUPP;
	t->tag = p[0];
	len = p[1];
	p += 2;
	left -= 2;
	if (len & 0x80) {
		nlen = len & 0x7f;
		if (nlen == 0 || nlen > 4 || nlen > left || p[0] == 0)
			return -EOPNOTSUPP;
		len = 0;
		for (size_t i = 0; i < nlen; i++)
			len = len << 8 | p[i];
		if (len < 0x80)
			return -EOPNOTSUPP;
		p += nlen;
		left -= nlen;
	}
	if (len > left)
		return -EOPNOTSUPP;
	t->val = p;
	t->len = len;
	d->p = p + len;
	return 0;
}

/* Contents libcrypto would refuse: an OID with a truncated or padded subidentifier, an
 * empty or non-minimal INTEGER. */
static bool content_ok(uint8_t tag, const uint8_t *p, size_t len)
{
	switch (tag) {
	case 0x06: /* OBJECT IDENTIFIER */
		if (len == 0 || (p[len - 1] & 0x80))
			return false;
		for (size_t i = 0; i < len; i++) {
			if (p[i] == 0x80 && (i == 0 || !(p[i - 1] & 0x80)))
				return false;
		}
		return true;
	case 0x02: /* INTEGER */
		if (len == 0)
			return false;
		return len == 1 || !((p[0] == 0x00 && !(p[1] & 0x80)) || (p[0] == 0xff && (p[1] & 0x80)));
	default:
		return true;
	}
}

static int der_expect(struct der *d, uint8_t tag, struct der *inner)
{
	struct tlv t;
	int r = der_next(d, &t);

	if (r < 0 || t.tag != tag || !content_ok(tag, t.val, t.len))
		return -EOPNOTSUPP;
	inner->p = t.val;
	inner->end = t.val + t.len;
	return 0;
}

enum {
	DER_INTEGER = 0x02,
	DER_OCTET_STRING = 0x04,
	DER_NULL = 0x05,
	DER_OID = 0x06,
	DER_UTF8 = 0x0c,
	DER_PRINTABLE = 0x13,
	DER_IA5 = 0x16,
	DER_SEQUENCE = 0x30,
	DER_SET = 0x31,
	DER_CTX0 = 0xa0,
	DER_CTX1 = 0xa1,
};

static bool oid_is(const struct der *o, const uint8_t *bytes, size_t n)
{
	return (size_t)(o->end - o->p) == n && memcmp(o->p, bytes, n) == 0;
}

/* AlgorithmIdentifier: SEQUENCE { OID, optional NULL }; the OID comes back in *oid. */
static int algorithm(struct der *d, struct der *oid)
{
	struct der seq, params;
	int r = der_expect(d, DER_SEQUENCE, &seq);

	if (r == 0)
		r = der_expect(&seq, DER_OID, oid);
	if (r == 0 && seq.p < seq.end) {
		r = der_expect(&seq, DER_NULL, &params);
		if (r == 0 && params.p != params.end)
			r = -EOPNOTSUPP;
	}
	if (r == 0 && seq.p != seq.end)
		r = -EOPNOTSUPP;
	return r;
}

static const uint8_t OID_SIGNED_DATA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
static const uint8_t OID_DATA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};

/* Digest OIDs and the names OpenSSL's OBJ_obj2txt() gives them. */
static const struct {
	uint8_t oid[10];
	uint8_t len;
	const char *name;
} digests[] = {
	{{0x2b, 0x0e, 0x03, 0x02, 0x1a}, 5, "sha1"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01}, 9, "sha256"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02}, 9, "sha384"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03}, 9, "sha512"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04}, 9, "sha224"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x05}, 9, "sha512-224"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x06}, 9, "sha512-256"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x07}, 9, "sha3-224"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x08}, 9, "sha3-256"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x09}, 9, "sha3-384"},
	{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0a}, 9, "sha3-512"},
	{{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05}, 8, "md5"},
	{{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x04}, 8, "md4"},
	{{0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11}, 8, "sm3"},
	{{0x2b, 0x24, 0x03, 0x02, 0x01}, 5, "ripemd160"},
};

/* A string type and content libcrypto takes as it is (printable ASCII), so that its
 * canonicalisation cannot reject the name where this reader accepted it. */
static bool plain_string(const struct tlv *v)
{
	if (v->tag != DER_UTF8 && v->tag != DER_PRINTABLE && v->tag != DER_IA5)
		return false;
	for (size_t i = 0; i < v->len; i++) {
		if (v->val[i] < 0x20 || v->val[i] > 0x7e)
			return false;
	}
	return true;
}

/*
 * The issuer's first commonName, or else the value of its last attribute (what kmod
 * shows); cut at the first NUL, as kmod's strlen() does.
 */
static int issuer(struct der *d, struct pkcs7_fields *f)
{
	struct der name, rdn, ava, oid;
	struct tlv value = {0};
	bool found_cn = false, any = false;
	int r = der_expect(d, DER_SEQUENCE, &name);

	while (r == 0 && name.p < name.end) {
		r = der_expect(&name, DER_SET, &rdn);
		if (r == 0 && rdn.p == rdn.end)
			r = -EOPNOTSUPP;
		while (r == 0 && rdn.p < rdn.end) {
			struct tlv v;

			r = der_expect(&rdn, DER_SEQUENCE, &ava);
			if (r == 0)
				r = der_expect(&ava, DER_OID, &oid);
			if (r == 0)
				r = der_next(&ava, &v);
			if (r == 0 && (ava.p != ava.end || !plain_string(&v)))
				r = -EOPNOTSUPP;
			if (r == 0 && !found_cn) {
				value = v;
				any = true;
				found_cn = oid_is(&oid, OID_CN, sizeof(OID_CN));
			}
		}
	}
	if (r < 0)
		return r;
	f->signer = any ? value.val : NULL;
	f->signer_len = any ? strnlen((const char *)value.val, value.len) : 0;
	return 0;
}

static int serial(struct der *d, struct pkcs7_fields *f)
{
	struct der n;
	int r = der_expect(d, DER_INTEGER, &n);

	if (r < 0 || n.p == n.end || (n.p[0] & 0x80))
		return -EOPNOTSUPP; /* empty or negative: leave it to libcrypto */
	while (n.p < n.end && n.p[0] == 0)
		n.p++;
	f->serial = n.p;
	f->serial_len = (size_t)(n.end - n.p);
	return 0;
}

/* With PKCS7_SKIP_EXTRAS, step over an optional [n] IMPLICIT element (certificates, CRLs,
 * attributes) if it is next: a well-formed TLV whose content is not looked into. */
static int skip_optional(struct der *d, uint8_t tag, unsigned flags)
{
	struct tlv t;

	if (d->p == d->end || d->p[0] != tag)
		return 0;
	if (!(flags & PKCS7_SKIP_EXTRAS))
		return -EOPNOTSUPP;
	return der_next(d, &t);
}

static int signer_info(struct der *d, struct pkcs7_fields *f, unsigned flags)
{
	struct der si, ias, ver, digest, sigalg, sig;
	int r = der_expect(d, DER_SEQUENCE, &si);

	if (r == 0)
		r = der_expect(&si, DER_INTEGER, &ver);
	if (r == 0)
		r = der_expect(&si, DER_SEQUENCE, &ias);
	if (r == 0)
		r = issuer(&ias, f);
	if (r == 0)
		r = serial(&ias, f);
	if (r == 0 && ias.p != ias.end)
		r = -EOPNOTSUPP;
	if (r == 0)
		r = algorithm(&si, &digest);
	if (r == 0)
		r = skip_optional(&si, DER_CTX0, flags); /* authenticatedAttributes */
	if (r == 0)
		r = algorithm(&si, &sigalg);
	if (r == 0)
		r = der_expect(&si, DER_OCTET_STRING, &sig);
	if (r == 0)
		r = skip_optional(&si, DER_CTX1, flags); /* unauthenticatedAttributes */
	if (r == 0 && si.p != si.end)
		r = -EOPNOTSUPP;
	if (r < 0)
		return r;
	f->sig = sig.p;
	f->sig_len = (size_t)(sig.end - sig.p);
	f->hash_algo = NULL;
	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		if (oid_is(&digest, digests[i].oid, digests[i].len))
			f->hash_algo = digests[i].name;
	}
	return f->hash_algo ? 0 : -EOPNOTSUPP;
}

int pkcs7_parse(const uint8_t *der, size_t len, struct pkcs7_fields *f, unsigned flags)
{
	struct der d = {der, der + len}, ci, oid, explicit, sd, ver, algs, content, infos, a;
	int r = der_expect(&d, DER_SEQUENCE, &ci);

	if (r == 0)
		r = der_expect(&ci, DER_OID, &oid);
	if (r == 0 && !oid_is(&oid, OID_SIGNED_DATA, sizeof(OID_SIGNED_DATA)))
		r = -EOPNOTSUPP;
	if (r == 0)
		r = der_expect(&ci, DER_CTX0, &explicit);
	if (r == 0 && ci.p != ci.end)
		r = -EOPNOTSUPP;
	if (r == 0)
		r = der_expect(&explicit, DER_SEQUENCE, &sd);
	if (r == 0 && explicit.p != explicit.end)
		r = -EOPNOTSUPP;
	if (r == 0)
		r = der_expect(&sd, DER_INTEGER, &ver);
	if (r == 0)
		r = der_expect(&sd, DER_SET, &algs);
	while (r == 0 && algs.p < algs.end)
		r = algorithm(&algs, &a);
	if (r == 0)
		r = der_expect(&sd, DER_SEQUENCE, &content);
	if (r == 0)
		r = der_expect(&content, DER_OID, &oid);
	if (r == 0 && (content.p != content.end || !oid_is(&oid, OID_DATA, sizeof(OID_DATA))))
		r = -EOPNOTSUPP;
	if (r == 0)
		r = skip_optional(&sd, DER_CTX0, flags); /* certificates */
	if (r == 0)
		r = skip_optional(&sd, DER_CTX1, flags); /* crls */
	if (r == 0)
		r = der_expect(&sd, DER_SET, &infos);
	if (r == 0 && sd.p != sd.end)
		r = -EOPNOTSUPP;
	if (r == 0 && infos.p == infos.end)
		r = -EOPNOTSUPP;
	/* only the first SignerInfo is shown, but every one must be well-formed */
	for (bool first = true; r == 0 && infos.p < infos.end; first = false) {
		struct pkcs7_fields tmp;

		r = signer_info(&infos, first ? f : &tmp, flags);
	}
	return r;
}
