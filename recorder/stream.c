/*
 * stream.c: the binary framed format of channels without a pty (exec, sftp,
 * port forwards). Their bytes are arbitrary, and JSON is no place for binary,
 * so each read becomes a frame: time, direction, length, bytes. A JSON header
 * carries the same session metadata as a cast header. Reading is bounded: a
 * frame over REC_MAX_FRAME or a header over STREAM_MAX_HEADER is an error.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define STREAM_FRAME_MAX_WRITE 65536

struct stream_reader {
	FILE *fp;
	struct json *header;
	uint8_t *data;
};

int
stream_header(struct buf *out, const struct rec_meta *m)
{
	struct buf json;
	int r;

	buf_init(&json, STREAM_MAX_HEADER);
	/* the same fields and escaping as a cast header, minus the terminal */
	if ((r = cast_header(&json, m)) != 0)
		goto out;
	json.len--;		/* its newline */
	if ((r = buf_puts(out, STREAM_MAGIC)) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)buf_len(&json))) != 0)
		goto out;
	r = buf_put(out, buf_ptr(&json), buf_len(&json));
out:
	buf_free(&json);
	return r;
}

int
stream_frame(struct buf *out, uint64_t t_us, int dir, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;
	int r;

	do {
		n = len > STREAM_FRAME_MAX_WRITE ? STREAM_FRAME_MAX_WRITE : len;
		if ((r = buf_put_u64(out, t_us)) != 0 || (r = buf_putc(out, dir)) != 0 ||
		    (r = buf_put_u32(out, (uint32_t)n)) != 0 || (r = buf_put(out, p, n)) != 0)
			return r;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}

static uint64_t
stream_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Read exactly n bytes: 0, 1 when the file ended before the first byte,
 * OTG_ERR_TRUNCATED when it ended inside. */
static int
stream_read(FILE *fp, void *p, size_t n)
{
	size_t got = fread(p, 1, n, fp);

	if (got == n)
		return 0;
	if (ferror(fp))
		return OTG_ERR_IO;
	return got == 0 ? 1 : OTG_ERR_TRUNCATED;
}

int
stream_reader_open(FILE *fp, struct stream_reader **out)
{
	struct stream_reader *r;
	uint8_t head[12];
	char *text = NULL;
	uint32_t len;
	int err;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return OTG_ERR_NOMEM;
	r->fp = fp;
	if ((err = stream_read(fp, head, sizeof(head))) != 0) {
		if (err == 1)
			err = OTG_ERR_TRUNCATED;
		goto out;
	}
	err = OTG_ERR_PROTO;
	if (memcmp(head, STREAM_MAGIC, 8) != 0)
		goto out;
	len = (uint32_t)stream_be(head + 8, 4);
	if (len > STREAM_MAX_HEADER)
		goto out;
	if ((text = malloc((size_t)len + 1)) == NULL) {
		err = OTG_ERR_NOMEM;
		goto out;
	}
	if ((err = stream_read(fp, text, len)) != 0) {
		if (err == 1)
			err = OTG_ERR_TRUNCATED;
		goto out;
	}
	if ((err = json_parse(text, len, &r->header)) != 0)
		goto out;
	if (r->header->type != JSON_OBJECT) {
		err = OTG_ERR_PROTO;
		goto out;
	}
	*out = r;
	r = NULL;
	err = 0;
out:
	free(text);
	stream_reader_free(r);
	return err;
}

const struct json *
stream_reader_header(const struct stream_reader *r)
{
	return r->header;
}

int
stream_reader_next(struct stream_reader *r, struct stream_frame *f)
{
	uint8_t head[13];
	uint32_t len;
	int err;

	if ((err = stream_read(r->fp, head, sizeof(head))) != 0)
		return err;
	len = (uint32_t)stream_be(head + 9, 4);
	if (len > REC_MAX_FRAME)
		return OTG_ERR_TOOBIG;
	if (head[8] != STREAM_OUT && head[8] != STREAM_IN && head[8] != STREAM_MARKER &&
	    head[8] != STREAM_EXIT)
		return OTG_ERR_PROTO;
	if (r->data == NULL && (r->data = malloc(REC_MAX_FRAME)) == NULL)
		return OTG_ERR_NOMEM;
	if (len > 0 && (err = stream_read(r->fp, r->data, len)) != 0)
		return err == 1 ? OTG_ERR_TRUNCATED : err;
	f->t_us = stream_be(head, 8);
	f->dir = head[8];
	f->data = r->data;
	f->len = len;
	return 0;
}

void
stream_reader_free(struct stream_reader *r)
{
	if (r == NULL)
		return;
	json_free(r->header);
	free(r->data);
	free(r);
}
