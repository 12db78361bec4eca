/* test_index.c: the live index under the broker. Lines gathered in batches
 * reach the index each with its own time; a queue that bulk output fills
 * drops a batch and marks the session partial from that batch's time on
 * (never blocking the caller, whose memory stays bounded), search says so,
 * and deleting the session's rows, as a rebuild does, clears the mark; a
 * database locked by another writer delays the writes without losing them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define SESSION "0123456789abcdef0123456789abcdef"

struct hits {
	int n;
	double t;
	char line[256];
};

static int
match_cb(void *arg, const char *session, const char *user, int64_t start, double t,
    const char *line)
{
	struct hits *h = arg;

	(void)session;
	(void)user;
	(void)start;
	h->n++;
	h->t = t;
	snprintf(h->line, sizeof(h->line), "%s", line);
	return 0;
}

static int
find(struct rec_index *ix, const char *text, struct hits *h)
{
	struct index_query q;

	memset(&q, 0, sizeof(q));
	memset(h, 0, sizeof(*h));
	q.text = text;
	return index_search(ix, &q, match_cb, h);
}

/* Where the index says the session's text stops, or -1. */
static double
partial_t(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	double t = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT t FROM partial WHERE session = ?1",
	    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, SESSION, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		t = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return t;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
session_row(struct indexer *x)
{
	struct index_session s;

	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", SESSION);
	s.user = "alice";
	s.asset = "plc1";
	s.kind = "exec";
	s.start = 1700000000;
	s.exit_status = -1;
	s.recording = "/nonexistent";
	assert_int_equal(indexer_session(x, &s), 0);
}

static int
setup(void **state)
{
	static char dir[] = "/tmp/test_index.XXXXXX";
	static char path[64];

	strcpy(dir, "/tmp/test_index.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/index.sqlite", dir);
	*state = path;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %.*s", (int)(strlen(*state) - 13),
	    (const char *)*state);
	return system(cmd);
}

/* Three lines in one batch come back as three lines with their times. */
static void
test_batch_keeps_lines_and_times(void **state)
{
	struct indexer_item *batch = NULL;
	struct rec_index *ix;
	struct indexer *x;
	struct hits h;
	unsigned long n;

	assert_int_equal(indexer_start(*state, &x), 0);
	session_row(x);
	assert_int_equal(indexer_batch_line(x, &batch, SESSION, 1.25, "first line", 10), 0);
	assert_int_equal(indexer_batch_line(x, &batch, SESSION, 2.5, "second setpoint", 15), 0);
	assert_int_equal(indexer_batch_line(x, &batch, SESSION, 3.75, "third", 5), 0);
	assert_non_null(batch);
	assert_int_equal(indexer_batch_send(x, &batch), 0);
	assert_null(batch);
	indexer_stop(x);
	assert_int_equal(index_open_readonly(*state, &ix), 0);
	assert_int_equal(find(ix, "setpoint", &h), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.line, "second setpoint");
	assert_true(h.t == 2.5);
	assert_int_equal(find(ix, "third", &h), 0);
	assert_true(h.n == 1 && h.t == 3.75);
	assert_int_equal(index_partial_count(ix, &(struct index_query){ 0 }, &n), 0);
	assert_int_equal(n, 0);
	index_close(ix);
}

/* Bulk text much faster than FTS5 can index: the caller is never held up,
 * a batch is dropped, the session is marked partial at that batch's time,
 * and what came before it is searchable. */
static void
test_bulk_marks_partial(void **state)
{
	struct indexer_item *batch = NULL;
	struct index_query q;
	struct rec_index *ix;
	struct indexer *x;
	struct hits h;
	char line[80];
	unsigned long n;
	double t = 0, cut, start;
	int i, r = 0;

	assert_int_equal(indexer_start(*state, &x), 0);
	session_row(x);
	assert_int_equal(indexer_batch_line(x, &batch, SESSION, 0, "before the flood", 16), 0);
	assert_int_equal(indexer_batch_send(x, &batch), 0);
	start = now();
	/* 128 MiB of distinct lines: far more than the queue may hold */
	for (i = 0; i < 128 * 1024 * 1024 / 77 && r == 0; i++) {
		t = i / 1e4;
		snprintf(line, sizeof(line), "%08d bulk %08x %08x %08x %08x %08x %08x", i,
		    i * 7u, i * 13u, i * 17u, i * 19u, i * 23u, i * 29u);
		r = indexer_batch_line(x, &batch, SESSION, t, line, strlen(line));
	}
	assert_int_equal(r, OTG_ERR_TOOBIG);
	assert_null(batch);
	/* the loop never waited for SQLite: 128 MiB would take a minute to index */
	assert_true(now() - start < 20);
	start = now();
	indexer_stop(x);
	assert_true(now() - start < 30);
	assert_int_equal(index_open(*state, &ix), 0);
	assert_int_equal(find(ix, "before the flood", &h), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(find(ix, "00000000 bulk", &h), 0);
	assert_int_equal(h.n, 1);
	memset(&q, 0, sizeof(q));
	assert_int_equal(index_partial_count(ix, &q, &n), 0);
	assert_int_equal(n, 1);
	q.user = "bob";
	assert_int_equal(index_partial_count(ix, &q, &n), 0);
	assert_int_equal(n, 0);
	/* the mark names the first line not indexed; the one before it is in */
	cut = partial_t(*state);
	assert_true(cut > 0 && cut <= t);
	i = (int)(cut * 1e4 + 0.5);
	snprintf(line, sizeof(line), "%08d bulk", i);
	assert_int_equal(find(ix, line, &h), 0);
	assert_int_equal(h.n, 0);
	snprintf(line, sizeof(line), "%08d bulk", i - 1);
	assert_int_equal(find(ix, line, &h), 0);
	assert_int_equal(h.n, 1);
	assert_true(h.t < cut);
	/* a rebuild deletes the session's rows first: the mark goes with them */
	assert_int_equal(index_begin(ix), 0);
	assert_int_equal(index_delete_session(ix, SESSION), 0);
	assert_int_equal(index_commit(ix), 0);
	memset(&q, 0, sizeof(q));
	assert_int_equal(index_partial_count(ix, &q, &n), 0);
	assert_int_equal(n, 0);
	index_close(ix);
}

/* A database another writer holds locked past SQLite's 5 s busy wait (an
 * `otgate index rebuild`): the helper keeps what it has and writes it once
 * the lock is gone; nothing is lost and nothing is logged as lost. */
static void
test_locked_database_waits(void **state)
{
	struct indexer_item *batch = NULL;
	struct rec_index *ix;
	struct indexer *x;
	struct hits h;
	sqlite3 *db;

	assert_int_equal(indexer_start(*state, &x), 0);
	assert_int_equal(sqlite3_open(*state, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	session_row(x);
	assert_int_equal(indexer_batch_line(x, &batch, SESSION, 4.25, "while locked", 12), 0);
	assert_int_equal(indexer_batch_send(x, &batch), 0);
	sleep(7);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	indexer_stop(x);
	assert_int_equal(index_open_readonly(*state, &ix), 0);
	assert_int_equal(find(ix, "while locked", &h), 0);
	assert_true(h.n == 1 && h.t == 4.25);
	index_close(ix);
}

/* The partial mark keeps the earliest time it was given. */
static void
test_partial_keeps_earliest(void **state)
{
	struct rec_index *ix;
	struct index_session s;
	unsigned long n;

	assert_int_equal(index_open(*state, &ix), 0);
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", SESSION);
	s.exit_status = -1;
	assert_int_equal(index_put_session(ix, &s), 0);
	assert_int_equal(index_set_partial(ix, SESSION, 9.5), 0);
	assert_int_equal(index_set_partial(ix, SESSION, 4.5), 0);
	assert_int_equal(index_set_partial(ix, SESSION, 7.0), 0);
	assert_int_equal(index_partial_count(ix, &(struct index_query){ 0 }, &n), 0);
	assert_int_equal(n, 1);
	index_close(ix);
	assert_true(partial_t(*state) == 4.5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_keeps_lines_and_times, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bulk_marks_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_keeps_earliest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_database_waits, setup, teardown),
	};

	log_init("test_index", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
