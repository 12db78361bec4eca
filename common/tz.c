/*
 * tz.c: time zones read once from TZif files (RFC 8536) so that converting a
 * time never goes through glibc's global TZ. A zone is its transition table
 * plus the footer's POSIX TZ rule, which covers every time after the last
 * transition (slim tzdata files end their table early and rely on it).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_MAX_FILE (1024 * 1024)
#define TZ_MAX_NAME 255
#define TZ_MAX_ABBR 16

/* One transition date of a POSIX rule: Jn, n or Mm.w.d, at secs local time. */
struct tz_rule_date {
	char kind;		/* 'J', 'D' (zero-based day) or 'M' */
	int day, week, month;
	int32_t secs;
};

struct tz_type {
	int32_t utoff;
	int isdst;
	char abbr[TZ_MAX_ABBR];
};

struct tz {
	char *name;
	int64_t *trans;		/* transition instants, ascending */
	uint8_t *trans_type;
	size_t ntrans;
	struct tz_type *types;
	size_t ntypes;
	/* the footer rule; has_rule 0 means the last type stays forever */
	int has_rule, has_dst;
	struct tz_type std, dst;
	struct tz_rule_date start, end;
};

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
tz_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
tz_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
tz_mdays(int64_t y, int m)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && tz_leap(y) ? 29 : mdays[m - 1];
}

static int64_t
tz_floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* --- POSIX TZ strings (RFC 8536 section 3.3, with its hour range extension) --- */

static int
tz_parse_abbr(const char **sp, char *out)
{
	const char *s = *sp, *begin;
	size_t n;

	if (*s == '<') {
		begin = ++s;
		while (*s != '\0' && *s != '>')
			s++;
		if (*s != '>')
			return -1;
		n = (size_t)(s - begin);
		s++;
	} else {
		begin = s;
		while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
			s++;
		n = (size_t)(s - begin);
	}
	if (n < 3 || n >= TZ_MAX_ABBR)
		return -1;
	memcpy(out, begin, n);
	out[n] = '\0';
	*sp = s;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hours up to maxh; seconds into *out. */
static int
tz_parse_hms(const char **sp, int maxh, int32_t *out)
{
	const char *s = *sp;
	int sign = 1, part[3] = { 0, 0, 0 }, i, digits;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			if (*s != ':')
				break;
			s++;
		}
		for (digits = 0; *s >= '0' && *s <= '9' && digits < 3; digits++)
			part[i] = part[i] * 10 + (*s++ - '0');
		if (digits == 0 || (i > 0 && part[i] > 59))
			return -1;
	}
	if (part[0] > maxh)
		return -1;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	*sp = s;
	return 0;
}

static int
tz_parse_num(const char **sp, int lo, int hi, int *out)
{
	const char *s = *sp;
	int v = 0, digits;

	for (digits = 0; *s >= '0' && *s <= '9' && digits < 4; digits++)
		v = v * 10 + (*s++ - '0');
	if (digits == 0 || v < lo || v > hi)
		return -1;
	*out = v;
	*sp = s;
	return 0;
}

static int
tz_parse_date(const char **sp, struct tz_rule_date *r)
{
	const char *s = *sp;

	memset(r, 0, sizeof(*r));
	r->secs = 2 * 3600;
	if (*s == 'J') {
		s++;
		r->kind = 'J';
		if (tz_parse_num(&s, 1, 365, &r->day) != 0)
			return -1;
	} else if (*s == 'M') {
		s++;
		r->kind = 'M';
		if (tz_parse_num(&s, 1, 12, &r->month) != 0 || *s++ != '.' ||
		    tz_parse_num(&s, 1, 5, &r->week) != 0 || *s++ != '.' ||
		    tz_parse_num(&s, 0, 6, &r->day) != 0)
			return -1;
	} else {
		r->kind = 'D';
		if (tz_parse_num(&s, 0, 365, &r->day) != 0)
			return -1;
	}
	if (*s == '/') {
		s++;
		if (tz_parse_hms(&s, 167, &r->secs) != 0)
			return -1;
	}
	*sp = s;
	return 0;
}

/* Fill the zone's rule from a POSIX TZ string; -1 if it is not one. */
static int
tz_parse_posix(struct tz *tz, const char *s)
{
	int32_t off;

	if (tz_parse_abbr(&s, tz->std.abbr) != 0 || tz_parse_hms(&s, 24, &off) != 0)
		return -1;
	tz->std.utoff = -off;	/* POSIX offsets count west of Greenwich */
	tz->std.isdst = 0;
	tz->has_rule = 1;
	if (*s == '\0')
		return 0;
	if (tz_parse_abbr(&s, tz->dst.abbr) != 0)
		return -1;
	tz->has_dst = 1;
	tz->dst.isdst = 1;
	tz->dst.utoff = tz->std.utoff + 3600;
	if (*s != ',' && *s != '\0') {
		if (tz_parse_hms(&s, 24, &off) != 0)
			return -1;
		tz->dst.utoff = -off;
	}
	if (*s == '\0') {
		/* POSIX leaves the default rules to the implementation; the US ones */
		s = ",M3.2.0,M11.1.0";
	}
	if (*s++ != ',' || tz_parse_date(&s, &tz->start) != 0 || *s++ != ',' ||
	    tz_parse_date(&s, &tz->end) != 0 || *s != '\0')
		return -1;
	return 0;
}

/* Local seconds since the epoch (as if UTC) of a rule date in year y. */
static int64_t
tz_rule_local(const struct tz_rule_date *r, int64_t y)
{
	int64_t days;
	int first_wday, mday;

	switch (r->kind) {
	case 'J':
		days = tz_days_from_civil(y, 1, 1) + r->day - 1;
		if (tz_leap(y) && r->day >= 60)
			days++;
		break;
	case 'D':
		days = tz_days_from_civil(y, 1, 1) + r->day;
		break;
	default:
		days = tz_days_from_civil(y, r->month, 1);
		/* 1970-01-01 was a Thursday */
		first_wday = (int)(((days % 7) + 7 + 4) % 7);
		mday = 1 + (r->day - first_wday + 7) % 7 + (r->week - 1) * 7;
		while (mday > tz_mdays(y, r->month))
			mday -= 7;
		days += mday - 1;
		break;
	}
	return days * 86400 + r->secs;
}

static const struct tz_type *
tz_rule_type(const struct tz *tz, int64_t t)
{
	int64_t y, start, end;
	int m, d;

	if (!tz->has_dst)
		return &tz->std;
	tz_civil_from_days(tz_floordiv(t + tz->std.utoff, 86400), &y, &m, &d);
	/* the start is given in standard time, the end in daylight time */
	start = tz_rule_local(&tz->start, y) - tz->std.utoff;
	end = tz_rule_local(&tz->end, y) - tz->dst.utoff;
	if (start < end)
		return t >= start && t < end ? &tz->dst : &tz->std;
	return t >= end && t < start ? &tz->std : &tz->dst;
}

static const struct tz_type *
tz_type_at(const struct tz *tz, time_t t)
{
	size_t lo, hi, mid;

	if (tz->ntrans == 0 || (int64_t)t < tz->trans[0]) {
		if (tz->ntrans == 0 && tz->has_rule)
			return tz_rule_type(tz, t);
		return &tz->types[0];
	}
	if ((int64_t)t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
		return tz_rule_type(tz, t);
	lo = 0;
	hi = tz->ntrans;
	/* the last transition at or before t */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= (int64_t)t)
			lo = mid;
		else
			hi = mid;
	}
	return &tz->types[tz->trans_type[lo]];
}

/* --- TZif files --- */

static uint32_t
tz_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
tz_be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

struct tz_header {
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int
tz_read_header(const uint8_t *p, size_t len, struct tz_header *h, int *version)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return OTG_ERR_PROTO;
	*version = p[4] == 0 ? 1 : p[4] - '0';
	h->isutcnt = tz_be32(p + 20);
	h->isstdcnt = tz_be32(p + 24);
	h->leapcnt = tz_be32(p + 28);
	h->timecnt = tz_be32(p + 32);
	h->typecnt = tz_be32(p + 36);
	h->charcnt = tz_be32(p + 40);
	if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0 ||
	    h->charcnt > 65536 || h->timecnt > 1000000 || h->leapcnt > 100000 ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return OTG_ERR_PROTO;
	return 0;
}

static size_t
tz_block_len(const struct tz_header *h, size_t tsize)
{
	return (size_t)h->timecnt * tsize + h->timecnt + (size_t)h->typecnt * 6 +
	    h->charcnt + (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static int
tz_parse_tzif(struct tz *tz, const uint8_t *p, size_t len)
{
	struct tz_header h;
	const uint8_t *q, *idx, *types, *chars, *end;
	size_t tsize = 4, block, i, footer_len;
	int version, r;
	char footer[256];

	if ((r = tz_read_header(p, len, &h, &version)) != 0)
		return r;
	block = tz_block_len(&h, 4);
	if (version >= 2) {
		/* skip the 32-bit block; the 64-bit one follows with its own header */
		if (len - 44 < block)
			return OTG_ERR_PROTO;
		p += 44 + block;
		len -= 44 + block;
		if ((r = tz_read_header(p, len, &h, &version)) != 0)
			return r;
		tsize = 8;
		block = tz_block_len(&h, 8);
	}
	if (len - 44 < block)
		return OTG_ERR_PROTO;
	q = p + 44;
	end = p + len;
	tz->ntrans = h.timecnt;
	tz->ntypes = h.typecnt;
	tz->trans = calloc(h.timecnt + 1, sizeof(*tz->trans));
	tz->trans_type = calloc(h.timecnt + 1, 1);
	tz->types = calloc(h.typecnt, sizeof(*tz->types));
	if (tz->trans == NULL || tz->trans_type == NULL || tz->types == NULL)
		return OTG_ERR_NOMEM;
	for (i = 0; i < h.timecnt; i++) {
		tz->trans[i] = tsize == 8 ? tz_be64(q + i * 8) : (int32_t)tz_be32(q + i * 4);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			return OTG_ERR_PROTO;
	}
	idx = q + (size_t)h.timecnt * tsize;
	types = idx + h.timecnt;
	chars = types + (size_t)h.typecnt * 6;
	for (i = 0; i < h.timecnt; i++) {
		if (idx[i] >= h.typecnt)
			return OTG_ERR_PROTO;
		tz->trans_type[i] = idx[i];
	}
	for (i = 0; i < h.typecnt; i++) {
		const uint8_t *t = types + i * 6;
		size_t ai = t[5], n;

		tz->types[i].utoff = (int32_t)tz_be32(t);
		tz->types[i].isdst = t[4] != 0;
		if (tz->types[i].utoff < -25 * 3600 || tz->types[i].utoff > 26 * 3600 ||
		    ai >= h.charcnt)
			return OTG_ERR_PROTO;
		n = strnlen((const char *)chars + ai, h.charcnt - ai);
		if (n >= TZ_MAX_ABBR)
			n = TZ_MAX_ABBR - 1;
		memcpy(tz->types[i].abbr, chars + ai, n);
		tz->types[i].abbr[n] = '\0';
	}
	if (version < 2)
		return 0;
	/* footer: "\n" POSIX-TZ "\n"; empty means no rule */
	q += block;
	if (q >= end || *q != '\n')
		return OTG_ERR_PROTO;
	q++;
	for (footer_len = 0; q + footer_len < end && q[footer_len] != '\n'; footer_len++)
		if (footer_len + 1 >= sizeof(footer))
			return OTG_ERR_PROTO;
	if (q + footer_len >= end)
		return OTG_ERR_PROTO;
	if (footer_len == 0)
		return 0;
	memcpy(footer, q, footer_len);
	footer[footer_len] = '\0';
	if (tz_parse_posix(tz, footer) != 0)
		return OTG_ERR_PROTO;
	return 0;
}

/* Zone names are relative paths of plain parts: no "..", no leading '/'. */
static int
tz_name_ok(const char *name)
{
	const char *p;

	if (name[0] == '\0' || name[0] == '/' || strlen(name) > TZ_MAX_NAME)
		return 0;
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' || *p == '-' ||
		    *p == '+' || *p == '.'))
			return 0;
		if (*p == '.' && (p == name || p[-1] == '/'))
			return 0;	/* no "..", no hidden files */
	}
	return 1;
}

/* Zone files are often symlinks (and /etc/localtime always is), so unlike
 * file_read this follows them: they are system files, not admin input. */
static int
tz_load_file(struct tz *tz, const char *path)
{
	uint8_t *data;
	size_t len;
	FILE *fp;
	int r;

	if ((fp = fopen(path, "re")) == NULL)
		return errno == ENOMEM ? OTG_ERR_NOMEM : OTG_ERR_NOTFOUND;
	if ((data = malloc(TZ_MAX_FILE)) == NULL) {
		fclose(fp);
		return OTG_ERR_NOMEM;
	}
	len = fread(data, 1, TZ_MAX_FILE, fp);
	r = ferror(fp) ? OTG_ERR_NOTFOUND : tz_parse_tzif(tz, data, len);
	fclose(fp);
	free(data);
	return r;
}

static int
tz_load_file_named(struct tz *tz, const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	int n;

	if (dir == NULL || *dir == '\0')
		dir = TZ_DEFAULT_DIR;
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return OTG_ERR_NOTFOUND;
	return tz_load_file(tz, path);
}

/* The host zone's name: $TZ, else the zoneinfo path /etc/localtime links to. */
static int
tz_load_host(struct tz *tz)
{
	const char *env = getenv("TZ"), *p;
	char link[PATH_MAX];
	ssize_t n;
	int r;

	if (env != NULL && *env != '\0') {
		if (*env == ':')
			env++;
		if ((tz->name = strdup(env)) == NULL)
			return OTG_ERR_NOMEM;
		if (*env == '/')
			return tz_load_file(tz, env);
		if (tz_name_ok(env) && (r = tz_load_file_named(tz, env)) !=
		    OTG_ERR_NOTFOUND)
			return r;
		return tz_parse_posix(tz, env) == 0 ? 0 : OTG_ERR_NOTFOUND;
	}
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		p = strstr(link, "zoneinfo/");
		p = p != NULL ? p + strlen("zoneinfo/") : "localtime";
	} else {
		p = "localtime";
	}
	if ((tz->name = strdup(p)) == NULL)
		return OTG_ERR_NOMEM;
	r = tz_load_file(tz, "/etc/localtime");
	if (r == OTG_ERR_NOTFOUND) {
		/* no /etc/localtime: the host runs on UTC, as glibc assumes */
		free(tz->name);
		if ((tz->name = strdup("UTC")) == NULL)
			return OTG_ERR_NOMEM;
		return tz_parse_posix(tz, "UTC0") == 0 ? 0 : OTG_ERR_PROTO;
	}
	return r;
}

/* What a NULL zone means to the conversions below: UTC. */
static const struct tz tz_utc = {
	.name = (char *)"UTC",
	.has_rule = 1,
	.std = { 0, 0, "UTC" },
};

int
tz_load(const char *name, struct tz **out)
{
	struct tz *tz;
	int r;

	*out = NULL;
	if ((tz = calloc(1, sizeof(*tz))) == NULL)
		return OTG_ERR_NOMEM;
	if (name == NULL) {
		r = tz_load_host(tz);
	} else if (!tz_name_ok(name)) {
		r = OTG_ERR_NOTFOUND;
	} else if ((tz->name = strdup(name)) == NULL) {
		r = OTG_ERR_NOMEM;
	} else {
		r = tz_load_file_named(tz, name);
	}
	if (r == 0 && tz->ntypes == 0 && !tz->has_rule)
		r = OTG_ERR_PROTO;
	if (r != 0) {
		tz_free(tz);
		return r;
	}
	*out = tz;
	return 0;
}

void
tz_free(struct tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->name);
	free(tz->trans);
	free(tz->trans_type);
	free(tz->types);
	free(tz);
}

const char *
tz_name(const struct tz *tz)
{
	if (tz == NULL)
		tz = &tz_utc;
	return tz->name;
}

/* The type in force at t: from the table, else the footer rule. */
static const struct tz_type *
tz_lookup(const struct tz *tz, time_t t)
{
	if (tz->ntypes == 0)
		return tz_rule_type(tz, t);
	return tz_type_at(tz, t);
}

void
tz_localtime(const struct tz *tz, time_t t, struct tm *out)
{
	const struct tz_type *type;
	int64_t local, days, secs, y;
	int m, d;

	if (tz == NULL)
		tz = &tz_utc;
	type = tz_lookup(tz, t);
	local = (int64_t)t + type->utoff;

	days = tz_floordiv(local, 86400);
	secs = local - days * 86400;
	tz_civil_from_days(days, &y, &m, &d);
	memset(out, 0, sizeof(*out));
	out->tm_year = (int)(y - 1900);
	out->tm_mon = m - 1;
	out->tm_mday = d;
	out->tm_hour = (int)(secs / 3600);
	out->tm_min = (int)(secs / 60 % 60);
	out->tm_sec = (int)(secs % 60);
	out->tm_wday = (int)(((days % 7) + 7 + 4) % 7);
	out->tm_yday = (int)(days - tz_days_from_civil(y, 1, 1));
	out->tm_isdst = type->isdst;
	out->tm_gmtoff = type->utoff;
	out->tm_zone = type->abbr;
}

/*
 * Every offset the zone ever uses is a candidate: t = wall - offset is a real
 * reading of the wall time exactly when the zone uses that offset at t. No
 * candidate: the wall time was skipped (a gap); several: it repeats, and the
 * earliest instant is its first occurrence.
 */
int
tz_mktime(const struct tz *tz, const struct tm *local, time_t *out)
{
	int64_t wall, t, best = 0;
	const struct tz_type *type;
	size_t i, n;
	int found = 0;

	if (tz == NULL)
		tz = &tz_utc;
	if (local->tm_mon < 0 || local->tm_mon > 11 || local->tm_mday < 1 ||
	    local->tm_mday > tz_mdays((int64_t)local->tm_year + 1900, local->tm_mon + 1) ||
	    local->tm_hour < 0 || local->tm_hour > 23 || local->tm_min < 0 ||
	    local->tm_min > 59 || local->tm_sec < 0 || local->tm_sec > 60)
		return OTG_ERR_INVAL;
	wall = tz_days_from_civil((int64_t)local->tm_year + 1900, local->tm_mon + 1,
	    local->tm_mday) * 86400 + local->tm_hour * 3600 + local->tm_min * 60 +
	    local->tm_sec;
	n = tz->ntypes + (tz->has_rule ? 2 : 0);
	for (i = 0; i < n; i++) {
		int32_t off;

		if (i < tz->ntypes)
			off = tz->types[i].utoff;
		else
			off = i == tz->ntypes ? tz->std.utoff : tz->dst.utoff;
		t = wall - off;
		if ((time_t)t != t)
			continue;
		type = tz_lookup(tz, (time_t)t);
		if (type->utoff == off && (!found || t < best)) {
			best = t;
			found = 1;
		}
	}
	if (!found)
		return OTG_ERR_RANGE;
	*out = (time_t)best;
	return 0;
}
