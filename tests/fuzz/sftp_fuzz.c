/* sftp_fuzz.c: any bytes from either peer, cut anywhere: the parser forwards
 * whole packets only (each one it was given, or refuses it with an answer),
 * keeps its tables bounded, never writes a raw control byte into an event, and
 * either accepts or names the problem. The first byte picks the role's
 * directions and how the input is cut; bit 7 of each cut says who sent it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_text(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void
fuzz_event_cb(const struct sftp_event *ev, void *arg)
{
	(void)arg;
	fuzz_text(ev->op);
	fuzz_text(ev->path);
	fuzz_text(ev->path2);
	fuzz_text(ev->reason);
	if ((ev->sha_read[0] != '\0' && strlen(ev->sha_read) != 64) ||
	    (ev->sha_written[0] != '\0' && strlen(ev->sha_written) != 64))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sftp *sp;
	struct buf fwd[2], reply;
	char why[200];
	size_t off = 1, n;
	int dir, rc = 0;

	if (size < 1)
		return 0;
	if (sftp_new(data[0] & 3u, (data[0] & 4) ? 4096 : 0, fuzz_event_cb, NULL, &sp) != 0)
		return 0;
	buf_init(&fwd[0], BUF_DEFAULT_MAX);
	buf_init(&fwd[1], BUF_DEFAULT_MAX);
	buf_init(&reply, BUF_DEFAULT_MAX);
	while (off < size && rc == 0) {
		dir = data[off] >> 7;
		n = (size_t)(data[off] & 0x7f) + 1;
		off++;
		if (n > size - off)
			n = size - off;
		rc = sftp_input(sp, dir, data + off, n, &fwd[dir], dir ? &reply : NULL, why,
		    sizeof(why));
		if (rc != 0 && (why[0] == '\0' || strchr(why, '\n') != NULL))
			abort();
		off += n;
	}
	/* what went on is whole packets, each within the limit */
	for (dir = 0; dir < 2; dir++) {
		struct buf r = fwd[dir];
		uint32_t len;

		while (buf_len(&r) > 0)
			if (buf_get_u32(&r, &len) != 0 || len == 0 || len > SFTP_PACKET_MAX ||
			    buf_consume(&r, len) != 0)
				abort();
	}
	sftp_finish(sp);
	sftp_free(sp);
	buf_free(&fwd[0]);
	buf_free(&fwd[1]);
	buf_free(&reply);
	return 0;
}
