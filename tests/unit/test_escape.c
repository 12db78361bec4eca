/* test_escape.c: hostile text made visible for logs, terminals and JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"

static void
check_text(const char *in, size_t len, const char *want)
{
	struct buf b;
	char *s;

	buf_init(&b, 4096);
	assert_int_equal(escape_text(&b, in, len), 0);
	s = buf_strdup(&b);
	if (strcmp(s, want) != 0)
		fail_msg("escape_text: got '%s', want '%s'", s, want);
	free(s);
	buf_free(&b);
}

static void
check_json(const char *in, size_t len, const char *want)
{
	struct buf b;
	char *s;

	buf_init(&b, 4096);
	assert_int_equal(escape_json(&b, in, len), 0);
	s = buf_strdup(&b);
	if (strcmp(s, want) != 0)
		fail_msg("escape_json: got '%s', want '%s'", s, want);
	free(s);
	buf_free(&b);
}

static void
test_text(void **state)
{
	(void)state;
	check_text("alice", 5, "alice");
	check_text("a\x1b]52;c;AAAA\x07", 13, "a\\x1b]52;c;AAAA\\x07");
	check_text("back\\slash", 10, "back\\\\slash");
	check_text("nl\nx", 4, "nl\\x0ax");
	check_text("\x7f", 1, "\\x7f");
	check_text("\xc2\x9b" "2J", 4, "\\u{009b}2J");	/* C1 CSI */
	check_text("\xff\xfe", 2, "\\xff\\xfe");
	check_text("abc\xe2\x80\xae" "cod.exe", 13, "abc\\u{202e}cod.exe");
	check_text("M\xc3\xbcller", 7, "M\xc3\xbcller");
	check_text("a\0b", 3, "a\\x00b");
}

static void
test_json(void **state)
{
	(void)state;
	check_json("say \"hi\"\\", 9, "say \\\"hi\\\"\\\\");
	check_json("\n\t\r\x01", 4, "\\n\\t\\r\\u0001");
	check_json("\xff", 1, "\\ufffd");
	check_json("\xe2\x80\xae", 3, "\\u202e");
	check_json("\xe2\x80\xa8", 3, "\\u2028");
	check_json("caf\xc3\xa9", 5, "caf\xc3\xa9");
}

static void
test_str_truncates_safely(void **state)
{
	char small[8], ok[64];

	(void)state;
	assert_string_equal(escape_str(ok, sizeof(ok), "bob\x1b"), "bob\\x1b");
	assert_string_equal(escape_str(small, sizeof(small), "abcdefghijkl"), "abcd...");
	/* never cut inside a UTF-8 character */
	assert_string_equal(escape_str(small, sizeof(small), "ab\xc3\xbc\xc3\xbc\xc3\xbc"),
	    "ab\xc3\xbc...");
	assert_string_equal(escape_str(ok, sizeof(ok), NULL), "(null)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_str_truncates_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
