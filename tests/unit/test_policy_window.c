/* test_policy_window.c: window days and spans as written, their canonical
 * text, and the pure "is this instant inside" test across midnight, on
 * wrapping day ranges and for whole days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy.h"

#define SUN 0x01
#define MON 0x02
#define TUE 0x04
#define WED 0x08
#define THU 0x10
#define FRI 0x20
#define SAT 0x40

static void
test_days(void **state)
{
	static const struct {
		const char *in;
		uint8_t days;
		const char *text;
	} cases[] = {
		{ "mon-fri", MON | TUE | WED | THU | FRI, "mon-fri" },
		{ "fri-mon", FRI | SAT | SUN | MON, "fri-mon" },
		{ "sun", SUN, "sun" },
		{ "sat sun", SAT | SUN, "sat-sun" },
		{ "mon wed fri-sat", MON | WED | FRI | SAT, "mon wed fri-sat" },
		{ "sun-sat", 0x7f, "mon-sun" },
		{ "mon-sun", 0x7f, "mon-sun" },
		{ "wed-tue", 0x7f, "mon-sun" },
		{ "thu-thu", THU, "thu" },
		{ "sun mon  tue\ttue", SUN | MON | TUE, "sun-tue" },
		{ "sat sun mon wed", SAT | SUN | MON | WED, "wed sat-mon" },
	};
	static const char *const bad[] = { "", " ", "Mon", "monday", "mon-", "-fri",
		"mon-fri-sat", "mon,tue", "xyz" };
	char text[64];
	uint8_t days;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(window_parse_days(cases[i].in, &days), 0);
		if (days != cases[i].days)
			fail_msg("'%s': 0x%02x, want 0x%02x", cases[i].in, days, cases[i].days);
		window_days_text(days, text, sizeof(text));
		assert_string_equal(text, cases[i].text);
		/* the text reads back to the same days */
		assert_int_equal(window_parse_days(text, &days), 0);
		assert_int_equal(days, cases[i].days);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (window_parse_days(bad[i], &days) == 0)
			fail_msg("days '%s' should be refused", bad[i]);
}

static void
test_times(void **state)
{
	static const struct {
		const char *in;
		unsigned start, end;
		const char *text;
	} cases[] = {
		{ "07:00-18:00", 420, 1080, "07:00-18:00" },
		{ "22:00-06:00", 1320, 360, "22:00-06:00" },
		{ "00:00-24:00", 0, 1440, "00:00-24:00" },
		{ "00:00-00:00", 0, 1440, "00:00-24:00" },
		{ "22:00-00:00", 1320, 1440, "22:00-24:00" },
		{ "06:00-06:00", 360, 360, "06:00-06:00" },
		{ "23:59-00:01", 1439, 1, "23:59-00:01" },
	};
	static const char *const bad[] = { "", "07:00", "7:00-18:00", "07:00-18", "24:00-06:00",
		"07:00-24:01", "07:60-08:00", "25:00-06:00", "07:00 - 18:00", "07:00-18:00x",
		"aa:bb-cc:dd" };
	struct policy_window w;
	char text[32];
	size_t i;

	(void)state;
	memset(&w, 0, sizeof(w));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(window_parse_time(cases[i].in, &w.start, &w.end), 0);
		if (w.start != cases[i].start || w.end != cases[i].end)
			fail_msg("'%s': %u-%u", cases[i].in, w.start, w.end);
		window_time_text(&w, text, sizeof(text));
		assert_string_equal(text, cases[i].text);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (window_parse_time(bad[i], &w.start, &w.end) == 0)
			fail_msg("time '%s' should be refused", bad[i]);
}

/* 2026-11-23 is a Monday; the zone is UTC so instants are wall times. */
static time_t
at(int d, int h, int m, int s)
{
	return (time_t)1795392000 + (d - 23) * 86400 + h * 3600 + m * 60 + s;
}

static void
test_contains(void **state)
{
	struct policy_window w;
	char desc[96];

	(void)state;
	memset(&w, 0, sizeof(w));
	w.tz = NULL;		/* UTC */
	w.name = (char *)"night";
	assert_int_equal(window_parse_days("fri-mon", &w.days), 0);
	assert_int_equal(window_parse_time("22:00-06:00", &w.start, &w.end), 0);
	window_describe(&w, desc, sizeof(desc));
	assert_string_equal(desc, "fri-mon 22:00-06:00 UTC");
	/* monday night counts, tuesday night does not */
	assert_true(window_contains(&w, at(23, 22, 0, 0)));
	assert_true(window_contains(&w, at(24, 5, 59, 59)));	/* tue morning, mon's */
	assert_false(window_contains(&w, at(24, 6, 0, 0)));
	assert_false(window_contains(&w, at(24, 22, 0, 0)));	/* tuesday night */
	assert_false(window_contains(&w, at(25, 1, 0, 0)));	/* wed morning, tue's */
	assert_false(window_contains(&w, at(23, 21, 59, 59)));
	/* monday morning belongs to sunday night, which is listed */
	assert_true(window_contains(&w, at(23, 3, 0, 0)));
	/* friday morning belongs to thursday night, which is not */
	assert_false(window_contains(&w, at(27, 3, 0, 0)));
	assert_true(window_contains(&w, at(27, 23, 0, 0)));
	assert_true(window_contains(&w, at(28, 3, 0, 0)));

	/* a whole day on tuesdays only */
	assert_int_equal(window_parse_days("tue", &w.days), 0);
	assert_int_equal(window_parse_time("00:00-00:00", &w.start, &w.end), 0);
	assert_false(window_contains(&w, at(23, 23, 59, 59)));
	assert_true(window_contains(&w, at(24, 0, 0, 0)));
	assert_true(window_contains(&w, at(24, 23, 59, 59)));
	assert_false(window_contains(&w, at(25, 0, 0, 0)));

	/* 24 hours from 06:00 on wednesdays */
	assert_int_equal(window_parse_days("wed", &w.days), 0);
	assert_int_equal(window_parse_time("06:00-06:00", &w.start, &w.end), 0);
	assert_false(window_contains(&w, at(25, 5, 59, 59)));
	assert_true(window_contains(&w, at(25, 6, 0, 0)));
	assert_true(window_contains(&w, at(26, 5, 59, 59)));
	assert_false(window_contains(&w, at(26, 6, 0, 0)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_contains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
