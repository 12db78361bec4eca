/* test_atrest.c: encryption at rest. A recording encrypted to two auditors
 * decrypts with either key to exactly what was recorded, still verifies from
 * its seals, and cannot be read with another key; a crash leaves a readable
 * prefix; altered or reordered chunks stop the plaintext at the damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/common.h"
#include "recorder/recorder.h"
#include "tests/unit/recfixture.h"

struct fixture {
	struct recfixture rf;	/* first (recfixture_teardown); the key that seals */
	char auditor[2][300], stranger[300];
	uint8_t pubs[2][32];
	char path[4096];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[400];
	int i;

	assert_non_null(fx);
	recfixture_make(&fx->rf, "test_atrest");
	for (i = 0; i < 2; i++) {
		snprintf(fx->auditor[i], sizeof(fx->auditor[i]), "%s/auditor%d", fx->rf.state, i);
		snprintf(path, sizeof(path), "%s.pub", fx->auditor[i]);
		assert_int_equal(atrest_keygen(fx->auditor[i], path), 0);
		assert_int_equal(atrest_public_load(path, fx->pubs[i]), 0);
	}
	snprintf(fx->stranger, sizeof(fx->stranger), "%s/stranger", fx->rf.state);
	snprintf(path, sizeof(path), "%s.pub", fx->stranger);
	assert_int_equal(atrest_keygen(fx->stranger, path), 0);
	*state = fx;
	return 0;
}

/* An encrypted shell recording of output[0..len), closed or (crash) not. */
static void
record(struct fixture *fx, const uint8_t *output, size_t len, int crash)
{
	struct recording_params p;
	struct recording *rec;
	size_t off = 0, n;
	uint64_t t = 0;

	memset(&p, 0, sizeof(p));
	p.state_dir = fx->rf.state;
	p.pty = 1;
	p.record_input = 1;
	p.meta.user = "alice";
	p.meta.kind = "shell";
	p.certify = reckey_certify;
	p.certify_arg = fx->rf.key;
	p.recipients = (const uint8_t (*)[32])fx->pubs;
	p.nrecipients = 2;
	assert_int_equal(recording_open(&p, &rec), 0);
	snprintf(fx->path, sizeof(fx->path), "%s%s", recording_path(rec), crash ? ".part" : "");
	assert_non_null(strstr(fx->path, ".cast.enc"));
	while (off < len) {
		n = len - off < 5000 ? len - off : 5000;
		assert_int_equal(recording_output(rec, t, output + off, n), 0);
		off += n;
		t += 700000;
		assert_int_equal(recording_tick(rec, t), 0);
	}
	if (crash) {
		/* killed a second and a half after the last output */
		assert_int_equal(recording_tick(rec, t + 1500000), 0);
		recording_abort(rec);
	}
	else
		assert_int_equal(recording_close(rec, t, 0), 0);
}

/* Decrypt with keyfile and collect "o"+"b" bytes; returns the reader status. */
static int
read_back(struct fixture *fx, const char *keyfile, struct buf *out)
{
	struct cast_reader *r;
	struct cast_event ev;
	struct recfile f;
	void *key;
	FILE *fp;
	int err;

	assert_int_equal(recfile_from_path(fx->path, &f), 0);
	assert_true(f.encrypted);
	assert_int_equal(atrest_key_load(keyfile, &key), 0);
	err = recfile_open(&f, key, &fp);
	atrest_key_free(key);
	if (err != 0)
		return err;
	if ((err = cast_reader_open(fp, &r)) == 0) {
		while ((err = cast_reader_next(r, &ev)) == 0) {
			if (strcmp(ev.code, "o") == 0 || strcmp(ev.code, "b") == 0)
				assert_int_equal(buf_put(out, ev.data, ev.len), 0);
		}
		cast_reader_free(r);
	}
	fclose(fp);
	return err;
}

static void
test_round_trip_two_auditors(void **state)
{
	struct fixture *fx = *state;
	size_t len = 100000, i;
	uint8_t *data = malloc(len);
	struct verify_result res;
	struct recfile f;
	struct buf out;
	char *raw;
	size_t rawlen;
	int k;

	assert_non_null(data);
	for (i = 0; i < len; i++)
		data[i] = i % 7 == 0 ? (uint8_t)(i * 13) : (uint8_t)('a' + i % 26);
	record(fx, data, len, 0);
	for (k = 0; k < 2; k++) {
		buf_init(&out, BUF_DEFAULT_MAX);
		assert_int_equal(read_back(fx, fx->auditor[k], &out), 1);
		assert_int_equal(buf_len(&out), len);
		assert_memory_equal(buf_ptr(&out), data, len);
		buf_free(&out);
	}
	/* nothing readable in the file itself */
	assert_int_equal(file_read(fx->path, 1 << 22, &raw, &rawlen), 0);
	assert_memory_equal(raw, ATREST_MAGIC, 8);
	assert_null(memmem(raw, rawlen, "alice", 5));
	assert_null(memmem(raw, rawlen, "abcdefg", 7));
	free(raw);
	/* the seals cover the encrypted bytes: verify needs no key */
	assert_int_equal(recfile_from_path(fx->path, &f), 0);
	assert_int_equal(verify_recording(&f, &fx->rf.pubs, &res), 0);
	assert_int_equal(res.status, VERIFY_OK);
	/* another auditor's key, and no key at all */
	buf_init(&out, BUF_DEFAULT_MAX);
	assert_int_equal(read_back(fx, fx->stranger, &out), OTG_ERR_NOTFOUND);
	assert_int_equal(recfile_open(&f, NULL, (FILE **)&raw), OTG_ERR_PERM);
	buf_free(&out);
	free(data);
}

static void
test_crash_leaves_readable_prefix(void **state)
{
	struct fixture *fx = *state;
	const char *text = "line one\r\nline two\r\nline three\r\n";
	struct buf out;

	record(fx, (const uint8_t *)text, strlen(text), 1);
	buf_init(&out, BUF_DEFAULT_MAX);
	/* everything flushed is there; the reader reports the missing end */
	assert_int_equal(read_back(fx, fx->auditor[0], &out), 1);
	assert_int_equal(buf_len(&out), strlen(text));
	assert_memory_equal(buf_ptr(&out), text, strlen(text));
	buf_free(&out);
}

static void
test_altered_chunk_stops_plaintext(void **state)
{
	struct fixture *fx = *state;
	size_t len = 30000, i;
	uint8_t *data = malloc(len);
	struct buf out;
	FILE *fp;
	long size;
	int c;

	assert_non_null(data);
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)('A' + i % 26);
	record(fx, data, len, 0);
	assert_non_null(fp = fopen(fx->path, "r+"));
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	/* a byte in the middle: the chunks before it decrypt, then it stops */
	fseek(fp, size / 2, SEEK_SET);
	c = fgetc(fp);
	fseek(fp, size / 2, SEEK_SET);
	fputc(c ^ 1, fp);
	fclose(fp);
	buf_init(&out, BUF_DEFAULT_MAX);
	read_back(fx, fx->auditor[1], &out);
	assert_true(buf_len(&out) < len);
	assert_memory_equal(buf_ptr(&out), data, buf_len(&out));
	buf_free(&out);
	free(data);
}

static void
test_loose_key_refused(void **state)
{
	struct fixture *fx = *state;
	void *key;

	assert_int_equal(chmod(fx->auditor[0], 0644), 0);
	assert_int_equal(atrest_key_load(fx->auditor[0], &key), OTG_ERR_PERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_two_auditors, setup, recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_crash_leaves_readable_prefix, setup,
		    recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_altered_chunk_stops_plaintext, setup,
		    recfixture_teardown),
		cmocka_unit_test_setup_teardown(test_loose_key_refused, setup, recfixture_teardown),
	};

	log_init("test_atrest", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
