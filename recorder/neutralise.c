/*
 * neutralise.c: a recording may be hostile. Whoever controlled the asset
 * controlled its output, and replaying that output into an auditor's terminal
 * could set the clipboard (OSC 52), retitle the window, make the terminal
 * answer queries into the auditor's input (DSR, DA, title reports, DECRQSS),
 * resize or move windows, or turn on mouse reporting. This filter keeps what
 * draws the screen (text, colours, cursor motion, erasing, scrolling, the
 * alternate screen) and drops the rest: every OSC, DCS, APC, PM and SOS string,
 * CSI sequences outside an allow-list, C1 controls and bytes that are not
 * UTF-8 (shown as U+FFFD). State carries across calls.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

enum {
	NZ_TEXT,
	NZ_C2,		/* after 0xc2: a C1 control may follow */
	NZ_ESC,
	NZ_CSI,
	NZ_CSI_DROP,	/* an over-long CSI sequence, dropped up to its final byte */
	NZ_STRING,	/* OSC/DCS/APC/PM/SOS body, dropped */
	NZ_STRING_ESC,
	NZ_STRING_C2
};

static const char neutralise_replacement[] = "\xef\xbf\xbd";

void
neutralise_init(struct neutralise *n)
{
	memset(n, 0, sizeof(*n));
}

/* Private modes that make the terminal send reports: mouse and focus events. */
static int
neutralise_reporting_mode(const char *params)
{
	const char *p = params;
	long v;
	char *end;

	while (*p != '\0') {
		v = strtol(p, &end, 10);
		if ((v == 9 || (v >= 1000 && v <= 1016)) && end != p)
			return 1;
		p = *end != '\0' ? end + 1 : end;
	}
	return 0;
}

/* Is the CSI sequence "params final" safe to replay? */
static int
neutralise_csi_ok(const char *params, size_t n, char final)
{
	static const char allowed[] = "@ABCDEFGHIJKLMPSTXZ`abdefghlmrsu";
	int private = n > 0 && (params[0] == '?' || params[0] == '>' || params[0] == '=' ||
	    params[0] == '<');

	if (final == 'q')	/* only DECSCUSR, the cursor shape: CSI n SP q */
		return n > 0 && params[n - 1] == ' ' && !private;
	if (strchr(allowed, final) == NULL)
		return 0;
	if (private && params[0] != '?')
		return 0;
	if (memchr(params, '$', n) != NULL || memchr(params, '"', n) != NULL ||
	    memchr(params, '\'', n) != NULL)
		return 0;
	if (private && final != 'h' && final != 'l')
		return 0;
	if (private && neutralise_reporting_mode(params + 1))
		return 0;
	return 1;
}

static int
neutralise_text(struct neutralise *nz, struct buf *out, uint8_t c)
{
	if (nz->need > 0) {
		if (c >= 0x80 && c <= 0xbf) {
			nz->need--;
			return buf_putc(out, c);
		}
		nz->need = 0;	/* a cut sequence; the terminal shows its own U+FFFD */
	}
	if (c == 0x1b) {
		nz->state = NZ_ESC;
		return 0;
	}
	if (c < 0x20) {
		/* BEL, BS, TAB, LF, VT, FF, CR draw; SO/SI and the rest do not */
		return c >= 0x07 && c <= 0x0d ? buf_putc(out, c) : 0;
	}
	if (c < 0x80)
		return buf_putc(out, c);
	if (c == 0xc2) {
		nz->state = NZ_C2;
		return 0;
	}
	if (c >= 0xc3 && c <= 0xf4) {
		nz->need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
		return buf_putc(out, c);
	}
	return buf_puts(out, neutralise_replacement);
}

static int
neutralise_byte(struct neutralise *nz, struct buf *out, uint8_t c)
{
	int r;

	switch (nz->state) {
	case NZ_TEXT:
		return neutralise_text(nz, out, c);
	case NZ_C2:
		nz->state = NZ_TEXT;
		if (c >= 0x80 && c <= 0x9f)
			return 0;	/* a C1 control, e.g. U+009B CSI */
		if (c >= 0xa0 && c <= 0xbf) {
			if ((r = buf_putc(out, 0xc2)) != 0)
				return r;
			return buf_putc(out, c);
		}
		if ((r = buf_puts(out, neutralise_replacement)) != 0)
			return r;
		return neutralise_text(nz, out, c);
	case NZ_ESC:
		nz->state = NZ_TEXT;
		if (c == '[') {
			nz->state = NZ_CSI;
			nz->ncsi = 0;
			return 0;
		}
		if (c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X') {
			nz->state = NZ_STRING;
			return 0;
		}
		if (c < 0x20 || c >= 0x7f)
			return neutralise_text(nz, out, c);
		if (c == 'Z')
			return 0;	/* DECID: the terminal would identify itself */
		if ((r = buf_putc(out, 0x1b)) != 0)
			return r;
		return buf_putc(out, c);
	case NZ_CSI:
	case NZ_CSI_DROP:
		if (c >= 0x40 && c <= 0x7e) {
			if (nz->state == NZ_CSI_DROP ||
			    !neutralise_csi_ok(nz->csi, nz->ncsi, (char)c)) {
				nz->state = NZ_TEXT;
				return 0;
			}
			nz->state = NZ_TEXT;
			if ((r = buf_puts(out, "\x1b[")) != 0 ||
			    (r = buf_put(out, nz->csi, nz->ncsi)) != 0)
				return r;
			return buf_putc(out, c);
		}
		if (c >= 0x20 && c <= 0x3f) {
			if (nz->ncsi + 1 >= sizeof(nz->csi))
				nz->state = NZ_CSI_DROP;
			else {
				nz->csi[nz->ncsi++] = (char)c;
				nz->csi[nz->ncsi] = '\0';
			}
			return 0;
		}
		/* anything else cancels the sequence */
		nz->state = NZ_TEXT;
		return neutralise_text(nz, out, c);
	case NZ_STRING:
		if (c == 0x07 || c == 0x18 || c == 0x1a)
			nz->state = NZ_TEXT;
		else if (c == 0x1b)
			nz->state = NZ_STRING_ESC;
		else if (c == 0xc2)
			nz->state = NZ_STRING_C2;
		return 0;
	case NZ_STRING_ESC:
		if (c == '\\') {
			nz->state = NZ_TEXT;
			return 0;
		}
		/* ESC that is not ST ends the string and starts a new sequence */
		nz->state = NZ_ESC;
		return neutralise_byte(nz, out, c);
	case NZ_STRING_C2:
		nz->state = c == 0x9c ? NZ_TEXT : NZ_STRING;
		return 0;
	default:
		nz->state = NZ_TEXT;
		return 0;
	}
}

int
neutralise_feed(struct neutralise *nz, struct buf *out, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;
	int r;

	for (i = 0; i < len; i++) {
		if ((r = neutralise_byte(nz, out, p[i])) != 0)
			return r;
	}
	return 0;
}
