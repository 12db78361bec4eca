/* test_timearg.c: the times given to otgate: local dates and times read in a
 * zone (DST gaps refused, repeated times taken at their first occurrence),
 * RFC 3339 instants, durations meaning "that long ago", and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"

#define NOW ((time_t)1795392000)	/* 2026-11-23T00:00:00Z */

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	assert_int_equal(tz_mktime(NULL, &tm, &t), 0);
	return t;
}

static void
check(const struct tz *tz, const char *s, time_t want)
{
	time_t got = 0;
	int r = timearg_parse(s, tz, NOW, &got);

	if (r != 0 || got != want)
		fail_msg("'%s' in %s: r=%d got %lld want %lld", s, tz_name(tz), r,
		    (long long)got, (long long)want);
}

static void
check_bad(const struct tz *tz, const char *s, int want)
{
	time_t got = 0;
	int r = timearg_parse(s, tz, NOW, &got);

	if (r != want)
		fail_msg("'%s': r=%d, want %d", s, r, want);
}

static void
test_now_is_what_we_think(void **state)
{
	(void)state;
	assert_int_equal(utc(2026, 11, 23, 0, 0, 0), NOW);
}

static void
test_local_times(void **state)
{
	struct tz *rome;

	(void)state;
	assert_int_equal(tz_load("Europe/Rome", &rome), 0);
	check(rome, "2026-11-23 14:00", utc(2026, 11, 23, 13, 0, 0));
	check(rome, "2026-11-23T14:00", utc(2026, 11, 23, 13, 0, 0));
	check(rome, "2026-11-23 14:00:30", utc(2026, 11, 23, 13, 0, 30));
	check(rome, "2026-07-01 14:00", utc(2026, 7, 1, 12, 0, 0));
	check(rome, "2026-11-23", utc(2026, 11, 22, 23, 0, 0));
	/* the same text in UTC, and with no zone at all (UTC) */
	check(NULL, "2026-11-23 14:00", utc(2026, 11, 23, 14, 0, 0));
	/* spring gap and autumn overlap in Rome */
	check_bad(rome, "2026-03-29 02:30", OTG_ERR_RANGE);
	check(rome, "2026-03-29 03:00", utc(2026, 3, 29, 1, 0, 0));
	check(rome, "2026-10-25 02:30", utc(2026, 10, 25, 0, 30, 0));
	tz_free(rome);
}

static void
test_rfc3339(void **state)
{
	struct tz *ny;

	(void)state;
	assert_int_equal(tz_load("America/New_York", &ny), 0);
	/* an explicit offset wins over the zone */
	check(ny, "2026-11-23T14:00:00Z", utc(2026, 11, 23, 14, 0, 0));
	check(ny, "2026-11-23t14:00:00z", utc(2026, 11, 23, 14, 0, 0));
	check(ny, "2026-11-23T14:00:00+01:00", utc(2026, 11, 23, 13, 0, 0));
	check(ny, "2026-11-23T14:00:00-05:30", utc(2026, 11, 23, 19, 30, 0));
	check(ny, "2026-11-23T14:00:00.123456Z", utc(2026, 11, 23, 14, 0, 0));
	check(ny, "2026-11-23 14:00:00Z", utc(2026, 11, 23, 14, 0, 0));
	/* a gap in the zone does not matter when the offset is given */
	check(ny, "2026-03-08T02:30:00-05:00", utc(2026, 3, 8, 7, 30, 0));
	tz_free(ny);
}

static void
test_durations(void **state)
{
	(void)state;
	check(NULL, "2h", NOW - 7200);
	check(NULL, "90s", NOW - 90);
	check(NULL, "7d", NOW - 7 * 86400);
	check(NULL, "0", NOW);
}

static void
test_bad(void **state)
{
	static const char *const bad[] = {
		"", "yesterday", "2026-11", "2026-13-01", "2026-02-30 10:00",
		"2026-11-23 25:00", "2026-11-23 14:60", "2026-11-23 14", "2026-11-23 4:00",
		"2026-11-23 14:00 ", "2026-11-23x14:00", "2026-11-23T14:00:00+01",
		"2026-11-23T14:00:00+1:00", "2026-11-23T14:00:00.Z", "2h30m", "-2h",
		"2026-11-23T14:00:61Z", "1969-12-31",
	};
	size_t i;
	time_t t;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (timearg_parse(bad[i], NULL, NOW, &t) == 0)
			fail_msg("'%s' should be refused", bad[i]);
	check_bad(NULL, "100000d", OTG_ERR_RANGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_now_is_what_we_think),
		cmocka_unit_test(test_local_times),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
