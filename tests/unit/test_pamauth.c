/* test_pamauth.c: the `auth = pam` first factor against real PAM stacks in
 * uniquely named /etc/pam.d services (root only; skipped otherwise): the
 * password reaches the stack as the one hidden answer, a wrong one and an
 * account refusal fail, messages on the way are ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/common.h"
#include "pam/pam.h"

static char dir[64], checker[128], svc_ok[64], svc_acct[64];

/* A service file named name (in lower case: Linux-PAM looks them up so). */
static int
write_service(char *name, size_t namesz, const char *suffix, const char *text)
{
	char path[128];
	FILE *fp;

	snprintf(name, namesz, "otgate-unit-%ld-%s", (long)getpid(), suffix);
	snprintf(path, sizeof(path), "/etc/pam.d/%s", name);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

static int
setup(void **state)
{
	char text[512];
	FILE *fp;

	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(dir, sizeof(dir), "/tmp/otgate-pamauth.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	/* pam_exec hands the password on stdin, NUL-terminated */
	snprintf(checker, sizeof(checker), "%s/check", dir);
	if ((fp = fopen(checker, "w")) == NULL)
		return -1;
	fputs("#!/bin/sh\n[ \"$(tr -d '\\000')\" = 'correct horse' ]\n", fp);
	fclose(fp);
	if (chmod(checker, 0755) != 0 || chmod(dir, 0755) != 0)
		return -1;
	/* pam_exec fails with a system error; pam_deny makes it a plain
	 * authentication failure, as pam_sss does for a wrong password */
	snprintf(text, sizeof(text),
	    "auth requisite pam_echo.so a message the broker ignores\n"
	    "auth [success=1 default=ignore] pam_exec.so expose_authtok quiet %s\n"
	    "auth requisite pam_deny.so\n"
	    "auth required pam_permit.so\n"
	    "account required pam_permit.so\n", checker);
	if (write_service(svc_ok, sizeof(svc_ok), "ok", text) != 0)
		return -1;
	snprintf(text, sizeof(text),
	    "auth required pam_exec.so expose_authtok quiet %s\n"
	    "account required pam_deny.so\n", checker);
	return write_service(svc_acct, sizeof(svc_acct), "acct", text);
}

static int
teardown(void **state)
{
	char path[128], cmd[128];

	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(path, sizeof(path), "/etc/pam.d/%s", svc_ok);
	unlink(path);
	snprintf(path, sizeof(path), "/etc/pam.d/%s", svc_acct);
	unlink(path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_pam_stack(void **state)
{
	char why[256] = "";

	(void)state;
	if (geteuid() != 0)
		skip();	/* only root may write /etc/pam.d */
	assert_int_equal(pamauth_check(svc_ok, "alice", "correct horse", "192.0.2.1", why,
	    sizeof(why)), 0);
	assert_int_equal(pamauth_check(svc_ok, "alice", "correct horsE", "192.0.2.1", why,
	    sizeof(why)), OTG_ERR_BADSIG);
	assert_int_equal(pamauth_check(svc_ok, "alice", "", NULL, why, sizeof(why)),
	    OTG_ERR_BADSIG);
	/* a name that is no name is not even handed to PAM */
	assert_int_equal(pamauth_check(svc_ok, "alice\n", "correct horse", NULL, why,
	    sizeof(why)), OTG_ERR_BADSIG);
	/* right password, but the account stage says no */
	assert_int_not_equal(pamauth_check(svc_acct, "alice", "correct horse", NULL, why,
	    sizeof(why)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pam_stack),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
