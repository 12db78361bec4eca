/* test_totp.c: RFC 6238 vectors, window edges, the single-use rule, code syntax,
 * base32 and the otpauth line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"
#include "pam/pam.h"

/* RFC 6238 appendix B, SHA-1 rows: the key is "12345678901234567890" */
static const uint8_t rfc_key[] = "12345678901234567890";
static const struct {
	time_t t;
	const char *code8;
} rfc_vectors[] = {
	{ 59, "94287082" },
	{ 1111111109, "07081804" },
	{ 1111111111, "14050471" },
	{ 1234567890, "89005924" },
	{ 2000000000, "69279037" },
	{ 20000000000, "65353130" },
};
#define NVECTORS (sizeof(rfc_vectors) / sizeof(rfc_vectors[0]))

static int
check(time_t now, unsigned window, unsigned digits, const char *code, uint64_t last,
    uint64_t *counter)
{
	return totp_check(rfc_key, 20, now, window, digits, code, last, counter);
}

static void
test_rfc6238_8_digits(void **state)
{
	uint64_t counter;
	size_t i;

	(void)state;
	for (i = 0; i < NVECTORS; i++) {
		assert_int_equal(check(rfc_vectors[i].t, 0, 8, rfc_vectors[i].code8, 0,
		    &counter), 0);
		assert_int_equal(counter, (uint64_t)rfc_vectors[i].t / 30);
	}
}

/* 6 digits are the last 6 of the same truncated value (mod 10^6) */
static void
test_rfc6238_6_digits(void **state)
{
	uint64_t counter;
	size_t i;

	(void)state;
	for (i = 0; i < NVECTORS; i++) {
		assert_int_equal(check(rfc_vectors[i].t, 0, 6, rfc_vectors[i].code8 + 2, 0,
		    &counter), 0);
		assert_int_equal(counter, (uint64_t)rfc_vectors[i].t / 30);
		/* the 8-digit code is not a 6-digit answer, nor the reverse */
		assert_int_equal(check(rfc_vectors[i].t, 0, 6, rfc_vectors[i].code8, 0,
		    &counter), OTG_ERR_INVAL);
		assert_int_equal(check(rfc_vectors[i].t, 0, 8, rfc_vectors[i].code8 + 2, 0,
		    &counter), OTG_ERR_INVAL);
	}
	assert_int_equal(check(59, 0, 6, "287083", 0, &counter), OTG_ERR_BADSIG);
}

/* 1111111111 is in step 37037037 (which starts at 1111111110) */
static void
test_window_edges(void **state)
{
	uint64_t counter;
	const time_t t = 1111111111;

	(void)state;
	/* one step later or earlier: accepted with window 1, not with 0 */
	assert_int_equal(check(t + 30, 1, 8, "14050471", 0, &counter), 0);
	assert_int_equal(counter, 37037037);
	assert_int_equal(check(t - 30, 1, 8, "14050471", 0, &counter), 0);
	assert_int_equal(check(t + 30, 0, 8, "14050471", 0, &counter), OTG_ERR_BADSIG);
	/* two steps away: refused with window 1, accepted with 2 */
	assert_int_equal(check(t + 60, 1, 8, "14050471", 0, &counter), OTG_ERR_BADSIG);
	assert_int_equal(check(t - 60, 1, 8, "14050471", 0, &counter), OTG_ERR_BADSIG);
	assert_int_equal(check(t + 60, 2, 8, "14050471", 0, &counter), 0);
	/* exact step boundaries: 1111111110..1111111139 is the step */
	assert_int_equal(check(1111111110, 0, 8, "14050471", 0, &counter), 0);
	assert_int_equal(check(1111111139, 0, 8, "14050471", 0, &counter), 0);
	assert_int_equal(check(1111111140, 0, 8, "14050471", 0, &counter), OTG_ERR_BADSIG);
	assert_int_equal(check(1111111109, 0, 8, "14050471", 0, &counter), OTG_ERR_BADSIG);
	assert_int_equal(check(1111111109, 0, 8, "07081804", 0, &counter), 0);
	/* three steps ago, the default window */
	assert_int_equal(check(t + 90, TOTP_DEFAULT_WINDOW, 8, "14050471", 0, &counter),
	    OTG_ERR_BADSIG);
	/* near the epoch the window does not wrap below step 0 */
	assert_int_equal(check(59, 1, 8, "94287082", 0, &counter), 0);
	assert_int_equal(check(0, 1, 8, "94287082", 0, &counter), 0);
	assert_int_equal(counter, 1);
	/* bad parameters */
	assert_int_equal(check(t, TOTP_WINDOW_MAX + 1, 8, "14050471", 0, &counter),
	    OTG_ERR_INVAL);
	assert_int_equal(check(-1, 1, 8, "14050471", 0, &counter), OTG_ERR_INVAL);
	assert_int_equal(totp_check(rfc_key, 9, t, 1, 8, "14050471", 0, &counter),
	    OTG_ERR_INVAL);
}

static void
test_single_use(void **state)
{
	uint64_t counter;
	const time_t t = 1111111111;

	(void)state;
	assert_int_equal(check(t, 1, 8, "14050471", 0, &counter), 0);
	/* the same code again, counter stored: refused as spent */
	assert_int_equal(check(t, 1, 8, "14050471", counter, &counter), OTG_ERR_EXISTS);
	assert_int_equal(counter, 0);
	/* a code of an earlier step than the last accepted one is spent too */
	assert_int_equal(check(t, 1, 8, "14050471", 37037038, &counter), OTG_ERR_EXISTS);
	/* the next step's code after this one: fine */
	assert_int_equal(check(t, 1, 8, "14050471", 37037036, &counter), 0);
	assert_int_equal(counter, 37037037);
	/* a wrong code is wrong, not spent */
	assert_int_equal(check(t, 1, 8, "14050472", 37037037, &counter), OTG_ERR_BADSIG);
}

static void
test_code_syntax(void **state)
{
	char hundred[101];
	uint64_t counter;

	(void)state;
	memset(hundred, '1', 100);
	hundred[100] = '\0';
	assert_int_equal(totp_code_syntax("123456", 6), 0);
	assert_int_equal(totp_code_syntax("12345678", 8), 0);
	assert_int_equal(totp_code_syntax("", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("12345", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("1234567", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("123 456", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax(" 123456", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("123456 ", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("123456\n", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("12a456", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("abcdef", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("+12345", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("\xd9\xa1\xd9\xa2\xd9\xa3", 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax(hundred, 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax(NULL, 6), OTG_ERR_INVAL);
	assert_int_equal(totp_code_syntax("1234567", 7), OTG_ERR_INVAL);
	/* and the check refuses them before any computing */
	assert_int_equal(check(59, 1, 8, "9428 7082", 0, &counter), OTG_ERR_INVAL);
	assert_int_equal(check(59, 1, 8, hundred, 0, &counter), OTG_ERR_INVAL);
	assert_int_equal(check(59, 1, 8, "", 0, &counter), OTG_ERR_INVAL);
}

static void
test_base32_and_uri(void **state)
{
	uint8_t secret[TOTP_SECRET_LEN], back[TOTP_SECRET_MAX];
	char b32[TOTP_SECRET_B32_MAX], uri[TOTP_URI_MAX];
	size_t len;

	(void)state;
	assert_int_equal(totp_base32_encode(rfc_key, 20, b32, sizeof(b32)), 0);
	assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_int_equal(totp_base32_decode("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", back,
	    sizeof(back), &len), 0);
	assert_int_equal(len, 20);
	assert_memory_equal(back, rfc_key, 20);
	/* too short a secret, and not base32 */
	assert_int_equal(totp_base32_decode("GEZDGNBV", back, sizeof(back), &len),
	    OTG_ERR_INVAL);
	assert_int_equal(totp_base32_decode("!!!!", back, sizeof(back), &len),
	    OTG_ERR_INVAL);
	assert_int_equal(totp_base32_decode("", back, sizeof(back), &len), OTG_ERR_INVAL);

	assert_int_equal(totp_secret_new(secret), 0);
	assert_int_equal(totp_base32_encode(secret, sizeof(secret), b32, sizeof(b32)), 0);
	assert_int_equal(strlen(b32), 32);	/* 160 bits, no padding */
	assert_int_equal(totp_base32_decode(b32, back, sizeof(back), &len), 0);
	assert_memory_equal(back, secret, sizeof(secret));

	assert_int_equal(totp_uri("alice", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 6, uri,
	    sizeof(uri)), 0);
	assert_string_equal(uri, "otpauth://totp/otgate:alice?secret="
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=otgate&algorithm=SHA1&digits=6"
	    "&period=30");
	assert_int_equal(totp_uri("al ice", b32, 6, uri, sizeof(uri)), OTG_ERR_INVAL);
	assert_int_equal(totp_uri("alice", b32, 6, uri, 20), OTG_ERR_TOOBIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_8_digits),
		cmocka_unit_test(test_rfc6238_6_digits),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_single_use),
		cmocka_unit_test(test_code_syntax),
		cmocka_unit_test(test_base32_and_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
