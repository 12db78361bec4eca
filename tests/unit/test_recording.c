/* test_recording.c: the recording writer and readers: round trips of random
 * binary output and split UTF-8 through asciicast and streams, seals made on
 * the way, checkpoints reported, and a write failure that fails closed. Each
 * test runs twice: files written on the caller's thread, and by a worker
 * thread (recworker.c) as the broker does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/common.h"
#include "recorder/recorder.h"
#include "tests/unit/recfixture.h"

struct fixture {
	struct recfixture rf;	/* first: teardown frees the fixture */
	struct recworker *worker;	/* NULL: written on the caller's thread */
	int ncheckpoints, nfinal;
	uint64_t last_offset;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	recfixture_make(&fx->rf, "test_recording");
	*state = fx;
	return 0;
}

static int
setup_worker(void **state)
{
	struct fixture *fx;

	setup(state);
	fx = *state;
	assert_int_equal(recworker_start(&fx->worker), 0);
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	recworker_stop(fx->worker);
	return recfixture_teardown(state);
}

static void
checkpoint_cb(void *arg, const struct rec_checkpoint *cp)
{
	struct fixture *fx = arg;

	fx->ncheckpoints++;
	assert_int_equal(cp->seq, (uint64_t)fx->ncheckpoints);
	assert_true(cp->offset >= fx->last_offset);
	assert_true(cp->offset - fx->last_offset <= REC_SEAL_MAX_BYTES);
	assert_int_equal(strlen(cp->h), 64);
	fx->last_offset = cp->offset;
	if (cp->final)
		fx->nfinal++;
}

static struct recording *
open_recording(struct fixture *fx, int pty, const char *kind)
{
	struct recording_params p;
	struct recording *rec = NULL;

	memset(&p, 0, sizeof(p));
	p.state_dir = fx->rf.state;
	p.pty = pty;
	p.record_input = 1;
	p.meta.user = "alice";
	p.meta.company = "Example \"Automation\" GmbH";
	p.meta.asset = "plc-line3";
	p.meta.src = "127.0.0.1";
	p.meta.kind = kind;
	p.meta.policy = "abc";
	p.meta.command = pty ? "" : "show version";
	p.meta.width = 100;
	p.meta.height = 30;
	p.certify = reckey_certify;
	p.certify_arg = fx->rf.key;
	p.checkpoint = checkpoint_cb;
	p.checkpoint_arg = fx;
	p.worker = fx->worker;
	fx->ncheckpoints = fx->nfinal = 0;
	fx->last_offset = 0;
	assert_int_equal(recording_open(&p, &rec), 0);
	assert_int_equal(strlen(recording_id(rec)), REC_ID_LEN);
	return rec;
}

static void
verify_ok(struct fixture *fx, const char *path)
{
	struct verify_result res;
	struct recfile f;

	assert_int_equal(recfile_from_path(path, &f), 0);
	assert_int_equal(verify_recording(&f, &fx->rf.pubs, &res), 0);
	if (res.status != VERIFY_OK)
		fail_msg("%s: status %d at %llu: %s", path, res.status,
		    (unsigned long long)res.offset, res.why);
}

/* Read back a cast: output ("o" + "b") and input ("i" + "bi") bytes. */
static void
read_cast(const char *path, struct buf *out, struct buf *in, int *nresize, int *end_marker)
{
	struct cast_reader *r;
	struct cast_event ev;
	FILE *fp;
	int err;

	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(cast_reader_open(fp, &r), 0);
	assert_int_equal(cast_reader_header(r)->width, 100);
	assert_string_equal(json_get_str(cast_reader_header(r)->otgate, "company"),
	    "Example \"Automation\" GmbH");
	*nresize = *end_marker = 0;
	while ((err = cast_reader_next(r, &ev)) == 0) {
		if (strcmp(ev.code, "o") == 0 || strcmp(ev.code, "b") == 0)
			assert_int_equal(buf_put(out, ev.data, ev.len), 0);
		else if (strcmp(ev.code, "i") == 0 || strcmp(ev.code, "bi") == 0)
			assert_int_equal(buf_put(in, ev.data, ev.len), 0);
		else if (strcmp(ev.code, "r") == 0)
			(*nresize)++;
		else if (strcmp(ev.code, "m") == 0 && ev.len == 3 && memcmp(ev.data, "end", 3) == 0)
			(*end_marker)++;
	}
	assert_int_equal(err, 1);
	cast_reader_free(r);
	fclose(fp);
}

/* RFC 3629 validity only (value_utf8_ok also refuses controls). */
static int
utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0, n, k;

	while (i < len) {
		n = p[i] < 0x80 ? 1 : p[i] >= 0xc2 && p[i] <= 0xdf ? 2 :
		    p[i] >= 0xe0 && p[i] <= 0xef ? 3 : p[i] >= 0xf0 && p[i] <= 0xf4 ? 4 : 0;
		if (n == 0 || i + n > len)
			return 0;
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		}
		i += n;
	}
	return 1;
}

static void
test_cast_split_utf8(void **state)
{
	struct fixture *fx = *state;
	struct recording *rec = open_recording(fx, 1, "shell");
	/* "é" and "€" and an emoji cut across reads, stray bytes, a cut at close */
	static const char *chunks[] = { "caf\xc3", "\xa9 \xe2", "\x82", "\xac ok \xf0\x9f",
	    "\x98\x80\r\n", "q\"\\\x01\x7f\t C1 \xc2\x85 bidi \xe2\x80\xae \xef\xbb\xbf",
	    "bad \xff\xfe tail\xc3" };
	char path[4096], expect[256] = "";
	struct buf out, in;
	struct cast_reader *r;
	struct cast_event ev;
	int nresize, end, i, found = 0;
	FILE *fp;

	for (i = 0; i < 7; i++) {
		assert_int_equal(recording_output(rec, (uint64_t)i * 1000, chunks[i],
		    strlen(chunks[i])), 0);
		strcat(expect, chunks[i]);
	}
	assert_int_equal(recording_input(rec, 7000, "ls\r", 3), 0);
	assert_int_equal(recording_resize(rec, 8000, 120, 40), 0);
	assert_int_equal(recording_marker(rec, 9000, "transfer"), 0);
	snprintf(path, sizeof(path), "%s", recording_path(rec));
	assert_int_equal(recording_close(rec, 10000, 0), 0);
	assert_int_equal(fx->nfinal, 1);

	buf_init(&out, BUF_DEFAULT_MAX);
	buf_init(&in, BUF_DEFAULT_MAX);
	read_cast(path, &out, &in, &nresize, &end);
	assert_int_equal(buf_len(&out), strlen(expect));
	assert_memory_equal(buf_ptr(&out), expect, strlen(expect));
	assert_int_equal(buf_len(&in), 3);
	assert_int_equal(nresize, 1);
	assert_int_equal(end, 1);
	/* each split character arrives whole, inside a text event */
	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(cast_reader_open(fp, &r), 0);
	while (cast_reader_next(r, &ev) == 0) {
		if (strcmp(ev.code, "o") != 0)
			continue;
		assert_true(utf8_valid(ev.data, ev.len));
		if (memmem(ev.data, ev.len, "\xc3\xa9", 2) != NULL ||
		    memmem(ev.data, ev.len, "\xe2\x82\xac", 3) != NULL ||
		    memmem(ev.data, ev.len, "\xf0\x9f\x98\x80", 4) != NULL)
			found++;
	}
	assert_int_equal(found, 3);
	cast_reader_free(r);
	fclose(fp);
	buf_free(&out);
	buf_free(&in);
	verify_ok(fx, path);
}

static void
test_cast_random_binary(void **state)
{
	struct fixture *fx = *state;
	struct recording *rec = open_recording(fx, 1, "shell");
	size_t total = 300000, off = 0, n;
	uint8_t *data = malloc(total);
	char path[4096];
	struct buf out, in;
	int nresize, end;
	uint64_t t = 0;

	assert_non_null(data);
	srandom(4);
	for (n = 0; n < total; n++)
		data[n] = (uint8_t)random();
	while (off < total) {
		n = (size_t)(random() % 40000) + 1;
		if (n > total - off)
			n = total - off;
		assert_int_equal(recording_output(rec, t, data + off, n), 0);
		off += n;
		t += 300000;
		assert_int_equal(recording_tick(rec, t), 0);
	}
	snprintf(path, sizeof(path), "%s", recording_path(rec));
	assert_int_equal(recording_close(rec, t, 3), 0);
	/* 300 kB of random bytes as base64 is well over 64 KiB: several seals */
	assert_true(fx->ncheckpoints > 5);
	buf_init(&out, BUF_DEFAULT_MAX);
	buf_init(&in, BUF_DEFAULT_MAX);
	read_cast(path, &out, &in, &nresize, &end);
	assert_int_equal(buf_len(&out), total);
	assert_memory_equal(buf_ptr(&out), data, total);
	buf_free(&out);
	buf_free(&in);
	free(data);
	verify_ok(fx, path);
}

static void
test_stream_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct recording *rec = open_recording(fx, 0, "exec");
	struct stream_reader *r;
	struct stream_frame f;
	size_t total = 200000, off = 0, n, in_off = 0;
	uint8_t *data = malloc(total);
	char path[4096];
	int markers = 0, exits = 0, err;
	FILE *fp;

	assert_non_null(data);
	for (n = 0; n < total; n++)
		data[n] = (uint8_t)(n * 7 + n / 251);
	while (off < total) {
		n = total - off < 70000 ? total - off : 70000;
		assert_int_equal(recording_output(rec, off, data + off, n), 0);
		assert_int_equal(recording_input(rec, off, data, 10), 0);
		off += n;
	}
	snprintf(path, sizeof(path), "%s", recording_path(rec));
	assert_int_equal(recording_close(rec, off, 0), 0);
	assert_non_null(strstr(path, ".stream"));

	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(stream_reader_open(fp, &r), 0);
	assert_string_equal(json_get_str(json_get(stream_reader_header(r), "otgate"), "kind"),
	    "exec");
	off = 0;
	while ((err = stream_reader_next(r, &f)) == 0) {
		if (f.dir == STREAM_OUT) {
			assert_true(off + f.len <= total);
			assert_memory_equal(f.data, data + off, f.len);
			off += f.len;
		} else if (f.dir == STREAM_IN) {
			assert_memory_equal(f.data, data, f.len);
			in_off += f.len;
		} else if (f.dir == STREAM_MARKER) {
			markers++;
		} else if (f.dir == STREAM_EXIT) {
			assert_int_equal(f.len, 1);
			assert_int_equal(f.data[0], '0');
			exits++;
		}
	}
	assert_int_equal(err, 1);
	assert_int_equal(off, total);
	assert_int_equal(in_off, 30);
	assert_int_equal(markers, 1);
	assert_int_equal(exits, 1);
	stream_reader_free(r);
	fclose(fp);
	free(data);
	verify_ok(fx, path);
}

/* Nothing of the part file is left unwritten for more than a second. */
/* One call with 10 MB, as a relay draining a big window might make. */
static void
test_huge_single_write(void **state)
{
	struct fixture *fx = *state;
	size_t total = 10u * 1024 * 1024;
	char *data = malloc(total), path[4096];
	struct recording *rec;
	int pty;

	assert_non_null(data);
	memset(data, 'x', total);
	for (pty = 0; pty <= 1; pty++) {
		rec = open_recording(fx, pty, pty ? "shell" : "exec");
		assert_int_equal(recording_output(rec, 1000, data, total), 0);
		snprintf(path, sizeof(path), "%s", recording_path(rec));
		assert_int_equal(recording_close(rec, 2000, 0), 0);
		verify_ok(fx, path);
	}
	free(data);
}

/* Pages of the file in the page cache (mincore), of npages. */
static size_t
resident_pages(const char *path, size_t *npages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), i, n = 0;
	unsigned char *vec;
	struct stat st;
	void *map;
	int fd;

	assert_true((fd = open(path, O_RDONLY)) != -1);
	assert_int_equal(fstat(fd, &st), 0);
	*npages = ((size_t)st.st_size + page - 1) / page;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_non_null(vec = malloc(*npages));
	assert_int_equal(mincore(map, (size_t)st.st_size, vec), 0);
	for (i = 0; i < *npages; i++)
		n += vec[i] & 1;
	free(vec);
	munmap(map, (size_t)st.st_size);
	close(fd);
	return n;
}

/* Bulk output goes to the disk as it is written and leaves the page cache
 * behind it (recording_writeback); a tmpfs has nothing to write back to. */
static void
test_bulk_leaves_the_page_cache(void **state)
{
	struct fixture *fx = *state;
	struct recording *rec = open_recording(fx, 0, "exec");
	size_t chunk = 1024 * 1024, i, npages, resident;
	char *data = malloc(chunk), part[4096];
	struct statfs sf;

	assert_non_null(data);
	memset(data, 'x', chunk);
	snprintf(part, sizeof(part), "%s.part", recording_path(rec));
	assert_int_equal(statfs(part, &sf), 0);
	if (sf.f_type == 0x01021994) {	/* TMPFS_MAGIC */
		recording_abort(rec);
		free(data);
		skip();
	}
	for (i = 0; i < 48; i++)
		assert_int_equal(recording_output(rec, 1000 + i, data, chunk), 0);
	assert_int_equal(recording_wait(rec), 0);
	resident = resident_pages(part, &npages);
	if (resident > npages / 2)
		fail_msg("%zu of %zu pages of a 48 MiB recording still cached", resident, npages);
	recording_abort(rec);
	free(data);
}

static void
test_flush_within_a_second(void **state)
{
	struct fixture *fx = *state;
	struct recording *rec = open_recording(fx, 1, "shell");
	char part[4096];
	struct stat st0, st1;

	snprintf(part, sizeof(part), "%s.part", recording_path(rec));
	assert_int_equal(stat(part, &st0), 0);
	assert_true(st0.st_size > 0);	/* the header is on disk at once */
	assert_int_equal(recording_output(rec, 1000, "x", 1), 0);
	assert_int_equal(recording_output(rec, 2000, "y", 1), 0);
	assert_int_equal(stat(part, &st1), 0);
	assert_int_equal(st1.st_size, st0.st_size);	/* buffered in memory */
	assert_int_equal(recording_tick(rec, 1001000), 0);
	assert_int_equal(recording_wait(rec), 0);	/* a worker writes it */
	assert_int_equal(stat(part, &st1), 0);
	assert_true(st1.st_size > st0.st_size);	/* a second later: written */
	st0 = st1;
	/* after an idle second the next keystroke is written at once */
	assert_int_equal(recording_output(rec, 3000000, "z", 1), 0);
	assert_int_equal(recording_wait(rec), 0);
	assert_int_equal(stat(part, &st1), 0);
	assert_true(st1.st_size > st0.st_size);
	recording_abort(rec);
}

static void
test_write_failure_is_sticky(void **state)
{
	struct fixture *fx = *state;
	struct recording *rec = open_recording(fx, 1, "shell");
	struct rlimit old, lim;
	char chunk[8192];
	int i, r = 0;

	memset(chunk, 'a', sizeof(chunk));
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 65536;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (i = 0; i < 100 && r == 0; i++)
		r = recording_output(rec, (uint64_t)i * 2000000, chunk, sizeof(chunk));
	/* a worker's failure is told by the next call, or by waiting for it */
	if (r == 0 && fx->worker != NULL)
		r = recording_wait(rec);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(r, OTG_ERR_IO);
	assert_non_null(strstr(recording_why(rec), "writing the recording"));
	assert_int_equal(recording_output(rec, 999000000, "x", 1), OTG_ERR_IO);
	assert_int_equal(recording_tick(rec, 999000001), OTG_ERR_IO);
	assert_int_equal(recording_close(rec, 999000002, 0), OTG_ERR_IO);
}

static void
test_open_fails_without_certificate(void **state)
{
	struct fixture *fx = *state;
	struct recording_params p;
	struct recording *rec = (struct recording *)1;

	memset(&p, 0, sizeof(p));
	p.state_dir = fx->rf.state;
	p.pty = 1;
	p.meta.user = "alice";
	assert_int_equal(recording_open(&p, &rec), OTG_ERR_INVAL);
	assert_null(rec);
	p.state_dir = "/proc/otgate-cannot-write-here";
	p.certify = reckey_certify;
	p.certify_arg = fx->rf.key;
	assert_int_equal(recording_open(&p, &rec), OTG_ERR_IO);
}

static void
test_recover_renames_parts(void **state)
{
	struct fixture *fx = *state;
	struct recording *rec = open_recording(fx, 1, "shell");
	char path[4096];
	struct verify_result res;
	struct recfile f;

	snprintf(path, sizeof(path), "%s", recording_path(rec));
	assert_int_equal(recording_output(rec, 1000, "hello\r\n", 7), 0);
	assert_int_equal(recording_tick(rec, 6000000), 0);	/* flushed and sealed */
	assert_int_equal(recording_wait(rec), 0);
	recording_abort(rec);	/* as if killed */
	assert_int_equal(access(path, F_OK), -1);
	assert_true(recording_recover(fx->rf.state, NULL, NULL) >= 1);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(recfile_from_path(path, &f), 0);
	assert_int_equal(verify_recording(&f, &fx->rf.pubs, &res), 0);
	assert_int_equal(res.status, VERIFY_INTERRUPTED);
}

/* The same test with a worker thread writing the files. */
#define WORKER_TEST(f) { "worker: " #f, f, setup_worker, teardown, NULL }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bulk_leaves_the_page_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cast_split_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cast_random_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_single_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_within_a_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_is_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails_without_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_renames_parts, setup, teardown),
		WORKER_TEST(test_cast_split_utf8),
		WORKER_TEST(test_cast_random_binary),
		WORKER_TEST(test_stream_round_trip),
		WORKER_TEST(test_huge_single_write),
		WORKER_TEST(test_bulk_leaves_the_page_cache),
		WORKER_TEST(test_flush_within_a_second),
		WORKER_TEST(test_write_failure_is_sticky),
		WORKER_TEST(test_open_fails_without_certificate),
		WORKER_TEST(test_recover_renames_parts),
	};

	log_init("test_recording", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
