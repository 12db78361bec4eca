/* test_audit.c: the hash-chained audit log: format, chain, resume, tampering,
 * escaping, writers in two processes and in two threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "broker/broker.h"

static char dir[64];
static char logpath[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_audit.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/audit.log", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(logpath);
	rmdir(dir);
	return 0;
}

static void
sha256_hex(const char *s, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0, i;

	assert_int_equal(EVP_Digest(s, len, md, &n, EVP_sha256(), NULL), 1);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* the file's lines, without newlines; returns their count (at most max) */
static size_t
read_lines(char **lines, size_t max, char **text)
{
	size_t len, n = 0;
	char *p, *nl;

	assert_int_equal(file_read(logpath, 1 << 20, text, &len), 0);
	for (p = *text; *p != '\0' && n < max; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		lines[n++] = p;
	}
	return n;
}

static void
write_events(int count, int first)
{
	struct audit *a;
	int i;

	assert_int_equal(audit_open(logpath, &a), 0);
	for (i = 0; i < count; i++) {
		struct audit_field f[] = {
			AUDIT_STR("user", "alice"),
			AUDIT_NUM("n", first + i),
		};
		assert_int_equal(audit_event(a, "auth.success", f, 2), 0);
	}
	audit_close(a);
}

static void
expect_verify(unsigned long long lines, int ok, unsigned long long bad, const char *needle)
{
	unsigned long long n, b;
	char why[256];
	int r;

	r = audit_verify(logpath, &n, &b, why, sizeof(why));
	if (ok) {
		if (r != 0)
			fail_msg("verify failed: %s", why);
		assert_int_equal(n, lines);
		return;
	}
	assert_int_equal(r, OTG_ERR_BADSIG);
	if (b != bad)
		fail_msg("bad line %llu (%s), expected %llu", b, why, bad);
	if (strstr(why, needle) == NULL)
		fail_msg("reason '%s' lacks '%s'", why, needle);
}

static void
test_format_and_chain(void **state)
{
	char *lines[8], *text, hash[65], zeros[65];
	struct stat st;
	mode_t old;
	size_t n;

	(void)state;
	old = umask(0);	/* the mode must not depend on the umask */
	write_events(3, 1);
	umask(old);
	assert_int_equal(stat(logpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	n = read_lines(lines, 8, &text);
	assert_int_equal(n, 3);
	memset(zeros, '0', 64);
	zeros[64] = '\0';
	/* {"ts":"2026-11-23T14:00:00.123Z","seq":1,"prev":"...","event":"...",...} */
	assert_int_equal(strncmp(lines[0], "{\"ts\":\"", 7), 0);
	assert_int_equal(lines[0][17], 'T');
	assert_int_equal(lines[0][26], '.');
	assert_int_equal(strncmp(lines[0] + 30, "Z\",\"seq\":1,\"prev\":\"", 19), 0);
	assert_non_null(strstr(lines[0], zeros));
	assert_non_null(strstr(lines[0], ",\"event\":\"auth.success\",\"user\":\"alice\","
	    "\"n\":1}"));
	sha256_hex(lines[0], strlen(lines[0]), hash);
	assert_non_null(strstr(lines[1], "\"seq\":2,\"prev\":\""));
	assert_non_null(strstr(lines[1], hash));
	sha256_hex(lines[1], strlen(lines[1]), hash);
	assert_non_null(strstr(lines[2], hash));
	free(text);
	expect_verify(3, 1, 0, NULL);
}

static void
test_resume_after_reopen(void **state)
{
	char *lines[8], *text, hash[65];
	size_t n;

	(void)state;
	write_events(2, 1);
	write_events(1, 3);
	write_events(2, 4);
	n = read_lines(lines, 8, &text);
	assert_int_equal(n, 5);
	sha256_hex(lines[1], strlen(lines[1]), hash);
	assert_non_null(strstr(lines[2], "\"seq\":3,"));
	assert_non_null(strstr(lines[2], hash));
	assert_non_null(strstr(lines[4], "\"seq\":5,"));
	assert_non_null(strstr(lines[4], "\"n\":5}"));
	free(text);
	expect_verify(5, 1, 0, NULL);
}

/* Rewrite the log with a change made by edit to lines (count n). */
static void
rewrite(char **lines, size_t n, int final_newline)
{
	FILE *fp = fopen(logpath, "w");
	size_t i;

	assert_non_null(fp);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s%s", lines[i], i + 1 < n || final_newline ? "\n" : "");
	fclose(fp);
}

static void
test_tampering_named(void **state)
{
	char *lines[8], *text, *p, *moved[8];
	size_t n;

	(void)state;
	write_events(5, 1);

	/* an edited value in line 3 */
	n = read_lines(lines, 8, &text);
	p = strstr(lines[2], "alice");
	p[0] = 'm';
	rewrite(lines, n, 1);
	expect_verify(0, 0, 3, "line 3 was altered");
	p[0] = 'a';
	rewrite(lines, n, 1);
	expect_verify(5, 1, 0, NULL);

	/* line 4's prev field changed */
	p = strstr(lines[3], "\"prev\":\"") + 8;
	p[0] = p[0] == 'a' ? 'b' : 'a';
	rewrite(lines, n, 1);
	expect_verify(0, 0, 4, "line 4 was altered");
	free(text);

	/* line 1's prev changed */
	unlink(logpath);
	write_events(3, 1);
	n = read_lines(lines, 8, &text);
	p = strstr(lines[0], "\"prev\":\"") + 8;
	p[5] = '1';
	rewrite(lines, n, 1);
	expect_verify(0, 0, 1, "line 1 was altered");
	p[5] = '0';

	/* line 2 removed */
	moved[0] = lines[0];
	moved[1] = lines[2];
	rewrite(moved, 2, 1);
	expect_verify(0, 0, 2, "seq 3");

	/* lines 2 and 3 swapped */
	moved[1] = lines[2];
	moved[2] = lines[1];
	rewrite(moved, 3, 1);
	expect_verify(0, 0, 2, "reordered");

	/* the last line cut */
	rewrite(lines, n, 0);
	expect_verify(0, 0, 3, "cut short");

	/* garbage appended */
	rewrite(lines, n, 1);
	{
		FILE *fp = fopen(logpath, "a");

		assert_non_null(fp);
		fputs("not json\n", fp);
		fclose(fp);
	}
	expect_verify(0, 0, 4, "not an audit event");
	free(text);
}

static void
test_hostile_strings_escaped(void **state)
{
	const char *hostile = "evil\",\"event\":\"auth.success\"}\n{\x1b[31m\\ \xff\xfe "
	    "\xe2\x80\xae" "txt";
	struct audit *a;
	char *lines[4], *text, *big;
	size_t n;

	(void)state;
	big = malloc(20000);
	assert_non_null(big);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	assert_int_equal(audit_open(logpath, &a), 0);
	{
		struct audit_field f[] = {
			AUDIT_STR("user", hostile),
			AUDIT_STR("command", big),
			AUDIT_STR("null", NULL),
			AUDIT_NUM("exit", -3),
		};
		assert_int_equal(audit_event(a, "policy.deny", f, 4), 0);
	}
	assert_int_equal(audit_event(a, "session.end", NULL, 0), 0);
	assert_int_equal(audit_event(a, "", NULL, 0), OTG_ERR_INVAL);
	audit_close(a);
	free(big);

	n = read_lines(lines, 4, &text);
	assert_int_equal(n, 2);
	assert_non_null(strstr(lines[0], "\"user\":\"evil\\\",\\\"event\\\":\\\"auth.success"
	    "\\\"}\\n{\\u001b[31m\\\\ \\ufffd\\ufffd \\u202etxt\""));
	/* a long value is cut, marked, and the line stays bounded */
	assert_non_null(strstr(lines[0], "xxx...\""));
	assert_true(strlen(lines[0]) < 6000);
	assert_non_null(strstr(lines[0], "\"null\":\"\",\"exit\":-3}"));
	assert_non_null(strstr(lines[1], "\"event\":\"session.end\"}"));
	free(text);
	expect_verify(2, 1, 0, NULL);
}

/* A long value is cut at exactly 4,096 bytes, backed off to a character
 * boundary, whether its head is plain ASCII or needs escaping. */
static void
test_long_value_cut_exactly(void **state)
{
	char *big, *lines[2], *text, *want;
	struct audit *a;

	(void)state;
	big = malloc(6000);
	want = malloc(6000);
	assert_non_null(big);
	assert_non_null(want);
	memset(big, 'x', 5999);
	big[5999] = '\0';
	memcpy(big + 4095, "\xc3\xa9", 2);	/* an e-acute across the cut */
	big[0] = '"';
	assert_int_equal(audit_open(logpath, &a), 0);
	{
		struct audit_field f[] = { AUDIT_STR("command", big) };

		assert_int_equal(audit_event(a, "session.start", f, 1), 0);
		big[0] = 'x';
		assert_int_equal(audit_event(a, "session.start", f, 1), 0);
	}
	audit_close(a);
	assert_int_equal(read_lines(lines, 2, &text), 2);
	memset(want, 'x', 4095);
	snprintf(want + 4095, 6000 - 4095, "...\"}");
	assert_int_equal(strncmp(strstr(lines[1], "\"command\":\"") + 11, want, 4100), 0);
	want[0] = '"';
	assert_non_null(strstr(lines[0], "\"command\":\"\\\""));
	assert_int_equal(strncmp(strstr(lines[0], "\"command\":\"") + 13, want + 1, 4099), 0);
	free(text);
	free(big);
	free(want);
}

static void
test_rotation_continues_chain(void **state)
{
	char rotated[160], last_hash[65], again_hash[65], why[256], zeros[65];
	unsigned long long last_seq, n, bad;
	struct audit *a;

	(void)state;
	memset(zeros, '0', 64);
	zeros[64] = '\0';
	snprintf(rotated, sizeof(rotated), "%s.1", logpath);
	assert_int_equal(audit_open(logpath, &a), 0);
	assert_int_equal(audit_event(a, "one", NULL, 0), 0);
	assert_int_equal(audit_event(a, "two", NULL, 0), 0);
	/* a reopen without rotation goes on in the same file */
	assert_int_equal(audit_reopen(a), 0);
	assert_int_equal(audit_event(a, "three", NULL, 0), 0);
	expect_verify(3, 1, 0, NULL);
	/* logrotate renames; the broker reopens and the chain goes on */
	assert_int_equal(rename(logpath, rotated), 0);
	assert_int_equal(audit_reopen(a), 0);
	assert_int_equal(audit_event(a, "four", NULL, 0), 0);
	assert_int_equal(audit_event(a, "five", NULL, 0), 0);
	audit_close(a);

	/* alone, the new file does not start a chain ... */
	expect_verify(0, 0, 1, "line 1 has seq 4");
	/* ... it continues the rotated one */
	assert_int_equal(audit_verify_continued(rotated, 1, zeros, &last_seq, last_hash, &n,
	    &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(last_seq, 3);
	assert_int_equal(audit_verify_continued(logpath, last_seq + 1, last_hash, &last_seq,
	    again_hash, &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(last_seq, 5);
	/* a wrong link is named */
	assert_int_equal(audit_verify_continued(logpath, 4, zeros, &last_seq, again_hash, &n,
	    &bad, why, sizeof(why)), OTG_ERR_BADSIG);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(why, "does not continue the previous file"));
	assert_int_equal(audit_verify_continued(logpath, 4, "xyz", &last_seq, again_hash, &n,
	    &bad, why, sizeof(why)), OTG_ERR_INVAL);
	/* a reopened broker resumes from the new file's tail */
	assert_int_equal(audit_open(logpath, &a), 0);
	assert_int_equal(audit_event(a, "six", NULL, 0), 0);
	audit_close(a);
	assert_int_equal(audit_verify_continued(logpath, 4, last_hash, &last_seq, again_hash,
	    &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(last_seq, 6);
	unlink(rotated);
}

/* Two writers on one file (otgated and `otgate purge`), interleaved and then
 * as two processes at once: one unbroken chain, every seq once. */
static void
test_two_writers(void **state)
{
	struct audit *a, *b;
	unsigned long long n = 0, bad = 0;
	char why[256];
	pid_t pid;
	int i, status;

	(void)state;
	assert_int_equal(audit_open(logpath, &a), 0);
	assert_int_equal(audit_open(logpath, &b), 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(audit_event(i % 3 ? a : b, "test.one",
		    (struct audit_field[]){ AUDIT_NUM("i", i) }, 1), 0);
	}
	assert_int_equal(audit_verify(logpath, &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 10);
	/* b wrote its last line before a's last three: it must chain onto a's */
	assert_int_equal(audit_event(b, "test.after", NULL, 0), 0);
	assert_int_equal(audit_event(a, "test.after", NULL, 0), 0);
	assert_int_equal(audit_verify(logpath, &n, &bad, why, sizeof(why)), 0);
	assert_int_equal(n, 12);
	audit_close(b);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if (audit_open(logpath, &b) != 0)
			_exit(1);
		for (i = 0; i < 300; i++)
			if (audit_event(b, "test.child", NULL, 0) != 0)
				_exit(1);
		audit_close(b);
		_exit(0);
	}
	for (i = 0; i < 300; i++)
		assert_int_equal(audit_event(a, "test.parent", NULL, 0), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	audit_close(a);
	if (audit_verify(logpath, &n, &bad, why, sizeof(why)) != 0)
		fail_msg("chain broken at line %llu: %s", bad, why);
	assert_int_equal(n, 612);
}

static void *
thread_writer_cb(void *arg)
{
	struct audit *a = arg;
	int i;

	for (i = 0; i < 500; i++)
		if (audit_event(a, "test.thread", (struct audit_field[]){
		    AUDIT_NUM("i", i) }, 1) != 0)
			return arg;
	return NULL;
}

/* One struct audit, two threads (otgated's loop and its recorder thread,
 * which writes session.checkpoint): every line is whole and chained. */
static void
test_two_threads(void **state)
{
	unsigned long long n = 0, bad = 0;
	void *failed = NULL;
	struct audit *a;
	pthread_t t;
	char why[256];
	int i;

	(void)state;
	assert_int_equal(audit_open(logpath, &a), 0);
	assert_int_equal(pthread_create(&t, NULL, thread_writer_cb, a), 0);
	for (i = 0; i < 500; i++)
		assert_int_equal(audit_event(a, "test.loop", NULL, 0), 0);
	assert_int_equal(pthread_join(t, &failed), 0);
	assert_null(failed);
	audit_close(a);
	if (audit_verify(logpath, &n, &bad, why, sizeof(why)) != 0)
		fail_msg("chain broken at line %llu: %s", bad, why);
	assert_int_equal(n, 1000);
}

/* A disk that fills mid-line (a short write, here RLIMIT_FSIZE) leaves no
 * part of the line behind, and the chain goes on once writing works again. */
static void
test_short_write_cut(void **state)
{
	struct audit_field f[] = { AUDIT_STR("user", "alice") };
	struct rlimit old, small;
	struct audit *a;
	struct stat st;
	off_t before;

	(void)state;
	write_events(2, 1);
	assert_int_equal(audit_open(logpath, &a), 0);
	assert_int_equal(stat(logpath, &st), 0);
	before = st.st_size;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = (rlim_t)before + 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(audit_event(a, "auth.success", f, 1), OTG_ERR_IO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(stat(logpath, &st), 0);
	if (st.st_size != before)
		fail_msg("%lld bytes of a cut line stayed in the log",
		    (long long)(st.st_size - before));
	assert_int_equal(audit_event(a, "auth.success", f, 1), 0);
	audit_close(a);
	expect_verify(3, 1, 0, NULL);
}

static void
test_refusals(void **state)
{
	char link[160];
	struct audit *a;
	FILE *fp;

	(void)state;
	/* a symbolic link is never followed */
	snprintf(link, sizeof(link), "%s/link.log", dir);
	write_events(1, 1);
	assert_int_equal(symlink(logpath, link), 0);
	assert_int_equal(audit_open(link, &a), OTG_ERR_IO);
	unlink(link);
	/* a torn last line is not chained onto */
	fp = fopen(logpath, "a");
	assert_non_null(fp);
	fputs("{\"ts\":\"2026", fp);
	fclose(fp);
	assert_int_equal(audit_open(logpath, &a), OTG_ERR_PROTO);
	/* missing file for verify */
	unlink(logpath);
	{
		unsigned long long n, b;
		char why[128];

		assert_int_equal(audit_verify(logpath, &n, &b, why, sizeof(why)),
		    OTG_ERR_NOTFOUND);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_and_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_after_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampering_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_strings_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_value_cut_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_continues_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
