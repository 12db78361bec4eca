/* test_tz.c: time zones read from TZif files: known offsets on both sides of
 * DST switches, the footer rule after the last transition, the gap and
 * overlap rules of tz_mktime, the host zone, and agreement with glibc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/common.h"

/* seconds since the epoch of a UTC date and time, computed without a zone */
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

static struct tz *
load(const char *name)
{
	struct tz *tz = NULL;

	assert_int_equal(tz_load(name, &tz), 0);
	assert_non_null(tz);
	assert_string_equal(tz_name(tz), name);
	return tz;
}

static void
check_offset(const struct tz *tz, time_t t, long off, int isdst, const char *abbr)
{
	struct tm tm;

	tz_localtime(tz, t, &tm);
	if (tm.tm_gmtoff != off || tm.tm_isdst != isdst || strcmp(tm.tm_zone, abbr) != 0)
		fail_msg("%s at %lld: got %ld %d %s, want %ld %d %s", tz_name(tz),
		    (long long)t, tm.tm_gmtoff, tm.tm_isdst, tm.tm_zone, off, isdst, abbr);
}

static void
check_local(const struct tz *tz, time_t t, int y, int mo, int d, int h, int mi,
    int wday)
{
	struct tm tm;

	tz_localtime(tz, t, &tm);
	if (tm.tm_year != y - 1900 || tm.tm_mon != mo - 1 || tm.tm_mday != d ||
	    tm.tm_hour != h || tm.tm_min != mi || tm.tm_wday != wday)
		fail_msg("%s at %lld: got %04d-%02d-%02d %02d:%02d wday %d", tz_name(tz),
		    (long long)t, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_wday);
}

static int
mktime_in(const struct tz *tz, int y, int mo, int d, int h, int mi, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return tz_mktime(tz, &tm, out);
}

static void
test_rome(void **state)
{
	struct tz *tz = load("Europe/Rome");

	(void)state;
	/* spring: 2026-03-29 01:00 UTC, 02:00 CET -> 03:00 CEST */
	check_offset(tz, utc(2026, 3, 29, 0, 59, 59), 3600, 0, "CET");
	check_offset(tz, utc(2026, 3, 29, 1, 0, 0), 7200, 1, "CEST");
	check_local(tz, utc(2026, 3, 29, 0, 59, 0), 2026, 3, 29, 1, 59, 0);
	check_local(tz, utc(2026, 3, 29, 1, 0, 0), 2026, 3, 29, 3, 0, 0);
	/* autumn: 2026-10-25 01:00 UTC, 03:00 CEST -> 02:00 CET */
	check_offset(tz, utc(2026, 10, 25, 0, 59, 59), 7200, 1, "CEST");
	check_offset(tz, utc(2026, 10, 25, 1, 0, 0), 3600, 0, "CET");
	check_local(tz, utc(2026, 11, 23, 13, 0, 0), 2026, 11, 23, 14, 0, 1);
	/* far past the table: the footer rule decides */
	check_offset(tz, utc(2100, 7, 1, 12, 0, 0), 7200, 1, "CEST");
	check_offset(tz, utc(2100, 12, 1, 12, 0, 0), 3600, 0, "CET");
	check_offset(tz, utc(2240, 3, 29, 0, 59, 59), 3600, 0, "CET");
	check_offset(tz, utc(2240, 3, 29, 1, 0, 0), 7200, 1, "CEST");
	/* before the first transition: local mean time, type 0 */
	check_offset(tz, utc(1850, 1, 1, 0, 0, 0), 2996, 0, "LMT");
	tz_free(tz);
}

static void
test_new_york(void **state)
{
	struct tz *tz = load("America/New_York");

	(void)state;
	check_offset(tz, utc(2026, 3, 8, 6, 59, 59), -5 * 3600, 0, "EST");
	check_offset(tz, utc(2026, 3, 8, 7, 0, 0), -4 * 3600, 1, "EDT");
	check_offset(tz, utc(2026, 11, 1, 5, 59, 59), -4 * 3600, 1, "EDT");
	check_offset(tz, utc(2026, 11, 1, 6, 0, 0), -5 * 3600, 0, "EST");
	check_offset(tz, utc(2099, 3, 8, 7, 0, 0), -4 * 3600, 1, "EDT");
	/* local date before UTC's: a wednesday evening in New York */
	check_local(tz, utc(2026, 11, 26, 2, 30, 0), 2026, 11, 25, 21, 30, 3);
	tz_free(tz);
}

static void
test_utc_and_lord_howe(void **state)
{
	struct tz *tz = load("UTC");

	(void)state;
	check_offset(tz, utc(2026, 6, 1, 0, 0, 0), 0, 0, "UTC");
	check_local(tz, 0, 1970, 1, 1, 0, 0, 4);
	check_local(tz, -1, 1969, 12, 31, 23, 59, 3);
	tz_free(tz);
	/* half-hour DST, southern hemisphere: +10:30 standard, +11 summer */
	tz = load("Australia/Lord_Howe");
	check_offset(tz, utc(2026, 7, 1, 0, 0, 0), 37800, 0, "+1030");
	check_offset(tz, utc(2026, 1, 1, 0, 0, 0), 39600, 1, "+11");
	check_offset(tz, utc(2150, 1, 1, 0, 0, 0), 39600, 1, "+11");
	tz_free(tz);
}

static void
test_mktime_gap_and_overlap(void **state)
{
	struct tz *rome = load("Europe/Rome"), *ny = load("America/New_York");
	time_t t;

	(void)state;
	/* 02:30 does not exist on 2026-03-29 in Rome */
	assert_int_equal(mktime_in(rome, 2026, 3, 29, 2, 30, &t), OTG_ERR_RANGE);
	assert_int_equal(mktime_in(rome, 2026, 3, 29, 2, 0, &t), OTG_ERR_RANGE);
	assert_int_equal(mktime_in(rome, 2026, 3, 29, 3, 0, &t), 0);
	assert_int_equal(t, utc(2026, 3, 29, 1, 0, 0));
	assert_int_equal(mktime_in(rome, 2026, 3, 29, 1, 59, &t), 0);
	assert_int_equal(t, utc(2026, 3, 29, 0, 59, 0));
	/* 02:30 happens twice on 2026-10-25: the first, still in CEST */
	assert_int_equal(mktime_in(rome, 2026, 10, 25, 2, 30, &t), 0);
	assert_int_equal(t, utc(2026, 10, 25, 0, 30, 0));
	assert_int_equal(mktime_in(rome, 2026, 10, 25, 3, 0, &t), 0);
	assert_int_equal(t, utc(2026, 10, 25, 2, 0, 0));
	/* the footer rule's gap too */
	assert_int_equal(mktime_in(rome, 2100, 3, 28, 2, 30, &t), OTG_ERR_RANGE);
	assert_int_equal(mktime_in(ny, 2026, 3, 8, 2, 30, &t), OTG_ERR_RANGE);
	assert_int_equal(mktime_in(ny, 2026, 11, 1, 1, 30, &t), 0);
	assert_int_equal(t, utc(2026, 11, 1, 5, 30, 0));
	/* out-of-range fields are refused, not normalised */
	assert_int_equal(mktime_in(rome, 2026, 2, 29, 12, 0, &t), OTG_ERR_INVAL);
	assert_int_equal(mktime_in(rome, 2026, 13, 1, 12, 0, &t), OTG_ERR_INVAL);
	assert_int_equal(mktime_in(rome, 2026, 1, 1, 24, 0, &t), OTG_ERR_INVAL);
	tz_free(rome);
	tz_free(ny);
}

static void
test_host_zone(void **state)
{
	struct tz *tz;
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	setenv("TZ", "Europe/Rome", 1);
	assert_int_equal(tz_load(NULL, &tz), 0);
	assert_string_equal(tz_name(tz), "Europe/Rome");
	check_offset(tz, utc(2026, 7, 1, 0, 0, 0), 7200, 1, "CEST");
	tz_free(tz);
	setenv("TZ", ":America/New_York", 1);
	assert_int_equal(tz_load(NULL, &tz), 0);
	check_offset(tz, utc(2026, 7, 1, 0, 0, 0), -4 * 3600, 1, "EDT");
	tz_free(tz);
	/* a bare POSIX rule, as some hosts set TZ */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	assert_int_equal(tz_load(NULL, &tz), 0);
	check_offset(tz, utc(2026, 3, 29, 0, 59, 59), 3600, 0, "CET");
	check_offset(tz, utc(2026, 3, 29, 1, 0, 0), 7200, 1, "CEST");
	tz_free(tz);
	setenv("TZ", "<+0330>-3:30", 1);
	assert_int_equal(tz_load(NULL, &tz), 0);
	check_offset(tz, 0, 12600, 0, "+0330");
	tz_free(tz);
	setenv("TZ", "Not/AZone", 1);
	assert_int_equal(tz_load(NULL, &tz), OTG_ERR_NOTFOUND);
	/* no TZ: /etc/localtime, named after the zone it links to */
	unsetenv("TZ");
	assert_int_equal(tz_load(NULL, &tz), 0);
	assert_non_null(tz_name(tz));
	assert_true(strlen(tz_name(tz)) > 0);
	tz_free(tz);
	if (saved != NULL) {
		setenv("TZ", saved, 1);
		free(saved);
	}
}

static void
test_bad_names_and_files(void **state)
{
	char dir[] = "/tmp/test_tz.XXXXXX", path[64];
	static const char *const names[] = {
		"", "../../etc/passwd", "/etc/localtime", "Europe/../Europe/Rome",
		"Europe/Rome/", "Europe/Nowhere", "Europe/Rome extra", ".hidden",
	};
	unsigned char data[200];
	struct tz *tz = (struct tz *)1;
	size_t i;
	FILE *fp;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (tz_load(names[i], &tz) != OTG_ERR_NOTFOUND)
			fail_msg("zone '%s' should be refused", names[i]);
		assert_null(tz);
	}
	/* a file that is not TZif, and a truncated TZif, under a private TZDIR */
	assert_non_null(mkdtemp(dir));
	setenv("TZDIR", dir, 1);
	snprintf(path, sizeof(path), "%s/Junk", dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("not a zone file\n", fp);
	fclose(fp);
	assert_int_equal(tz_load("Junk", &tz), OTG_ERR_PROTO);
	memset(data, 0, sizeof(data));
	memcpy(data, "TZif2", 5);
	data[39] = 1;		/* one type */
	data[43] = 4;		/* four bytes of abbreviations, and nothing follows */
	snprintf(path, sizeof(path), "%s/Short", dir);
	assert_non_null(fp = fopen(path, "w"));
	fwrite(data, 1, 50, fp);
	fclose(fp);
	assert_int_equal(tz_load("Short", &tz), OTG_ERR_PROTO);
	unsetenv("TZDIR");
	snprintf(path, sizeof(path), "%s/Junk", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Short", dir);
	unlink(path);
	rmdir(dir);
}

/* A version 1 file (32-bit times, no footer) and a v2 one with a footer rule
 * and no transitions at all, built by hand under a private TZDIR. */
static void
test_handmade_files(void **state)
{
	static const unsigned char v1[] = {
		'T', 'Z', 'i', 'f', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* isut isstd leap */
		0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 8,	/* 1 transition, 2 types, 8 chars */
		0, 0, 0x0e, 0x10,			/* at 3600 */
		1,					/* to type 1 */
		0, 0, 0, 0, 0, 0,			/* type 0: UTC+0 "AAA" */
		0, 0, 0x1c, 0x20, 1, 4,			/* type 1: UTC+2 dst "BBB" */
		'A', 'A', 'A', 0, 'B', 'B', 'B', 0,
	};
	static const char footer[] = "\n<+0530>-5:30\n";
	unsigned char v2[200];
	char dir[] = "/tmp/test_tz.XXXXXX", path[64];
	struct tz *tz;
	size_t n;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("TZDIR", dir, 1);
	snprintf(path, sizeof(path), "%s/One", dir);
	assert_non_null(fp = fopen(path, "w"));
	fwrite(v1, 1, sizeof(v1), fp);
	fclose(fp);
	assert_int_equal(tz_load("One", &tz), 0);
	check_offset(tz, 3599, 0, 0, "AAA");
	check_offset(tz, 3600, 7200, 1, "BBB");
	check_offset(tz, 4000000000, 7200, 1, "BBB");
	tz_free(tz);
	/* v2: an empty v1 block, then a 64-bit block with one type, then the footer */
	memset(v2, 0, sizeof(v2));
	memcpy(v2, "TZif2", 5);
	v2[39] = 1;
	v2[43] = 4;
	memcpy(v2 + 44, "\0\0\0\0\0\0LMT", 10);	/* v1 block: one type, "LMT\0" */
	n = 54;
	memcpy(v2 + n, "TZif2", 5);
	v2[n + 39] = 1;
	v2[n + 43] = 4;
	memcpy(v2 + n + 44, "\0\0\0\0\0\0LMT", 10);
	n += 54;
	memcpy(v2 + n, footer, strlen(footer));
	n += strlen(footer);
	snprintf(path, sizeof(path), "%s/Two", dir);
	assert_non_null(fp = fopen(path, "w"));
	fwrite(v2, 1, n, fp);
	fclose(fp);
	assert_int_equal(tz_load("Two", &tz), 0);
	check_offset(tz, 0, 19800, 0, "+0530");
	check_offset(tz, -4000000000, 19800, 0, "+0530");
	tz_free(tz);
	/* the same without the footer's closing newline is broken */
	assert_non_null(fp = fopen(path, "w"));
	fwrite(v2, 1, n - 1, fp);
	fclose(fp);
	assert_int_equal(tz_load("Two", &tz), OTG_ERR_PROTO);
	unsetenv("TZDIR");
	unlink(path);
	snprintf(path, sizeof(path), "%s/One", dir);
	unlink(path);
	rmdir(dir);
}

/* The same answers as glibc for instants from 1901 to 2200 in tricky zones. */
static void
test_agrees_with_glibc(void **state)
{
	static const char *const zones[] = {
		"Europe/Rome", "America/New_York", "Australia/Lord_Howe",
		"America/Sao_Paulo", "Pacific/Chatham", "Africa/Casablanca",
		"Asia/Tehran", "Europe/Dublin", "America/Santiago", "Asia/Kolkata",
	};
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	struct tm a, b;
	struct tz *tz;
	time_t t;
	size_t z;
	unsigned i, seed = 1;

	(void)state;
	for (z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		tz = load(zones[z]);
		setenv("TZ", zones[z], 1);
		tzset();
		for (i = 0; i < 20000; i++) {
			seed = seed * 1103515245u + 12345u;
			t = (time_t)-2000000000 + (time_t)(((uint64_t)seed << 17 ^ i) %
			    9200000000ULL);
			localtime_r(&t, &a);
			tz_localtime(tz, t, &b);
			if (a.tm_gmtoff != b.tm_gmtoff || a.tm_hour != b.tm_hour ||
			    a.tm_mday != b.tm_mday || a.tm_wday != b.tm_wday ||
			    a.tm_yday != b.tm_yday || a.tm_isdst != b.tm_isdst)
				fail_msg("%s at %lld: glibc %ld, tz.c %ld", zones[z],
				    (long long)t, a.tm_gmtoff, b.tm_gmtoff);
		}
		tz_free(tz);
	}
	if (saved != NULL) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rome),
		cmocka_unit_test(test_new_york),
		cmocka_unit_test(test_utc_and_lord_howe),
		cmocka_unit_test(test_mktime_gap_and_overlap),
		cmocka_unit_test(test_host_zone),
		cmocka_unit_test(test_bad_names_and_files),
		cmocka_unit_test(test_handmade_files),
		cmocka_unit_test(test_agrees_with_glibc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
