/* test_siem.c: RFC 5424 and CEF renderings of audit events: exact lines for
 * known events, and hostile values that must not break a collector's parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker.h"

/* 2026-11-23T14:00:00.123Z */
#define T_MS 1795442400123ull

static const struct siem_origin origin = { "gate", "otgated", 4242 };

static char *
render(enum siem_format fmt, const char *event, const struct audit_field *f, size_t n)
{
	struct buf b;
	char *s;

	buf_init(&b, BUF_DEFAULT_MAX);
	if (fmt == SIEM_RFC5424)
		assert_int_equal(siem_rfc5424(&b, &origin, T_MS, 7, event, f, n), 0);
	else
		assert_int_equal(siem_cef(&b, "0.1.0", T_MS, 7, event, f, n), 0);
	s = buf_strdup(&b);
	assert_non_null(s);
	buf_free(&b);
	/* one line, nothing a terminal or a line-based collector would act on */
	assert_null(strchr(s, '\n'));
	assert_null(strchr(s, '\r'));
	assert_null(strchr(s, '\x1b'));
	return s;
}

static void
expect_line(enum siem_format fmt, const char *event, const struct audit_field *f, size_t n,
    const char *want)
{
	char *got = render(fmt, event, f, n);

	if (strcmp(got, want) != 0)
		fail_msg("got  %s\nwant %s", got, want);
	free(got);
}

static void
test_format_names(void **state)
{
	enum siem_format f;

	(void)state;
	assert_int_equal(siem_format_parse("rfc5424", &f), 0);
	assert_int_equal(f, SIEM_RFC5424);
	assert_int_equal(siem_format_parse("cef", &f), 0);
	assert_int_equal(f, SIEM_CEF);
	assert_int_equal(siem_format_parse("json", &f), 0);
	assert_int_equal(f, SIEM_JSON);
	assert_int_equal(siem_format_parse("CEF", &f), OTG_ERR_INVAL);
	assert_int_equal(siem_format_parse("", &f), OTG_ERR_INVAL);
}

static void
test_rfc5424_session_start(void **state)
{
	const struct audit_field f[] = {
		AUDIT_STR("user", "alice"), AUDIT_STR("asset", "plc-line3"),
		AUDIT_STR("src", "192.0.2.7"), AUDIT_NUM("pty", 1),
	};

	(void)state;
	/* authpriv (10) * 8 + informational (6) = 86 */
	expect_line(SIEM_RFC5424, "session.start", f, 4,
	    "<86>1 2026-11-23T14:00:00.123Z gate otgated 4242 session.start "
	    "[otgate@32473 seq=\"7\" user=\"alice\" asset=\"plc-line3\" src=\"192.0.2.7\" "
	    "pty=\"1\"] Session started");
}

static void
test_rfc5424_severity_and_unknown_event(void **state)
{
	const struct audit_field f[] = { AUDIT_STR("asset", "hmi-2") };
	char *s;

	(void)state;
	/* a host key mismatch is a warning: 10 * 8 + 4 */
	s = render(SIEM_RFC5424, "hostkey.mismatch", f, 1);
	assert_true(strncmp(s, "<84>1 ", 6) == 0);
	free(s);
	/* an event this table does not know is informational and named as is */
	s = render(SIEM_RFC5424, "something.new", f, 1);
	assert_true(strncmp(s, "<86>1 ", 6) == 0);
	assert_non_null(strstr(s, "] something.new"));
	free(s);
}

/* A vendor-chosen value tries to close the structured data and add its own. */
static void
test_rfc5424_hostile_values(void **state)
{
	const struct audit_field f[] = {
		AUDIT_STR("reason", "x\"] [evil@1 a=\"b\\\nforged line\x1b[2J"),
	};

	(void)state;
	expect_line(SIEM_RFC5424, "policy.deny", f, 1,
	    "<85>1 2026-11-23T14:00:00.123Z gate otgated 4242 policy.deny "
	    "[otgate@32473 seq=\"7\" reason=\"x\\\"\\] [evil@1 a=\\\"b\\\\\\\\\\\\x0aforged "
	    "line\\\\x1b[2J\"] Access denied by policy");
}

static void
test_rfc5424_nil_and_odd_header_fields(void **state)
{
	const struct siem_origin o = { "", "ot gated", 1 };
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, BUF_DEFAULT_MAX);
	assert_int_equal(siem_rfc5424(&b, &o, T_MS, 1, "auth.success", NULL, 0), 0);
	s = buf_strdup(&b);
	assert_string_equal(s, "<86>1 2026-11-23T14:00:00.123Z - ot_gated 1 auth.success "
	    "[otgate@32473 seq=\"1\"] Login succeeded");
	free(s);
	buf_free(&b);
}

static void
test_cef_session_start(void **state)
{
	const struct audit_field f[] = {
		AUDIT_STR("session", "0123456789abcdef0123456789abcdef"),
		AUDIT_STR("user", "alice"), AUDIT_STR("asset", "plc-line3"),
		AUDIT_STR("src", "192.0.2.7"), AUDIT_STR("kind", "shell"),
		AUDIT_NUM("bytes_in", 12), AUDIT_STR("fingerprint", "SHA256:abc"),
	};

	(void)state;
	expect_line(SIEM_CEF, "session.start", f, 7,
	    "CEF:0|otgate|otgate|0.1.0|session.start|Session started|3|rt=1795442400123 "
	    "otgateSeq=7 cs1=0123456789abcdef0123456789abcdef cs1Label=session suser=alice "
	    "dhost=plc-line3 src=192.0.2.7 cs4=shell cs4Label=kind in=12 "
	    "otgateFingerprint=SHA256:abc");
}

static void
test_cef_src_that_is_not_an_address(void **state)
{
	const struct audit_field v6[] = { AUDIT_STR("src", "2001:db8::7") };
	const struct audit_field name[] = { AUDIT_STR("src", "vpn.example") };
	char *s;

	(void)state;
	s = render(SIEM_CEF, "auth.failure", v6, 1);
	assert_non_null(strstr(s, "|5|rt=1795442400123 otgateSeq=7 src=2001:db8::7"));
	free(s);
	s = render(SIEM_CEF, "auth.failure", name, 1);
	assert_non_null(strstr(s, " shost=vpn.example"));
	free(s);
}

/* '=' and '\' in values, '|' in the header, line breaks anywhere. */
static void
test_cef_hostile_values(void **state)
{
	const struct audit_field f[] = {
		AUDIT_STR("user", "a=b c\\d"), AUDIT_STR("command", "ls | x\r\nCEF:0|forged"),
	};
	char *s;

	(void)state;
	expect_line(SIEM_CEF, "policy.deny", f, 2,
	    "CEF:0|otgate|otgate|0.1.0|policy.deny|Access denied by policy|5|"
	    "rt=1795442400123 otgateSeq=7 suser=a\\=b c\\\\\\\\d "
	    "cs6=ls | x\\\\x0d\\\\x0aCEF:0|forged cs6Label=command");
	/* the header: a '|' in the version or event cannot add a field */
	{
		struct buf b;

		buf_init(&b, BUF_DEFAULT_MAX);
		assert_int_equal(siem_cef(&b, "1|2", T_MS, 1, "x|y", NULL, 0), 0);
		s = buf_strdup(&b);
		assert_string_equal(s, "CEF:0|otgate|otgate|1\\|2|x\\|y|x\\|y|3|rt=1795442400123 "
		    "otgateSeq=1");
		free(s);
		buf_free(&b);
	}
}

/* A huge value is cut, on a character boundary, and marked. */
static void
test_long_values_are_cut(void **state)
{
	char *big = malloc(100001), *s;
	struct audit_field f[1];

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 100000);
	big[0] = '\xc3';	/* keep the buffer valid UTF-8 around the cut */
	big[1] = '\xa9';
	big[100000] = '\0';
	f[0] = AUDIT_STR("reason", big);
	s = render(SIEM_CEF, "policy.deny", f, 1);
	assert_true(strlen(s) < 2000);
	assert_non_null(strstr(s, "reason=\xc3\xa9" "aaa"));
	assert_non_null(strstr(s, "a..."));
	free(s);
	s = render(SIEM_RFC5424, "policy.deny", f, 1);
	assert_true(strlen(s) < 2000);
	assert_non_null(strstr(s, "a...\"]"));
	free(s);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_rfc5424_session_start),
		cmocka_unit_test(test_rfc5424_severity_and_unknown_event),
		cmocka_unit_test(test_rfc5424_hostile_values),
		cmocka_unit_test(test_rfc5424_nil_and_odd_header_fields),
		cmocka_unit_test(test_cef_session_start),
		cmocka_unit_test(test_cef_src_that_is_not_an_address),
		cmocka_unit_test(test_cef_hostile_values),
		cmocka_unit_test(test_long_values_are_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
