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

static void
transcript_put(struct transcript *tr, double t, char c)
{
	if (tr->col >= sizeof(tr->line))
		transcript_emit(tr);
	if (tr->len == 0)
		tr->t = t;
	tr->line[tr->col++] = c;
	if (tr->col > tr->len)
		tr->len = tr->col;
}

static void
transcript_text(struct transcript *tr, double t, uint8_t c)
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
		transcript_put(tr, t, ' ');
		break;
	case 0x1b:
		tr->state = TR_ESC;
		break;
	default:
		if (c >= 0x20 && c != 0x7f)
			transcript_put(tr, t, (char)c);
	}
}

void
transcript_feed(struct transcript *tr, double t, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		switch (tr->state) {
		case TR_TEXT:
			transcript_text(tr, t, p[i]);
			break;
		case TR_ESC:
			if (p[i] == '[')
				tr->state = TR_CSI;
			else if (p[i] == ']' || p[i] == 'P' || p[i] == '_' || p[i] == '^' ||
			    p[i] == 'X')
				tr->state = TR_STRING;
			else if (p[i] == '(' || p[i] == ')' || p[i] == '*' || p[i] == '+' ||
			    p[i] == '#' || p[i] == '%')
				tr->state = TR_CHARSET;
			else
				tr->state = TR_TEXT;
			break;
		case TR_CSI:
			if (p[i] >= 0x40 && p[i] <= 0x7e)
				tr->state = TR_TEXT;
			break;
		case TR_STRING:
			if (p[i] == 0x07)
				tr->state = TR_TEXT;
			else if (p[i] == 0x1b)
				tr->state = TR_STRING_ESC;
			break;
		case TR_STRING_ESC:
			tr->state = p[i] == '\\' ? TR_TEXT : TR_STRING;
			break;
		default:
			tr->state = TR_TEXT;
			break;
		}
	}
}

void
transcript_flush(struct transcript *tr)
{
	transcript_emit(tr);
}
