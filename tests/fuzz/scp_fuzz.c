/* scp_fuzz.c: any bytes on either side of a legacy scp, cut anywhere: the
 * parser accepts or names the problem on one line, and every event's path is
 * free of control bytes and its hash 64 hex digits. The first byte picks the
 * direction (scp -t or -f); bit 7 of each cut says who sent it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_event_cb(const struct scp_event *ev, void *arg)
{
	const char *s;

	(void)arg;
	for (s = ev->path; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
	if (strlen(ev->sha256) != 64)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scp *p;
	char why[200];
	size_t off = 1, n;
	int rc = 0, dir;

	if (size < 1 || scp_new(data[0] & 1 ? "scp -r -t /x" : "scp -f /x", fuzz_event_cb,
	    NULL, &p) != 0)
		return 0;
	while (off < size && rc == 0) {
		dir = data[off] >> 7;
		n = (size_t)(data[off] & 0x7f) + 1;
		off++;
		if (n > size - off)
			n = size - off;
		rc = scp_input(p, dir, data + off, n, why, sizeof(why));
		if (rc != 0 && (why[0] == '\0' || strchr(why, '\n') != NULL))
			abort();
		off += n;
	}
	scp_free(p);
	return 0;
}
