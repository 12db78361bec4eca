/* neutralise_fuzz.c: whatever a recording holds, split however, replay's
 * output carries no string sequence (OSC, DCS, APC, PM, SOS), no C1 control
 * and no CSI sequence that makes a terminal answer or move its window. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_output(const uint8_t *p, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		/* 8-bit C1 as bytes, or as UTF-8 U+0080..U+009F */
		if (p[i] >= 0x80 && p[i] <= 0x9f && (i == 0 || p[i - 1] == 0xc2))
			abort();
		if (p[i] != 0x1b)
			continue;
		if (i + 1 >= n)
			abort();	/* a dangling ESC would join the next write */
		if (strchr("]P_^XZ", p[i + 1]) != NULL)
			abort();
		if (p[i + 1] != '[')
			continue;
		for (j = i + 2; j < n && p[j] >= 0x20 && p[j] <= 0x3f; j++)
			;
		if (j >= n || strchr("ntcxiyp|", p[j]) != NULL)
			abort();
		if (p[j] == 'q' && (j == i + 2 || p[j - 1] != ' '))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct neutralise nz;
	struct buf out;
	size_t off = 1, n, step;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 13 + 1;
	neutralise_init(&nz);
	buf_init(&out, BUF_DEFAULT_MAX);
	/* a sequence split across events must be caught whole */
	while (off < size) {
		n = size - off < step ? size - off : step;
		if (neutralise_feed(&nz, &out, data + off, n) != 0)
			abort();
		off += n;
	}
	if (buf_len(&out) > 0)
		check_output(buf_ptr(&out), buf_len(&out));
	buf_free(&out);
	return 0;
}
