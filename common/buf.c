/*
 * buf.c: the one buffer type that untrusted bytes go through. Reads and writes
 * are bounds-checked and return errors; a buffer never grows past its max, so a
 * peer cannot make it eat memory.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_free(struct buf *b)
{
	if (b->data != NULL) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	buf_init(b, b->max);
}

void
buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

size_t
buf_len(const struct buf *b)
{
	return b->len - b->off;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	static const uint8_t empty[1];

	return b->data != NULL ? b->data + b->off : empty;	/* never NULL + 0 */
}

/* Make room for n more bytes: first by moving unread bytes down, then by growing. */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *d;

	if (n > b->max || buf_len(b) > b->max - n)
		return OTG_ERR_TOOBIG;
	if (b->cap - b->len >= n)
		return 0;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, buf_len(b));
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return 0;
	}
	need = b->len + n;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	if ((d = malloc(cap)) == NULL)
		return OTG_ERR_NOMEM;
	if (b->data != NULL) {
		memcpy(d, b->data, b->len);
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = d;
	b->cap = cap;
	return 0;
}

int
buf_put(struct buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = buf_reserve(b, n)) != 0)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_putc(struct buf *b, int c)
{
	uint8_t ch = (uint8_t)c;

	return buf_put(b, &ch, 1);
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_put(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return OTG_ERR_INVAL;
	if ((r = buf_reserve(b, (size_t)n + 1)) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
	    (uint8_t)v };

	return buf_put(b, p, sizeof(p));
}

/* One code point as UTF-8 (1 to 4 bytes); the caller checks its range. */
int
buf_put_utf8(struct buf *b, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_put(b, u, n);
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	int r;

	if ((r = buf_put_u32(b, (uint32_t)(v >> 32))) != 0)
		return r;
	return buf_put_u32(b, (uint32_t)v);
}

int
buf_get(struct buf *b, void *p, size_t n)
{
	if (n > buf_len(b))
		return OTG_ERR_TRUNCATED;
	if (p != NULL)
		memcpy(p, b->data + b->off, n);
	b->off += n;
	return 0;
}

int
buf_consume(struct buf *b, size_t n)
{
	return buf_get(b, NULL, n);
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get(b, v, 1);
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	uint8_t p[4];
	int r;

	if ((r = buf_get(b, p, sizeof(p))) != 0)
		return r;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	uint32_t hi, lo;

	if (buf_len(b) < 8)	/* all or nothing */
		return OTG_ERR_TRUNCATED;
	(void)buf_get_u32(b, &hi);
	(void)buf_get_u32(b, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

char *
buf_strdup(const struct buf *b)
{
	char *s;

	if ((s = malloc(buf_len(b) + 1)) == NULL)
		return NULL;
	memcpy(s, buf_ptr(b), buf_len(b));
	s[buf_len(b)] = '\0';
	return s;
}
