/*
 * cast_ref.h: the asciicast text encoder as it was before the run-based scan
 * (recorder/cast.c at b146ebc), frozen as the reference that test_cast.c
 * compares the current encoder with, byte for byte. Do not optimise it.
 */
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define REF_MIN_TEXT_RUN 32	/* shorter text between binary bytes stays binary */

enum ref_run { REF_RUN_NONE, REF_RUN_TEXT, REF_RUN_BINARY };

struct ref_encoder {
	struct buf *out;
	const char *code;
	uint64_t t_us;
	enum ref_run run;
	struct buf binary;
};


/* Length of the UTF-8 sequence at p: >0 valid, 0 invalid, -1 a valid start
 * cut by the end of the input. */
static int
ref_utf8_len(const uint8_t *p, size_t avail)
{
	uint8_t lo = 0x80, hi = 0xbf;
	int n, k;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* the second byte's range excludes overlongs, surrogates and > U+10FFFF */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	for (k = 1; k < n; k++) {
		if ((size_t)k >= avail)
			return -1;
		if (p[k] < (k == 1 ? lo : 0x80) || p[k] > (k == 1 ? hi : 0xbf))
			return 0;
	}
	return n;
}

static int
ref_time(struct buf *out, uint64_t t_us)
{
	return buf_printf(out, "[%llu.%06llu, ", (unsigned long long)(t_us / 1000000),
	    (unsigned long long)(t_us % 1000000));
}

static int
ref_end_run(struct ref_encoder *e)
{
	int r = 0;

	if (e->run == REF_RUN_TEXT) {
		r = buf_puts(e->out, "\"]\n");
	} else if (e->run == REF_RUN_BINARY) {
		if ((r = ref_time(e->out, e->t_us)) == 0 &&
		    (r = buf_printf(e->out, "\"%s\", \"", strcmp(e->code, "i") == 0 ? "bi" :
		    "b")) == 0 &&
		    (r = base64_encode(e->out, buf_ptr(&e->binary), buf_len(&e->binary))) == 0)
			r = buf_puts(e->out, "\"]\n");
		buf_reset(&e->binary);
	}
	e->run = REF_RUN_NONE;
	return r;
}

/* The code point of a valid sequence of k bytes when it must be escaped: C1
 * controls and the characters that reorder or hide text (as escape_json). */
static unsigned
ref_escaped_cp(const uint8_t *p, size_t k)
{
	unsigned cp = k == 2 ? (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu) :
	    k == 3 ? (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu) : 0;

	if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f ||
	    cp == 0x061c || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
		return cp;
	return 0;
}

#define REF_ONES 0x0101010101010101ull
#define REF_HIGHS 0x8080808080808080ull

/* Does any of these 8 bytes need a look: non-ASCII, a control, '"', '\\',
 * DEL? Word-at-a-time, since this is the hot path of bulk terminal output. */
static int
ref_word_special(const uint8_t *p)
{
	uint64_t v, quote, slash, del;

	memcpy(&v, p, sizeof(v));
	quote = v ^ (REF_ONES * '"');
	slash = v ^ (REF_ONES * '\\');
	del = v ^ (REF_ONES * 0x7f);
	return ((v | ((v - REF_ONES * 0x20) & ~v) |
	    ((quote - REF_ONES) & ~quote) | ((slash - REF_ONES) & ~slash) |
	    ((del - REF_ONES) & ~del)) & REF_HIGHS) != 0;
}

/* Nonzero when any of these 8 bytes is not ASCII. */
static uint64_t
ref_load_highs(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v & REF_HIGHS;
}

/* Bytes that are all plain ASCII from p[i], eight at a time. */
static size_t
ref_skip_plain(const uint8_t *p, size_t i, size_t n)
{
	while (i + 8 <= n && !ref_word_special(p + i))
		i += 8;
	return i;
}

/* JSON string body of valid UTF-8: what needs no escape is copied in runs. */
static int
ref_json_text(struct buf *out, const uint8_t *p, size_t n)
{
	static const char cast_hex[] = "0123456789abcdef";
	size_t i = 0, run = 0, k, elen;
	unsigned cp;
	char esc[8];
	uint8_t c;
	int r;

	while (i < n) {
		i = ref_skip_plain(p, i, n);
		if (i == n)
			break;
		c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		k = 1;
		cp = c;
		if (c >= 0x80) {
			k = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
			if ((cp = ref_escaped_cp(p + i, k)) == 0) {
				i += k;
				continue;
			}
		}
		/* no printf here: a newline every line of output goes this way */
		esc[0] = '\\';
		esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
		elen = 2;
		if (c != '"' && c != '\\' && c != '\n' && c != '\r' && c != '\t') {
			esc[1] = 'u';
			esc[2] = cast_hex[(cp >> 12) & 15];
			esc[3] = cast_hex[(cp >> 8) & 15];
			esc[4] = cast_hex[(cp >> 4) & 15];
			esc[5] = cast_hex[cp & 15];
			elen = 6;
		}
		if ((r = buf_put(out, p + run, i - run)) != 0 || (r = buf_put(out, esc, elen)) != 0)
			return r;
		i += k;
		run = i;
	}
	return buf_put(out, p + run, i - run);
}

static int
ref_put_text(struct ref_encoder *e, const void *p, size_t n)
{
	int r;

	if (e->run != REF_RUN_TEXT) {
		if ((r = ref_end_run(e)) != 0 || (r = ref_time(e->out, e->t_us)) != 0 ||
		    (r = buf_printf(e->out, "\"%s\", \"", e->code)) != 0)
			return r;
		e->run = REF_RUN_TEXT;
	}
	return ref_json_text(e->out, p, n);
}

static int
ref_put_binary(struct ref_encoder *e, const void *p, size_t n)
{
	int r;

	if (e->run != REF_RUN_BINARY) {
		if ((r = ref_end_run(e)) != 0)
			return r;
		e->run = REF_RUN_BINARY;
	}
	return buf_put(&e->binary, p, n);
}

/* Finish a sequence carried from the previous call with the first bytes of p. */
static int
ref_finish_carry(struct ref_encoder *e, struct cast_text *st, const uint8_t *p,
    size_t len, size_t *used)
{
	int n;

	*used = 0;
	while (st->ncarry > 0) {
		n = ref_utf8_len(st->carry, st->ncarry);
		if (n > 0) {
			st->ncarry = 0;
			return ref_put_text(e, st->carry, (size_t)n);
		}
		if (n == 0) {
			/* only continuation bytes were added: all of it is invalid */
			n = (int)st->ncarry;
			st->ncarry = 0;
			return ref_put_binary(e, st->carry, (size_t)n);
		}
		if (*used == len)
			return 0;	/* still incomplete: keep carrying */
		st->carry[st->ncarry++] = p[(*used)++];
	}
	return 0;
}

static int
ref_text(struct buf *out, struct cast_text *st, const char *code, uint64_t t_us,
    const void *data, size_t len)
{
	struct ref_encoder e = { out, code, t_us, REF_RUN_NONE, { 0 } };
	const uint8_t *p = data;
	size_t i, start;
	int n, r;

	buf_init(&e.binary, REC_MAX_FRAME);
	if ((r = ref_finish_carry(&e, st, p, len, &i)) != 0)
		goto out;
	while (i < len) {
		start = i;
		for (;;) {
			/* ASCII eight bytes at a time, then byte by byte */
			while (i + 8 <= len && !(ref_load_highs(p + i)))
				i += 8;
			while (i < len && p[i] < 0x80)
				i++;
			if (i == len || (n = ref_utf8_len(p + i, len - i)) <= 0)
				break;
			i += (size_t)n;
		}
		/* in binary output a few bytes that happen to be UTF-8 stay binary:
		 * an event per fragment would cost more than the bytes */
		if (i > start && e.run == REF_RUN_BINARY && i - start < REF_MIN_TEXT_RUN &&
		    i < len)
			r = ref_put_binary(&e, p + start, i - start);
		else if (i > start)
			r = ref_put_text(&e, p + start, i - start);
		if (r != 0)
			goto out;
		if (i == len)
			break;
		if (ref_utf8_len(p + i, len - i) < 0) {
			memcpy(st->carry, p + i, len - i);
			st->ncarry = len - i;
			break;
		}
		if ((r = ref_put_binary(&e, p + i, 1)) != 0)
			goto out;
		i++;
	}
	r = ref_end_run(&e);
out:
	buf_free(&e.binary);
	return r;
}

static int
ref_text_flush(struct buf *out, struct cast_text *st, const char *code, uint64_t t_us)
{
	struct ref_encoder e = { out, code, t_us, REF_RUN_NONE, { 0 } };
	int r;

	if (st->ncarry == 0)
		return 0;
	buf_init(&e.binary, 16);
	if ((r = ref_put_binary(&e, st->carry, st->ncarry)) == 0)
		r = ref_end_run(&e);
	st->ncarry = 0;
	buf_free(&e.binary);
	return r;
}

