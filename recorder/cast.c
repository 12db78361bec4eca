/*
 * cast.c: asciicast v2, the format of pty recordings, so that `asciinema play`
 * and the web player read them as they are. Writing keeps terminal bytes exact:
 * valid UTF-8 goes into "o"/"i" events, anything else into base64 "b"/"bi"
 * events (players ignore codes they do not know), and a character split
 * between two reads is carried to the next event instead of being mangled.
 * Reading takes hostile files: bounded lines, strict event shapes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/common.h"
#include "recorder/recorder.h"

#define CAST_MIN_TEXT_RUN 32	/* shorter text between binary bytes stays binary */

enum cast_run { RUN_NONE, RUN_TEXT, RUN_BINARY };

struct cast_encoder {
	struct buf *out;
	const char *code;
	uint64_t t_us;
	enum cast_run run;
	struct buf binary;
};

struct cast_reader {
	struct recline lines;
	struct cast_header_info info;
	struct buf data;
};

/* Length of the UTF-8 sequence at p: >0 valid, 0 invalid, -1 a valid start
 * cut by the end of the input. */
static int
cast_utf8_len(const uint8_t *p, size_t avail)
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
cast_time(struct buf *out, uint64_t t_us)
{
	return buf_printf(out, "[%llu.%06llu, ", (unsigned long long)(t_us / 1000000),
	    (unsigned long long)(t_us % 1000000));
}

static int
cast_end_run(struct cast_encoder *e)
{
	int r = 0;

	if (e->run == RUN_TEXT) {
		r = buf_puts(e->out, "\"]\n");
	} else if (e->run == RUN_BINARY) {
		if ((r = cast_time(e->out, e->t_us)) == 0 &&
		    (r = buf_printf(e->out, "\"%s\", \"", strcmp(e->code, "i") == 0 ? "bi" :
		    "b")) == 0 &&
		    (r = base64_encode(e->out, buf_ptr(&e->binary), buf_len(&e->binary))) == 0)
			r = buf_puts(e->out, "\"]\n");
		buf_reset(&e->binary);
	}
	e->run = RUN_NONE;
	return r;
}

/* The code point of a valid sequence of k bytes when it must be escaped: C1
 * controls and the characters that reorder or hide text (as escape_json). */
static unsigned
cast_escaped_cp(const uint8_t *p, size_t k)
{
	unsigned cp = k == 2 ? (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu) :
	    k == 3 ? (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu) : 0;

	if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f ||
	    cp == 0x061c || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
		return cp;
	return 0;
}

/*
 * The hot path of bulk terminal output: find the next byte that needs a look
 * (not ASCII; or, in JSON text, a control, '"', '\\' or DEL) with a scan of
 * 16 bytes at a time (SSE2, every x86-64) or 8 (any other CPU), so that the
 * runs between such bytes are validated and copied whole.
 */
static int
cast_plain(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

#if defined(__SSE2__)
/* The first byte from p[i] that is not ASCII, or n. */
static size_t
cast_skip_ascii(const uint8_t *p, size_t i, size_t n)
{
	unsigned m;

	for (; i + 16 <= n; i += 16) {
		m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const void *)(p + i)));
		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
	while (i < n && p[i] < 0x80)
		i++;
	return i;
}

/* The first byte from p[i] that is not cast_plain, or n. */
static size_t
cast_skip_plain(const uint8_t *p, size_t i, size_t n)
{
	const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
	    slash = _mm_set1_epi8('\\'), del = _mm_set1_epi8(0x7f);
	__m128i v;
	unsigned m;

	for (; i + 16 <= n; i += 16) {
		v = _mm_loadu_si128((const void *)(p + i));
		/* signed: bytes >= 0x80 are below 0x20 too */
		m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v,
		    space), _mm_cmpeq_epi8(v, quote)), _mm_or_si128(_mm_cmpeq_epi8(v, slash),
		    _mm_cmpeq_epi8(v, del))));
		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
	while (i < n && cast_plain(p[i]))
		i++;
	return i;
}
#else
#define CAST_ONES 0x0101010101010101ull
#define CAST_HIGHS 0x8080808080808080ull

/* Nonzero when any of these 8 bytes is not cast_plain (bytes equal to b
 * show as (x - ONES) & ~x with x = v ^ b; below 0x20 as (v - 0x20...) & ~v). */
static uint64_t
cast_word_special(uint64_t v)
{
	uint64_t quote = v ^ (CAST_ONES * '"'), slash = v ^ (CAST_ONES * '\\'),
	    del = v ^ (CAST_ONES * 0x7f);

	return (v | ((v - CAST_ONES * 0x20) & ~v) | ((quote - CAST_ONES) & ~quote) |
	    ((slash - CAST_ONES) & ~slash) | ((del - CAST_ONES) & ~del)) & CAST_HIGHS;
}

static size_t
cast_skip_ascii(const uint8_t *p, size_t i, size_t n)
{
	uint64_t v;

	for (; i + 8 <= n; i += 8) {
		memcpy(&v, p + i, sizeof(v));
		if ((v & CAST_HIGHS) != 0)
			break;
	}
	while (i < n && p[i] < 0x80)
		i++;
	return i;
}

static size_t
cast_skip_plain(const uint8_t *p, size_t i, size_t n)
{
	uint64_t v;

	for (; i + 8 <= n; i += 8) {
		memcpy(&v, p + i, sizeof(v));
		if (cast_word_special(v) != 0)
			break;
	}
	while (i < n && cast_plain(p[i]))
		i++;
	return i;
}
#endif

/* Output gathered in a small buffer, so that the run and escape of each line
 * of text cost two memcpy and not two buf_put (a newline every ~80 bytes). */
struct cast_stage {
	struct buf *out;
	size_t len;
	uint8_t data[4096];
};

static int
cast_stage_flush(struct cast_stage *s)
{
	size_t n = s->len;

	s->len = 0;
	return buf_put(s->out, s->data, n);
}

static int
cast_stage_put(struct cast_stage *s, const void *p, size_t n)
{
	int r;

	if (n > sizeof(s->data) - s->len) {
		if ((r = cast_stage_flush(s)) != 0)
			return r;
		if (n > sizeof(s->data))
			return buf_put(s->out, p, n);
	}
	memcpy(s->data + s->len, p, n);
	s->len += n;
	return 0;
}

/* The JSON escape of byte c (code point cp when escaped as \uXXXX) into esc[6]. */
static size_t
cast_escape(uint8_t c, unsigned cp, char *esc)
{
	static const char cast_hex[] = "0123456789abcdef";

	esc[0] = '\\';
	esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
	if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
		return 2;
	esc[1] = 'u';
	esc[2] = cast_hex[(cp >> 12) & 15];
	esc[3] = cast_hex[(cp >> 8) & 15];
	esc[4] = cast_hex[(cp >> 4) & 15];
	esc[5] = cast_hex[cp & 15];
	return 6;
}

/* JSON string body of valid UTF-8: what needs no escape is copied in runs. */
static int
cast_json_text(struct buf *out, const uint8_t *p, size_t n)
{
	struct cast_stage s;
	size_t i = 0, run = 0, k;
	unsigned cp;
	char esc[6];
	int r;

	s.out = out;
	s.len = 0;
	while (i < n) {
		if ((i = cast_skip_plain(p, i, n)) == n)
			break;
		k = 1;
		cp = p[i];
		if (p[i] >= 0x80) {
			k = p[i] < 0xe0 ? 2 : p[i] < 0xf0 ? 3 : 4;
			if ((cp = cast_escaped_cp(p + i, k)) == 0) {
				i += k;
				continue;
			}
		}
		if ((r = cast_stage_put(&s, p + run, i - run)) != 0 ||
		    (r = cast_stage_put(&s, esc, cast_escape(p[i], cp, esc))) != 0)
			return r;
		i += k;
		run = i;
	}
	if ((r = cast_stage_put(&s, p + run, i - run)) != 0)
		return r;
	return cast_stage_flush(&s);
}

static int
cast_put_text(struct cast_encoder *e, const void *p, size_t n)
{
	int r;

	if (e->run != RUN_TEXT) {
		if ((r = cast_end_run(e)) != 0 || (r = cast_time(e->out, e->t_us)) != 0 ||
		    (r = buf_printf(e->out, "\"%s\", \"", e->code)) != 0)
			return r;
		e->run = RUN_TEXT;
	}
	return cast_json_text(e->out, p, n);
}

static int
cast_put_binary(struct cast_encoder *e, const void *p, size_t n)
{
	int r;

	if (e->run != RUN_BINARY) {
		if ((r = cast_end_run(e)) != 0)
			return r;
		e->run = RUN_BINARY;
	}
	return buf_put(&e->binary, p, n);
}

/* The end of the valid UTF-8 from p[i]: ASCII runs skipped whole. */
static size_t
cast_valid_end(const uint8_t *p, size_t i, size_t n)
{
	int k;

	while ((i = cast_skip_ascii(p, i, n)) < n && (k = cast_utf8_len(p + i, n - i)) > 0)
		i += (size_t)k;
	return i;
}

/* Finish a sequence carried from the previous call with the first bytes of p. */
static int
cast_finish_carry(struct cast_encoder *e, struct cast_text *st, const uint8_t *p,
    size_t len, size_t *used)
{
	int n;

	*used = 0;
	while (st->ncarry > 0) {
		n = cast_utf8_len(st->carry, st->ncarry);
		if (n > 0) {
			st->ncarry = 0;
			return cast_put_text(e, st->carry, (size_t)n);
		}
		if (n == 0) {
			/* only continuation bytes were added: all of it is invalid */
			n = (int)st->ncarry;
			st->ncarry = 0;
			return cast_put_binary(e, st->carry, (size_t)n);
		}
		if (*used == len)
			return 0;	/* still incomplete: keep carrying */
		st->carry[st->ncarry++] = p[(*used)++];
	}
	return 0;
}

int
cast_text(struct buf *out, struct cast_text *st, const char *code, uint64_t t_us,
    const void *data, size_t len)
{
	struct cast_encoder e = { out, code, t_us, RUN_NONE, { 0 } };
	const uint8_t *p = data;
	size_t i, start;
	int r;

	buf_init(&e.binary, REC_MAX_FRAME);
	if ((r = cast_finish_carry(&e, st, p, len, &i)) != 0)
		goto out;
	while (i < len) {
		start = i;
		i = cast_valid_end(p, i, len);
		/* in binary output a few bytes that happen to be UTF-8 stay binary:
		 * an event per fragment would cost more than the bytes */
		if (i > start && e.run == RUN_BINARY && i - start < CAST_MIN_TEXT_RUN &&
		    i < len)
			r = cast_put_binary(&e, p + start, i - start);
		else if (i > start)
			r = cast_put_text(&e, p + start, i - start);
		if (r != 0)
			goto out;
		if (i == len)
			break;
		if (cast_utf8_len(p + i, len - i) < 0) {
			memcpy(st->carry, p + i, len - i);
			st->ncarry = len - i;
			break;
		}
		/* a run of invalid bytes goes to the binary event whole */
		start = i++;
		while (i < len && cast_utf8_len(p + i, len - i) == 0)
			i++;
		if ((r = cast_put_binary(&e, p + start, i - start)) != 0)
			goto out;
	}
	r = cast_end_run(&e);
out:
	buf_free(&e.binary);
	return r;
}

int
cast_text_flush(struct buf *out, struct cast_text *st, const char *code, uint64_t t_us)
{
	struct cast_encoder e = { out, code, t_us, RUN_NONE, { 0 } };
	int r;

	if (st->ncarry == 0)
		return 0;
	buf_init(&e.binary, 16);
	if ((r = cast_put_binary(&e, st->carry, st->ncarry)) == 0)
		r = cast_end_run(&e);
	st->ncarry = 0;
	buf_free(&e.binary);
	return r;
}

int
cast_event(struct buf *out, uint64_t t_us, const char *code, const char *text)
{
	int r;

	if ((r = cast_time(out, t_us)) != 0 || (r = buf_printf(out, "\"%s\", \"", code)) != 0 ||
	    (r = escape_json(out, text, strlen(text))) != 0)
		return r;
	return buf_puts(out, "\"]\n");
}

static int
cast_json_field(struct buf *out, const char *key, const char *value, int comma)
{
	int r;

	if ((r = buf_printf(out, "%s\"%s\": \"", comma ? ", " : "", key)) != 0 ||
	    (r = escape_json(out, value != NULL ? value : "", value != NULL ?
	    strlen(value) : 0)) != 0)
		return r;
	return buf_putc(out, '"');
}

int
cast_header(struct buf *out, const struct rec_meta *m)
{
	int r;

	if ((r = buf_printf(out, "{\"version\": 2, \"width\": %u, \"height\": %u, "
	    "\"timestamp\": %lld, ", m->width ? m->width : 80, m->height ? m->height : 24,
	    (long long)m->start)) != 0 ||
	    (r = cast_json_field(out, "command", m->command, 0)) != 0 ||
	    (r = cast_json_field(out, "title", m->title, 1)) != 0 ||
	    (r = buf_puts(out, ", \"env\": {")) != 0 ||
	    (r = cast_json_field(out, "TERM", m->term != NULL ? m->term : "xterm", 0)) != 0 ||
	    (r = cast_json_field(out, "SHELL", "/bin/sh", 1)) != 0 ||
	    (r = buf_puts(out, "}, \"otgate\": {")) != 0 ||
	    (r = cast_json_field(out, "session", m->session, 0)) != 0 ||
	    (r = cast_json_field(out, "conn", m->conn, 1)) != 0 ||
	    (r = cast_json_field(out, "user", m->user, 1)) != 0 ||
	    (r = cast_json_field(out, "company", m->company, 1)) != 0 ||
	    (r = cast_json_field(out, "asset", m->asset, 1)) != 0 ||
	    (r = cast_json_field(out, "src", m->src, 1)) != 0 ||
	    (r = cast_json_field(out, "kind", m->kind, 1)) != 0 ||
	    (r = cast_json_field(out, "policy", m->policy, 1)) != 0)
		return r;
	return buf_puts(out, "}}\n");
}

static int
cast_dimension(const struct json *j, unsigned *out)
{
	if (j == NULL || j->type != JSON_NUMBER || j->number < 1 || j->number > 10000 ||
	    j->number != floor(j->number))
		return OTG_ERR_PROTO;
	*out = (unsigned)j->number;
	return 0;
}

int
cast_reader_open(FILE *fp, struct cast_reader **out)
{
	struct cast_reader *r;
	const struct json *v;
	const char *line;
	size_t len;
	int complete, err;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return OTG_ERR_NOMEM;
	recline_init(&r->lines, fp);
	buf_init(&r->data, REC_MAX_LINE);
	if ((err = recline_next(&r->lines, &line, &len, &complete)) != 0) {
		if (err == 1)
			err = OTG_ERR_TRUNCATED;
		goto out;
	}
	if ((err = json_parse(line, len, &r->info.header)) != 0)
		goto out;
	err = OTG_ERR_PROTO;
	v = json_get(r->info.header, "version");
	if (v == NULL || v->type != JSON_NUMBER || v->number != 2)
		goto out;
	if (cast_dimension(json_get(r->info.header, "width"), &r->info.width) != 0 ||
	    cast_dimension(json_get(r->info.header, "height"), &r->info.height) != 0)
		goto out;
	v = json_get(r->info.header, "timestamp");
	if (v != NULL && v->type == JSON_NUMBER)
		r->info.timestamp = v->number;
	v = json_get(r->info.header, "otgate");
	r->info.otgate = v != NULL && v->type == JSON_OBJECT ? v : NULL;
	*out = r;
	return 0;
out:
	cast_reader_free(r);
	return err;
}

const struct cast_header_info *
cast_reader_header(const struct cast_reader *r)
{
	return &r->info;
}

unsigned long
cast_reader_line(const struct cast_reader *r)
{
	return r->lines.n;
}

int
cast_reader_next(struct cast_reader *r, struct cast_event *ev)
{
	struct json *j = NULL;
	const char *line;
	size_t len;
	int complete, err;

	if ((err = recline_next(&r->lines, &line, &len, &complete)) != 0)
		return err;
	if (!complete)
		return OTG_ERR_TRUNCATED;
	if ((err = json_parse(line, len, &j)) != 0)
		goto out;
	err = OTG_ERR_PROTO;
	if (j->type != JSON_ARRAY || j->n != 3 || j->items[0].type != JSON_NUMBER ||
	    j->items[0].number < 0 || j->items[1].type != JSON_STRING ||
	    j->items[2].type != JSON_STRING)
		goto out;
	memset(ev, 0, sizeof(*ev));
	ev->t = j->items[0].number;
	if (j->items[1].len < sizeof(ev->code) && strlen(j->items[1].str) == j->items[1].len)
		memcpy(ev->code, j->items[1].str, j->items[1].len + 1);
	else
		memcpy(ev->code, "?", 2);
	buf_reset(&r->data);
	if (strcmp(ev->code, "b") == 0 || strcmp(ev->code, "bi") == 0)
		err = base64_decode(j->items[2].str, j->items[2].len, &r->data);
	else
		err = buf_put(&r->data, j->items[2].str, j->items[2].len);
	if (err != 0)
		goto out;
	ev->data = r->data.data != NULL ? r->data.data + r->data.off : (const uint8_t *)"";
	ev->len = buf_len(&r->data);
	err = 0;
out:
	json_free(j);
	return err;
}

void
cast_reader_free(struct cast_reader *r)
{
	if (r == NULL)
		return;
	json_free(r->info.header);
	recline_free(&r->lines);
	buf_free(&r->data);
	free(r);
}
