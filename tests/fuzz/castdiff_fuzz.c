/* castdiff_fuzz.c: the asciicast text encoder writes exactly what the frozen
 * reference encoder (tests/unit/cast_ref.h) writes, for any bytes split into
 * any reads. The first byte of the input chooses the read sizes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/cast_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cast_text st, rst;
	struct buf out, ref;
	size_t off = 1, n, step;
	int a, b;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 37 + 1;
	memset(&st, 0, sizeof(st));
	memset(&rst, 0, sizeof(rst));
	buf_init(&out, BUF_DEFAULT_MAX);
	buf_init(&ref, BUF_DEFAULT_MAX);
	while (off < size) {
		n = size - off < step ? size - off : step;
		a = cast_text(&out, &st, "o", off, data + off, n);
		b = ref_text(&ref, &rst, "o", off, data + off, n);
		if (a != b || st.ncarry != rst.ncarry)
			abort();
		off += n;
		step = step * 7 % 41 + 1;	/* varied cuts within one input */
	}
	if (cast_text_flush(&out, &st, "o", off) != ref_text_flush(&ref, &rst, "o", off) ||
	    buf_len(&out) != buf_len(&ref) ||
	    memcmp(buf_ptr(&out), buf_ptr(&ref), buf_len(&ref)) != 0)
		abort();
	buf_free(&out);
	buf_free(&ref);
	return 0;
}
