/*
 * recorder_bench.c: what recording costs the relay, measured on the writer
 * alone (run by bench/recorder.sh). Bulk text through asciicast, random
 * binary through asciicast and through a stream, each in 32 KiB reads as a
 * relay would hand them over, and single keystrokes (encode + the write and
 * seal they may trigger). The relay's own throughput is the other half of
 * the ratio; compare with the broker benchmark of the same run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define BENCH_BYTES (256u << 20)

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct recording *
bench_open(const char *state, void *key, int pty)
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
	if (recording_open(&p, &rec) != 0) {
		fprintf(stderr, "recording_open failed\n");
		exit(1);
	}
	return rec;
}

static void
bench_bulk(const char *what, const char *state, void *key, int pty, const char *chunk,
    size_t n)
{
	struct recording *rec = bench_open(state, key, pty);
	size_t total = 0;
	uint64_t t = 0;
	double start = bench_now(), secs;

	while (total < BENCH_BYTES) {
		if (recording_output(rec, t, chunk, n) != 0)
			exit(1);
		total += n;
		t += 100;
	}
	if (recording_close(rec, t, 0) != 0)
		exit(1);
	secs = bench_now() - start;
	printf("%-28s %8.0f MB/s\n", what, (double)total / secs / 1e6);
}

static void
bench_keystrokes(const char *state, void *key)
{
	struct recording *rec = bench_open(state, key, 1);
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
	char keypath[4096], text[32768], binary[32768];
	void *key;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: recorder_bench STATE\n");
		return 2;
	}
	log_init("recorder_bench", 1, LOG_LEVEL_WARN);
	snprintf(keypath, sizeof(keypath), "%s/keys/%s", argv[1], RECKEY_PRIVATE);
	if (reckey_load_private(keypath, &key) != 0)
		return 1;
	for (i = 0; i < sizeof(text); i++)
		text[i] = i % 80 == 79 ? '\n' : (char)(' ' + i % 90);
	srandom(1);
	for (i = 0; i < sizeof(binary); i++)
		binary[i] = (char)random();
	bench_bulk("bulk text, asciicast", argv[1], key, 1, text, sizeof(text));
	bench_bulk("random binary, asciicast", argv[1], key, 1, binary, sizeof(binary));
	bench_bulk("random binary, stream", argv[1], key, 0, binary, sizeof(binary));
	bench_keystrokes(argv[1], key);
	reckey_free(key);
	return 0;
}
