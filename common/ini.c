/*
 * ini.c: the INI-like syntax of otgated.conf and the policy files. It knows
 * lines, sections and key = value pairs, nothing about their meaning; every
 * problem goes to the diag list with its line and column, and parsing goes on so
 * that an admin sees all of them at once.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

static int
ini_add_section(struct ini *ini, const char *kind, size_t kindlen,
    const char *name, size_t namelen, unsigned line, unsigned col)
{
	struct ini_section *s, *v;
	size_t cap;

	if (ini->n == ini->cap) {
		cap = ini->cap ? ini->cap * 2 : 16;
		v = realloc(ini->sections, cap * sizeof(*v));
		if (v == NULL)
			return OTG_ERR_NOMEM;
		ini->sections = v;
		ini->cap = cap;
	}
	s = &ini->sections[ini->n];
	memset(s, 0, sizeof(*s));
	s->file = ini->file;
	s->line = line;
	s->col = col;
	if (kind != NULL && (s->kind = strndup(kind, kindlen)) == NULL)
		return OTG_ERR_NOMEM;
	if (name != NULL && (s->name = strndup(name, namelen)) == NULL) {
		free(s->kind);
		return OTG_ERR_NOMEM;
	}
	ini->n++;
	return 0;
}

static int
ini_add_entry(struct ini_section *s, const char *key, size_t keylen,
    const char *value, size_t valuelen, unsigned line, unsigned col, unsigned vcol)
{
	struct ini_entry *e, *v;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 8;
		v = realloc(s->entries, cap * sizeof(*v));
		if (v == NULL)
			return OTG_ERR_NOMEM;
		s->entries = v;
		s->cap = cap;
	}
	e = &s->entries[s->n];
	e->key = strndup(key, keylen);
	e->value = strndup(value, valuelen);
	if (e->key == NULL || e->value == NULL) {
		free(e->key);
		free(e->value);
		return OTG_ERR_NOMEM;
	}
	e->line = line;
	e->col = col;
	e->vcol = vcol;
	s->n++;
	return 0;
}

static int
ini_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Where a " #" comment starts, or the end of the line. */
static size_t
ini_content_end(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '#' && (i == 0 || ini_is_space(p[i - 1])))
			return i;
	}
	return len;
}

static size_t
ini_rtrim(const char *p, size_t len)
{
	while (len > 0 && ini_is_space(p[len - 1]))
		len--;
	return len;
}

/* Check a line's bytes; report the first bad one. 0 if the line is clean. */
static int
ini_check_bytes(const char *file, const char *p, size_t len, unsigned lineno,
    struct diag *d)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\0') {
			diag_add(d, DIAG_ERROR, file, lineno, (unsigned)i + 1,
			    "NUL byte in line");
			return -1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			diag_add(d, DIAG_ERROR, file, lineno, (unsigned)i + 1,
			    "control character 0x%02x in line", c);
			return -1;
		}
	}
	if (!value_utf8_ok(p, len)) {
		diag_add(d, DIAG_ERROR, file, lineno, 1, "line is not valid UTF-8");
		return -1;
	}
	return 0;
}

static int
ini_section_line(struct ini *ini, const char *p, size_t len, unsigned lineno,
    unsigned col, struct diag *d)
{
	const char *kind, *name = NULL, *q, *end;
	size_t kindlen, namelen = 0;

	end = memchr(p, ']', len);
	if (end == NULL) {
		diag_add(d, DIAG_ERROR, ini->file, lineno, col + (unsigned)len,
		    "expected ']' to close the section header");
		return 0;
	}
	if (ini_rtrim(end + 1, (size_t)(p + len - end - 1)) != 0) {
		diag_add(d, DIAG_ERROR, ini->file, lineno, col + (unsigned)(end - p) + 1,
		    "unexpected text after ']'");
		return 0;
	}
	q = p + 1;
	while (q < end && ini_is_space(*q))
		q++;
	kind = q;
	while (q < end && !ini_is_space(*q))
		q++;
	kindlen = (size_t)(q - kind);
	while (q < end && ini_is_space(*q))
		q++;
	if (q < end) {
		name = q;
		while (q < end && !ini_is_space(*q))
			q++;
		namelen = (size_t)(q - name);
		while (q < end && ini_is_space(*q))
			q++;
	}
	if (kindlen == 0) {
		diag_add(d, DIAG_ERROR, ini->file, lineno, col,
		    "expected a section kind, as in [asset NAME]");
		return 0;
	}
	if (q < end) {
		diag_add(d, DIAG_ERROR, ini->file, lineno, col + (unsigned)(q - p),
		    "expected one name in the section header, as in [asset NAME]");
		return 0;
	}
	return ini_add_section(ini, kind, kindlen, name, namelen, lineno, col);
}

static int
ini_key_line(struct ini *ini, const char *p, size_t len, unsigned lineno,
    unsigned col, struct diag *d)
{
	const char *q = p, *end = p + len, *value;
	size_t keylen;

	while (q < end && (q[0] == '-' || q[0] == '_' || q[0] == '.' ||
	    (q[0] >= 'a' && q[0] <= 'z') || (q[0] >= 'A' && q[0] <= 'Z') ||
	    (q[0] >= '0' && q[0] <= '9')))
		q++;
	keylen = (size_t)(q - p);
	while (q < end && ini_is_space(*q))
		q++;
	if (keylen == 0 || q == end || *q != '=') {
		diag_add(d, DIAG_ERROR, ini->file, lineno, col + (unsigned)(q - p),
		    "expected 'key = value'");
		return 0;
	}
	q++;
	while (q < end && ini_is_space(*q))
		q++;
	value = q;
	return ini_add_entry(&ini->sections[ini->n - 1], p, keylen, value,
	    ini_rtrim(value, (size_t)(end - value)), lineno, col,
	    col + (unsigned)(value - p));
}

static int
ini_line(struct ini *ini, const char *p, size_t len, unsigned lineno,
    struct diag *d)
{
	size_t skip = 0;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > INI_MAX_LINE) {
		diag_add(d, DIAG_ERROR, ini->file, lineno, INI_MAX_LINE + 1,
		    "line too long (at most %d bytes)", INI_MAX_LINE);
		return 0;
	}
	if (ini_check_bytes(ini->file, p, len, lineno, d) != 0)
		return 0;
	while (skip < len && ini_is_space(p[skip]))
		skip++;
	p += skip;
	len = ini_rtrim(p, ini_content_end(p, len - skip));
	if (len == 0)
		return 0;
	if (p[0] == '[')
		return ini_section_line(ini, p, len, lineno, (unsigned)skip + 1, d);
	return ini_key_line(ini, p, len, lineno, (unsigned)skip + 1, d);
}

int
ini_parse(const char *file, const char *text, size_t len, struct diag *d,
    struct ini **out)
{
	struct ini *ini;
	const char *p = text, *nl, *end = text + len;
	size_t before = d->nerrors;
	unsigned lineno = 0;
	int r;

	*out = NULL;
	if ((ini = calloc(1, sizeof(*ini))) == NULL)
		return OTG_ERR_NOMEM;
	if ((ini->file = strdup(file)) == NULL ||
	    ini_add_section(ini, NULL, 0, NULL, 0, 0, 0) != 0) {
		ini_free(ini);
		return OTG_ERR_NOMEM;
	}
	if (len > INI_MAX_FILE) {
		diag_add(d, DIAG_ERROR, file, 0, 0, "file too large (at most %u bytes)",
		    INI_MAX_FILE);
		*out = ini;
		return OTG_ERR_INVAL;
	}
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((r = ini_line(ini, p, (size_t)(nl - p), lineno, d)) != 0) {
			ini_free(ini);
			return r;
		}
		p = nl + 1;
	}
	*out = ini;
	return d->nerrors > before ? OTG_ERR_INVAL : 0;
}

void
ini_free(struct ini *ini)
{
	size_t i, j;

	if (ini == NULL)
		return;
	for (i = 0; i < ini->n; i++) {
		for (j = 0; j < ini->sections[i].n; j++) {
			free(ini->sections[i].entries[j].key);
			free(ini->sections[i].entries[j].value);
		}
		free(ini->sections[i].entries);
		free(ini->sections[i].kind);
		free(ini->sections[i].name);
	}
	free(ini->sections);
	free(ini->file);
	free(ini);
}
