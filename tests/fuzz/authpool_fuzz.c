/* authpool_fuzz.c: the auth helpers' framing takes any bytes, both ways: a
 * request as a helper decodes it (in place) and a reply as the broker does.
 * Whatever decodes must encode again to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t msg[AUTHPOOL_MSG_MAX], again[AUTHPOOL_MSG_MAX];
	struct authpool_req req;
	struct authpool_reply rep;
	size_t len;

	if (size > AUTHPOOL_MSG_MAX)
		return 0;
	memcpy(msg, data, size);
	if (authpool_decode_req(msg, size, &req) == 0) {
		if (authpool_encode_req(&req, again, sizeof(again), &len) != 0 ||
		    len != size || memcmp(again, data, size) != 0)
			abort();
	}
	if (authpool_decode_reply(data, size, &rep) == 0) {
		if (authpool_encode_reply(&rep, again, sizeof(again), &len) != 0 ||
		    len != size || memcmp(again, data, size) != 0)
			abort();
	}
	return 0;
}
