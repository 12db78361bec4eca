/* test_passwd.c: yescrypt hashes, verify for known, wrong and unknown users,
 * the file's lines kept on update, loose and corrupt files refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/common.h"
#include "pam/pam.h"

static char dir[64];
static char path[128];
static char why[512];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/otgate-passwd.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/passwd", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The fastest of five runs, in this process's CPU time: the cost of the hash,
 * whatever else the machine's cores run meanwhile (tests run side by side). */
static double
seconds_of_verify(const char *user, const char *password)
{
	struct timespec a, b;
	double s, best = 1e9;
	int i;

	for (i = 0; i < 5; i++) {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		passwd_verify(path, user, password, why, sizeof(why));
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (s < best)
			best = s;
	}
	return best;
}

static void
test_hash_verify(void **state)
{
	char h1[PASSWD_HASH_MAX], h2[PASSWD_HASH_MAX], big[PASSWD_MAX + 2];
	char *text;
	size_t len;
	struct stat st;
	double known, unknown;

	(void)state;
	assert_int_equal(passwd_hash("correct horse", h1, sizeof(h1)), 0);
	assert_int_equal(strncmp(h1, "$y$", 3), 0);
	/* salted: the same password hashes differently */
	assert_int_equal(passwd_hash("correct horse", h2, sizeof(h2)), 0);
	assert_string_not_equal(h1, h2);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(passwd_hash(big, h2, sizeof(h2)), OTG_ERR_TOOBIG);

	/* no file yet: everyone is unknown */
	assert_int_equal(passwd_verify(path, "alice", "correct horse", why, sizeof(why)),
	    OTG_ERR_BADSIG);
	assert_int_equal(passwd_set(path, "alice", h1, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(passwd_hash("battery staple", h2, sizeof(h2)), 0);
	assert_int_equal(passwd_set(path, "bob", h2, why, sizeof(why)), 0);

	assert_int_equal(passwd_verify(path, "alice", "correct horse", why, sizeof(why)), 0);
	assert_int_equal(passwd_verify(path, "alice", "correct horsE", why, sizeof(why)),
	    OTG_ERR_BADSIG);
	assert_int_equal(passwd_verify(path, "alice", "", why, sizeof(why)), OTG_ERR_BADSIG);
	assert_int_equal(passwd_verify(path, "bob", "battery staple", why, sizeof(why)), 0);
	assert_int_equal(passwd_verify(path, "bob", "correct horse", why, sizeof(why)),
	    OTG_ERR_BADSIG);
	/* unknown users, and names that are not names, fail the same way */
	assert_int_equal(passwd_verify(path, "carol", "correct horse", why, sizeof(why)),
	    OTG_ERR_BADSIG);
	assert_int_equal(passwd_verify(path, "alice:x", "correct horse", why, sizeof(why)),
	    OTG_ERR_BADSIG);
	assert_int_equal(passwd_verify(path, "alice", big, why, sizeof(why)),
	    OTG_ERR_BADSIG);
	/* ... and cost about the same: the dummy hash has the default cost */
	known = seconds_of_verify("alice", "wrong");
	unknown = seconds_of_verify("nobody", "wrong");
	assert_true(unknown > known / 3 && unknown < known * 3);

	/* replacing alice's hash keeps bob's line */
	assert_int_equal(passwd_set(path, "alice", h2, why, sizeof(why)), 0);
	assert_int_equal(passwd_verify(path, "alice", "battery staple", why, sizeof(why)), 0);
	assert_int_equal(passwd_verify(path, "alice", "correct horse", why, sizeof(why)),
	    OTG_ERR_BADSIG);
	assert_int_equal(statefile_read(path, &text, &len, why, sizeof(why)), 0);
	assert_int_equal(strncmp(text, "bob:$y$", 7), 0);
	assert_non_null(strstr(text, "\nalice:$y$"));
	free(text);
	assert_int_equal(passwd_set(path, "al ice", h2, why, sizeof(why)), OTG_ERR_INVAL);
	assert_int_equal(passwd_set(path, "alice", "plain:text", why, sizeof(why)),
	    OTG_ERR_INVAL);
}

static void
test_bad_file_refused(void **state)
{
	char h[PASSWD_HASH_MAX];
	FILE *fp;

	(void)state;
	assert_int_equal(passwd_hash("pw", h, sizeof(h)), 0);
	assert_int_equal(passwd_set(path, "alice", h, why, sizeof(why)), 0);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(passwd_verify(path, "alice", "pw", why, sizeof(why)), OTG_ERR_PERM);
	assert_non_null(strstr(why, path));
	assert_int_equal(chmod(path, 0600), 0);
	assert_non_null(fp = fopen(path, "w"));
	fputs("alice:not a hash\n", fp);
	fclose(fp);
	assert_int_equal(passwd_verify(path, "alice", "pw", why, sizeof(why)), OTG_ERR_PROTO);
	assert_non_null(strstr(why, path));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hash_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_file_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
