/* test_policystore.c: every loaded policy kept once as STATE/policies/HASH.conf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/broker.h"

static const char text_a[] = "[asset plc]\naddress = 127.0.0.2\nlogin = maint\n"
    "hostkey = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBl4vbIonPz/Z+OWLikFUUlUaMhcFBn73i0WjnIraejF\n"
    "[role r]\nassets = *\nallow = shell\n[user alice]\nroles = r\nauth = publickey\n"
    "pubkey = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBl4vbIonPz/Z+OWLikFUUlUaMhcFBn73i0WjnIraejF\n";

static struct policy *
load(const char *text)
{
	struct policy *p = NULL;
	struct diag d;

	diag_init(&d);
	if (policy_load_buffer("policy.conf", text, strlen(text), &d, &p) != 0) {
		diag_print(&d, stderr);
		fail_msg("policy did not load");
	}
	diag_free(&d);
	return p;
}

static void
test_kept_once_by_hash(void **state)
{
	char top[64], path[192], cmd[128], *text;
	struct policy *a, *b;
	struct stat st, again;
	size_t len, srclen;
	const char *src;
	mode_t old;

	(void)state;
	snprintf(top, sizeof(top), "/tmp/test_policystore.XXXXXX");
	assert_non_null(mkdtemp(top));
	a = load(text_a);
	old = umask(0);
	assert_int_equal(policystore_keep(top, a), 0);
	umask(old);
	snprintf(path, sizeof(path), "%s/policies/%s.conf", top, policy_hash(a));
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(file_read(path, 1 << 20, &text, &len), 0);
	src = policy_source(a, &srclen);
	assert_int_equal(len, srclen);
	assert_memory_equal(text, src, len);
	free(text);

	/* the same policy again: the file is left as it was */
	assert_int_equal(chmod(path, 0440), 0);
	assert_int_equal(policystore_keep(top, a), 0);
	assert_int_equal(lstat(path, &again), 0);
	assert_int_equal(again.st_ino, st.st_ino);
	assert_int_equal(again.st_mode & 07777, 0440);

	/* another policy: another file beside it */
	b = load("# edited\n[asset plc]\naddress = 127.0.0.3\nlogin = maint\n");
	assert_string_not_equal(policy_hash(a), policy_hash(b));
	assert_int_equal(policystore_keep(top, b), 0);
	snprintf(path, sizeof(path), "%s/policies/%s.conf", top, policy_hash(b));
	assert_int_equal(access(path, R_OK), 0);

	policy_free(a);
	policy_free(b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_once_by_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
