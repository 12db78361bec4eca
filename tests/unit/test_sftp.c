/* test_sftp.c: the SFTP stream parser: uploads and downloads named with size
 * and SHA-256, data streamed on as it arrives, refusals answered by the broker
 * between two of the asset's packets, bounds, malformed packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker.h"

#define SHA_HELLO_WORLD "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

struct seen {
	int n;
	char op[64][16];
	char path[64][256];
	char path2[64][256];
	char reason[64][64];
	char sha_read[64][65], sha_written[64][65];
	unsigned long long bytes_read[64], bytes_written[64];
	int status[64];
};

static void
seen_cb(const struct sftp_event *ev, void *arg)
{
	struct seen *s = arg;
	int i = s->n < 63 ? s->n++ : 63;

	snprintf(s->op[i], sizeof(s->op[i]), "%s", ev->op);
	snprintf(s->path[i], sizeof(s->path[i]), "%s", ev->path);
	snprintf(s->path2[i], sizeof(s->path2[i]), "%s", ev->path2);
	snprintf(s->reason[i], sizeof(s->reason[i]), "%s", ev->reason);
	snprintf(s->sha_read[i], sizeof(s->sha_read[i]), "%s", ev->sha_read);
	snprintf(s->sha_written[i], sizeof(s->sha_written[i]), "%s", ev->sha_written);
	s->bytes_read[i] = ev->bytes_read;
	s->bytes_written[i] = ev->bytes_written;
	s->status[i] = ev->status;
}

/* packet builder: type, then fields */
struct pkt {
	struct buf b;
};

static void
pkt_begin(struct pkt *p, int type)
{
	buf_init(&p->b, 1 << 20);
	buf_put_u32(&p->b, 0);
	buf_putc(&p->b, type);
}

static void
pkt_str(struct pkt *p, const void *s, size_t len)
{
	buf_put_u32(&p->b, (uint32_t)len);
	buf_put(&p->b, s, len);
}

static void
pkt_end(struct pkt *p)
{
	uint32_t len = (uint32_t)(buf_len(&p->b) - 4);

	p->b.data[p->b.off] = (uint8_t)(len >> 24);
	p->b.data[p->b.off + 1] = (uint8_t)(len >> 16);
	p->b.data[p->b.off + 2] = (uint8_t)(len >> 8);
	p->b.data[p->b.off + 3] = (uint8_t)len;
}

/* Feed one packet; returns sftp_input's result, checks it went on unchanged
 * when expected. */
static int
feed(struct sftp *sp, int to_asset, struct pkt *p, struct buf *fwd, struct buf *reply,
    int expect_forwarded)
{
	char why[200];
	size_t before = buf_len(fwd);
	int rc;

	rc = sftp_input(sp, to_asset, buf_ptr(&p->b), buf_len(&p->b), fwd, reply, why,
	    sizeof(why));
	if (rc == 0 && expect_forwarded) {
		assert_int_equal(buf_len(fwd) - before, buf_len(&p->b));
		assert_memory_equal(buf_ptr(fwd) + before, buf_ptr(&p->b), buf_len(&p->b));
	} else if (rc == 0) {
		assert_int_equal(buf_len(fwd), before);
	}
	buf_free(&p->b);
	return rc;
}

static void
send_open(struct sftp *sp, uint32_t id, const char *path, uint32_t flags,
    struct buf *fwd, struct buf *reply, int forwarded)
{
	struct pkt p;

	pkt_begin(&p, 3);
	buf_put_u32(&p.b, id);
	pkt_str(&p, path, strlen(path));
	buf_put_u32(&p.b, flags);
	buf_put_u32(&p.b, 0);	/* attrs: no flags */
	pkt_end(&p);
	assert_int_equal(feed(sp, 1, &p, fwd, reply, forwarded), 0);
}

static void
reply_handle(struct sftp *sp, uint32_t id, const char *h, struct buf *fwd)
{
	struct pkt p;

	pkt_begin(&p, 102);
	buf_put_u32(&p.b, id);
	pkt_str(&p, h, strlen(h));
	pkt_end(&p);
	assert_int_equal(feed(sp, 0, &p, fwd, NULL, 1), 0);
}

static void
send_write(struct sftp *sp, uint32_t id, const char *h, uint64_t off, const char *data,
    struct buf *fwd, struct buf *reply, int forwarded)
{
	struct pkt p;

	pkt_begin(&p, 6);
	buf_put_u32(&p.b, id);
	pkt_str(&p, h, strlen(h));
	buf_put_u64(&p.b, off);
	pkt_str(&p, data, strlen(data));
	pkt_end(&p);
	assert_int_equal(feed(sp, 1, &p, fwd, reply, forwarded), 0);
}

static void
send_close(struct sftp *sp, uint32_t id, const char *h, struct buf *fwd)
{
	struct pkt p;

	pkt_begin(&p, 4);
	buf_put_u32(&p.b, id);
	pkt_str(&p, h, strlen(h));
	pkt_end(&p);
	assert_int_equal(feed(sp, 1, &p, fwd, NULL, 1), 0);
}

/* The STATUS the broker wrote into reply: its id and code. */
static void
expect_status(struct buf *reply, uint32_t id, uint32_t code)
{
	uint32_t len, got_id, got_code;
	uint8_t type;

	assert_int_equal(buf_get_u32(reply, &len), 0);
	assert_true(len <= buf_len(reply));
	assert_int_equal(buf_get_u8(reply, &type), 0);
	assert_int_equal(type, 101);
	assert_int_equal(buf_get_u32(reply, &got_id), 0);
	assert_int_equal(got_id, id);
	assert_int_equal(buf_get_u32(reply, &got_code), 0);
	assert_int_equal(got_code, code);
	assert_int_equal(buf_consume(reply, len - 9), 0);
}

static void
test_upload(void **state)
{
	struct seen seen = { 0 };
	struct sftp *sp;
	struct buf fwd, reply;

	(void)state;
	buf_init(&fwd, 1 << 20);
	buf_init(&reply, 1 << 20);
	assert_int_equal(sftp_new(SFTP_ALLOW_READ | SFTP_ALLOW_WRITE, 0, seen_cb, &seen,
	    &sp), 0);
	send_open(sp, 1, "/plc/prog.bin", 0x02 | 0x08 | 0x10, &fwd, &reply, 1);
	assert_int_equal(seen.n, 0);	/* open is logged with the asset's answer */
	reply_handle(sp, 1, "H1", &fwd);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.op[0], "open");
	assert_string_equal(seen.path[0], "/plc/prog.bin");
	assert_int_equal(seen.status[0], 0);
	send_write(sp, 2, "H1", 0, "hello ", &fwd, &reply, 1);
	send_write(sp, 3, "H1", 6, "world", &fwd, &reply, 1);
	send_close(sp, 4, "H1", &fwd);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.op[1], "close");
	assert_string_equal(seen.path[1], "/plc/prog.bin");
	assert_int_equal(seen.bytes_written[1], 11);
	assert_string_equal(seen.sha_written[1], SHA_HELLO_WORLD);
	assert_string_equal(seen.sha_read[1], "");
	assert_int_equal(buf_len(&reply), 0);
	sftp_free(sp);
	buf_free(&fwd);
	buf_free(&reply);
}

static void
test_download_bytewise(void **state)
{
	struct seen seen = { 0 };
	struct sftp *sp;
	struct buf fwd, reply, all;
	struct pkt p;
	char why[200];
	size_t i;

	(void)state;
	buf_init(&fwd, 1 << 20);
	buf_init(&reply, 1 << 20);
	buf_init(&all, 1 << 20);
	assert_int_equal(sftp_new(SFTP_ALLOW_READ, 0, seen_cb, &seen, &sp), 0);
	send_open(sp, 7, "/logs/a.log", 0x01, &fwd, &reply, 1);
	reply_handle(sp, 7, "HH", &fwd);
	/* READ, then its DATA in two halves, each fed one byte at a time */
	pkt_begin(&p, 5);
	buf_put_u32(&p.b, 8);
	pkt_str(&p, "HH", 2);
	buf_put_u64(&p.b, 0);
	buf_put_u32(&p.b, 32768);
	pkt_end(&p);
	assert_int_equal(feed(sp, 1, &p, &fwd, &reply, 1), 0);
	pkt_begin(&p, 103);
	buf_put_u32(&p.b, 8);
	pkt_str(&p, "hello world", 11);
	pkt_end(&p);
	buf_reset(&fwd);
	for (i = 0; i < buf_len(&p.b); i++) {
		assert_int_equal(sftp_input(sp, 0, buf_ptr(&p.b) + i, 1, &fwd, NULL, why,
		    sizeof(why)), 0);
		/* held up to the data's length (13 bytes), then each byte goes on */
		assert_int_equal(buf_len(&fwd), i + 1 < 13 ? 0 : i + 1);
	}
	assert_int_equal(buf_len(&fwd), buf_len(&p.b));
	assert_memory_equal(buf_ptr(&fwd), buf_ptr(&p.b), buf_len(&p.b));
	buf_free(&p.b);
	send_close(sp, 9, "HH", &fwd);
	assert_string_equal(seen.op[seen.n - 1], "close");
	assert_int_equal(seen.bytes_read[seen.n - 1], 11);
	assert_string_equal(seen.sha_read[seen.n - 1], SHA_HELLO_WORLD);
	sftp_free(sp);
	buf_free(&fwd);
	buf_free(&reply);
	buf_free(&all);
}

static void
test_refusals(void **state)
{
	struct seen seen = { 0 };
	struct sftp *sp;
	struct buf fwd, reply;
	struct pkt p;

	(void)state;
	buf_init(&fwd, 1 << 20);
	buf_init(&reply, 1 << 20);
	/* read only: an open for writing and a remove are answered by the broker */
	assert_int_equal(sftp_new(SFTP_ALLOW_READ, 0, seen_cb, &seen, &sp), 0);
	send_open(sp, 11, "/plc/fw.bin", 0x02 | 0x08, &fwd, &reply, 0);
	expect_status(&reply, 11, 3);
	assert_string_equal(seen.op[0], "denied");
	assert_string_equal(seen.reason[0], "writing is not allowed");
	pkt_begin(&p, 13);
	buf_put_u32(&p.b, 12);
	pkt_str(&p, "/plc/fw.bin", 11);
	pkt_end(&p);
	assert_int_equal(feed(sp, 1, &p, &fwd, &reply, 0), 0);
	expect_status(&reply, 12, 3);
	assert_int_equal(buf_len(&fwd), 0);
	sftp_free(sp);

	/* a write to a handle the parser never saw opened is refused too */
	seen.n = 0;
	assert_int_equal(sftp_new(SFTP_ALLOW_READ, 0, seen_cb, &seen, &sp), 0);
	send_write(sp, 14, "forged", 0, "x", &fwd, &reply, 0);
	expect_status(&reply, 14, 3);
	assert_string_equal(seen.path[0], "(handle)");
	sftp_free(sp);

	/* write only: reading refused */
	seen.n = 0;
	assert_int_equal(sftp_new(SFTP_ALLOW_WRITE, 0, seen_cb, &seen, &sp), 0);
	send_open(sp, 13, "/etc/passwd", 0x01, &fwd, &reply, 0);
	expect_status(&reply, 13, 3);
	assert_string_equal(seen.reason[0], "reading is not allowed");
	sftp_free(sp);

	/* max-file-size 8: the write that crosses it is refused, not forwarded */
	seen.n = 0;
	assert_int_equal(sftp_new(SFTP_ALLOW_READ | SFTP_ALLOW_WRITE, 8, seen_cb, &seen,
	    &sp), 0);
	send_open(sp, 1, "/big", 0x02 | 0x08, &fwd, &reply, 1);
	reply_handle(sp, 1, "B", &fwd);
	send_write(sp, 2, "B", 0, "12345678", &fwd, &reply, 1);
	send_write(sp, 3, "B", 8, "9", &fwd, &reply, 0);
	expect_status(&reply, 3, 3);
	send_write(sp, 4, "B", UINT64_MAX, "9", &fwd, &reply, 0);
	expect_status(&reply, 4, 3);
	assert_string_equal(seen.reason[seen.n - 1], "file larger than max-file-size");
	sftp_free(sp);
	buf_free(&fwd);
	buf_free(&reply);
}

static void
test_hostile_paths(void **state)
{
	struct seen seen = { 0 };
	struct sftp *sp;
	struct buf fwd, reply;
	struct pkt p;
	static const char path[] = "../../etc/\n\x1b[31mred\0tail";

	(void)state;
	buf_init(&fwd, 1 << 20);
	buf_init(&reply, 1 << 20);
	assert_int_equal(sftp_new(SFTP_ALLOW_READ | SFTP_ALLOW_WRITE, 0, seen_cb, &seen,
	    &sp), 0);
	pkt_begin(&p, 18);	/* rename */
	buf_put_u32(&p.b, 5);
	pkt_str(&p, path, sizeof(path) - 1);
	pkt_str(&p, "b", 1);
	pkt_end(&p);
	assert_int_equal(feed(sp, 1, &p, &fwd, &reply, 1), 0);
	pkt_begin(&p, 101);	/* the asset says ok */
	buf_put_u32(&p.b, 5);
	buf_put_u32(&p.b, 0);
	pkt_str(&p, "", 0);
	pkt_str(&p, "", 0);
	pkt_end(&p);
	assert_int_equal(feed(sp, 0, &p, &fwd, NULL, 1), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.op[0], "rename");
	assert_int_equal(seen.status[0], 0);
	assert_null(strchr(seen.path[0], '\n'));
	assert_null(strchr(seen.path[0], '\x1b'));
	assert_non_null(strstr(seen.path[0], "../../etc/"));
	assert_non_null(strstr(seen.path[0], "tail"));	/* the NUL did not cut it */
	assert_string_equal(seen.path2[0], "b");
	sftp_free(sp);
	buf_free(&fwd);
	buf_free(&reply);
}

/* A WRITE of 64 KiB fed in pieces: its head waits, then each piece goes on as
 * it comes and the hash covers all of it; a refused one never goes on. */
static void
test_write_streams(void **state)
{
	struct seen seen = { 0 };
	struct sftp *sp;
	struct buf fwd, reply;
	struct pkt p;
	static char data[65536];
	char why[200];
	size_t i, head = 4 + 1 + 4 + 4 + 1 + 8 + 4, step = 1000, n;

	(void)state;
	memset(data, 'a', sizeof(data));
	buf_init(&fwd, 1 << 20);
	buf_init(&reply, 1 << 20);
	assert_int_equal(sftp_new(SFTP_ALLOW_READ | SFTP_ALLOW_WRITE, 70000, seen_cb,
	    &seen, &sp), 0);
	send_open(sp, 1, "/big", 0x02 | 0x08, &fwd, &reply, 1);
	reply_handle(sp, 1, "W", &fwd);
	buf_reset(&fwd);
	pkt_begin(&p, 6);
	buf_put_u32(&p.b, 2);
	pkt_str(&p, "W", 1);
	buf_put_u64(&p.b, 0);
	pkt_str(&p, data, sizeof(data));
	pkt_end(&p);
	for (i = 0; i < buf_len(&p.b); i += n) {
		n = buf_len(&p.b) - i < step ? buf_len(&p.b) - i : step;
		assert_int_equal(sftp_input(sp, 1, buf_ptr(&p.b) + i, n, &fwd, &reply, why,
		    sizeof(why)), 0);
		assert_int_equal(buf_len(&fwd), i + n < head ? 0 : i + n);
	}
	assert_memory_equal(buf_ptr(&fwd), buf_ptr(&p.b), buf_len(&p.b));
	/* the second 64 KiB would cross max-file-size: dropped piece by piece */
	buf_reset(&fwd);
	p.b.data[p.b.off + 8] = 3;	/* id 3 */
	p.b.data[p.b.off + 19] = 1;	/* offset 65536 */
	for (i = 0; i < buf_len(&p.b); i += n) {
		n = buf_len(&p.b) - i < step ? buf_len(&p.b) - i : step;
		assert_int_equal(sftp_input(sp, 1, buf_ptr(&p.b) + i, n, &fwd, &reply, why,
		    sizeof(why)), 0);
	}
	assert_int_equal(buf_len(&fwd), 0);
	expect_status(&reply, 3, 3);
	assert_int_equal(buf_len(&reply), 0);
	buf_free(&p.b);
	send_close(sp, 4, "W", &fwd);
	assert_string_equal(seen.op[seen.n - 1], "close");
	assert_int_equal(seen.bytes_written[seen.n - 1], 65536);
	/* sha256 of 65536 times 'a' */
	assert_string_equal(seen.sha_written[seen.n - 1],
	    "bf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a");
	sftp_free(sp);
	buf_free(&fwd);
	buf_free(&reply);
}

/* The broker's answer to a refused request waits while a DATA reply is half
 * relayed, and follows it: the vendor's stream stays whole packets. */
static void
test_answer_between_packets(void **state)
{
	struct seen seen = { 0 };
	struct sftp *sp;
	struct buf to_vendor, to_asset;
	struct pkt p, data;
	char why[200];

	(void)state;
	buf_init(&to_vendor, 1 << 20);
	buf_init(&to_asset, 1 << 20);
	assert_int_equal(sftp_new(SFTP_ALLOW_READ, 0, seen_cb, &seen, &sp), 0);
	send_open(sp, 1, "/r", 0x01, &to_asset, &to_vendor, 1);
	reply_handle(sp, 1, "R", &to_vendor);
	buf_reset(&to_vendor);
	pkt_begin(&data, 103);
	buf_put_u32(&data.b, 2);
	pkt_str(&data, "0123456789", 10);
	pkt_end(&data);
	/* the asset's DATA, its head and 3 bytes of its data */
	assert_int_equal(sftp_input(sp, 0, buf_ptr(&data.b), 16, &to_vendor, NULL, why,
	    sizeof(why)), 0);
	assert_int_equal(buf_len(&to_vendor), 16);
	/* the vendor's remove, refused: the answer waits */
	pkt_begin(&p, 13);
	buf_put_u32(&p.b, 5);
	pkt_str(&p, "/r", 2);
	pkt_end(&p);
	assert_int_equal(feed(sp, 1, &p, &to_asset, &to_vendor, 0), 0);
	assert_int_equal(buf_len(&to_vendor), 16);
	/* the rest of the DATA, then the answer */
	assert_int_equal(sftp_input(sp, 0, buf_ptr(&data.b) + 16, buf_len(&data.b) - 16,
	    &to_vendor, NULL, why, sizeof(why)), 0);
	assert_memory_equal(buf_ptr(&to_vendor), buf_ptr(&data.b), buf_len(&data.b));
	assert_int_equal(buf_consume(&to_vendor, buf_len(&data.b)), 0);
	expect_status(&to_vendor, 5, 3);
	assert_int_equal(buf_len(&to_vendor), 0);
	buf_free(&data.b);
	sftp_free(sp);
	buf_free(&to_vendor);
	buf_free(&to_asset);
}

static void
expect_malformed(const uint8_t *bytes, size_t len, const char *needle)
{
	struct seen seen = { 0 };
	struct sftp *sp;
	struct buf fwd, reply;
	char why[200];

	buf_init(&fwd, 1 << 20);
	buf_init(&reply, 1 << 20);
	assert_int_equal(sftp_new(SFTP_ALLOW_READ | SFTP_ALLOW_WRITE, 0, seen_cb, &seen,
	    &sp), 0);
	assert_int_equal(sftp_input(sp, 1, bytes, len, &fwd, &reply, why, sizeof(why)),
	    OTG_ERR_PROTO);
	if (strstr(why, needle) == NULL)
		fail_msg("reason '%s' lacks '%s'", why, needle);
	assert_int_equal(buf_len(&fwd), 0);
	sftp_free(sp);
	buf_free(&fwd);
	buf_free(&reply);
}

static void
test_malformed(void **state)
{
	static const uint8_t zero[] = { 0, 0, 0, 0, 1 };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 3 };
	static const uint8_t over[] = { 0, 4, 0, 1, 3 };
	/* OPEN whose path claims more than the packet holds */
	static const uint8_t longpath[] = { 0, 0, 0, 13, 3, 0, 0, 0, 1, 0, 0, 0x10, 0,
		'a', 'b', 'c', 'd' };
	static const uint8_t noid[] = { 0, 0, 0, 2, 6, 0 };

	(void)state;
	expect_malformed(zero, sizeof(zero), "length 0");
	expect_malformed(huge, sizeof(huge), "length 4294967295");
	expect_malformed(over, sizeof(over), "length");
	expect_malformed(longpath, sizeof(longpath), "malformed sftp request (type 3)");
	expect_malformed(noid, sizeof(noid), "without an id");
}

static void
test_bounds_and_unknown(void **state)
{
	struct seen seen = { 0 };
	struct sftp *sp;
	struct buf fwd, reply;
	struct pkt p;
	char path[32];
	uint32_t i;
	int refused = 0, unknown = 0, k;

	(void)state;
	buf_init(&fwd, 64u << 20);
	buf_init(&reply, 1 << 20);
	assert_int_equal(sftp_new(SFTP_ALLOW_READ | SFTP_ALLOW_WRITE, 0, seen_cb, &seen,
	    &sp), 0);
	/* thousands of opens the asset never answers: the table stays bounded */
	for (i = 0; i < 3000; i++) {
		snprintf(path, sizeof(path), "/f%u", i);
		send_open(sp, i, path, 0x01, &fwd, &reply, i < SFTP_HANDLES_MAX);
	}
	while (buf_len(&reply) > 0) {
		expect_status(&reply, SFTP_HANDLES_MAX + (uint32_t)refused, 4);
		refused++;
	}
	assert_int_equal(refused, 3000 - SFTP_HANDLES_MAX);
	/* an unknown type goes on and is logged once */
	seen.n = 0;
	for (k = 0; k < 3; k++) {
		pkt_begin(&p, 77);
		buf_put_u32(&p.b, 1);
		pkt_end(&p);
		assert_int_equal(feed(sp, 1, &p, &fwd, &reply, 1), 0);
	}
	for (k = 0; k < seen.n; k++)
		unknown += strcmp(seen.op[k], "unknown") == 0;
	assert_int_equal(unknown, 1);
	sftp_free(sp);
	buf_free(&fwd);
	buf_free(&reply);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_download_bytewise),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_write_streams),
		cmocka_unit_test(test_answer_between_packets),
		cmocka_unit_test(test_hostile_paths),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bounds_and_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
