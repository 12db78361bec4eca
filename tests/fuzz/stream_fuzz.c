/* stream_fuzz.c: the binary stream reader takes any file: lengths that lie,
 * cut frames, unknown directions, a header that is not JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "recorder/recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_reader *r;
	struct stream_frame f;
	struct neutralise nz;
	struct buf out;
	FILE *fp;

	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	if (stream_reader_open(fp, &r) == 0) {
		neutralise_init(&nz);
		buf_init(&out, BUF_DEFAULT_MAX);
		while (stream_reader_next(r, &f) == 0) {
			buf_reset(&out);
			neutralise_feed(&nz, &out, f.data, f.len);
		}
		buf_free(&out);
		stream_reader_free(r);
	}
	fclose(fp);
	return 0;
}
