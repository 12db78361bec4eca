/*
 * screen.c: the screen a pty session's vendor sees, kept as a libvterm model
 * fed with the asset's output, so that `otgate watch` can start from the
 * current screen instead of replaying the session from its first byte.
 * screen_render turns the model into one sequence that redraws it on any
 * terminal: reset, clear, every non-blank cell with its attributes, the cursor.
 *
 * Memory: libvterm keeps 36 bytes a cell, twice when the alternate screen is
 * enabled. The alternate buffer is therefore enabled only once the output
 * asks for it (CSI ? 47/1047/1049 h, found by a small scan ahead of libvterm),
 * and the model is never larger than SCREEN_ROWS_MAX x SCREEN_COLS_MAX
 * whatever size the vendor's client claims. libvterm 0.1.4 crashes or hangs
 * on some output after vterm_set_size, with a single column, and on REP
 * (repeat the last character) after a resize (found by fuzzing): a model has
 * one size for life (watch.c builds a new one on a resize), at least two
 * columns; the scan turns REP into a sequence libvterm ignores (the rebuilt
 * screen lacks its repeats; the live output keeps them) and cancels CSI
 * sequences with more arguments than libvterm has room for. Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vterm.h>

#include "broker/broker.h"

/* SCAN_STRING: an OSC, DCS, SOS, PM or APC string, to BEL or ESC */
enum { SCAN_TEXT, SCAN_ESC, SCAN_CSI, SCAN_CSI_DROP, SCAN_STRING };

/* libvterm 0.1.4 writes a CSI sequence's 17th argument past its array of 16
 * (heap corruption, found by fuzzing): longer ones never reach it. */
#define SCREEN_CSI_SEPARATORS_MAX 15
#define SCREEN_CSI_DIGITS_MAX 9	/* no argument overflows a long either */

struct screen {
	VTerm *vt;
	VTermScreen *vs;
	int rows, cols;
	int cursor_visible;
	int alt_enabled;
	int scan;		/* SCAN_*: where the scan ahead of libvterm is */
	char params[32];	/* of the CSI sequence being scanned */
	size_t nparams;
	unsigned nseparators, ndigits;	/* in it so far, in its last argument */
	int after_c2;		/* 0xc2 seen, no text byte since */
};

static int
screen_settermprop_cb(VTermProp prop, VTermValue *val, void *arg)
{
	struct screen *sc = arg;

	if (prop == VTERM_PROP_CURSORVISIBLE)
		sc->cursor_visible = val->boolean;
	return 1;
}

/* Answers to queries (DA, DSR) would go to the asset: nobody wants them. */
static void
screen_output_cb(const char *s, size_t len, void *arg)
{
	(void)s;
	(void)len;
	(void)arg;
}

static const VTermScreenCallbacks screen_callbacks = {
	.settermprop = screen_settermprop_cb,
};

/* libvterm 0.1.4 crashes on some input with a single column: two at least. */
static void
screen_clamp(int *rows, int *cols)
{
	*rows = *rows < 1 ? 24 : *rows < 2 ? 2 : *rows > SCREEN_ROWS_MAX ? SCREEN_ROWS_MAX :
	    *rows;
	*cols = *cols < 1 ? 80 : *cols < 2 ? 2 : *cols > SCREEN_COLS_MAX ? SCREEN_COLS_MAX :
	    *cols;
}

int
screen_new(int rows, int cols, struct screen **out)
{
	struct screen *sc;

	*out = NULL;
	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return OTG_ERR_NOMEM;
	screen_clamp(&rows, &cols);
	if ((sc->vt = vterm_new(rows, cols)) == NULL) {
		free(sc);
		return OTG_ERR_NOMEM;
	}
	sc->rows = rows;
	sc->cols = cols;
	sc->cursor_visible = 1;
	vterm_set_utf8(sc->vt, 1);
	vterm_output_set_callback(sc->vt, screen_output_cb, NULL);
	sc->vs = vterm_obtain_screen(sc->vt);
	vterm_screen_set_callbacks(sc->vs, &screen_callbacks, sc);
	vterm_screen_reset(sc->vs, 1);
	*out = sc;
	return 0;
}

void
screen_free(struct screen *sc)
{
	if (sc == NULL)
		return;
	vterm_free(sc->vt);
	free(sc);
}

/* Does "?47;1049" (a DECSET's parameters) switch to the alternate screen? */
static int
screen_alt_params(const char *p)
{
	long v;
	char *end;

	if (*p++ != '?')
		return 0;
	while (*p != '\0') {
		v = strtol(p, &end, 10);
		if (end != p && (v == 47 || v == 1047 || v == 1049))
			return 1;
		p = *end != '\0' ? end + 1 : end;
	}
	return 0;
}

/* REP (CSI Ps b) loops forever in libvterm 0.1.4 when the character it
 * repeats has width 0 (seen after a resize): the model never gets one. */
static int
screen_rep(const char *params)
{
	return strspn(params, "0123456789;:") == strlen(params);
}

/* A CSI parameter byte: 1 when the sequence grew too long for libvterm. */
static int
screen_csi_param(struct screen *sc, uint8_t c)
{
	if (sc->nparams < sizeof(sc->params) - 1)
		sc->params[sc->nparams++] = (char)c;
	if (c == ';' || c == ':') {
		sc->nseparators++;
		sc->ndigits = 0;
	} else if (c >= '0' && c <= '9') {
		sc->ndigits++;
	}
	return sc->nseparators > SCREEN_CSI_SEPARATORS_MAX ||
	    sc->ndigits > SCREEN_CSI_DIGITS_MAX;
}

/* The end of a CSI sequence: 1 when it asks for the alternate screen; a
 * REP's final byte becomes '~', which libvterm ignores. */
static int
screen_csi_final(struct screen *sc, uint8_t *c)
{
	sc->params[sc->nparams] = '\0';
	if (*c == 'b' && screen_rep(sc->params))
		*c = '~';
	return *c == 'h' && screen_alt_params(sc->params);
}

/* The scan ahead of libvterm over p (a copy it may change): 1 when it asks
 * for the alternate screen. It follows libvterm's parser: C0 controls inside
 * a sequence run without ending it, CAN and SUB cancel it, the escape state
 * outlasts C0, intermediates and bytes past 0x7e. A CSI sequence too long
 * for libvterm is cancelled (CAN) and the rest of it blanked out with CAN.
 * A C1 control spelt in UTF-8 (U+0080-U+009F) becomes U+00A0: libvterm 0.1.4
 * prints it with width -1, moving the cursor left past column 0 (found by
 * fuzzing), and completes its two bytes across C0 controls, sequences and
 * strings; a terminal would show nothing, the watcher sees a space. A string
 * ends here only at BEL or ESC, never sooner than in libvterm, so its bytes
 * never count as text that would end a pending 0xc2. */
static int
screen_scan(struct screen *sc, uint8_t *p, size_t len)
{
	size_t i;
	int want = 0;

	for (i = 0; i < len; i++) {
		if (sc->after_c2 && p[i] >= 0x80 && p[i] <= 0x9f)
			p[i] = 0xa0;
		if (p[i] == 0xc2)
			sc->after_c2 = 1;
		else if (p[i] >= 0x20 && sc->scan == SCAN_TEXT)
			sc->after_c2 = 0;	/* controls and sequences keep it */
		if (p[i] == 0x1b) {
			sc->scan = SCAN_ESC;
		} else if (sc->scan == SCAN_STRING) {
			if (p[i] == 0x07)
				sc->scan = SCAN_TEXT;
		} else if (p[i] == 0x18 || p[i] == 0x1a) {
			sc->scan = SCAN_TEXT;
		} else if (sc->scan == SCAN_ESC) {
			if (p[i] == '[')
				sc->scan = SCAN_CSI;
			else if (p[i] != 0 && strchr("]PX^_", p[i]) != NULL)
				sc->scan = SCAN_STRING;
			else if (p[i] >= 0x30 && p[i] <= 0x7e)
				sc->scan = SCAN_TEXT;
			sc->nparams = sc->nseparators = sc->ndigits = 0;
		} else if (sc->scan == SCAN_CSI_DROP && p[i] >= 0x20) {
			if (p[i] >= 0x40 && p[i] <= 0x7e)
				sc->scan = SCAN_TEXT;
			p[i] = 0x18;
		} else if (sc->scan != SCAN_CSI || p[i] < 0x20 || p[i] > 0x7e) {
			continue;
		} else if (p[i] <= 0x3f) {
			if (screen_csi_param(sc, p[i])) {
				sc->scan = SCAN_CSI_DROP;
				p[i] = 0x18;
			}
		} else {
			want |= screen_csi_final(sc, &p[i]);
			sc->scan = SCAN_TEXT;
		}
	}
	return want;
}

void
screen_feed(struct screen *sc, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t slice[4096];
	size_t n;

	for (; len > 0; p += n, len -= n) {
		n = len < sizeof(slice) ? len : sizeof(slice);
		memcpy(slice, p, n);
		if (screen_scan(sc, slice, n) && !sc->alt_enabled) {
			vterm_screen_enable_altscreen(sc->vs, 1);
			sc->alt_enabled = 1;
		}
		vterm_input_write(sc->vt, (const char *)slice, n);
	}
}

void
screen_size(const struct screen *sc, int *rows, int *cols)
{
	*rows = sc->rows;
	*cols = sc->cols;
}

static int
screen_put_color(struct buf *out, const VTermColor *c, int bg)
{
	int base = bg ? 40 : 30;

	if (bg ? VTERM_COLOR_IS_DEFAULT_BG(c) : VTERM_COLOR_IS_DEFAULT_FG(c))
		return 0;
	if (VTERM_COLOR_IS_RGB(c))
		return buf_printf(out, ";%d;2;%u;%u;%u", base + 8, c->rgb.red, c->rgb.green,
		    c->rgb.blue);
	if (c->indexed.idx < 8)
		return buf_printf(out, ";%d", base + c->indexed.idx);
	if (c->indexed.idx < 16)
		return buf_printf(out, ";%d", base + 60 + c->indexed.idx - 8);
	return buf_printf(out, ";%d;5;%u", base + 8, c->indexed.idx);
}

/* SGR for a cell's pen, always from a reset: "ESC [ 0 ; ... m". */
static int
screen_put_pen(struct buf *out, const VTermScreenCell *c)
{
	const VTermScreenCellAttrs *a = &c->attrs;
	int r;

	if ((r = buf_puts(out, "\033[0")) != 0 ||
	    (a->bold && (r = buf_puts(out, ";1")) != 0) ||
	    (a->italic && (r = buf_puts(out, ";3")) != 0) ||
	    (a->underline && (r = buf_puts(out, ";4")) != 0) ||
	    (a->blink && (r = buf_puts(out, ";5")) != 0) ||
	    (a->reverse && (r = buf_puts(out, ";7")) != 0) ||
	    (a->strike && (r = buf_puts(out, ";9")) != 0) ||
	    (r = screen_put_color(out, &c->fg, 0)) != 0 ||
	    (r = screen_put_color(out, &c->bg, 1)) != 0)
		return r;
	return buf_putc(out, 'm');
}

static int
screen_same_color(const VTermColor *a, const VTermColor *b, int bg)
{
	int da = bg ? VTERM_COLOR_IS_DEFAULT_BG(a) : VTERM_COLOR_IS_DEFAULT_FG(a);
	int db = bg ? VTERM_COLOR_IS_DEFAULT_BG(b) : VTERM_COLOR_IS_DEFAULT_FG(b);

	if (da || db)
		return da && db;
	return vterm_color_is_equal(a, b);
}

/* Would both cells be drawn with the same SGR? */
static int
screen_same_pen(const VTermScreenCell *a, const VTermScreenCell *b)
{
	const VTermScreenCellAttrs *x = &a->attrs, *y = &b->attrs;

	return x->bold == y->bold && x->italic == y->italic &&
	    !x->underline == !y->underline && x->blink == y->blink &&
	    x->reverse == y->reverse && x->strike == y->strike &&
	    screen_same_color(&a->fg, &b->fg, 0) && screen_same_color(&a->bg, &b->bg, 1);
}

static int
screen_blank(const VTermScreenCell *c)
{
	const VTermScreenCellAttrs *a = &c->attrs;

	return (c->chars[0] == 0 || c->chars[0] == ' ') && !a->underline && !a->reverse &&
	    !a->strike && VTERM_COLOR_IS_DEFAULT_BG(&c->bg);
}

/* UTF-8 of one code point; what is not a character becomes U+FFFD. */
static int
screen_put_char(struct buf *out, uint32_t u)
{
	if (u < 0x20 || (u >= 0x7f && u < 0xa0) || (u >= 0xd800 && u < 0xe000) ||
	    u > 0x10ffff)
		u = 0xfffd;
	return buf_put_utf8(out, u);
}

static int
screen_put_cell(struct buf *out, const VTermScreenCell *c)
{
	int i, r;

	if (c->chars[0] == 0)
		return buf_putc(out, ' ');
	for (i = 0; i < VTERM_MAX_CHARS_PER_CELL && c->chars[i] != 0; i++)
		if ((r = screen_put_char(out, c->chars[i])) != 0)
			return r;
	return 0;
}

/* One row: its cells up to the last one that is not a default blank. */
static int
screen_put_row(const struct screen *sc, int row, struct buf *out,
    VTermScreenCell *pen)
{
	VTermScreenCell c;
	VTermPos pos = { row, 0 };
	int last = -1, col, r;

	for (col = 0; col < sc->cols; col++) {
		pos.col = col;
		if (vterm_screen_get_cell(sc->vs, pos, &c) && !screen_blank(&c))
			last = col;
	}
	if (last < 0)
		return 0;
	if ((r = buf_printf(out, "\033[%d;1H", row + 1)) != 0)
		return r;
	for (col = 0; col <= last; col++) {
		pos.col = col;
		if (!vterm_screen_get_cell(sc->vs, pos, &c) || c.chars[0] == (uint32_t)-1)
			continue;	/* the right half of a wide character */
		if (!screen_same_pen(&c, pen)) {
			if ((r = screen_put_pen(out, &c)) != 0)
				return r;
			*pen = c;
		}
		if ((r = screen_put_cell(out, &c)) != 0)
			return r;
		if (c.width == 2)
			col++;
	}
	return 0;
}

int
screen_render(const struct screen *sc, struct buf *out)
{
	VTermScreenCell pen;
	VTermPos cur;
	int row, r;

	/* the pen after ESC [ 0 m: default colours, no attributes */
	memset(&pen, 0, sizeof(pen));
	pen.fg.type = VTERM_COLOR_DEFAULT_FG;
	pen.bg.type = VTERM_COLOR_DEFAULT_BG;
	if ((r = buf_puts(out, "\033[?25l\033[0m\033[H\033[2J")) != 0)
		return r;
	for (row = 0; row < sc->rows; row++)
		if ((r = screen_put_row(sc, row, out, &pen)) != 0)
			return r;
	vterm_state_get_cursorpos(vterm_obtain_state(sc->vt), &cur);
	if ((r = buf_printf(out, "\033[0m\033[%d;%dH", cur.row + 1, cur.col + 1)) != 0)
		return r;
	return sc->cursor_visible ? buf_puts(out, "\033[?25h") : 0;
}
