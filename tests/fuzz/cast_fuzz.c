/* cast_fuzz.c: the asciicast reader, and what replay and indexing do with its
 * events (neutralise, transcript), take any file an attacker could plant. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "recorder/recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
line_cb(void *arg, double t, const char *line, size_t len)
{
	(void)arg;
	(void)t;
	(void)line;
	(void)len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cast_reader *r;
	struct cast_event ev;
	struct neutralise nz;
	struct transcript tr;
	struct buf out;
	FILE *fp;

	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	if (cast_reader_open(fp, &r) == 0) {
		neutralise_init(&nz);
		transcript_init(&tr, line_cb, NULL);
		buf_init(&out, BUF_DEFAULT_MAX);
		while (cast_reader_next(r, &ev) == 0) {
			buf_reset(&out);
			neutralise_feed(&nz, &out, ev.data, ev.len);
			transcript_feed(&tr, ev.t, ev.data, ev.len);
		}
		transcript_flush(&tr);
		buf_free(&out);
		cast_reader_free(r);
	}
	fclose(fp);
	return 0;
}
