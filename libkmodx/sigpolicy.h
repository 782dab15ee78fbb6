/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the running kernel will do with a module's signature, from what it shows:
 * <root>/proc/keys, <root>/sys/module/module/parameters/sig_enforce and
 * <root>/sys/kernel/security/lockdown (see sigpolicy.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libkmodx.h"

enum key_presence {
	KEY_ABSENT,   /* no key of the kernel's answers to the signer */
	KEY_PROBABLE, /* a key with the signer's name: /proc/keys shows no serial numbers
		       */
	KEY_PRESENT,  /* the signer's key, identified exactly */
	KEY_UNKNOWN,  /* /proc/keys could not be read */
};

struct kernel_key {
	char *desc;   /* the key's description, "<subject>: <key id in hex>" */
	bool trusted; /* in a keyring the kernel checks modules against (as far as known)
		       */
};

struct sig_policy {
	int enforce;	   /* module.sig_enforce: 1, 0, or -1 when unknown */
	char lockdown[32]; /* "none", "integrity", "confidentiality"; "" when unknown */
	bool keys_known;   /* /proc/keys was read */
	struct kernel_key *keys;
	size_t n_keys;
};

/* Read the three files under the context's root. 0 or -ENOMEM: a missing file is a
 * setting left unknown. */
int sig_policy_read(struct kmodx_ctx *ctx, struct sig_policy *p);
void sig_policy_release(struct sig_policy *p);
/* Add the asymmetric keys of /proc/keys's text (changed in place) to p. 0 or -ENOMEM. */
int sig_policy_parse_keys(char *text, struct sig_policy *p);

/* Who signed, as far as it is known. */
struct signer_id {
	const char *kernel_desc; /* the description the signer's certificate gives a key
				  * (x509 key naming), or NULL without a certificate */
	const uint8_t *serial;	 /* the serial number (minimal big-endian) */
	size_t serial_len;
	const char *issuer; /* the issuer's common name */
	size_t issuer_len;
};

/* Whether a trusted key answers to the signer; *matched (may be NULL) gets the key's
 * description, borrowed from p. */
enum key_presence sig_policy_find_key(const struct sig_policy *p,
				      const struct signer_id *id, const char **matched);

/* Facts about one module's signature that decide the kernel's answer. */
struct sig_facts {
	int trailer;	/* signature_kernel_check(): 0, -ENODATA, -EBADMSG, -ENOPKG */
	bool malformed; /* the PKCS#7 message does not parse */
	bool bad_shape; /* signed attributes or other content than data: refused */
	enum key_presence key;
	int crypto; /* the signature checked against the key: 1 good, 0 bad, -1 not
		     * checked (no certificate) */
};

enum kmodx_sig_outcome sig_predict(const struct sig_facts *f, const struct sig_policy *p);
/* "load", "load-taint", "EKEYREJECTED", "EBADMSG", "EPERM". */
const char *sig_outcome_name(enum kmodx_sig_outcome o);
