/* test_conf.c: otgated.conf keys, defaults, relative paths and every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "common/common.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/otg-conf-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/otgated.conf", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static int
load(const char *text, struct diag *d, struct conf **c)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	diag_init(d);
	return conf_load(path, d, c);
}

static void
test_defaults_and_values(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct diag d;
	struct conf *c;
	char want[256];

	(void)state;
	assert_int_equal(load("listen = 127.0.0.1:2222 [::1]:2222\n"
	    "state = state\npolicy = /etc/x/policy.conf\n"
	    "egress = 10.0.0.0/8\negress = 127.0.0.2/32 fd00::/8\n"
	    "max-startups = 5:50:20\nlogin-grace = 2m\nuser = otgate\n"
	    "mfa-grace = 5m\nmax-auth-failures = 3\nlockout = 1h\nsiem-format = cef\n"
	    "seccomp = log\n"
	    "recording-retention = 90d\nrecording-recipient = a.pub /k/b.pub\n"
	    "recording-recipient = c.pub\n"
	    "approval-timeout = 2m\non-request = page.sh\n", &d, &c), 0);
	assert_int_equal(d.nerrors + d.nwarnings, 0);
	assert_int_equal(c->listen.n, 2);
	assert_string_equal(c->listen.v[1], "[::1]:2222");
	snprintf(want, sizeof(want), "%s/state", dir);
	assert_string_equal(c->state, want);
	assert_string_equal(c->policy, "/etc/x/policy.conf");
	assert_string_equal(c->vault, "/etc/otgate/vault");
	assert_string_equal(c->control, "/run/otgate/control.sock");
	assert_int_equal(c->negress, 3);
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	assert_true(cidr_list_contains(c->egress, c->negress, (struct sockaddr *)&sin));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_false(cidr_list_contains(c->egress, c->negress, (struct sockaddr *)&sin));
	assert_int_equal(c->startups_begin, 5);
	assert_int_equal(c->startups_rate, 50);
	assert_int_equal(c->startups_full, 20);
	assert_int_equal(c->startups_per_source, 10);
	assert_int_equal(c->login_grace, 120);
	assert_string_equal(c->user, "otgate");
	assert_int_equal(c->mfa_grace, 300);
	assert_int_equal(c->max_auth_failures, 3);
	assert_int_equal(c->lockout, 3600);
	assert_int_equal(c->siem_format, 2);
	assert_int_equal(c->seccomp, 1);
	assert_int_equal(c->recording_retention, 90 * 86400);
	assert_int_equal(c->recording_recipient.n, 3);
	snprintf(want, sizeof(want), "%s/a.pub", dir);
	assert_string_equal(c->recording_recipient.v[0], want);
	assert_string_equal(c->recording_recipient.v[1], "/k/b.pub");
	assert_int_equal(c->approval_timeout, 120);
	snprintf(want, sizeof(want), "%s/page.sh", dir);
	assert_string_equal(c->on_request, want);
	conf_free(c);
	diag_free(&d);

	/* an empty file: defaults, and a warning that nothing is reachable */
	assert_int_equal(load("", &d, &c), 0);
	assert_int_equal(d.nwarnings, 1);
	assert_string_equal(c->listen.v[0], "127.0.0.1:2222");
	assert_int_equal(c->login_grace, 30);
	assert_int_equal(c->mfa_grace, 0);
	assert_int_equal(c->max_auth_failures, 5);
	assert_int_equal(c->lockout, 900);
	assert_int_equal(c->siem_format, 0);
	assert_int_equal(c->seccomp, 0);
	assert_int_equal(c->recording_retention, 400 * 86400);
	assert_int_equal(c->recording_recipient.n, 0);
	assert_int_equal(c->approval_timeout, 600);
	assert_null(c->on_request);
	conf_free(c);
	diag_free(&d);
}

static void
test_errors(void **state)
{
	struct diag d;
	struct conf *c;

	(void)state;
	assert_int_equal(load("listen = localhost:22\nlisten = 1.2.3.4\n"
	    "egress = 10.0.0.0/33\nbogus = 1\nstate = a\nstate = b\n"
	    "login-grace = 30\nmax-startups = 10:30\nmax-auth-failures = 33\n"
	    "siem-format = leef\n[asset x]\n", &d, &c), OTG_ERR_INVAL);
	assert_null(c);
	assert_int_equal(d.nerrors, 10);
	assert_int_equal(d.items[0].line, 1);
	assert_int_equal(d.items[0].col, 10);
	assert_non_null(strstr(d.items[0].msg, "expected ADDRESS:PORT"));
	assert_non_null(strstr(d.items[3].msg, "unknown key 'bogus'"));
	assert_non_null(strstr(d.items[3].msg, "login-grace"));
	assert_non_null(strstr(d.items[4].msg, "given twice"));
	assert_int_equal(d.items[4].line, 6);
	assert_non_null(strstr(d.items[5].msg, "duration"));
	assert_non_null(strstr(d.items[7].msg, "1 to 32"));
	assert_non_null(strstr(d.items[8].msg, "json, rfc5424 or cef"));
	assert_non_null(strstr(d.items[9].msg, "no sections"));
	diag_free(&d);

	diag_init(&d);
	assert_int_equal(conf_load("/nonexistent/otgated.conf", &d, &c), OTG_ERR_INVAL);
	assert_int_equal(d.items[0].line, 0);
	assert_non_null(strstr(d.items[0].msg, "cannot read"));
	diag_free(&d);
}

static void
test_default_path(void **state)
{
	(void)state;
	assert_string_equal(conf_default_path("/x.conf"), "/x.conf");
	setenv("OTGATE_CONF", "/env.conf", 1);
	assert_string_equal(conf_default_path(NULL), "/env.conf");
	unsetenv("OTGATE_CONF");
	assert_string_equal(conf_default_path(NULL), CONF_DEFAULT_PATH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_default_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
