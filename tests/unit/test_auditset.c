/* test_auditset.c: an audit log and its rotated files (plain and gzip) checked
 * as one chain: names, order, links, a missing oldest file, damage named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/broker.h"

static char dir[64];
static char logpath[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_auditset.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/audit.log", dir);
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

static void
touch(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1);
	close(fd);
}

/* the found set's file names, space separated */
static void
expect_found(const char *want)
{
	struct auditset set = { NULL, 0 };
	char got[1024] = "";
	size_t i;

	assert_int_equal(auditset_find(logpath, &set), 0);
	for (i = 0; i < set.n; i++) {
		assert_true(strncmp(set.file[i].path, dir, strlen(dir)) == 0);
		strcat(got, i ? " " : "");
		strcat(got, set.file[i].path + strlen(dir) + 1);
	}
	auditset_free(&set);
	assert_string_equal(got, want);
}

static void
test_rotated_names(void **state)
{
	static const char *no[] = { "audit.log", "audit.log.bak", "audit.log-", "audit.log.",
	    "audit.log.1.xz", "audit.log-2026x1123", "audit.logx", "other.log.1",
	    "audit.log.gz", "audit.log.-1", "audit.log-.gz", "audit.log.12345678901" };
	struct auditset_key k;
	size_t i;

	(void)state;
	assert_int_equal(auditset_rotated("audit.log", "audit.log-20261123", &k), 1);
	assert_true(k.dated);
	assert_string_equal(k.date, "20261123");
	assert_int_equal(auditset_rotated("audit.log", "audit.log-20261023.gz", &k), 1);
	assert_string_equal(k.date, "20261023");
	assert_int_equal(auditset_rotated("audit.log", "audit.log.12.gz", &k), 1);
	assert_false(k.dated);
	assert_int_equal(k.number, 12);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (auditset_rotated("audit.log", no[i], &k) != 0)
			fail_msg("%s taken for a rotated audit.log", no[i]);
}

static void
test_found_oldest_first(void **state)
{
	struct auditset set = { NULL, 0 };
	char fifo[128];

	(void)state;
	touch("audit.log");
	touch("audit.log.bak");
	touch("audit.log-20261101");
	touch("audit.log-20260901.gz");
	touch("audit.log-20261001.gz");
	snprintf(fifo, sizeof(fifo), "%s/audit.log-20261201", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);	/* would hang a reader */
	expect_found("audit.log-20260901.gz audit.log-20261001.gz audit.log-20261101 audit.log");
	/* no rotated files: the log alone, even when it is not there yet */
	unlink(logpath);
	snprintf(logpath, sizeof(logpath), "%s/other.log", dir);
	expect_found("other.log");
	snprintf(logpath, sizeof(logpath), "%s/num.log", dir);
	touch("num.log.1");
	touch("num.log.2.gz");
	touch("num.log.10.gz");
	expect_found("num.log.10.gz num.log.2.gz num.log.1 num.log");
	/* both schemes: which came first is anybody's guess */
	touch("num.log-20261101");
	assert_int_equal(auditset_find(logpath, &set), OTG_ERR_EXISTS);
	auditset_free(&set);
}

static void
write_events(const char *first, int n)
{
	struct audit *a;
	int i;

	assert_int_equal(audit_open(logpath, &a), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(audit_event(a, first, NULL, 0), 0);
	audit_close(a);
}

/* what logrotate does with the packaged config: rename, gzip the one before */
static void
rotate(const char *date, const char *gzip_date)
{
	char to[256], cmd[512];

	snprintf(to, sizeof(to), "%s-%s", logpath, date);
	assert_int_equal(rename(logpath, to), 0);
	if (gzip_date != NULL) {
		snprintf(cmd, sizeof(cmd), "gzip -n '%s-%s'", logpath, gzip_date);
		assert_int_equal(system(cmd), 0);
	}
}

/* three files: 3 events, 2 (gzip), 4 (current); the writer resumes the chain
 * from the rotated file's tail as otgated does on SIGHUP */
static void
make_rotated_set(void)
{
	struct audit *a;

	assert_int_equal(audit_open(logpath, &a), 0);
	assert_int_equal(audit_event(a, "one", NULL, 0), 0);
	assert_int_equal(audit_event(a, "two", NULL, 0), 0);
	assert_int_equal(audit_event(a, "three", NULL, 0), 0);
	rotate("20261001", NULL);
	assert_int_equal(audit_reopen(a), 0);
	assert_int_equal(audit_event(a, "four", NULL, 0), 0);
	assert_int_equal(audit_event(a, "five", NULL, 0), 0);
	rotate("20261101", "20261001");
	assert_int_equal(audit_reopen(a), 0);
	assert_int_equal(audit_event(a, "six", NULL, 0), 0);
	rotate("20261201", "20261101");
	assert_int_equal(audit_reopen(a), 0);
	assert_int_equal(audit_event(a, "seven", NULL, 0), 0);
	assert_int_equal(audit_event(a, "eight", NULL, 0), 0);
	assert_int_equal(audit_event(a, "nine", NULL, 0), 0);
	audit_close(a);
}

static int
verify_found(struct auditset *set)
{
	set->file = NULL;
	set->n = 0;
	assert_int_equal(auditset_find(logpath, set), 0);
	return auditset_verify(set);
}

static void
test_chain_across_files(void **state)
{
	struct auditset set;
	size_t i;

	(void)state;
	make_rotated_set();
	assert_int_equal(verify_found(&set), 0);
	assert_int_equal(set.n, 4);
	assert_non_null(strstr(set.file[0].path, "audit.log-20261001.gz"));
	for (i = 0; i < set.n; i++)
		assert_true(set.file[i].checked && set.file[i].status == 0);
	assert_int_equal(set.file[0].first_seq, 1);
	assert_int_equal(set.file[0].nlines, 3);
	assert_int_equal(set.file[1].first_seq, 4);
	assert_int_equal(set.file[2].first_seq, 6);
	assert_int_equal(set.file[3].first_seq, 7);
	assert_int_equal(set.file[3].nlines, 3);
	auditset_free(&set);

	/* the current file alone starts at seq 7: only its own chain holds */
	set.file = NULL;
	set.n = 0;
	assert_int_equal(auditset_add(&set, logpath), 0);
	assert_int_equal(auditset_verify(&set), 0);
	assert_int_equal(set.file[0].first_seq, 7);
	auditset_free(&set);
}

static void
test_oldest_gone_and_middle_gone(void **state)
{
	char path[256];
	struct auditset set;

	(void)state;
	make_rotated_set();
	snprintf(path, sizeof(path), "%s-20261001.gz", logpath);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(verify_found(&set), 0);
	assert_int_equal(set.n, 3);
	assert_int_equal(set.file[0].first_seq, 4);	/* the caller says incomplete */
	auditset_free(&set);

	snprintf(path, sizeof(path), "%s-20261201", logpath);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(verify_found(&set), OTG_ERR_BADSIG);
	assert_int_equal(set.file[1].status, OTG_ERR_BADSIG);
	assert_int_equal(set.file[1].bad_line, 1);
	assert_non_null(strstr(set.file[1].why, "does not continue the previous file"));
	auditset_free(&set);
}

static void
flip_byte(const char *path, long at)
{
	unsigned char c;
	FILE *fp;

	assert_non_null(fp = fopen(path, "r+"));
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	assert_int_equal(fread(&c, 1, 1, fp), 1);
	c ^= 0x01;
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	assert_int_equal(fwrite(&c, 1, 1, fp), 1);
	assert_int_equal(fclose(fp), 0);
}

/* a flipped byte anywhere in a compressed file fails that file and stops the
 * check there; the files after it are not reported verified */
static void
test_damaged_gzip_named(void **state)
{
	char path[256];
	struct auditset set;
	long at;

	(void)state;
	make_rotated_set();
	snprintf(path, sizeof(path), "%s-20261101.gz", logpath);
	for (at = 12; at < 40; at += 9) {
		flip_byte(path, at);
		assert_int_equal(verify_found(&set), OTG_ERR_BADSIG);
		assert_int_equal(set.file[0].status, 0);
		assert_int_equal(set.file[1].status, OTG_ERR_BADSIG);
		assert_true(set.file[1].bad_line > 0 ||
		    strstr(set.file[1].why, "compressed data is damaged") != NULL);
		assert_false(set.file[2].checked);
		auditset_free(&set);
		flip_byte(path, at);
		assert_int_equal(verify_found(&set), 0);
		auditset_free(&set);
	}
}

/* a first line at seq 1 must start the chain (64 zeros), whatever file it is in */
static void
test_seq1_must_start(void **state)
{
	char path[256];
	struct auditset set;

	(void)state;
	write_events("one", 2);
	snprintf(path, sizeof(path), "%s", logpath);
	flip_byte(path, (long)strlen("{\"ts\":\"2026-11-23T14:00:00.123Z\",\"seq\":1,\"prev\":\""));
	assert_int_equal(verify_found(&set), OTG_ERR_BADSIG);
	assert_int_equal(set.file[0].bad_line, 1);
	assert_non_null(strstr(set.file[0].why, "not the start of a chain"));
	auditset_free(&set);
}

/* 64 MiB of one line from 64 KiB of gzip: refused as too long, read into a
 * buffer of at most a few MiB, never the whole line */
static void
test_giant_line_bounded(void **state)
{
	struct auditset set = { NULL, 0 };
	struct rusage before, after;
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "head -c 67108864 /dev/zero | tr '\\0' a | gzip -1 "
	    ">'%s-20261001.gz'", logpath);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(getrusage(RUSAGE_SELF, &before), 0);
	assert_int_equal(verify_found(&set), OTG_ERR_BADSIG);
	assert_int_equal(getrusage(RUSAGE_SELF, &after), 0);
	assert_int_equal(set.file[0].bad_line, 1);
	assert_non_null(strstr(set.file[0].why, "line 1 is not an audit event"));
	if (after.ru_maxrss - before.ru_maxrss > 16 * 1024)
		fail_msg("reading one giant line grew the RSS by %ld KiB",
		    after.ru_maxrss - before.ru_maxrss);
	auditset_free(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotated_names),
		cmocka_unit_test_setup_teardown(test_found_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_across_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oldest_gone_and_middle_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_gzip_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq1_must_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_giant_line_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
