/* test_screen.c: the screen model of a pty session and the sequence that
 * redraws it for a watcher (screen.c): text where it was drawn, attributes,
 * colours, wide characters, the cursor, the alternate screen, size limits, and
 * what never reaches the rendering (titles, clipboard, control bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker.h"

/* The redraw of sc, NUL-terminated. */
static char *
redraw(const struct screen *sc)
{
	struct buf b;
	char *s;

	buf_init(&b, 1u << 20);
	assert_int_equal(screen_render(sc, &b), 0);
	s = buf_strdup(&b);
	buf_free(&b);
	return s;
}

static char *
render(const char *input, int rows, int cols)
{
	struct screen *sc;
	char *s;

	assert_int_equal(screen_new(rows, cols, &sc), 0);
	screen_feed(sc, input, strlen(input));
	s = redraw(sc);
	screen_free(sc);
	return s;
}

static void
expect_has(const char *got, const char *want)
{
	if (strstr(got, want) == NULL)
		fail_msg("rendering lacks '%s'; got '%s'", want, got);
}

static void
expect_lacks(const char *got, const char *bad)
{
	if (strstr(got, bad) != NULL)
		fail_msg("rendering has '%s'; got '%s'", bad, got);
}

static void
test_empty_screen(void **state)
{
	char *s = render("", 24, 80);

	(void)state;
	/* hide the cursor, reset, clear; then the cursor home and shown */
	assert_string_equal(s, "\033[?25l\033[0m\033[H\033[2J\033[0m\033[1;1H\033[?25h");
	free(s);
}

static void
test_text_where_it_was_drawn(void **state)
{
	char *s = render("hello\r\nworld\033[5;10Hthere", 24, 80);

	(void)state;
	expect_has(s, "\033[1;1Hhello");
	expect_has(s, "\033[2;1Hworld");
	/* row 5 from its first column: blanks up to column 10 */
	expect_has(s, "\033[5;1H         there");
	/* the cursor after "there": row 5, column 15 */
	expect_has(s, "\033[0m\033[5;15H\033[?25h");
	free(s);
}

static void
test_cleared_text_is_gone(void **state)
{
	char *s = render("old-text\r\n\033[2J\033[Hnew-text", 24, 80);

	(void)state;
	expect_lacks(s, "old-text");
	expect_has(s, "\033[1;1Hnew-text");
	free(s);
}

static void
test_attributes_and_colours(void **state)
{
	char *s = render("\033[1;31mred\033[0m \033[4;42mgreen\033[0m "
	    "\033[38;5;200mpink\033[0m \033[38;2;1;2;3mrgb\033[0m \033[7;95mrev", 24, 80);

	(void)state;
	expect_has(s, "\033[0;1;31mred");
	expect_has(s, "\033[0m ");
	expect_has(s, "\033[0;4;42mgreen");
	expect_has(s, "\033[0;38;5;200mpink");
	expect_has(s, "\033[0;38;2;1;2;3mrgb");
	expect_has(s, "\033[0;7;95mrev");
	free(s);
}

static void
test_background_blanks_are_kept(void **state)
{
	/* erased with a blue background: a default blank it is not */
	char *s = render("\033[44m\033[2K\033[0m", 24, 80);

	(void)state;
	expect_has(s, "\033[1;1H\033[0;44m ");
	free(s);
}

static void
test_wide_and_combining_characters(void **state)
{
	char *s = render("\xe6\xbc\xa2\xe5\xad\x97|e\xcc\x81|", 24, 80);

	(void)state;
	/* each wide character once, no filler for its right half */
	expect_has(s, "\033[1;1H\xe6\xbc\xa2\xe5\xad\x97|e\xcc\x81|");
	expect_has(s, "\033[1;8H");
	free(s);
}

static void
test_hidden_cursor(void **state)
{
	char *s = render("x\033[?25l", 24, 80);

	(void)state;
	expect_lacks(s + 6, "\033[?25h");
	free(s);
}

static void
test_hostile_sequences_dropped(void **state)
{
	char *s = render("a\033]0;TITLE\007b\033]52;c;SGVsbG8=\007c\033P1$qm\033\\d"
	    "\033[6n\033[c\x01\x02\x7f" "e\xc2\x9b" "31mf", 24, 80);

	(void)state;
	expect_has(s, "\033[1;1Habcd");
	expect_lacks(s, "TITLE");
	expect_lacks(s, "SGVsbG8");
	expect_lacks(s, "\033]");
	expect_lacks(s, "\033P");
	expect_lacks(s, "\xc2\x9b");
	free(s);
}

static void
test_alternate_screen(void **state)
{
	struct screen *sc;
	char *s;

	(void)state;
	assert_int_equal(screen_new(24, 80, &sc), 0);
	screen_feed(sc, "shell$ ", 7);
	/* split across calls: the scan ahead of libvterm keeps its place */
	screen_feed(sc, "\033[?10", 5);
	screen_feed(sc, "49h\033[HFULL-SCREEN-APP", 21);
	s = redraw(sc);
	expect_has(s, "FULL-SCREEN-APP");
	expect_lacks(s, "shell$");
	free(s);
	/* leaving it shows the shell's screen again */
	screen_feed(sc, "\033[?1049l", 8);
	s = redraw(sc);
	expect_has(s, "shell$");
	expect_lacks(s, "FULL-SCREEN-APP");
	free(s);
	screen_free(sc);
}

static void
test_size_limits(void **state)
{
	struct screen *sc;
	int rows, cols;

	(void)state;
	assert_int_equal(screen_new(0, -5, &sc), 0);
	screen_size(sc, &rows, &cols);
	assert_int_equal(rows, 24);
	assert_int_equal(cols, 80);
	screen_free(sc);
	assert_int_equal(screen_new(5000, 5000, &sc), 0);
	screen_size(sc, &rows, &cols);
	assert_int_equal(rows, SCREEN_ROWS_MAX);
	assert_int_equal(cols, SCREEN_COLS_MAX);
	screen_free(sc);
	/* one column crashes libvterm 0.1.4 on some input: never fewer than two */
	assert_int_equal(screen_new(1, 1, &sc), 0);
	screen_size(sc, &rows, &cols);
	assert_int_equal(rows, 2);
	assert_int_equal(cols, 2);
	screen_feed(sc, "\033\244" "0m\033]0\n\024\003\346\274K\033kit[", 18);
	screen_free(sc);
}

static void
test_rep_never_reaches_libvterm(void **state)
{
	/* a zero-width character, then REP: libvterm 0.1.4 can loop for ever */
	static const char before[] = "\xff\xff\x76\x5b\x14\xe6\x03\xff\xff\xff\xff"
	    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xa2\xe5\xad\x97\x65";
	static const char after[] = "\xcc\x81\033[44m\033[1K\033[38;2;\x01\x00\x00"
	    "\x00\x00\x00\x00\x02" "b\033[?25l";
	struct screen *sc;
	char *s;

	(void)state;
	assert_int_equal(screen_new(39, 11, &sc), 0);
	screen_feed(sc, before, sizeof(before) - 1);
	screen_feed(sc, after, sizeof(after) - 1);
	/* ESC, bytes libvterm skips, then [44b: REP all the same */
	screen_feed(sc, "\xcc\x81\033\xff\x83[44b", 9);
	/* and a plain one: the rebuilt screen shows the character once */
	screen_feed(sc, "\r\nx\033[5b", 7);
	s = redraw(sc);
	expect_has(s, ";1Hx\033[0m");
	expect_lacks(s, "xx");
	free(s);
	screen_free(sc);
}

static void
test_long_csi_never_reaches_libvterm(void **state)
{
	char in[400], *s;
	int n;

	(void)state;
	/* 40 arguments: libvterm 0.1.4 would write past its 16 */
	n = snprintf(in, sizeof(in), "a\033[1;31m\033[7");
	memset(in + n, ';', 40);
	snprintf(in + n + 40, sizeof(in) - (size_t)n - 40, "mb\033[99999999999Hc");
	s = render(in, 24, 80);
	/* both cancelled whole: nothing of them shows, the pen stays red */
	expect_has(s, "\033[1;1Ha\033[0;1;31mbc");
	expect_lacks(s, ";;");
	free(s);
}

/* U+0092 in UTF-8: libvterm alone moved the cursor left by one per such
 * character, past column 0 (a fuzzer found "\033[1;-1H" in a redraw); each
 * is one cell now (a space; U+FFFD when its two bytes arrive apart). */
static void
test_c1_in_utf8_never_moves_left(void **state)
{
	struct screen *sc;
	char *s;

	(void)state;
	s = render("\xc2\x92\x01\x01\xc2\x92\x01", 10, 80);
	expect_has(s, "\033[0m\033[1;3H");
	free(s);
	/* libvterm completes the two bytes across C0 controls too (NUL here) */
	assert_int_equal(screen_new(24, 80, &sc), 0);
	screen_feed(sc, "\xc2\x00\x1e\x87\xc2\x00\x1e\x87", 8);
	s = redraw(sc);
	expect_has(s, "\033[0m\033[1;3H");
	free(s);
	screen_free(sc);
	/* and across an OSC or a DCS string, which it does not decode as text */
	s = render("\xc2\033]0;a\a\x92", 24, 80);
	expect_lacks(s, "1;0H");
	expect_has(s, "\033[0m\033[1;2H");
	free(s);
	s = render("\xc2\033Pa\033\\\x92", 24, 80);
	expect_has(s, "\033[0m\033[1;2H");
	free(s);
	s = render("A\xc2\x92" "B", 24, 80);
	expect_has(s, "\033[1;1HA\xc2\xa0" "B");
	expect_has(s, "\033[0m\033[1;4H");
	free(s);
	assert_int_equal(screen_new(24, 80, &sc), 0);
	screen_feed(sc, "x\xc2", 2);
	screen_feed(sc, "\x9fy", 2);
	s = redraw(sc);
	expect_has(s, "\033[0m\033[1;4H");	/* x, one cell, y: column 4 */
	free(s);
	screen_free(sc);
}

static void
test_lines_scroll_off(void **state)
{
	char *s = render("one\r\ntwo\r\nthree\r\nfour", 3, 20);

	(void)state;
	expect_lacks(s, "one");
	expect_has(s, "\033[1;1Htwo");
	expect_has(s, "\033[3;1Hfour");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_screen),
		cmocka_unit_test(test_text_where_it_was_drawn),
		cmocka_unit_test(test_cleared_text_is_gone),
		cmocka_unit_test(test_attributes_and_colours),
		cmocka_unit_test(test_background_blanks_are_kept),
		cmocka_unit_test(test_wide_and_combining_characters),
		cmocka_unit_test(test_hidden_cursor),
		cmocka_unit_test(test_hostile_sequences_dropped),
		cmocka_unit_test(test_alternate_screen),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_rep_never_reaches_libvterm),
		cmocka_unit_test(test_long_csi_never_reaches_libvterm),
		cmocka_unit_test(test_c1_in_utf8_never_moves_left),
		cmocka_unit_test(test_lines_scroll_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
