/* test_buf.c: the bounded buffer never reads or grows past its limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"

static void
test_put_get(void **state)
{
	struct buf b;
	uint32_t v32;
	uint64_t v64;
	uint8_t v8;
	char s[8];

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(buf_put_u32(&b, 0x01020304), 0);
	assert_int_equal(buf_put_u64(&b, UINT64_C(0x1122334455667788)), 0);
	assert_int_equal(buf_printf(&b, "%s-%d", "ab", 7), 0);
	assert_int_equal(buf_len(&b), 16);
	assert_int_equal(buf_ptr(&b)[0], 1);
	assert_int_equal(buf_get_u32(&b, &v32), 0);
	assert_int_equal(v32, 0x01020304);
	assert_int_equal(buf_get_u64(&b, &v64), 0);
	assert_true(v64 == UINT64_C(0x1122334455667788));
	assert_int_equal(buf_get_u8(&b, &v8), 0);
	assert_int_equal(v8, 'a');
	assert_int_equal(buf_get(&b, s, 4), OTG_ERR_TRUNCATED);
	assert_int_equal(buf_len(&b), 3);
	assert_int_equal(buf_get(&b, s, 3), 0);
	assert_memory_equal(s, "b-7", 3);
	assert_int_equal(buf_get_u32(&b, &v32), OTG_ERR_TRUNCATED);
	buf_free(&b);
}

static void
test_limit(void **state)
{
	struct buf b;
	char block[100];
	int i;

	(void)state;
	memset(block, 'x', sizeof(block));
	buf_init(&b, 1000);
	for (i = 0; i < 10; i++)
		assert_int_equal(buf_put(&b, block, 100), 0);
	assert_int_equal(buf_putc(&b, 'y'), OTG_ERR_TOOBIG);
	assert_int_equal(buf_printf(&b, "z"), OTG_ERR_TOOBIG);
	assert_int_equal(buf_put(&b, block, SIZE_MAX), OTG_ERR_TOOBIG);
	/* consuming makes room again without growing past the limit */
	assert_int_equal(buf_consume(&b, 500), 0);
	assert_int_equal(buf_put(&b, block, 100), 0);
	assert_int_equal(buf_len(&b), 600);
	assert_true(b.cap <= 1000);
	assert_int_equal(buf_consume(&b, 601), OTG_ERR_TRUNCATED);
	buf_reset(&b);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
}

static void
test_strdup(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_consume(&b, 1), 0);
	s = buf_strdup(&b);
	assert_string_equal(s, "ello");
	free(s);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_strdup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
