// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel's answer to a module signature (sigpolicy.c): the decision table of
 * kernel/module/signing.c, /proc/keys lines (cut type, summaries, keyrings, .machine
 * against .platform permissions), the ways a key answers to a signer, the kernel's
 * trailer rules (signature_kernel_check), and reading the three files under a root.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "libkmodx.h"
#include "signature.h"
#include "sigpolicy.h"
#include "unit.h"

#define ASYM	  "%s I------     1 perm %s     0     0 asymmetri %s: X509.rsa 4f7de1c5 []\n"
#define RING	  "2faaff63 I------     1 perm 1f0b0000     0     0 keyring   %s: %s\n"
#define TEST_DESC "kmodx test key: f787060128880300dd68ade9e3e3613c4f7de1c5"

static const uint8_t serial[] = {0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef};

static void test_predict_table(void **state)
{
	struct sig_policy none = {.enforce = 0, .lockdown = "none"};
	struct sig_policy enforce = {.enforce = 1, .lockdown = "none"};
	struct sig_policy locked = {.enforce = 0, .lockdown = "integrity"};
	struct sig_facts f = {0};

	(void)state;
	/* unsigned: taint, refused when enforced, EPERM under lockdown */
	f.trailer = -ENODATA;
	assert_int_equal(sig_predict(&f, &none), KMODX_SIG_LOAD_TAINT);
	assert_int_equal(sig_predict(&f, &enforce), KMODX_SIG_REFUSE_KEYREJECTED);
	assert_int_equal(sig_predict(&f, &locked), KMODX_SIG_REFUSE_LOCKDOWN);
	/* not PKCS#7 counts as unsigned */
	f.trailer = -ENOPKG;
	assert_int_equal(sig_predict(&f, &none), KMODX_SIG_LOAD_TAINT);
	/* malformed: refused whatever the settings */
	f.trailer = -EBADMSG;
	assert_int_equal(sig_predict(&f, &none), KMODX_SIG_REFUSE_BADMSG);
	f = (struct sig_facts){.trailer = 0, .malformed = true, .key = KEY_PRESENT};
	assert_int_equal(sig_predict(&f, &none), KMODX_SIG_REFUSE_BADMSG);
	/* signed attributes: rejected even from a trusted key */
	f = (struct sig_facts){
		.trailer = 0, .bad_shape = true, .key = KEY_PRESENT, .crypto = 1};
	assert_int_equal(sig_predict(&f, &none), KMODX_SIG_REFUSE_KEYREJECTED);
	/* a trusted key: loads if the signature matches or was not checked */
	f = (struct sig_facts){.trailer = 0, .key = KEY_PRESENT, .crypto = 1};
	assert_int_equal(sig_predict(&f, &enforce), KMODX_SIG_LOAD);
	f.crypto = -1;
	f.key = KEY_PROBABLE;
	assert_int_equal(sig_predict(&f, &locked), KMODX_SIG_LOAD);
	f.crypto = 0;
	assert_int_equal(sig_predict(&f, &none), KMODX_SIG_REFUSE_KEYREJECTED);
	/* a key the kernel lacks: as unsigned, whether the signature matches or not */
	f = (struct sig_facts){.trailer = 0, .key = KEY_ABSENT, .crypto = 0};
	assert_int_equal(sig_predict(&f, &none), KMODX_SIG_LOAD_TAINT);
	assert_int_equal(sig_predict(&f, &enforce), KMODX_SIG_REFUSE_KEYREJECTED);
	assert_string_equal(sig_outcome_name(KMODX_SIG_REFUSE_LOCKDOWN), "EPERM");
	assert_string_equal(sig_outcome_name((enum kmodx_sig_outcome)99), "unknown");
}

static enum key_presence find(const char *text, const struct signer_id *id,
			      const char **matched)
{
	struct sig_policy p = {.keys_known = true};
	char *copy = strdup(text);
	enum key_presence k;
	static char desc[256];

	assert_non_null(copy);
	assert_int_equal(sig_policy_parse_keys(copy, &p), 0);
	k = sig_policy_find_key(&p, id, matched);
	if (matched && *matched) {
		snprintf(desc, sizeof(desc), "%s", *matched);
		*matched = desc; /* outlives p */
	}
	sig_policy_release(&p);
	free(copy);
	return k;
}

static void test_keys(void **state)
{
	char text[2048];
	const struct signer_id by_cert = {TEST_DESC, serial, sizeof(serial),
					  "kmodx test key", 14};
	const struct signer_id by_name = {NULL, serial, sizeof(serial), "kmodx test key",
					  14};
	const struct signer_id other = {NULL, serial, sizeof(serial), "someone else", 12};
	static const uint8_t high_serial[] = {0x9a, 0xbc};
	const struct signer_id high = {NULL, high_serial, 2, "x", 1};
	const char *m = NULL;

	(void)state;
	/* built in (1f030000): trusted; the summary is cut off the description */
	snprintf(text, sizeof(text), RING ASYM, ".builtin_trusted_keys", "1", "3a4b5c6d",
		 "1f030000", TEST_DESC);
	assert_int_equal(find(text, &by_cert, &m), KEY_PRESENT);
	assert_string_equal(m, TEST_DESC);
	assert_int_equal(find(text, &by_name, NULL), KEY_PROBABLE);
	assert_int_equal(find(text, &other, NULL), KEY_ABSENT);
	/* loaded at boot (1f010000) with .machine empty: .platform, not trusted */
	snprintf(text, sizeof(text), RING ASYM, ".machine", "empty", "4c5d6e7f",
		 "1f010000", TEST_DESC);
	assert_int_equal(find(text, &by_cert, NULL), KEY_ABSENT);
	/* ... and with keys in .machine: trusted */
	snprintf(text, sizeof(text), RING ASYM, ".machine", "1", "4c5d6e7f", "1f010000",
		 TEST_DESC);
	assert_int_equal(find(text, &by_cert, NULL), KEY_PRESENT);
	/* no SKID: the description ends in the serial */
	snprintf(text, sizeof(text), ASYM, "5d6e7f80", "1f030000",
		 "Magrathea: Glacier signing key: 1234567890abcdef");
	assert_int_equal(find(text, &by_name, NULL), KEY_PRESENT);
	/* ... with the DER integer's leading zero before a high bit, as the kernel keeps
	 * it */
	snprintf(text, sizeof(text), ASYM, "5d6e7f80", "1f030000", "Glacier: 009abc");
	assert_int_equal(find(text, &high, NULL), KEY_PRESENT);
	snprintf(text, sizeof(text), ASYM, "5d6e7f80", "1f030000", "Glacier: 9abc00");
	assert_int_equal(find(text, &high, NULL), KEY_ABSENT);
	/* "O: CN" names: the CN part answers to the issuer */
	snprintf(text, sizeof(text), ASYM, "5d6e7f80", "1f030000",
		 "Magrathea: kmodx test key: 00aa");
	assert_int_equal(find(text, &by_name, &m), KEY_PROBABLE);
	assert_string_equal(m, "Magrathea: kmodx test key: 00aa");
	/* other types, short and garbage lines are skipped */
	assert_int_equal(find("1 I------ 1 perm 1f030000 0 0 user kmodx test key: 00\n"
			      "garbage\n\n12345678\n",
			      &by_name, NULL),
			 KEY_ABSENT);
	/* nothing read: unknown */
	struct sig_policy none = {0};
	assert_int_equal(sig_policy_find_key(&none, &by_name, NULL), KEY_UNKNOWN);
}

/* "PAYLOAD" + sig + struct module_signature (id_type, then a byte to break) + magic */
static size_t make(uint8_t *buf, uint32_t sig_len, uint8_t id_type, int bad_byte)
{
	size_t n = 7 + sig_len;

	memset(buf, 'x', n);
	memset(buf + n, 0, 12);
	buf[n + 2] = id_type;
	if (bad_byte >= 0)
		buf[n + bad_byte] = 1;
	buf[n + 8] = (uint8_t)(sig_len >> 24);
	buf[n + 11] = (uint8_t)sig_len;
	memcpy(buf + n + 12, MODULE_SIG_MAGIC, MODULE_SIG_MAGIC_LEN);
	return n + 12 + MODULE_SIG_MAGIC_LEN;
}

static void test_kernel_trailer(void **state)
{
	uint8_t buf[256];
	struct sig_span span;
	size_t n;

	(void)state;
	n = make(buf, 20, 2, -1);
	assert_int_equal(signature_kernel_check(buf, n, &span), 0);
	assert_int_equal(span.content_len, 7);
	assert_int_equal(span.sig_len, 20);
	assert_ptr_equal(span.sig, buf + 7);
	assert_int_equal(signature_kernel_check(buf, n - 1, &span), -ENODATA);
	assert_int_equal(signature_kernel_check(buf, MODULE_SIG_MAGIC_LEN, &span),
			 -ENODATA);
	n = make(buf, 20, 1, -1);
	assert_int_equal(signature_kernel_check(buf, n, &span), -ENOPKG);
	for (int b = 0; b < 8; b++) {
		if (b == 2)
			continue;
		n = make(buf, 20, 2, b);
		assert_int_equal(signature_kernel_check(buf, n, &span), -EBADMSG);
	}
	/* sig_len must leave something before it */
	n = make(buf, 20, 2, -1);
	buf[7 + 20 + 11] = 7 + 20;
	assert_int_equal(signature_kernel_check(buf, n, &span), -EBADMSG);
	/* only the magic and a short struct */
	memcpy(buf, "abc", 3);
	memcpy(buf + 3, MODULE_SIG_MAGIC, MODULE_SIG_MAGIC_LEN);
	assert_int_equal(signature_kernel_check(buf, 3 + MODULE_SIG_MAGIC_LEN, &span),
			 -EBADMSG);
}

static void test_read_root(void **state)
{
	char root[] = "/tmp/kmodx-sigpolicy-XXXXXX";
	struct kmodx_ctx *ctx;
	struct sig_policy p;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(kmodx_ctx_new(&ctx), 0);
	assert_int_equal(kmodx_ctx_set_root(ctx, root), 0);
	/* nothing there: every setting unknown */
	assert_int_equal(sig_policy_read(ctx, &p), 0);
	assert_int_equal(p.enforce, -1);
	assert_string_equal(p.lockdown, "");
	assert_false(p.keys_known);
	sig_policy_release(&p);
	unit_write_text(root, "sys/module/module/parameters/sig_enforce", "Y\n");
	unit_write_text(root, "sys/kernel/security/lockdown",
			"none [integrity] confidentiality\n");
	unit_write_text(root, "proc/keys", "");
	assert_int_equal(sig_policy_read(ctx, &p), 0);
	assert_int_equal(p.enforce, 1);
	assert_string_equal(p.lockdown, "integrity");
	assert_true(p.keys_known);
	assert_int_equal(p.n_keys, 0);
	sig_policy_release(&p);
	kmodx_ctx_unref(ctx);
	assert_int_equal(unit_rmtree(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_predict_table),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_kernel_trailer),
		cmocka_unit_test(test_read_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
