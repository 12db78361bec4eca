/*
 * transcript.c: what a terminal showed, as plain lines, for the full-text
 * index behind `otgate search`. Escape sequences (CSI, OSC, DCS and the rest)
 * are dropped, carriage return and backspace move the cursor as a terminal
 * would so that retyped or redrawn lines read as displayed, and a line longer
 * than TRANSCRIPT_MAX_LINE is cut into several. The text stays untrusted:
 * whoever prints it escapes it.
 */
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

enum {
	TR_TEXT,
	TR_ESC,		/* after ESC */
	TR_CSI,		/* ESC [ ... final byte */
	TR_STRING,	/* OSC, DCS, APC, PM, SOS: up to BEL or ST */
	TR_STRING_ESC,	/* ESC inside a string: ST is ESC \ */
	TR_CHARSET	/* ESC ( X and friends: one more byte */
};

void
transcript_init(struct transcript *tr, transcript_line_fn *cb, void *arg)
{
	memset(tr, 0, sizeof(*tr));
	tr->cb = cb;
	tr->arg = arg;
}

static void
transcript_emit(struct transcript *tr)
{
	size_t n = tr->len, i = 0;

	while (n > 0 && tr->line[n - 1] == ' ')
		n--;
	while (i < n && tr->line[i] == ' ')
		i++;
	if (n > i)
		tr->cb(tr->arg, tr->t, tr->line + i, n - i);
	tr->len = tr->col = 0;
}

/* Text at the cursor, overwriting what a carriage return left behind; a
 * line that reaches TRANSCRIPT_MAX_LINE is cut there. */
static void
transcript_put(struct transcript *tr, double t, const uint8_t *p, size_t n)
{
	size_t room;

	while (n > 0) {
		if (tr->col >= sizeof(tr->line))
			transcript_emit(tr);
		if (tr->len == 0)
			tr->t = t;
		room = sizeof(tr->line) - tr->col;
		if (room > n)
			room = n;
		memcpy(tr->line + tr->col, p, room);
		tr->col += room;
		if (tr->col > tr->len)
			tr->len = tr->col;
		p += room;
		n -= room;
	}
}

/* Bytes a terminal prints as they are: everything but C0 controls and DEL
 * (UTF-8 sequences pass whole). */
static int
transcript_printable(uint8_t c)
{
	return c >= 0x20 && c != 0x7f;
}

static void
transcript_control(struct transcript *tr, double t, uint8_t c)
{
	switch (c) {
	case '\n':
		transcript_emit(tr);
		break;
	case '\r':
		tr->col = 0;
		break;
	case '\b':
		if (tr->col > 0)
			tr->col--;
		break;
	case '\t':
		transcript_put(tr, t, (const uint8_t *)" ", 1);
		break;
	case 0x1b:
		tr->state = TR_ESC;
		break;
	}
}

/* Whether any of 8 bytes is below 0x20 or DEL (the bit tricks of "Bit
 * Twiddling Hacks": haszero and hasless, exact as a yes/no). */
static int
transcript_control8(const uint8_t *p)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t x, del;

	memcpy(&x, p, sizeof(x));
	del = x ^ (0x7f * ones);
	return (((x - 0x20 * ones) & ~x & high) | ((del - ones) & ~del & high)) != 0;
}

/* Plain text: a run of printable bytes is copied at once, then the one
 * control byte that ended it is applied. */
static const uint8_t *
transcript_text(struct transcript *tr, double t, const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p;

	while (end - q >= 8 && !transcript_control8(q))
		q += 8;
	while (q < end && transcript_printable(*q))
		q++;
	transcript_put(tr, t, p, (size_t)(q - p));
	if (q < end)
		transcript_control(tr, t, *q++);
	return q;
}

static int
transcript_after_esc(uint8_t c)
{
	if (c == '[')
		return TR_CSI;
	if (c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X')
		return TR_STRING;
	if (c == '(' || c == ')' || c == '*' || c == '+' || c == '#' || c == '%')
		return TR_CHARSET;
	return TR_TEXT;
}

/* Inside an escape sequence: skip to its end, which may lie in a later feed. */
static const uint8_t *
transcript_escape(struct transcript *tr, const uint8_t *p, const uint8_t *end)
{
	switch (tr->state) {
	case TR_ESC:
		tr->state = transcript_after_esc(*p++);
		break;
	case TR_CSI:
		while (p < end && (*p < 0x40 || *p > 0x7e))
			p++;
		if (p < end) {
			tr->state = TR_TEXT;
			p++;
		}
		break;
	case TR_STRING:
		while (p < end && *p != 0x07 && *p != 0x1b)
			p++;
		if (p < end)
			tr->state = *p++ == 0x07 ? TR_TEXT : TR_STRING_ESC;
		break;
	case TR_STRING_ESC:
		tr->state = *p++ == '\\' ? TR_TEXT : TR_STRING;
		break;
	default:	/* TR_CHARSET: its one byte */
		tr->state = TR_TEXT;
		p++;
		break;
	}
	return p;
}

void
transcript_feed(struct transcript *tr, double t, const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + len;

	while (p < end)
		p = tr->state == TR_TEXT ? transcript_text(tr, t, p, end) :
		    transcript_escape(tr, p, end);
}

void
transcript_flush(struct transcript *tr)
{
	transcript_emit(tr);
}
