/*
 * json.c: a small JSON parser for the recorder's readers. Recordings may be
 * planted by an attacker for an auditor to open, so every limit is explicit:
 * nesting depth, input size (the caller's line bound), and strings, which are
 * decoded to UTF-8 with lone surrogates turned into U+FFFD instead of bytes
 * no terminal or database should see.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

struct json_parser {
	const char *p, *end;
};

static int json_value(struct json_parser *ps, struct json *j, int depth);

static void
json_skip_ws(struct json_parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
	    *ps->p == '\r'))
		ps->p++;
}

static int
json_hex4(struct json_parser *ps, unsigned *v)
{
	int k;
	char c;

	if (ps->end - ps->p < 4)
		return OTG_ERR_PROTO;
	*v = 0;
	for (k = 0; k < 4; k++) {
		c = *ps->p++;
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return OTG_ERR_PROTO;
	}
	return 0;
}

/* A \u escape, joining a surrogate pair; a lone half becomes U+FFFD. */
static int
json_unicode_escape(struct json_parser *ps, struct buf *b)
{
	unsigned hi, lo;
	const char *save;
	int r;

	if ((r = json_hex4(ps, &hi)) != 0)
		return r;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return buf_put_utf8(b, 0xfffd);
	if (hi < 0xd800 || hi > 0xdbff)
		return buf_put_utf8(b, hi);
	save = ps->p;
	if (ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
		ps->p += 2;
		if ((r = json_hex4(ps, &lo)) != 0)
			return r;
		if (lo >= 0xdc00 && lo <= 0xdfff)
			return buf_put_utf8(b, 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
	}
	ps->p = save;
	return buf_put_utf8(b, 0xfffd);
}

static int
json_string(struct json_parser *ps, char **str, size_t *len)
{
	struct buf b;
	const char *run;
	char c;
	int r = 0;

	buf_init(&b, (size_t)(ps->end - ps->p) + 1);
	ps->p++;		/* the opening quote */
	for (;;) {
		run = ps->p;
		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' &&
		    (unsigned char)*ps->p >= 0x20)
			ps->p++;
		if ((r = buf_put(&b, run, (size_t)(ps->p - run))) != 0)
			goto out;
		if (ps->p >= ps->end) {
			r = OTG_ERR_TRUNCATED;
			goto out;
		}
		c = *ps->p++;
		if (c == '"')
			break;
		if (c != '\\') {
			r = OTG_ERR_PROTO;	/* a raw control character */
			goto out;
		}
		if (ps->p >= ps->end) {
			r = OTG_ERR_TRUNCATED;
			goto out;
		}
		switch ((c = *ps->p++)) {
		case '"': case '\\': case '/': r = buf_putc(&b, c); break;
		case 'b': r = buf_putc(&b, '\b'); break;
		case 'f': r = buf_putc(&b, '\f'); break;
		case 'n': r = buf_putc(&b, '\n'); break;
		case 'r': r = buf_putc(&b, '\r'); break;
		case 't': r = buf_putc(&b, '\t'); break;
		case 'u': r = json_unicode_escape(ps, &b); break;
		default: r = OTG_ERR_PROTO; break;
		}
		if (r != 0)
			goto out;
	}
	*len = buf_len(&b);
	/* an empty buffer has no storage to copy from */
	if ((*str = *len > 0 ? buf_strdup(&b) : strdup("")) == NULL)
		r = OTG_ERR_NOMEM;
out:
	buf_free(&b);
	return r;
}

static int
json_number(struct json_parser *ps, double *v)
{
	char tmp[64], *endp;
	const char *s = ps->p;
	size_t n;

	while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p) != NULL)
		ps->p++;
	n = (size_t)(ps->p - s);
	if (n == 0 || n >= sizeof(tmp))
		return OTG_ERR_PROTO;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*v = strtod(tmp, &endp);
	if (*endp != '\0' || errno == ERANGE || !isfinite(*v))
		return OTG_ERR_PROTO;
	return 0;
}

static int
json_literal(struct json_parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return OTG_ERR_PROTO;
	ps->p += n;
	return 0;
}

/* Append a zeroed item to an array or object. */
static struct json *
json_grow(struct json *j, size_t *cap, int with_key)
{
	struct json *items;
	char **keys;
	size_t ncap;

	if (j->n == *cap) {
		ncap = *cap ? *cap * 2 : 4;
		if ((items = reallocarray(j->items, ncap, sizeof(*items))) == NULL)
			return NULL;
		j->items = items;
		if (with_key) {
			if ((keys = reallocarray(j->keys, ncap, sizeof(*keys))) == NULL)
				return NULL;
			j->keys = keys;
		}
		*cap = ncap;
	}
	memset(&j->items[j->n], 0, sizeof(j->items[0]));
	if (with_key)
		j->keys[j->n] = NULL;
	return &j->items[j->n++];
}

static int
json_container(struct json_parser *ps, struct json *j, int depth)
{
	int object = *ps->p == '{';
	char close = object ? '}' : ']';
	struct json *item;
	size_t cap = 0, klen;
	int r;

	j->type = object ? JSON_OBJECT : JSON_ARRAY;
	ps->p++;
	json_skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		json_skip_ws(ps);
		if (ps->p >= ps->end)
			return OTG_ERR_TRUNCATED;
		if ((item = json_grow(j, &cap, object)) == NULL)
			return OTG_ERR_NOMEM;
		if (object) {
			if (*ps->p != '"')
				return OTG_ERR_PROTO;
			if ((r = json_string(ps, &j->keys[j->n - 1], &klen)) != 0)
				return r;
			json_skip_ws(ps);
			if (ps->p >= ps->end)
				return OTG_ERR_TRUNCATED;
			if (*ps->p++ != ':')
				return OTG_ERR_PROTO;
		}
		if ((r = json_value(ps, item, depth + 1)) != 0)
			return r;
		json_skip_ws(ps);
		if (ps->p >= ps->end)
			return OTG_ERR_TRUNCATED;
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p++ == close)
			return 0;
		return OTG_ERR_PROTO;
	}
}

static int
json_value(struct json_parser *ps, struct json *j, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return OTG_ERR_TOOBIG;
	json_skip_ws(ps);
	if (ps->p >= ps->end)
		return OTG_ERR_TRUNCATED;
	switch (*ps->p) {
	case '{':
	case '[':
		return json_container(ps, j, depth);
	case '"':
		j->type = JSON_STRING;
		return json_string(ps, &j->str, &j->len);
	case 't':
		j->type = JSON_BOOL;
		j->boolean = 1;
		return json_literal(ps, "true");
	case 'f':
		j->type = JSON_BOOL;
		return json_literal(ps, "false");
	case 'n':
		j->type = JSON_NULL;
		return json_literal(ps, "null");
	default:
		j->type = JSON_NUMBER;
		return json_number(ps, &j->number);
	}
}

static void
json_clear(struct json *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		json_clear(&j->items[i]);
		if (j->keys != NULL)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	json_clear(j);
	free(j);
}

int
json_parse(const char *text, size_t len, struct json **out)
{
	struct json_parser ps = { text, text + len };
	struct json *j;
	int r;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return OTG_ERR_NOMEM;
	if ((r = json_value(&ps, j, 0)) == 0) {
		json_skip_ws(&ps);
		if (ps.p != ps.end)
			r = OTG_ERR_PROTO;	/* trailing bytes */
	}
	if (r != 0) {
		json_free(j);
		return r;
	}
	*out = j;
	return 0;
}

const struct json *
json_get(const struct json *obj, const char *key)
{
	size_t i;

	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++) {
		if (obj->keys[i] != NULL && strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	}
	return NULL;
}

const char *
json_get_str(const struct json *obj, const char *key)
{
	const struct json *v = json_get(obj, key);

	return v != NULL && v->type == JSON_STRING ? v->str : NULL;
}
