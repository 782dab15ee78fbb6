// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel's answer to a module's signature (kernel/module/signing.c), predicted from
 * what it shows in /proc and /sys:
 *
 * - A trailer the kernel calls malformed, or a PKCS#7 message it cannot parse: EBADMSG,
 *   whatever the settings.
 * - A PKCS#7 message with signed attributes, or a signature that does not match the
 *   module under a key the kernel has: EKEYREJECTED, whatever the settings.
 * - Unsigned, not PKCS#7, or signed by a key the kernel lacks: EKEYREJECTED with
 *   module.sig_enforce=1; EPERM under lockdown (integrity or confidentiality); else the
 *   module loads and taints the kernel (E).
 * - Otherwise it loads.
 *
 * /proc/keys, one key per line (Documentation/security/keys/core.rst):
 *
 *   ID FLAGS USAGE TIMEOUT PERM UID GID TYPE DESCRIPTION: SUMMARY
 *   0e3a2b11 I------ 1 perm 1f030000 0 0 asymmetri Build time key: 51b3...f2: X509.rsa
 * 4a1f [] 2c1b4a19 I------ 1 perm 1f0b0000 0 0 keyring   .machine: 1
 *
 * TYPE is cut to 9 characters. An X.509 key's description is its subject's CN (or
 * "O: CN", or O) then ": " and its subjectKeyIdentifier in hex (its serial number when
 * it has none); the summary after it says "X509.<algorithm> ...". A keyring's summary
 * is its number of keys or "empty".
 *
 * What /proc/keys does not show is which keyring holds a key. Modules are checked
 * against .builtin_trusted_keys, .secondary_trusted_keys and .machine, not .platform
 * (UEFI db, and MOK keys where there is no .machine). The keys the kernel loads at boot
 * into .machine and .platform carry the same permissions, 1f010000, unlike built-in
 * ones (1f030000): such a key is taken as trusted only when .machine holds keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "libkmodx-private.h"
#include "pkcs7.h"
#include "signature.h"
#include "sigpolicy.h"
#include "util/fileio.h"

#define PROC_KEYS_MAX  ((size_t)4 << 20)
#define PERM_INTEGRITY 0x1f010000u /* keys loaded into .machine or .platform at boot */

struct key_line {
	unsigned perm;
	char type[16];
	char *desc; /* into the line */
};

static bool key_line_parse(char *line, struct key_line *k)
{
	int n = 0;

	if (sscanf(line, "%*x %*s %*d %*s %x %*u %*u %15s %n", &k->perm, k->type, &n) !=
		    2 ||
	    n == 0)
		return false;
	k->desc = line + n;
	return true;
}

/* Cut an asymmetric key's summary (": X509.rsa ...") off its description. */
static void cut_summary(char *desc)
{
	char *s = NULL;

	for (char *p = strstr(desc, ": X509."); p; p = strstr(p + 1, ": X509."))
		s = p;
	if (s == NULL)
		s = strrchr(desc, ':');
	if (s)
		*s = '\0';
}

static bool machine_has_keys(char *text)
{
	char *p = strstr(text, " .machine: ");

	return p && strncmp(p + 11, "empty", 5) != 0;
}

int sig_policy_parse_keys(char *text, struct sig_policy *p)
{
	bool machine = machine_has_keys(text);
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct kernel_key *v;
		struct key_line k;

		if (!key_line_parse(line, &k) || !streq(k.type, "asymmetri"))
			continue;
		cut_summary(k.desc);
		v = realloc(p->keys, (p->n_keys + 1) * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		p->keys = v;
		v[p->n_keys].desc = strdup(k.desc);
		if (v[p->n_keys].desc == NULL)
			return -ENOMEM;
		v[p->n_keys++].trusted = k.perm != PERM_INTEGRITY || machine;
	}
	return 0;
}

static void read_lockdown(struct kmodx_ctx *ctx, struct sig_policy *p)
{
	char path[PATH_MAX], buf[128], *open_br, *close_br;

	p->lockdown[0] = '\0';
	if (ctx_path(ctx, "/sys/kernel/security/lockdown", path) < 0 ||
	    read_attr(path, buf, sizeof(buf)) < 0)
		return;
	open_br = strchr(buf, '[');
	close_br = open_br ? strchr(open_br, ']') : NULL;
	if (close_br && (size_t)(close_br - open_br - 1) < sizeof(p->lockdown))
		snprintf(p->lockdown, sizeof(p->lockdown), "%.*s",
			 (int)(close_br - open_br - 1), open_br + 1);
}

int sig_policy_read(struct kmodx_ctx *ctx, struct sig_policy *p)
{
	_cleanup_(freep) char *text = NULL;
	char path[PATH_MAX], buf[16];
	int r;

	memset(p, 0, sizeof(*p));
	p->enforce = -1;
	if (ctx_path(ctx, "/sys/module/module/parameters/sig_enforce", path) == 0 &&
	    read_attr(path, buf, sizeof(buf)) == 0)
		p->enforce = buf[0] == 'Y' || buf[0] == '1';
	read_lockdown(ctx, p);
	if (ctx_path(ctx, "/proc/keys", path) < 0)
		return 0;
	r = read_file_at(AT_FDCWD, path, PROC_KEYS_MAX, &text, NULL);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	p->keys_known = true;
	r = sig_policy_parse_keys(text, p);
	if (r < 0)
		sig_policy_release(p);
	return r;
}

void sig_policy_release(struct sig_policy *p)
{
	for (size_t i = 0; i < p->n_keys; i++)
		free(p->keys[i].desc);
	free(p->keys);
	p->keys = NULL;
	p->n_keys = 0;
}

/* The description ends in ": <hex>" where hex is the serial number (a key without a
 * subjectKeyIdentifier); the kernel keeps the DER integer's leading zero byte. */
static bool desc_has_serial(const char *desc, const uint8_t *serial, size_t len)
{
	const char *hex = strrchr(desc, ' ');
	size_t n;

	if (hex == NULL || len == 0 || hex == desc || hex[-1] != ':')
		return false;
	hex++;
	if (strncmp(hex, "00", 2) == 0 && (serial[0] & 0x80))
		hex += 2;
	n = strlen(hex);
	if (n != len * 2)
		return false;
	for (size_t i = 0; i < len; i++) {
		char b[3];

		snprintf(b, sizeof(b), "%02x", serial[i]);
		if (strncmp(hex + 2 * i, b, 2) != 0)
			return false;
	}
	return true;
}

/* The name part of the description is the issuer's CN, or "O: CN": the key of a
 * self-signed certificate, or its CA. */
static bool desc_has_name(const char *desc, const char *cn, size_t cn_len)
{
	const char *end = strrchr(desc, ':');
	size_t n;

	if (end == NULL || cn_len == 0)
		return false;
	n = (size_t)(end - desc);
	if (n == cn_len && memcmp(desc, cn, n) == 0)
		return true;
	return n > cn_len + 2 && memcmp(end - cn_len, cn, cn_len) == 0 &&
	       memcmp(end - cn_len - 2, ": ", 2) == 0;
}

enum key_presence sig_policy_find_key(const struct sig_policy *p,
				      const struct signer_id *id, const char **matched)
{
	enum key_presence best = KEY_ABSENT;

	if (!p->keys_known)
		return KEY_UNKNOWN;
	for (size_t i = 0; i < p->n_keys && best != KEY_PRESENT; i++) {
		const char *d = p->keys[i].desc;
		enum key_presence k = KEY_ABSENT;

		if (!p->keys[i].trusted)
			continue;
		if (id->kernel_desc ? streq(d, id->kernel_desc)
				    : desc_has_serial(d, id->serial, id->serial_len))
			k = KEY_PRESENT;
		else if (!id->kernel_desc && desc_has_name(d, id->issuer, id->issuer_len))
			k = KEY_PROBABLE;
		if (k > best) {
			best = k;
			if (matched)
				*matched = d;
		}
	}
	return best;
}

static bool locked_down(const struct sig_policy *p)
{
	return streq(p->lockdown, "integrity") || streq(p->lockdown, "confidentiality");
}

enum kmodx_sig_outcome sig_predict(const struct sig_facts *f, const struct sig_policy *p)
{
	if (f->trailer == -EBADMSG || (f->trailer == 0 && f->malformed))
		return KMODX_SIG_REFUSE_BADMSG;
	if (f->trailer == 0 && f->bad_shape)
		return KMODX_SIG_REFUSE_KEYREJECTED;
	if (f->trailer == 0 && f->key != KEY_ABSENT)
		return f->crypto == 0 ? KMODX_SIG_REFUSE_KEYREJECTED : KMODX_SIG_LOAD;
	/* unsigned, not PKCS#7, or a key the kernel lacks: not fatal by themselves */
	if (p->enforce == 1)
		return KMODX_SIG_REFUSE_KEYREJECTED;
	if (locked_down(p))
		return KMODX_SIG_REFUSE_LOCKDOWN;
	return KMODX_SIG_LOAD_TAINT;
}

const char *sig_outcome_name(enum kmodx_sig_outcome o)
{
	static const char *const names[] = {
		[KMODX_SIG_LOAD] = "load",
		[KMODX_SIG_LOAD_TAINT] = "load-taint",
		[KMODX_SIG_REFUSE_KEYREJECTED] = "EKEYREJECTED",
		[KMODX_SIG_REFUSE_BADMSG] = "EBADMSG",
		[KMODX_SIG_REFUSE_LOCKDOWN] = "EPERM",
	};

	return (unsigned)o < ARRAY_SIZE(names) ? names[o] : "unknown";
}

/* ---- insmod's explanation ---- */

static char *explain_signed(struct kmodx_module *mod, const struct sig_span *span)
{
	struct sig_policy p;
	struct pkcs7_fields f;
	struct signer_id id = {0};
	_cleanup_(freep) char *serial = NULL;
	enum key_presence k;
	char *text = NULL;

	if (pkcs7_parse(span->sig, span->sig_len, &f, PKCS7_SKIP_EXTRAS) < 0)
		return strdup(
			"the module's signature is not a PKCS#7 message the kernel can "
			"read: it is damaged");
	if (sig_policy_read(mod->ctx, &p) < 0)
		return NULL;
	id = (struct signer_id){NULL, f.serial, f.serial_len, (const char *)f.signer,
				f.signer_len};
	k = sig_policy_find_key(&p, &id, NULL);
	serial = signature_hex(f.serial, f.serial_len);
	if (serial == NULL)
		goto out;
	if (k == KEY_ABSENT)
		asprintf(&text,
			 "the module is signed by key %s of '%.*s', which is not in the "
			 "kernel's "
			 "trusted keyrings, and the kernel enforces module signatures",
			 serial, (int)f.signer_len, (const char *)f.signer);
	else if (k == KEY_UNKNOWN)
		asprintf(&text,
			 "the module is signed by key %s of '%.*s': either the kernel "
			 "lacks that "
			 "key and enforces module signatures, or the signature does not "
			 "match "
			 "(/proc/keys could not be read to tell which)",
			 serial, (int)f.signer_len, (const char *)f.signer);
	else
		asprintf(&text,
			 "the module's signature (key %s of '%.*s') does not match its "
			 "contents "
			 "or the kernel's key: the module was changed after signing, or "
			 "the key "
			 "differs",
			 serial, (int)f.signer_len, (const char *)f.signer);
out:
	sig_policy_release(&p);
	return text;
}

static char *explain(struct kmodx_module *mod, const struct kmodx_file *file, int err,
		     unsigned flags)
{
	struct sig_span span;
	int t = signature_kernel_check(file->data, file->size, &span);

	/* the kernel ignores the signature of a module it is told to force
	 * (finit_module's flags), and an image edited to force it (init_module) no longer
	 * matches it */
	if (err != EBADMSG &&
	    (flags & (KMODX_INSERT_FORCE_MODVERSION | KMODX_INSERT_FORCE_VERMAGIC)))
		return strdup(
			"forcing (--force) discards or breaks the module's signature, "
			"and the kernel refuses the module without a valid one");
	if (t == -EBADMSG)
		return strdup("the module's signature trailer is damaged");
	if (err == EBADMSG && t == 0)
		return strdup(
			"the module's signature is damaged (not a PKCS#7 message the "
			"kernel can read)");
	if (err == EBADMSG)
		return NULL;
	if (t == -ENODATA)
		return strdup("the module is not signed, and the kernel enforces module "
			      "signatures");
	if (t == -ENOPKG)
		return strdup(
			"the module's signature is not PKCS#7, which counts as unsigned, "
			"and the kernel enforces module signatures");
	return explain_signed(mod, &span);
}

_public_ int kmodx_module_explain_signature_error(struct kmodx_module *mod, int err,
						  unsigned flags, char **text)
{
	struct kmodx_file *f;
	char *s;
	int r = 0;

	if (mod == NULL || text == NULL)
		return -EINVAL;
	if (err != EKEYREJECTED && err != ENOKEY && err != EBADMSG)
		return -ENODATA;
	f = module_get_file(mod, &r);
	if (f == NULL)
		return r;
	r = file_load(mod->ctx, f);
	if (r < 0)
		return r;
	s = explain(mod, f, err, flags);
	if (s == NULL)
		return -ENODATA;
	*text = s;
	return 0;
}
