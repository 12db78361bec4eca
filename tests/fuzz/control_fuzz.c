/* control_fuzz.c: the control protocol's framing takes any byte stream: every
 * message it accepts is whole, bounded, and encodes back to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/control-protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAXBODY 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_header h;
	struct buf in, body, again;
	size_t before;
	int r;

	buf_init(&in, 1u << 20);
	if (size == 0 || buf_put(&in, data, size) != 0) {
		buf_free(&in);
		return 0;
	}
	for (;;) {
		buf_init(&body, FUZZ_MAXBODY);
		buf_init(&again, CONTROL_HEADER_LEN + FUZZ_MAXBODY);
		before = buf_len(&in);
		r = control_decode(&in, FUZZ_MAXBODY, &h, &body);
		if (r == 0) {
			if (h.magic != CONTROL_MAGIC || h.version != CONTROL_VERSION ||
			    h.len > FUZZ_MAXBODY || buf_len(&body) != h.len ||
			    before - buf_len(&in) != CONTROL_HEADER_LEN + (size_t)h.len)
				abort();
			if (control_encode(&again, h.type, h.flags,
			    h.len > 0 ? buf_ptr(&body) : NULL, h.len) != 0 ||
			    buf_len(&again) != CONTROL_HEADER_LEN + (size_t)h.len ||
			    memcmp(buf_ptr(&again), data + (size - before), buf_len(&again)) != 0)
				abort();
		} else if (buf_len(&in) != before) {
			abort();	/* a refused message consumes nothing */
		}
		buf_free(&body);
		buf_free(&again);
		if (r != 0 || buf_len(&in) == 0)
			break;
	}
	buf_free(&in);
	return 0;
}
