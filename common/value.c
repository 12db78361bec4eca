/*
 * value.c: the value syntax shared by otgated.conf and the policy: names,
 * whitespace-separated lists, yes|no, durations (90s 15m 2h 7d), dates, ports.
 * Each parser accepts the whole string or fails; none allocates but strlists.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

int
strlist_push(struct strlist *l, const char *s)
{
	char **v, *copy;

	if ((copy = strdup(s)) == NULL)
		return OTG_ERR_NOMEM;
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		free(copy);
		return OTG_ERR_NOMEM;
	}
	l->v = v;
	l->v[l->n++] = copy;
	return 0;
}

int
strlist_split(const char *s, struct strlist *out)
{
	const char *p = s, *start;
	char *word;
	int r;

	memset(out, 0, sizeof(*out));
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if ((word = strndup(start, (size_t)(p - start))) == NULL) {
			strlist_free(out);
			return OTG_ERR_NOMEM;
		}
		r = strlist_push(out, word);
		free(word);
		if (r != 0) {
			strlist_free(out);
			return r;
		}
	}
}

int
strlist_contains(const struct strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
value_name_ok(const char *s)
{
	size_t i;

	if (!isalnum((unsigned char)s[0]) || s[0] > 0x7e)
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= 64)
			return 0;
		if (!(c < 0x80 && (isalnum(c) || c == '.' || c == '_' || c == '-')))
			return 0;
	}
	return 1;
}

int
value_bool(const char *s, int *out)
{
	if (strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0)
		*out = 0;
	else
		return OTG_ERR_INVAL;
	return 0;
}

/* A decimal number of at most 12 digits, whole string or up to *end. */
static int
value_digits(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == 12)
			return OTG_ERR_RANGE;
		v = v * 10 + (uint64_t)(s[n] - '0');
		n++;
	}
	if (n == 0)
		return OTG_ERR_INVAL;
	*end = s + n;
	*out = v;
	return 0;
}

int
value_duration(const char *s, uint64_t *secs)
{
	const char *end;
	uint64_t v, mult;
	int r;

	if ((r = value_digits(s, &end, &v)) != 0)
		return r;
	if (*end == '\0') {
		if (v != 0)
			return OTG_ERR_INVAL;	/* a unit is required but for 0 */
		*secs = 0;
		return 0;
	}
	switch (*end) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return OTG_ERR_INVAL;
	}
	if (end[1] != '\0')
		return OTG_ERR_INVAL;
	if (v > UINT64_C(100) * 366 * 86400 / mult)
		return OTG_ERR_RANGE;
	*secs = v * mult;
	return 0;
}

int
value_date(const char *s, int *y, int *m, int *d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int yy, mm, dd, leap;
	size_t i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return OTG_ERR_INVAL;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !(s[i] >= '0' && s[i] <= '9'))
			return OTG_ERR_INVAL;
	yy = atoi(s);
	mm = atoi(s + 5);
	dd = atoi(s + 8);
	if (yy < 1970 || mm < 1 || mm > 12 || dd < 1 || dd > mdays[mm - 1])
		return OTG_ERR_RANGE;
	leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
	if (mm == 2 && dd == 29 && !leap)
		return OTG_ERR_RANGE;
	*y = yy;
	*m = mm;
	*d = dd;
	return 0;
}

int
value_uint(const char *s, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int r;

	if ((r = value_digits(s, &end, &v)) != 0)
		return r;
	if (*end != '\0')
		return OTG_ERR_INVAL;
	if (v > max)
		return OTG_ERR_RANGE;
	*out = v;
	return 0;
}

int
value_port(const char *s, uint16_t *out)
{
	uint64_t v;
	int r;

	if ((r = value_uint(s, 65535, &v)) != 0)
		return r;
	if (v == 0)
		return OTG_ERR_RANGE;
	*out = (uint16_t)v;
	return 0;
}

int
value_utf8_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		unsigned char c = p[i];

		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n >= len - i)	/* the sequence runs past the end */
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += n + 1;
	}
	return 1;
}
