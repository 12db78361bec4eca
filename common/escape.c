/*
 * escape.c: untrusted text made safe for a log line, a terminal or JSON. A
 * vendor chooses user names, commands, paths and reasons; an attacker can put
 * terminal escapes, invalid UTF-8 or bidi overrides in them to forge log lines
 * or hide text from an auditor. Everything that is not printable UTF-8 comes out
 * as a visible escape.
 */
#include <stdio.h>
#include <string.h>

#include "common/common.h"

/* Decode one UTF-8 sequence at p; its length, or 0 when it is invalid. */
static size_t
escape_utf8_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
	size_t n, k;
	uint32_t v;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		v = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		v = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		v = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[k] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Code points that reorder or hide text: bidi controls and the line separators. */
static int
escape_is_invisible(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200e || cp == 0x200f || cp == 0x061c || cp == 0x2028 ||
	    cp == 0x2029 || cp == 0xfeff;
}

int
escape_text(struct buf *out, const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t i = 0, n;
	uint32_t cp;
	int r = 0;

	while (i < len && r == 0) {
		n = escape_utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			r = buf_printf(out, "\\x%02x", p[i]);
			i++;
			continue;
		}
		if (cp == '\\')
			r = buf_puts(out, "\\\\");
		else if (cp < 0x20 || cp == 0x7f)
			r = buf_printf(out, "\\x%02x", (unsigned)cp);
		else if ((cp >= 0x80 && cp <= 0x9f) || escape_is_invisible(cp))
			r = buf_printf(out, "\\u{%04x}", (unsigned)cp);
		else
			r = buf_put(out, p + i, n);
		i += n;
	}
	return r;
}

const char *
escape_str(char *dst, size_t dstsz, const char *in)
{
	struct buf b;
	size_t n;

	if (dstsz == 0)
		return dst;
	buf_init(&b, BUF_DEFAULT_MAX);
	if (in == NULL || escape_text(&b, in, strlen(in)) != 0) {
		snprintf(dst, dstsz, "%s", in == NULL ? "(null)" : "(unprintable)");
		buf_free(&b);
		return dst;
	}
	n = buf_len(&b);
	if (n < dstsz) {
		memcpy(dst, buf_ptr(&b), n);
		dst[n] = '\0';
	} else if (dstsz > 4) {
		/* cut on a character boundary, then mark the cut */
		n = dstsz - 4;
		while (n > 0 && (buf_ptr(&b)[n] & 0xc0) == 0x80)
			n--;
		memcpy(dst, buf_ptr(&b), n);
		memcpy(dst + n, "...", 4);
	} else {
		dst[0] = '\0';
	}
	buf_free(&b);
	return dst;
}

int
escape_json(struct buf *out, const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t i = 0, n;
	uint32_t cp;
	int r = 0;

	while (i < len && r == 0) {
		n = escape_utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			r = buf_puts(out, "\\ufffd");
			i++;
			continue;
		}
		switch (cp) {
		case '"': r = buf_puts(out, "\\\""); break;
		case '\\': r = buf_puts(out, "\\\\"); break;
		case '\n': r = buf_puts(out, "\\n"); break;
		case '\r': r = buf_puts(out, "\\r"); break;
		case '\t': r = buf_puts(out, "\\t"); break;
		default:
			if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
			    escape_is_invisible(cp))
				r = buf_printf(out, "\\u%04x", (unsigned)cp);
			else
				r = buf_put(out, p + i, n);
		}
		i += n;
	}
	return r;
}
