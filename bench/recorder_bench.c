/*
 * recorder_bench.c: what recording costs the relay, measured on the writer
 * alone (run by bench/recorder.sh). Bulk text through asciicast, with and
 * without the live index (transcript + indexer helper thread, as otgated
 * runs it), random binary through asciicast and through a stream, each in
 * 32 KiB reads as a relay would hand them over, and single keystrokes
 * (encode + the write and seal they may trigger).
 *
 * Each bulk line gives MB/s per CPU-second of the calling thread ("loop":
 * what the relay's thread pays) and of the whole process ("all": the index
 * helper included, whose work per session is bounded: see indexer.c).
 * Recording costs a relay that moves R MB/s the fraction R / (loop MB/s) of
 * its thread; bench/run prints that for its bulk text figure, from
 * `recorder_bench STATE bulk-text`, which runs the first line only (an exec's
 * output as bench/run's bulk scenario makes it) and prints its loop MB/s;
 * `bulk-text-pty` does the same for a pty's output (asciicast + live index).
 * The "encoder" lines time cast_text alone (no file, seal or index).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sqlite3.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define BENCH_READ 32768	/* bytes per read, as the relay hands them over */
#define BENCH_TEXT (64u << 20)	/* fresh text, no line repeated (FTS cost) */
#define BENCH_REPS 8192		/* times a 32 KiB binary read is recorded */

static double
bench_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
bench_now(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

/* CPU seconds of the calling thread, and of the whole process */
static void
bench_cpu(double *loop, double *all)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*loop = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	*all = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static struct recording *
bench_open(const char *state, void *key, int pty, struct indexer *index)
{
	struct recording_params p;
	struct recording *rec;

	memset(&p, 0, sizeof(p));
	p.state_dir = state;
	p.pty = pty;
	p.record_input = 1;
	p.meta.kind = pty ? "shell" : "exec";
	p.certify = reckey_certify;
	p.certify_arg = key;
	p.index = index;
	if (recording_open(&p, &rec) != 0) {
		fprintf(stderr, "recording_open failed\n");
		exit(1);
	}
	return rec;
}

/* How many transcript lines of the session the index holds. */
static double
bench_indexed_lines(const char *path, const char *session)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	double n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM transcript WHERE session = ?1", -1,
	    &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, session, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = (double)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

/* DATA (len bytes, a multiple of BENCH_READ) in reads of BENCH_READ, reps
 * times over. Recording time advances as if the relay moved 100 MB/s, so the
 * one-second flushes and index batches happen as they would under bulk output. */
static double
bench_bulk(const char *what, const char *state, void *key, int pty, const char *data,
    size_t len, int reps, int indexed)
{
	struct indexer *index = NULL;
	struct recording *rec;
	char path[4096], id[REC_ID_LEN + 1];
	size_t off, total = 0;
	uint64_t t = 0;
	double loop0, all0, loop1, all1;
	int i;

	snprintf(path, sizeof(path), "%s/index.sqlite", state);
	if (indexed && indexer_start(path, &index) != 0)
		exit(1);
	rec = bench_open(state, key, pty, index);
	snprintf(id, sizeof(id), "%s", recording_id(rec));
	bench_cpu(&loop0, &all0);
	for (i = 0; i < reps; i++) {
		for (off = 0; off < len; off += BENCH_READ) {
			if (recording_output(rec, t, data + off, BENCH_READ) != 0)
				exit(1);
			total += BENCH_READ;
			t += BENCH_READ / 100;
			if (t % 1000000 < BENCH_READ / 100 && recording_tick(rec, t) != 0)
				exit(1);
		}
	}
	if (recording_close(rec, t, 0) != 0)
		exit(1);
	indexer_stop(index);	/* what it still holds is written: it counts */
	bench_cpu(&loop1, &all1);
	if (what == NULL)
		return (double)total / (loop1 - loop0) / 1e6;
	printf("%-34s %5.0f MB/s loop %5.0f MB/s all", what,
	    (double)total / (loop1 - loop0) / 1e6, (double)total / (all1 - all0) / 1e6);
	if (indexed)
		printf("  (live index holds %.0f %% of the lines)",
		    100.0 * bench_indexed_lines(path, id) / (double)(total / 77));
	printf("\n");
	return (double)total / (loop1 - loop0) / 1e6;
}

/* Base64 as `base64 -w 76` prints it: the bulk text of bench/run. */
static void
bench_base64_text(char *text, size_t len)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i < len; i++)
		text[i] = i % 77 == 76 ? '\n' : b64[random() % 64];
}

/* cast_text alone: DATA in reads of BENCH_READ into a buffer emptied after each. */
static void
bench_encoder(const char *what, const char *data, size_t len, int reps)
{
	struct cast_text st = { { 0 }, 0 };
	struct buf out;
	double start = bench_clock(CLOCK_THREAD_CPUTIME_ID), secs;
	size_t off;
	int i;

	buf_init(&out, 4 * BENCH_READ + 64);
	for (i = 0; i < reps; i++) {
		for (off = 0; off < len; off += BENCH_READ) {
			if (cast_text(&out, &st, "o", 0, data + off, BENCH_READ) != 0)
				exit(1);
			buf_reset(&out);
		}
	}
	secs = bench_clock(CLOCK_THREAD_CPUTIME_ID) - start;
	printf("%-34s %5.0f MB/s\n", what, (double)len * reps / secs / 1e6);
	buf_free(&out);
}

/* Terminal text with UTF-8 box drawing, colour escapes and tabs every line. */
static void
bench_tty_text(char *text, size_t len)
{
	static const char line[] = "\033[32m\xe2\x94\x82\033[0m drwxr-xr-x 2 root root\t"
	    "4096 \xc3\xa9t\xc3\xa9 \"x\" \xe2\x94\x80\xe2\x94\x80 plc-01/config.xml\r\n";
	size_t i;

	for (i = 0; i < len; i++)
		text[i] = line[i % (sizeof(line) - 1)];
}

static void
bench_keystrokes(const char *state, void *key)
{
	struct recording *rec = bench_open(state, key, 1, NULL);
	double start = bench_now(), secs;
	uint64_t t = 0;
	int i, n = 200000;

	/* one keystroke in, its echo out, 20 ms apart: a flush each second */
	for (i = 0; i < n; i++) {
		t += 20000;
		if (recording_input(rec, t, "x", 1) != 0 || recording_output(rec, t, "x", 1) != 0)
			exit(1);
	}
	if (recording_close(rec, t, 0) != 0)
		exit(1);
	secs = bench_now() - start;
	printf("%-28s %8.2f us per keystroke and echo\n", "interactive", secs / n * 1e6);
}

int
main(int argc, char **argv)
{
	static char binary[BENCH_READ];
	char keypath[4096], *text;
	void *key;
	size_t i;

	if (argc != 2 && (argc != 3 || (strcmp(argv[2], "bulk-text") != 0 &&
	    strcmp(argv[2], "bulk-text-pty") != 0))) {
		fprintf(stderr, "usage: recorder_bench STATE [bulk-text|bulk-text-pty]\n");
		return 2;
	}
	log_init("recorder_bench", 1, LOG_LEVEL_WARN);
	snprintf(keypath, sizeof(keypath), "%s/keys/%s", argv[1], RECKEY_PRIVATE);
	if (reckey_load_private(keypath, &key) != 0)
		return 1;
	srandom(1);
	if ((text = malloc(BENCH_TEXT)) == NULL)
		return 1;
	bench_base64_text(text, BENCH_TEXT);
	if (argc == 3) {
		printf("%.0f\n", bench_bulk(NULL, argv[1], key, strcmp(argv[2], "bulk-text-pty") == 0,
		    text, BENCH_TEXT, 1, 1));
		free(text);
		reckey_free(key);
		return 0;
	}
	for (i = 0; i < sizeof(binary); i++)
		binary[i] = (char)random();
	bench_bulk("bulk text, stream + live index", argv[1], key, 0, text, BENCH_TEXT, 1, 1);
	bench_bulk("bulk text, asciicast + live index", argv[1], key, 1, text, BENCH_TEXT, 1,
	    1);
	bench_bulk("bulk text, stream", argv[1], key, 0, text, BENCH_TEXT, 1, 0);
	bench_bulk("bulk text, asciicast", argv[1], key, 1, text, BENCH_TEXT, 1, 0);
	bench_bulk("random binary, asciicast", argv[1], key, 1, binary, BENCH_READ, BENCH_REPS,
	    0);
	bench_bulk("random binary, stream", argv[1], key, 0, binary, BENCH_READ, BENCH_REPS, 0);
	bench_keystrokes(argv[1], key);
	bench_encoder("encoder, bulk base64 text", text, BENCH_TEXT, 1);
	bench_encoder("encoder, random binary", binary, BENCH_READ, BENCH_REPS);
	bench_tty_text(text, BENCH_TEXT);
	bench_encoder("encoder, UTF-8 terminal text", text, BENCH_TEXT, 1);
	free(text);
	reckey_free(key);
	return 0;
}
