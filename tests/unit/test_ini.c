/* test_ini.c: the INI-like syntax: sections, keys, comments and every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"

static struct ini *
parse(const char *text, struct diag *d, int *r)
{
	struct ini *ini = NULL;

	diag_init(d);
	*r = ini_parse("t.conf", text, strlen(text), d, &ini);
	return ini;
}

static void
test_sections_and_keys(void **state)
{
	struct diag d;
	struct ini *ini;
	int r;

	(void)state;
	ini = parse("top = 1\n# comment\n\n[asset plc-line3]  # trailing\n"
	    "  address = 10.20.3.15   # the PLC\nhostkey = ssh-ed25519 AAAA#notcomment\n"
	    "[window]\r\nempty =\n", &d, &r);
	assert_int_equal(r, 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(ini->n, 3);
	assert_null(ini->sections[0].kind);
	assert_string_equal(ini->sections[0].entries[0].key, "top");
	assert_string_equal(ini->sections[1].kind, "asset");
	assert_string_equal(ini->sections[1].name, "plc-line3");
	assert_int_equal(ini->sections[1].line, 4);
	assert_string_equal(ini->sections[1].entries[0].value, "10.20.3.15");
	assert_int_equal(ini->sections[1].entries[0].line, 5);
	assert_int_equal(ini->sections[1].entries[0].col, 3);
	assert_int_equal(ini->sections[1].entries[0].vcol, 13);
	assert_string_equal(ini->sections[1].entries[1].value, "ssh-ed25519 AAAA#notcomment");
	assert_string_equal(ini->sections[2].kind, "window");
	assert_null(ini->sections[2].name);
	assert_string_equal(ini->sections[2].entries[0].value, "");
	ini_free(ini);
	diag_free(&d);
}

static void
expect_error(const char *text, unsigned line, unsigned col, const char *needle)
{
	struct diag d;
	struct ini *ini;
	int r;

	ini = parse(text, &d, &r);
	assert_int_equal(r, OTG_ERR_INVAL);
	assert_true(d.nerrors >= 1);
	if (d.items[0].line != line || d.items[0].col != col ||
	    strstr(d.items[0].msg, needle) == NULL)
		fail_msg("%s: got %u:%u %s, want %u:%u ~%s", text, d.items[0].line,
		    d.items[0].col, d.items[0].msg, line, col, needle);
	ini_free(ini);
	diag_free(&d);
}

static void
test_errors(void **state)
{
	static const char nul[] = "a = 1\nb = x\0y\n";
	struct diag d;
	struct ini *ini = NULL;

	(void)state;
	expect_error("[asset x\n", 1, 9, "expected ']'");
	expect_error("[asset x] y\n", 1, 10, "after ']'");
	expect_error("[asset a b]\n", 1, 10, "one name");
	expect_error("[ ]\n", 1, 1, "section kind");
	expect_error("\nkey value\n", 2, 5, "expected 'key = value'");
	expect_error("= 3\n", 1, 1, "expected 'key = value'");
	expect_error("a = \x1b[31m\n", 1, 5, "control character 0x1b");
	expect_error("a = \xc3\x28\n", 1, 1, "not valid UTF-8");
	diag_init(&d);
	assert_int_equal(ini_parse("t.conf", nul, sizeof(nul) - 1, &d, &ini), OTG_ERR_INVAL);
	assert_int_equal(d.items[0].line, 2);
	assert_int_equal(d.items[0].col, 6);
	assert_non_null(strstr(d.items[0].msg, "NUL"));
	ini_free(ini);
	diag_free(&d);
}

static void
test_all_errors_reported(void **state)
{
	struct diag d;
	struct ini *ini;
	int r;

	(void)state;
	ini = parse("x\ny\n[z\nok = 1\nw\n", &d, &r);
	assert_int_equal(r, OTG_ERR_INVAL);
	assert_int_equal(d.nerrors, 4);
	assert_int_equal(d.items[3].line, 5);
	assert_int_equal(ini->sections[0].n, 1);
	ini_free(ini);
	diag_free(&d);
}

static void
test_long_line_and_many_errors(void **state)
{
	struct diag d;
	struct ini *ini;
	char *text;
	size_t n = 3 * INI_MAX_LINE;
	int r;

	(void)state;
	text = malloc(n + 1);
	memset(text, 'a', n);
	text[n] = '\0';
	ini = parse(text, &d, &r);
	assert_int_equal(r, OTG_ERR_INVAL);
	assert_non_null(strstr(d.items[0].msg, "too long"));
	ini_free(ini);
	diag_free(&d);
	free(text);

	/* 5000 bad lines: every one counted, the list bounded */
	text = malloc(5000 * 2 + 1);
	for (n = 0; n < 5000; n++)
		memcpy(text + 2 * n, "x\n", 2);
	text[10000] = '\0';
	ini = parse(text, &d, &r);
	assert_int_equal(d.nerrors, 5000);
	assert_int_equal(d.n, DIAG_MAX_ITEMS);
	assert_int_equal(d.ndropped, 5000 - DIAG_MAX_ITEMS);
	ini_free(ini);
	diag_free(&d);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_and_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_long_line_and_many_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
