/* test_value.c: names, lists, booleans, durations, dates, ports, UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"

static void
test_names(void **state)
{
	char name[66];

	(void)state;
	assert_true(value_name_ok("plc-line3"));
	assert_true(value_name_ok("a"));
	assert_true(value_name_ok("A0._-z"));
	assert_false(value_name_ok(""));
	assert_false(value_name_ok("-x"));
	assert_false(value_name_ok(".x"));
	assert_false(value_name_ok("a b"));
	assert_false(value_name_ok("a+b"));
	assert_false(value_name_ok("a:b"));
	assert_false(value_name_ok("\xc3\xa9t\xc3\xa9"));
	memset(name, 'a', 65);
	name[65] = '\0';
	assert_false(value_name_ok(name));	/* 65 characters */
	assert_true(value_name_ok(name + 1));	/* 64 */
}

static void
test_lists(void **state)
{
	struct strlist l;

	(void)state;
	assert_int_equal(strlist_split("  shell\texec  sftp ", &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "shell");
	assert_string_equal(l.v[2], "sftp");
	assert_true(strlist_contains(&l, "exec"));
	assert_false(strlist_contains(&l, "forward"));
	strlist_free(&l);
	assert_int_equal(strlist_split("", &l), 0);
	assert_int_equal(l.n, 0);
	strlist_free(&l);
}

static void
test_bool_duration(void **state)
{
	uint64_t s;
	int b;

	(void)state;
	assert_int_equal(value_bool("yes", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(value_bool("no", &b), 0);
	assert_int_equal(b, 0);
	assert_int_not_equal(value_bool("true", &b), 0);
	assert_int_not_equal(value_bool("Yes", &b), 0);
	assert_int_equal(value_duration("90s", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(value_duration("15m", &s), 0);
	assert_int_equal(s, 900);
	assert_int_equal(value_duration("2h", &s), 0);
	assert_int_equal(s, 7200);
	assert_int_equal(value_duration("7d", &s), 0);
	assert_int_equal(s, 604800);
	assert_int_equal(value_duration("0", &s), 0);
	assert_int_equal(s, 0);
	assert_int_not_equal(value_duration("5", &s), 0);
	assert_int_not_equal(value_duration("1h30m", &s), 0);
	assert_int_not_equal(value_duration("-1s", &s), 0);
	assert_int_not_equal(value_duration("s", &s), 0);
	assert_int_not_equal(value_duration("99999999999999d", &s), 0);
	assert_int_not_equal(value_duration("3w", &s), 0);
}

static void
test_date_port_uint(void **state)
{
	int y, m, d;
	uint16_t p;
	uint64_t u;

	(void)state;
	assert_int_equal(value_date("2027-01-31", &y, &m, &d), 0);
	assert_int_equal(y, 2027);
	assert_int_equal(m, 1);
	assert_int_equal(d, 31);
	assert_int_equal(value_date("2028-02-29", &y, &m, &d), 0);
	assert_int_not_equal(value_date("2027-02-29", &y, &m, &d), 0);
	assert_int_not_equal(value_date("2100-02-29", &y, &m, &d), 0);
	assert_int_not_equal(value_date("2027-13-01", &y, &m, &d), 0);
	assert_int_not_equal(value_date("2027-1-31", &y, &m, &d), 0);
	assert_int_not_equal(value_date("2027-01-31x", &y, &m, &d), 0);
	assert_int_equal(value_port("502", &p), 0);
	assert_int_equal(p, 502);
	assert_int_equal(value_port("65535", &p), 0);
	assert_int_not_equal(value_port("0", &p), 0);
	assert_int_not_equal(value_port("65536", &p), 0);
	assert_int_not_equal(value_port("22a", &p), 0);
	assert_int_not_equal(value_port("", &p), 0);
	assert_int_equal(value_uint("42", 100, &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(value_uint("101", 100, &u), OTG_ERR_RANGE);
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(value_utf8_ok("Alice Rossi", 11));
	assert_true(value_utf8_ok("J\xc3\xbcrgen\tM\xc3\xbcller", 15));
	assert_true(value_utf8_ok("\xf0\x9f\x8f\xad", 4));
	assert_false(value_utf8_ok("\xc3", 1));	/* cut sequence */
	assert_false(value_utf8_ok("\xc0\xaf", 2));	/* overlong */
	assert_false(value_utf8_ok("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(value_utf8_ok("\xc2\x85", 2));	/* C1 NEL */
	assert_false(value_utf8_ok("a\x1b", 2));
	assert_false(value_utf8_ok("\x7f", 1));
	assert_false(value_utf8_ok("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_bool_duration),
		cmocka_unit_test(test_date_port_uint),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
