/* test_scp.c: legacy scp headers: which commands are scp, files with path,
 * size and SHA-256 in either direction, cut anywhere, and malformed headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker.h"

#define SHA_HELLO_WORLD "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct seen {
	int n;
	char op[8][16], path[8][256], sha[8][65], status[8][8];
	unsigned long long size[8];
};

static void
seen_cb(const struct scp_event *ev, void *arg)
{
	struct seen *s = arg;
	int i = s->n < 7 ? s->n++ : 7;

	snprintf(s->op[i], sizeof(s->op[i]), "%s", ev->op);
	snprintf(s->path[i], sizeof(s->path[i]), "%s", ev->path);
	snprintf(s->sha[i], sizeof(s->sha[i]), "%s", ev->sha256);
	snprintf(s->status[i], sizeof(s->status[i]), "%s", ev->status);
	s->size[i] = ev->size;
}

static void
test_commands(void **state)
{
	struct seen seen = { 0 };
	struct scp *p;

	(void)state;
	assert_int_equal(scp_new("scp -t /tmp/x", seen_cb, &seen, &p), 0);
	scp_free(p);
	assert_int_equal(scp_new("scp -r -p -f -- /plc", seen_cb, &seen, &p), 0);
	scp_free(p);
	assert_int_equal(scp_new("/usr/bin/scp -v -t .", seen_cb, &seen, &p), 0);
	scp_free(p);
	assert_int_equal(scp_new("ls -t", seen_cb, &seen, &p), OTG_ERR_NOTFOUND);
	assert_int_equal(scp_new("scp x -t", seen_cb, &seen, &p), OTG_ERR_NOTFOUND);
	assert_int_equal(scp_new("notscp -t x", seen_cb, &seen, &p), OTG_ERR_NOTFOUND);
	assert_int_equal(scp_new("", seen_cb, &seen, &p), OTG_ERR_NOTFOUND);
	assert_int_equal(scp_new(NULL, seen_cb, &seen, &p), OTG_ERR_NOTFOUND);
}

static const char upload[] =
    "T1700000000 0 1700000000 0\n" "D0755 0 prog\n" "C0644 11 main.st\n" "hello world" "\0"
    "C0600 0 empty\n" "\0" "E\n" "C0644 5 top.bin\n" "abcde" "\1";

static void
run_upload(size_t step)
{
	struct seen seen = { 0 };
	struct scp *p;
	char why[200];
	size_t off, n;

	assert_int_equal(scp_new("scp -r -t /plc", seen_cb, &seen, &p), 0);
	for (off = 0; off < sizeof(upload) - 1; off += n) {
		n = sizeof(upload) - 1 - off < step ? sizeof(upload) - 1 - off : step;
		assert_int_equal(scp_input(p, 1, upload + off, n, why, sizeof(why)), 0);
		/* the asset's acks are not parsed */
		assert_int_equal(scp_input(p, 0, "\0", 1, why, sizeof(why)), 0);
	}
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.op[0], "upload");
	assert_string_equal(seen.path[0], "prog/main.st");
	assert_int_equal(seen.size[0], 11);
	assert_string_equal(seen.sha[0], SHA_HELLO_WORLD);
	assert_string_equal(seen.status[0], "ok");
	assert_string_equal(seen.path[1], "prog/empty");
	assert_string_equal(seen.sha[1], SHA_EMPTY);
	assert_string_equal(seen.path[2], "top.bin");
	assert_string_equal(seen.status[2], "failed");
	scp_free(p);
}

static void
test_upload(void **state)
{
	(void)state;
	run_upload(sizeof(upload));
	run_upload(1);
	run_upload(7);
}

static void
test_download(void **state)
{
	static const char stream[] = "C0644 11 log.txt\nhello world";
	struct seen seen = { 0 };
	struct scp *p;
	char why[200];

	(void)state;
	assert_int_equal(scp_new("scp -f /var/log/log.txt", seen_cb, &seen, &p), 0);
	/* the vendor's acks go to the asset and are not parsed */
	assert_int_equal(scp_input(p, 1, "\0", 1, why, sizeof(why)), 0);
	assert_int_equal(scp_input(p, 0, stream, sizeof(stream) - 1, why, sizeof(why)), 0);
	assert_int_equal(scp_input(p, 0, "\0", 1, why, sizeof(why)), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.op[0], "download");
	assert_string_equal(seen.path[0], "log.txt");
	assert_string_equal(seen.sha[0], SHA_HELLO_WORLD);
	scp_free(p);
}

static void
expect_bad(const char *bytes, size_t len)
{
	struct seen seen = { 0 };
	struct scp *p;
	char why[200];

	assert_int_equal(scp_new("scp -t x", seen_cb, &seen, &p), 0);
	assert_int_equal(scp_input(p, 1, bytes, len, why, sizeof(why)), OTG_ERR_PROTO);
	assert_non_null(strstr(why, "scp"));
	assert_null(strchr(why, '\n'));
	scp_free(p);
}

static void
test_malformed(void **state)
{
	char longline[5000];

	(void)state;
	expect_bad("C0644 5 ../x\n", 13);
	expect_bad("C0644 5 a/b\n", 12);
	expect_bad("C0644 5 ..\n", 11);
	expect_bad("C9999 5 x\n", 10);
	expect_bad("C0644 -5 x\n", 11);
	expect_bad("C0644 5\n", 8);
	expect_bad("E\n", 2);		/* leaves no directory */
	expect_bad("X\n", 2);
	expect_bad("C0644 5 a\0b\n", 12);
	memset(longline, 'C', sizeof(longline));
	expect_bad(longline, sizeof(longline));
}

static void
test_escaped_names(void **state)
{
	static const char stream[] = "C0644 1 \x1b[31mred\r\n" "x" "\0";
	struct seen seen = { 0 };
	struct scp *p;
	char why[200];

	(void)state;
	assert_int_equal(scp_new("scp -t x", seen_cb, &seen, &p), 0);
	assert_int_equal(scp_input(p, 1, stream, sizeof(stream) - 1, why, sizeof(why)), 0);
	assert_int_equal(seen.n, 1);
	assert_null(strchr(seen.path[0], '\x1b'));
	assert_null(strchr(seen.path[0], '\r'));
	scp_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_download),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_escaped_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
