/*
 * window.c: access windows, the "when" of a role. A window is a set of week
 * days and a wall-clock span in a zone; a span whose end is not after its
 * start crosses midnight and belongs to the day it starts on. Everything here
 * is pure: the zone was resolved when the policy loaded.
 */
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

static const char *const window_day_names[7] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat"
};

static int
window_day(const char *s, size_t len)
{
	int i;

	for (i = 0; i < 7; i++)
		if (len == 3 && memcmp(s, window_day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "mon wed fri-sat", ranges may wrap ("fri-mon"). */
int
window_parse_days(const char *s, uint8_t *days)
{
	const char *p = s, *word, *dash;
	size_t len;
	int a, b;

	*days = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		word = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - word);
		dash = memchr(word, '-', len);
		if (dash == NULL) {
			if ((a = window_day(word, len)) < 0)
				return OTG_ERR_INVAL;
			*days |= (uint8_t)(1u << a);
			continue;
		}
		a = window_day(word, (size_t)(dash - word));
		b = window_day(dash + 1, (size_t)(p - dash - 1));
		if (a < 0 || b < 0)
			return OTG_ERR_INVAL;
		for (;;) {
			*days |= (uint8_t)(1u << a);
			if (a == b)
				break;
			a = (a + 1) % 7;
		}
	}
	return *days == 0 ? OTG_ERR_INVAL : 0;
}

/* HH:MM, 00:00 to 24:00; minutes after midnight into *out. */
static int
window_clock(const char *s, size_t len, unsigned *out)
{
	unsigned h, m;

	if (len != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' || s[1] < '0' ||
	    s[1] > '9' || s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
		return OTG_ERR_INVAL;
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return OTG_ERR_RANGE;
	*out = h * 60 + m;
	return 0;
}

/* "HH:MM-HH:MM"; 24:00 only as an end, and 00:00-00:00 is the whole day. */
int
window_parse_time(const char *s, unsigned *start, unsigned *end)
{
	const char *dash = strchr(s, '-');
	int r;

	if (dash == NULL)
		return OTG_ERR_INVAL;
	if ((r = window_clock(s, (size_t)(dash - s), start)) != 0 ||
	    (r = window_clock(dash + 1, strlen(dash + 1), end)) != 0)
		return r;
	if (*start == 24 * 60)
		return OTG_ERR_RANGE;
	if (*end == 0)
		*end = 24 * 60;	/* "until midnight", the same span either way */
	return 0;
}

/* Runs of days in week order from monday, a run wrapping past sunday kept whole. */
void
window_days_text(uint8_t days, char *out, size_t outsz)
{
	size_t used = 0;
	int i, first = -1, a, b, n;

	out[0] = '\0';
	if ((days & 0x7f) == 0x7f) {
		snprintf(out, outsz, "mon-sun");
		return;
	}
	/* start at the first day of a run, looking from monday */
	for (i = 1; i <= 7 && first < 0; i++) {
		a = i % 7;
		if ((days & (1u << a)) && !(days & (1u << ((a + 6) % 7))))
			first = a;
	}
	if (first < 0)
		return;
	for (i = 0; i < 7; i++) {
		a = (first + i) % 7;
		if (!(days & (1u << a)) || (i > 0 && (days & (1u << ((a + 6) % 7)))))
			continue;
		for (n = 1; n < 7 && (days & (1u << ((a + n) % 7))); n++)
			;
		b = (a + n - 1) % 7;
		n = a == b ? snprintf(out + used, outsz - used, "%s%s", used ? " " : "",
		    window_day_names[a]) : snprintf(out + used, outsz - used, "%s%s-%s",
		    used ? " " : "", window_day_names[a], window_day_names[b]);
		if (n < 0 || (size_t)n >= outsz - used)
			return;
		used += (size_t)n;
	}
}

void
window_time_text(const struct policy_window *w, char *out, size_t outsz)
{
	snprintf(out, outsz, "%02u:%02u-%02u:%02u", w->start / 60, w->start % 60,
	    w->end / 60, w->end % 60);
}

void
window_describe(const struct policy_window *w, char *out, size_t outsz)
{
	char days[40], span[16];

	window_days_text(w->days, days, sizeof(days));
	window_time_text(w, span, sizeof(span));
	snprintf(out, outsz, "%s %s %s", days, span, tz_name(w->tz));
}

int
window_contains(const struct policy_window *w, time_t t)
{
	struct tm tm;
	unsigned secs, start = w->start * 60, end = w->end * 60;
	int today, yesterday;

	tz_localtime(w->tz, t, &tm);
	secs = (unsigned)(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	today = (w->days >> tm.tm_wday) & 1;
	yesterday = (w->days >> ((tm.tm_wday + 6) % 7)) & 1;
	if (end > start)
		return today && secs >= start && secs < end;
	/* crosses midnight: the evening of a listed day, or the morning after one */
	return (today && secs >= start) || (yesterday && secs < end);
}
