/* test_username.c: USER+ASSET, USER:ASSET and USER, and every malformed name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker.h"

static void
expect_ok(const char *in, const char *user, const char *asset)
{
	char u[USERNAME_MAX + 1], a[USERNAME_MAX + 1], why[256];

	assert_int_equal(username_parse(in, u, sizeof(u), a, sizeof(a), why, sizeof(why)), 0);
	assert_string_equal(u, user);
	assert_string_equal(a, asset);
}

static void
expect_bad(const char *in, const char *needle)
{
	char u[USERNAME_MAX + 1], a[USERNAME_MAX + 1], why[256];

	assert_int_equal(username_parse(in, u, sizeof(u), a, sizeof(a), why, sizeof(why)),
	    OTG_ERR_INVAL);
	if (strstr(why, needle) == NULL)
		fail_msg("reason for '%s' is '%s', expected it to contain '%s'", in, why, needle);
	/* one line, nothing a terminal or log would interpret */
	assert_null(strchr(why, '\n'));
	assert_null(strchr(why, '\x1b'));
	assert_string_equal(u, "");
	assert_string_equal(a, "");
}

static void
test_forms(void **state)
{
	(void)state;
	expect_ok("alice+plc-line3", "alice", "plc-line3");
	expect_ok("alice:plc-line3", "alice", "plc-line3");
	expect_ok("alice", "alice", "");
	expect_ok("A.b_c-9+hmi.2", "A.b_c-9", "hmi.2");
}

static void
test_separators_and_empty_parts(void **state)
{
	(void)state;
	expect_bad("a+b+c", "two separators");
	expect_bad("a+b:c", "two separators");
	expect_bad("a::b", "two separators");
	expect_bad("+plc", "no user");
	expect_bad(":plc", "no user");
	expect_bad("alice+", "no asset");
	expect_bad("alice:", "no asset");
	expect_bad("", "empty");
	expect_bad("+", "no user");
}

static void
test_bad_names(void **state)
{
	char name[70];

	(void)state;
	expect_bad("-alice+plc", "valid names");
	expect_bad("alice+.plc", "valid names");
	expect_bad("al ice", "valid names");
	expect_bad("alice+pl/c", "valid names");
	expect_bad("al\xc3\xa9" "ce", "valid names");
	/* a name part of 65 characters is over the name syntax */
	memset(name, 'a', 65);
	name[65] = '\0';
	expect_bad(name, "valid names");
	memset(name, 'a', 64);
	name[64] = '\0';
	expect_ok(name, name, "");
}

static void
test_control_bytes_escaped(void **state)
{
	char u[64], a[64], why[256];

	(void)state;
	assert_int_equal(username_parse("alice\x1b[2J+plc", u, sizeof(u), a, sizeof(a),
	    why, sizeof(why)), OTG_ERR_INVAL);
	assert_non_null(strstr(why, "control characters"));
	assert_non_null(strstr(why, "alice\\x1b[2J+plc"));
	expect_bad("alice\n+plc", "control characters");
	expect_bad("alice+plc\r", "control characters");
	expect_bad("alice\x7f", "control characters");
}

static void
test_too_long(void **state)
{
	char *big, u[USERNAME_MAX + 1], a[USERNAME_MAX + 1], why[256];

	(void)state;
	big = malloc(10 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'a', 10 * 1024);
	big[10 * 1024] = '\0';
	big[5] = '+';
	assert_int_equal(username_parse(big, u, sizeof(u), a, sizeof(a), why, sizeof(why)),
	    OTG_ERR_INVAL);
	assert_non_null(strstr(why, "longer than 256"));
	/* the giant name is not echoed */
	assert_true(strlen(why) < 64);
	/* exactly at and just over the limit */
	big[USERNAME_MAX + 1] = '\0';
	expect_bad(big, "longer than");
	/* fits the limit but not the caller's buffers */
	big[20] = '\0';
	assert_int_equal(username_parse(big, u, 4, a, sizeof(a), why, sizeof(why)),
	    OTG_ERR_INVAL);
	assert_non_null(strstr(why, "too long"));
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_separators_and_empty_parts),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_control_bytes_escaped),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
