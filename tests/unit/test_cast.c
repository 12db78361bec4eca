/* test_cast.c: the asciicast text encoder (cast_text) against the frozen
 * reference of cast_ref.h, byte for byte, on random terminal output cut into
 * reads at random points: plain runs, controls, quotes, backslashes, valid
 * and escaped UTF-8 (U+2028, bidi, C1), invalid bytes, split sequences,
 * surrogates encoded in UTF-8 (ED A0 80) and overlongs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cast_ref.h"

#define CT_MAX 4096
#define CT_PIECE_MAX 64	/* longer than any piece */

static uint64_t ct_seed = 0x9e3779b97f4a7c15ull;

static uint32_t
ct_rand(void)
{
	ct_seed ^= ct_seed << 13;
	ct_seed ^= ct_seed >> 7;
	ct_seed ^= ct_seed << 17;
	return (uint32_t)(ct_seed >> 32);
}

/* Pieces terminal output is made of, hostile ones included. */
static const char *const ct_pieces[] = {
	"ls -l /etc", "0123456789abcdefghijklmnopqrstuvwxyzABCDEF", "\r\n", "\n", "\t",
	"\"", "\\", "\x1b[0m", "\x1b]52;c;aGk=\x07", "\x7f", "\x01", "\x00", "\xc3\xa9",
	"\xe2\x94\x82", "\xf0\x9f\x98\x80", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xae",
	"\xe2\x81\xa6", "\xef\xbb\xbf", "\xc2\x85", "\xc2\x9f", "\xd8\x9c", "\xe2\x80\x8e",
	"\xed\xa0\x80", "\xed\xbf\xbf", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",
	"\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80", "\xff", "\xfe", "\x80", "\xbf",
	"\xe2\x94", "\xf0\x9f", "\xc3", "\xf0", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf",
};

static size_t
ct_piece(uint8_t *p)
{
	size_t k, n;

	if (ct_rand() % 8 == 0) {	/* a random byte: anything at all */
		p[0] = (uint8_t)ct_rand();
		return 1;
	}
	k = ct_rand() % (sizeof(ct_pieces) / sizeof(ct_pieces[0]));
	n = strlen(ct_pieces[k]);
	if (n == 0 || ct_pieces[k][0] == '\0')
		n = 1;	/* the NUL piece */
	memcpy(p, ct_pieces[k], n);
	return n;
}

static size_t
ct_input(uint8_t *p)
{
	size_t len = 0, want = ct_rand() % CT_MAX;

	while (len + CT_PIECE_MAX < want)
		len += ct_piece(p + len);
	return len;
}

/* Encode p in reads cut at random points with both encoders, flush, compare. */
static void
ct_compare(const uint8_t *p, size_t len)
{
	struct cast_text st = { { 0 }, 0 }, rst = { { 0 }, 0 };
	struct buf out, ref;
	size_t off = 0, n;
	uint64_t t = 0;

	buf_init(&out, 1 << 20);
	buf_init(&ref, 1 << 20);
	while (off < len) {
		n = ct_rand() % 4 == 0 ? ct_rand() % 8 : ct_rand() % (len - off + 1);
		n = n > len - off ? len - off : n;
		t += ct_rand() % 1000;
		assert_int_equal(cast_text(&out, &st, "o", t, p + off, n), 0);
		assert_int_equal(ref_text(&ref, &rst, "o", t, p + off, n), 0);
		assert_int_equal(st.ncarry, rst.ncarry);
		off += n;
	}
	assert_int_equal(cast_text_flush(&out, &st, "o", t), 0);
	assert_int_equal(ref_text_flush(&ref, &rst, "o", t), 0);
	assert_int_equal(buf_len(&out), buf_len(&ref));
	assert_memory_equal(buf_ptr(&out), buf_ptr(&ref), buf_len(&ref));
	buf_free(&out);
	buf_free(&ref);
}

static void
test_cast_random(void **state)
{
	static uint8_t p[CT_MAX];
	int i;

	(void)state;
	for (i = 0; i < 5000; i++)
		ct_compare(p, ct_input(p));
}

/* Every byte value at every position of a word, inside plain text, whole. */
static void
test_cast_each_byte(void **state)
{
	uint8_t p[40];
	size_t pos;
	int c;

	(void)state;
	for (c = 0; c < 256; c++) {
		for (pos = 0; pos < 24; pos++) {
			memset(p, 'a', sizeof(p));
			p[pos] = (uint8_t)c;
			ct_compare(p, sizeof(p));
		}
	}
}

/* Each multi-byte piece at every offset within runs of plain text. */
static void
test_cast_pieces_aligned(void **state)
{
	uint8_t p[64];
	size_t k, pos, n;

	(void)state;
	for (k = 0; k < sizeof(ct_pieces) / sizeof(ct_pieces[0]); k++) {
		n = strlen(ct_pieces[k]);
		for (pos = 0; n > 0 && pos + n <= sizeof(p); pos++) {
			memset(p, 'x', sizeof(p));
			memcpy(p + pos, ct_pieces[k], n);
			ct_compare(p, sizeof(p));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cast_random),
		cmocka_unit_test(test_cast_each_byte),
		cmocka_unit_test(test_cast_pieces_aligned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
