/* castwrite_fuzz.c: whatever bytes an asset sends, split however the reads
 * fall, the asciicast encoding reads back to exactly those bytes ("o" + "b"
 * events in order). The first byte of the input chooses the read sizes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char header[] = "{\"version\": 2, \"width\": 80, \"height\": 24}\n";
	struct cast_text st;
	struct cast_reader *r;
	struct cast_event ev;
	struct buf cast, back;
	size_t off = 1, n, step;
	FILE *fp;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 17 + 1;
	memset(&st, 0, sizeof(st));
	buf_init(&cast, BUF_DEFAULT_MAX);
	buf_init(&back, BUF_DEFAULT_MAX);
	if (buf_puts(&cast, header) != 0)
		abort();
	while (off < size) {
		n = size - off < step ? size - off : step;
		if (cast_text(&cast, &st, "o", off, data + off, n) != 0)
			abort();
		off += n;
	}
	if (cast_text_flush(&cast, &st, "o", off) != 0)
		abort();
	if ((fp = fmemopen((void *)buf_ptr(&cast), buf_len(&cast), "r")) == NULL)
		abort();
	if (cast_reader_open(fp, &r) != 0)
		abort();
	while (cast_reader_next(r, &ev) == 0) {
		if (strcmp(ev.code, "o") != 0 && strcmp(ev.code, "b") != 0)
			abort();
		if (buf_put(&back, ev.data, ev.len) != 0)
			abort();
	}
	if (buf_len(&back) != size - 1 || (size > 1 &&
	    memcmp(buf_ptr(&back), data + 1, size - 1) != 0))
		abort();
	cast_reader_free(r);
	fclose(fp);
	buf_free(&cast);
	buf_free(&back);
	return 0;
}
