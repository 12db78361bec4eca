/* sftp_fuzz.c: any bytes from either peer, cut anywhere: what the parser
 * passes on in each direction is whole packets, each within the limit, but
 * for the last one, which may still be under way (it streams); the broker's
 * own answers, written into the same stream to the vendor as the relay does,
 * never split one of the asset's packets; nothing goes to the asset that the
 * vendor did not send; tables stay bounded; no raw control byte reaches an
 * event; and it either accepts or names the problem. The first byte picks the
 * role's directions and max-file-size; then each cut is a length byte (bit 7:
 * from the vendor) and that many bytes. */
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

/* The packets in b: whole, but for a last one that may be cut short. */
static void
fuzz_packets(const struct buf *b)
{
	struct buf r = *b;
	uint32_t len;

	while (buf_len(&r) >= 4) {
		if (buf_get_u32(&r, &len) != 0 || len == 0 || len > SFTP_PACKET_MAX)
			abort();
		if (buf_consume(&r, len) != 0)
			return;	/* the one under way */
	}
	if (buf_len(&r) != 0)
		abort();	/* a length field cut in two: never written so */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sftp *sp;
	struct buf fwd[2];
	char why[200];
	size_t off = 1, n, from_vendor = 0;
	int dir, rc = 0;

	if (size < 1)
		return 0;
	if (sftp_new(data[0] & 3u, (data[0] & 4) ? 4096 : 0, fuzz_event_cb, NULL, &sp) != 0)
		return 0;
	buf_init(&fwd[0], BUF_DEFAULT_MAX);
	buf_init(&fwd[1], BUF_DEFAULT_MAX);
	while (off < size && rc == 0) {
		dir = data[off] >> 7;
		n = (size_t)(data[off] & 0x7f) + 1;
		off++;
		if (n > size - off)
			n = size - off;
		/* as relay.c: answers go into the stream to the vendor */
		rc = sftp_input(sp, dir, data + off, n, &fwd[dir], &fwd[0], why, sizeof(why));
		if (rc != 0 && (why[0] == '\0' || strchr(why, '\n') != NULL))
			abort();
		if (dir)
			from_vendor += n;
		off += n;
	}
	fuzz_packets(&fwd[0]);
	fuzz_packets(&fwd[1]);
	if (buf_len(&fwd[1]) > from_vendor)
		abort();
	sftp_finish(sp);
	sftp_free(sp);
	buf_free(&fwd[0]);
	buf_free(&fwd[1]);
	return 0;
}
