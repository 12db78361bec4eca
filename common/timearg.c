/*
 * timearg.c: the times admins and auditors give to otgate (--at, --since,
 * --until): a local date and time read in a given zone, an RFC 3339 instant,
 * or a duration meaning "that long ago". The zone conversion goes through
 * tz.c, so a wall time the zone skips is refused rather than guessed.
 */
#include <string.h>

#include "common/common.h"

/* Exactly n digits at s into *out. */
static int
timearg_digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* HH:MM[:SS][.fraction] at *sp; the fraction is read and dropped. */
static int
timearg_clock(const char **sp, struct tm *tm)
{
	const char *s = *sp;

	if (timearg_digits(s, 2, &tm->tm_hour) != 0 || s[2] != ':' ||
	    timearg_digits(s + 3, 2, &tm->tm_min) != 0)
		return -1;
	s += 5;
	if (*s == ':') {
		if (timearg_digits(s + 1, 2, &tm->tm_sec) != 0)
			return -1;
		s += 3;
		if (*s == '.') {
			s++;
			if (*s < '0' || *s > '9')
				return -1;
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 59)
		return -1;
	*sp = s;
	return 0;
}

/* Z or +HH:MM / -HH:MM at s, which must end there; seconds east of UTC. */
static int
timearg_offset(const char *s, long *off)
{
	int h, m;

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*off = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || timearg_digits(s + 1, 2, &h) != 0 ||
	    s[3] != ':' || timearg_digits(s + 4, 2, &m) != 0 || s[6] != '\0' ||
	    h > 23 || m > 59)
		return -1;
	*off = (s[0] == '-' ? -1 : 1) * (h * 3600L + m * 60L);
	return 0;
}

int
timearg_parse(const char *s, const struct tz *tz, time_t now, time_t *out)
{
	struct tm tm;
	char date[11];
	const char *p;
	uint64_t secs;
	time_t t;
	long off;
	int y, m, d, r;

	if ((r = value_duration(s, &secs)) != OTG_ERR_INVAL) {
		if (r != 0 || (uint64_t)now < secs)
			return OTG_ERR_RANGE;
		*out = now - (time_t)secs;
		return 0;
	}
	if (strlen(s) < 10)
		return OTG_ERR_INVAL;
	memcpy(date, s, 10);
	date[10] = '\0';
	if ((r = value_date(date, &y, &m, &d)) != 0)
		return r;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	p = s + 10;
	if (*p != '\0') {
		if (*p != ' ' && *p != 'T' && *p != 't')
			return OTG_ERR_INVAL;
		p++;
		if (timearg_clock(&p, &tm) != 0)
			return OTG_ERR_INVAL;
	}
	if (*p != '\0') {
		/* RFC 3339: the instant is fixed by its own offset */
		if (timearg_offset(p, &off) != 0)
			return OTG_ERR_INVAL;
		if (tz_mktime(NULL, &tm, &t) != 0)
			return OTG_ERR_INVAL;
		*out = t - off;
		return 0;
	}
	return tz_mktime(tz, &tm, out);
}
