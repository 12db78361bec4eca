/* test_transcript.c: the transcript renderer on the edges of its runs of
 * bytes: escape sequences split across feeds at every byte, CR and LF in all
 * their orders, control bytes at every position of an 8-byte word, lines at
 * and around TRANSCRIPT_MAX_LINE, and a line's time taken from its first
 * byte. (test_recformat.c has the basic cases.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define MAX_LINES 16

struct lines {
	char text[MAX_LINES][TRANSCRIPT_MAX_LINE + 1];
	size_t len[MAX_LINES];
	double t[MAX_LINES];
	int n;
};

static void
line_cb(void *arg, double t, const char *line, size_t len)
{
	struct lines *l = arg;

	assert_true(l->n < MAX_LINES);
	assert_true(len <= TRANSCRIPT_MAX_LINE);
	memcpy(l->text[l->n], line, len);
	l->text[l->n][len] = '\0';
	l->len[l->n] = len;
	l->t[l->n++] = t;
}

/* Feed s in pieces cut at each position of cuts (ascending), then flush. */
static void
render(struct lines *l, const char *s, const size_t *cuts, size_t ncuts)
{
	struct transcript tr;
	size_t i, at = 0, len = strlen(s);

	memset(l, 0, sizeof(*l));
	transcript_init(&tr, line_cb, l);
	for (i = 0; i < ncuts; i++) {
		transcript_feed(&tr, (double)i, s + at, cuts[i] - at);
		at = cuts[i];
	}
	transcript_feed(&tr, (double)ncuts, s + at, len - at);
	transcript_flush(&tr);
}

static void
expect_one(const char *s, const size_t *cuts, size_t ncuts, const char *want)
{
	struct lines l;

	render(&l, s, cuts, ncuts);
	if (l.n != 1 || strcmp(l.text[0], want) != 0)
		fail_msg("'%s' cut %zu times: %d lines, first '%s', want '%s'", s, ncuts,
		    l.n, l.n > 0 ? l.text[0] : "", want);
}

/* Every escape kind, cut once at every byte and twice at every pair. */
static void
test_escape_split_everywhere(void **state)
{
	static const char *const seqs[] = {
		"a\x1b[1;31mb\x1b[0mc",		/* CSI */
		"a\x1b]0;title\x07" "bc",	/* OSC ended by BEL */
		"a\x1b]52;c;QUFB\x1b\\bc",	/* OSC ended by ST */
		"a\x1bPq#0;2;0;0;0\x1b\\bc",	/* DCS */
		"a\x1b_apc\x1bxyz\x1b\\bc",	/* an ESC inside a string that is not ST */
		"a\x1b(Bb\x1b)0c",		/* charset */
		"a\x1b" "7b\x1b" "8c",		/* two-byte escapes */
	};
	size_t i, j, k, len, cuts[2];

	(void)state;
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		len = strlen(seqs[i]);
		expect_one(seqs[i], NULL, 0, "abc");
		for (j = 0; j <= len; j++) {
			cuts[0] = j;
			expect_one(seqs[i], cuts, 1, "abc");
			for (k = j; k <= len; k++) {
				cuts[1] = k;
				expect_one(seqs[i], cuts, 2, "abc");
			}
		}
	}
}

static void
test_cr_lf(void **state)
{
	struct lines l;
	size_t cut = 4;

	(void)state;
	render(&l, "one\r\ntwo\n\rthree\r\r\nfour\n\n", NULL, 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.text[0], "one");
	assert_string_equal(l.text[1], "two");
	assert_string_equal(l.text[2], "three");
	assert_string_equal(l.text[3], "four");
	/* a carriage return overwrites, and what it did not overwrite stays */
	render(&l, "abcdef\rXY\n", NULL, 0);
	assert_string_equal(l.text[0], "XYcdef");
	/* CR and LF in separate feeds */
	render(&l, "abc\r\nxyz\n", &cut, 1);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.text[0], "abc");
	assert_string_equal(l.text[1], "xyz");
	/* backspace at the start of a line stays there; tab is a space; DEL and
	 * other C0 controls print nothing; UTF-8 passes whole */
	render(&l, "\b\bx\ty\x7f\x01\x05z \xc3\xa9\xe2\x82\xac\n", NULL, 0);
	assert_string_equal(l.text[0], "x yz \xc3\xa9\xe2\x82\xac");
}

/* How long the line of 24 bytes "a..a" with c at pos (pos < 16) renders. */
static size_t
rendered_len(char c, size_t pos)
{
	switch (c) {
	case '\r':	/* the tail overwrites the head */
		return pos > 23 - pos ? pos : 23 - pos;
	case '\b':	/* one 'a' overwritten, unless at the start */
		return pos > 0 ? 22 : 23;
	case '\t':	/* a space, trimmed at the start */
		return pos > 0 ? 24 : 23;
	case 0x1b:	/* ESC 7: two bytes, nothing shown */
		return 22;
	default:	/* DEL and other C0 controls: nothing shown */
		return 23;
	}
}

/* A control byte at each position of two 8-byte words of text. */
static void
test_control_at_every_position(void **state)
{
	static const char ctl[] = { '\n', '\r', '\b', '\t', 0x1b, 0x7f, 0x01, 0x1f };
	struct lines l;
	size_t pos, c;
	char s[32];

	(void)state;
	for (c = 0; c < sizeof(ctl); c++) {
		for (pos = 0; pos < 16; pos++) {
			memset(s, 'a', 24);
			s[24] = '\0';
			s[pos] = ctl[c];
			if (ctl[c] == 0x1b)
				s[pos + 1] = '7';
			render(&l, s, NULL, 0);
			if (ctl[c] == '\n') {
				assert_int_equal(l.n, pos > 0 ? 2 : 1);
				assert_int_equal(l.len[0], pos > 0 ? pos : 23);
				assert_int_equal(l.len[l.n - 1], 23 - pos);
				continue;
			}
			assert_int_equal(l.n, 1);
			assert_int_equal(l.len[0], rendered_len(ctl[c], pos));
			assert_int_equal(strspn(l.text[0], ctl[c] == '\t' ? "a " : "a"),
			    l.len[0]);
		}
	}
}

static void
test_long_lines(void **state)
{
	static char s[3 * TRANSCRIPT_MAX_LINE + 8];
	struct lines l;
	size_t n, cut;

	(void)state;
	for (n = TRANSCRIPT_MAX_LINE - 1; n <= TRANSCRIPT_MAX_LINE + 1; n++) {
		memset(s, 'x', n);
		s[n] = '\n';
		s[n + 1] = '\0';
		render(&l, s, NULL, 0);
		assert_int_equal(l.n, n > TRANSCRIPT_MAX_LINE ? 2 : 1);
		assert_int_equal(l.len[0], n > TRANSCRIPT_MAX_LINE ? TRANSCRIPT_MAX_LINE : n);
	}
	/* 3000 bytes fed in odd pieces: cut at 1024, 2048, and the rest */
	memset(s, 'y', 3000);
	s[3000] = '\0';
	cut = 1001;
	render(&l, s, &cut, 1);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.len[0], TRANSCRIPT_MAX_LINE);
	assert_int_equal(l.len[1], TRANSCRIPT_MAX_LINE);
	assert_int_equal(l.len[2], 3000 - 2 * TRANSCRIPT_MAX_LINE);
	/* the second piece's time is that of its first byte */
	assert_true(l.t[0] == 0.0 && l.t[1] == 1.0 && l.t[2] == 1.0);
	/* after a cut, a carriage return goes back to the start of the rest */
	memset(s, 'z', 2 * TRANSCRIPT_MAX_LINE + 8);
	s[TRANSCRIPT_MAX_LINE + 4] = '\r';
	s[2 * TRANSCRIPT_MAX_LINE + 8] = '\0';
	render(&l, s, NULL, 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.len[0], TRANSCRIPT_MAX_LINE);
	assert_int_equal(l.len[1], TRANSCRIPT_MAX_LINE);
	assert_int_equal(l.len[2], 3);
}

/* A line's time is its first byte's, even when the rest came later. */
static void
test_line_time(void **state)
{
	size_t cuts[2] = { 3, 6 };
	struct lines l;

	(void)state;
	render(&l, "\x1b[mabcdef\nxyz\n", cuts, 2);
	assert_int_equal(l.n, 2);
	assert_true(l.t[0] == 1.0);
	assert_true(l.t[1] == 2.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_split_everywhere),
		cmocka_unit_test(test_cr_lf),
		cmocka_unit_test(test_control_at_every_position),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_line_time),
	};

	log_init("test_transcript", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
