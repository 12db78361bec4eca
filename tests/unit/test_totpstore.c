/* test_totpstore.c: the TOTP store on disk: enrolment and activation, spent
 * codes stay spent across calls, corrupt, loose and linked files refused with
 * a reason naming the file, one-time enrolment codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <liboath/oath.h>

#include "common/common.h"
#include "pam/pam.h"

#define T0 1700000010	/* in step 56666667 */

struct fixture {
	char dir[64];
	char why[512];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/otgate-totpstore.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
path_of(const struct fixture *f, const char *name, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", f->dir, name);
}

static void
write_file(const struct fixture *f, const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *fp;

	path_of(f, name, path, sizeof(path));
	unlink(path);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

/* The code of b32's secret at time t. */
static void
code_at(const char *b32, time_t t, char code[7])
{
	uint8_t secret[TOTP_SECRET_MAX];
	size_t len;

	assert_int_equal(totp_base32_decode(b32, secret, sizeof(secret), &len), 0);
	assert_int_equal(oath_totp_generate2((const char *)secret, len, t, 30, 0, 6, 0,
	    code), OATH_OK);
}

static void
test_enrol_and_verify(void **state)
{
	struct fixture *f = *state;
	char b32[TOTP_SECRET_B32_MAX], code[7], path[256], *text;
	uint64_t counter;
	size_t len;
	struct stat st;
	int fd;

	assert_int_equal(totpstore_enrolled(f->dir, "alice", f->why, sizeof(f->why)), 0);
	assert_int_equal(totpstore_lock(f->dir, "alice", &fd, f->why, sizeof(f->why)), 0);
	assert_int_equal(totpstore_pending_new(f->dir, "alice", T0, b32, sizeof(b32),
	    f->why, sizeof(f->why)), 0);
	assert_int_equal(strlen(b32), 32);
	path_of(f, "alice+pending", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* not active until confirmed */
	assert_int_equal(totpstore_enrolled(f->dir, "alice", f->why, sizeof(f->why)), 0);
	code_at(b32, T0, code);
	code[0] = code[0] == '9' ? '0' : (char)(code[0] + 1);
	assert_int_equal(totpstore_pending_confirm(f->dir, "alice", T0, 1, 6, code,
	    f->why, sizeof(f->why)), OTG_ERR_BADSIG);
	code_at(b32, T0, code);
	assert_int_equal(totpstore_pending_confirm(f->dir, "alice", T0, 1, 6, code,
	    f->why, sizeof(f->why)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(totpstore_enrolled(f->dir, "alice", f->why, sizeof(f->why)), 1);
	path_of(f, "alice", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(statefile_read(path, &text, &len, f->why, sizeof(f->why)), 0);
	assert_int_equal(strncmp(text, b32, 32), 0);
	assert_string_equal(text + 32, " 56666667\n");
	free(text);

	/* the confirming code is spent; the next step's code works once */
	assert_int_equal(totpstore_verify(f->dir, "alice", T0, 1, 6, code, &counter,
	    f->why, sizeof(f->why)), OTG_ERR_EXISTS);
	code_at(b32, T0 + 30, code);
	assert_int_equal(totpstore_verify(f->dir, "alice", T0 + 30, 1, 6, code, &counter,
	    f->why, sizeof(f->why)), 0);
	assert_int_equal(counter, 56666668);
	assert_int_equal(totpstore_verify(f->dir, "alice", T0 + 31, 1, 6, code, &counter,
	    f->why, sizeof(f->why)), OTG_ERR_EXISTS);
	assert_int_equal(totpstore_verify(f->dir, "alice", T0 + 60, 1, 6, "12 456",
	    &counter, f->why, sizeof(f->why)), OTG_ERR_INVAL);
	totpstore_unlock(fd);

	assert_int_equal(totpstore_verify(f->dir, "bob", T0, 1, 6, "123456", &counter,
	    f->why, sizeof(f->why)), OTG_ERR_NOTFOUND);
	assert_int_equal(totpstore_verify(f->dir, "../etc", T0, 1, 6, "123456", &counter,
	    f->why, sizeof(f->why)), OTG_ERR_INVAL);
	assert_int_equal(totpstore_remove(f->dir, "alice", f->why, sizeof(f->why)), 0);
	assert_int_equal(totpstore_enrolled(f->dir, "alice", f->why, sizeof(f->why)), 0);
}

static void
test_pending_expires(void **state)
{
	struct fixture *f = *state;
	char b32[TOTP_SECRET_B32_MAX], code[7], path[256];

	assert_int_equal(totpstore_pending_new(f->dir, "alice", T0, b32, sizeof(b32),
	    f->why, sizeof(f->why)), 0);
	code_at(b32, T0 + TOTPSTORE_PENDING_TTL, code);
	assert_int_equal(totpstore_pending_confirm(f->dir, "alice",
	    T0 + TOTPSTORE_PENDING_TTL, 1, 6, code, f->why, sizeof(f->why)),
	    OTG_ERR_NOTFOUND);
	assert_non_null(strstr(f->why, "expired"));
	path_of(f, "alice+pending", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(totpstore_enrolled(f->dir, "alice", f->why, sizeof(f->why)), 0);
	/* and a cancelled one is gone */
	assert_int_equal(totpstore_pending_new(f->dir, "alice", T0, b32, sizeof(b32),
	    f->why, sizeof(f->why)), 0);
	assert_int_equal(totpstore_pending_cancel(f->dir, "alice", f->why, sizeof(f->why)), 0);
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_bad_files_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const corrupt[] = {
		"garbage", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 5",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ -5\n", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 5\nx\n",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ  5\n", "GEZDGNBV 5\n", "!!!! 5\n", "",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 99999999999999999999999\n",
	};
	char path[256], link[256];
	uint64_t counter;
	size_t i;

	path_of(f, "alice", path, sizeof(path));
	for (i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
		write_file(f, "alice", corrupt[i], 0600);
		f->why[0] = '\0';
		assert_int_not_equal(totpstore_verify(f->dir, "alice", T0, 1, 6, "123456",
		    &counter, f->why, sizeof(f->why)), 0);
		assert_non_null(strstr(f->why, path));
		assert_non_null(strstr(f->why, "corrupt"));
	}
	/* a readable-by-others file is refused, whatever the code */
	write_file(f, "alice", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 0\n", 0644);
	assert_int_equal(totpstore_verify(f->dir, "alice", 59, 1, 6, "287082", &counter,
	    f->why, sizeof(f->why)), OTG_ERR_PERM);
	assert_non_null(strstr(f->why, path));
	assert_non_null(strstr(f->why, "0644"));
	/* the same file at 0600 is fine */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(totpstore_verify(f->dir, "alice", 59, 1, 6, "287082", &counter,
	    f->why, sizeof(f->why)), 0);
	/* a link is never followed */
	write_file(f, "target", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 0\n", 0600);
	path_of(f, "target", link, sizeof(link));
	path_of(f, "bob", path, sizeof(path));
	assert_int_equal(symlink(link, path), 0);
	assert_int_equal(totpstore_verify(f->dir, "bob", 89, 1, 6, "287082", &counter,
	    f->why, sizeof(f->why)), OTG_ERR_PERM);
	assert_non_null(strstr(f->why, path));
	/* a folder others may enter is refused */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(totpstore_lock(f->dir, "alice", (int[]){ 0 }, f->why,
	    sizeof(f->why)), OTG_ERR_PERM);
	assert_non_null(strstr(f->why, f->dir));
	assert_int_equal(chmod(f->dir, 0700), 0);
}

static void
test_invites(void **state)
{
	struct fixture *f = *state;
	char code[TOTPSTORE_INVITE_MAX], lower[TOTPSTORE_INVITE_MAX], path[256], *text;
	size_t i, len;

	assert_int_equal(totpstore_invite_create(f->dir, "alice", T0, 86400, code,
	    sizeof(code), f->why, sizeof(f->why)), 0);
	assert_int_equal(strlen(code), 19);
	assert_true(code[4] == '-' && code[9] == '-' && code[14] == '-');
	/* only a hash is stored */
	path_of(f, "alice+invite", path, sizeof(path));
	assert_int_equal(statefile_read(path, &text, &len, f->why, sizeof(f->why)), 0);
	assert_null(strstr(text, code));
	assert_int_equal(len, 64 + 1 + 10 + 1);
	free(text);

	assert_int_equal(totpstore_invite_redeem(f->dir, "alice", T0, "AAAA-AAAA-AAAA-AAAA",
	    f->why, sizeof(f->why)), OTG_ERR_BADSIG);
	assert_int_equal(totpstore_invite_redeem(f->dir, "alice", T0, "x", f->why,
	    sizeof(f->why)), OTG_ERR_BADSIG);
	assert_int_equal(totpstore_invite_redeem(f->dir, "alice", T0, "", f->why,
	    sizeof(f->why)), OTG_ERR_BADSIG);
	assert_int_equal(totpstore_invite_redeem(f->dir, "bob", T0, code, f->why,
	    sizeof(f->why)), OTG_ERR_NOTFOUND);
	/* typed in lower case without dashes: the same code */
	for (i = len = 0; code[i] != '\0'; i++) {
		if (code[i] != '-')
			lower[len++] = (char)(code[i] >= 'A' && code[i] <= 'Z' ?
			    code[i] - 'A' + 'a' : code[i]);
	}
	lower[len] = '\0';
	assert_int_equal(totpstore_invite_redeem(f->dir, "alice", T0 + 100, lower,
	    f->why, sizeof(f->why)), 0);
	/* one-time */
	assert_int_equal(totpstore_invite_redeem(f->dir, "alice", T0 + 101, code, f->why,
	    sizeof(f->why)), OTG_ERR_NOTFOUND);
	/* expired */
	assert_int_equal(totpstore_invite_create(f->dir, "alice", T0, 3600, code,
	    sizeof(code), f->why, sizeof(f->why)), 0);
	assert_int_equal(totpstore_invite_redeem(f->dir, "alice", T0 + 3600, code, f->why,
	    sizeof(f->why)), OTG_ERR_NOTFOUND);
	assert_non_null(strstr(f->why, "expired"));
	assert_int_equal(totpstore_invite_redeem(f->dir, "alice", T0 + 1, code, f->why,
	    sizeof(f->why)), OTG_ERR_NOTFOUND);
	assert_int_equal(totpstore_invite_create(f->dir, "alice", T0, 0, code,
	    sizeof(code), f->why, sizeof(f->why)), OTG_ERR_INVAL);
}

/* Eight processes offer the same valid code at once: exactly one wins. */
static void
test_parallel_single_use(void **state)
{
	struct fixture *f = *state;
	uint64_t counter;
	pid_t pids[8];
	int i, status, wins = 0, fd, r;

	write_file(f, "alice", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 0\n", 0600);
	for (i = 0; i < 8; i++) {
		assert_true((pids[i] = fork()) != -1);
		if (pids[i] == 0) {
			char why[512];

			if (totpstore_lock(f->dir, "alice", &fd, why, sizeof(why)) != 0)
				_exit(2);
			r = totpstore_verify(f->dir, "alice", 59, 1, 6, "287082", &counter,
			    why, sizeof(why));
			totpstore_unlock(fd);
			_exit(r == 0 ? 0 : r == OTG_ERR_EXISTS ? 1 : 3);
		}
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_true(WEXITSTATUS(status) <= 1);	/* accepted or spent */
		wins += WEXITSTATUS(status) == 0;
	}
	assert_int_equal(wins, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enrol_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_single_use, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
