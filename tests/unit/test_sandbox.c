/* test_sandbox.c: the seccomp filter in a child process: an allowed call runs;
 * under enforce a call outside the list ends the process with status 70 and a
 * trail line; under log it runs; the next start moves the trail into the audit
 * log as sandbox.violation and removes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/broker.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char dir[64];
static char trail[128];
static char auditlog[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/otg-sandbox-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(trail, sizeof(trail), "%s/sandbox.trail", dir);
	snprintf(auditlog, sizeof(auditlog), "%s/audit.log", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(trail);
	unlink(auditlog);
	rmdir(dir);
	return 0;
}

/* Fork; the child applies the filter in mode, then calls getpid (allowed) and
 * getpgid (not on the list). The child's wait status comes back. */
static int
run_child(enum sandbox_mode mode)
{
	struct server srv;
	struct conf conf;
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		memset(&srv, 0, sizeof(srv));
		memset(&conf, 0, sizeof(conf));
		conf.state = dir;
		conf.seccomp = (int)mode;
		srv.conf = &conf;
		log_init("test_sandbox", 1, LOG_LEVEL_WARN);
		if (sandbox_apply(&srv) != 0)
			_exit(2);
		if (getpid() <= 0)
			_exit(3);
		(void)syscall(SYS_getpgid, 0);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
test_enforce_traps_and_trails(void **state)
{
	struct server srv;
	struct conf conf;
	char *text = NULL, want[64];
	size_t len;
	int status;

	(void)state;
	if (SANITIZED)
		skip();
	status = run_child(SANDBOX_ENFORCE);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 70);
	assert_int_equal(file_read(trail, 4096, &text, &len), 0);
	snprintf(want, sizeof(want), "seccomp: denied syscall %d\n", (int)SYS_getpgid);
	assert_string_equal(text, want);
	free(text);

	/* the next start: the trail goes to the audit log and away */
	memset(&srv, 0, sizeof(srv));
	memset(&conf, 0, sizeof(conf));
	conf.state = dir;
	conf.seccomp = SANDBOX_OFF;
	srv.conf = &conf;
	assert_int_equal(audit_open(auditlog, &srv.audit), 0);
	assert_int_equal(sandbox_apply(&srv), 0);
	audit_close(srv.audit);
	assert_int_equal(access(trail, F_OK), -1);
	assert_int_equal(file_read(auditlog, 65536, &text, &len), 0);
	snprintf(want, sizeof(want), "\"syscall\":%d", (int)SYS_getpgid);
	assert_non_null(strstr(text, "\"event\":\"sandbox.violation\""));
	assert_non_null(strstr(text, want));
	free(text);
}

static void
test_log_lets_it_run(void **state)
{
	int status;

	(void)state;
	status = run_child(SANDBOX_LOG);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(access(trail, F_OK), -1);
}

static void
test_off(void **state)
{
	int status;

	(void)state;
	status = run_child(SANDBOX_OFF);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enforce_traps_and_trails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_lets_it_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
