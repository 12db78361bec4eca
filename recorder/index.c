/*
 * index.c: STATE/index.sqlite, the list of sessions and the text of plain
 * recordings, so that `otgate sessions` and `otgate search` need not read
 * every recording. WAL mode lets auditors query while the broker writes. The
 * index is derived data: `otgate index rebuild` recreates it from recordings.
 * These calls block on the disk; the broker reaches them through indexer.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/common.h"
#include "recorder/recorder.h"

struct rec_index {
	sqlite3 *db;
	sqlite3_stmt *put_session;
	sqlite3_stmt *add_line;
};

static const char index_schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS sessions(id TEXT PRIMARY KEY, conn TEXT, user TEXT,"
    " company TEXT, asset TEXT, src TEXT, kind TEXT, start INTEGER, end INTEGER,"
    " exit INTEGER, bytes_in INTEGER, bytes_out INTEGER, recording TEXT);"
    "CREATE INDEX IF NOT EXISTS sessions_start ON sessions(start);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS transcript USING fts5(session UNINDEXED,"
    " t UNINDEXED, line);"
    "CREATE TABLE IF NOT EXISTS partial(session TEXT PRIMARY KEY, t REAL);";

static const char index_put_sql[] =
    "INSERT INTO sessions(id, conn, user, company, asset, src, kind, start, end, exit,"
    " bytes_in, bytes_out, recording) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
    " ON CONFLICT(id) DO UPDATE SET conn=?2, user=?3, company=?4, asset=?5, src=?6,"
    " kind=?7, start=?8, end=?9, exit=?10, bytes_in=?11, bytes_out=?12, recording=?13";

static const char index_line_sql[] =
    "INSERT INTO transcript(session, t, line) VALUES(?1, ?2, ?3)";

static int
index_err(struct rec_index *ix, const char *what)
{
	log_warnx("index: %s: %s", what, sqlite3_errmsg(ix->db));
	return OTG_ERR_IO;
}

int
index_open(const char *path, struct rec_index **out)
{
	struct rec_index *ix;
	int fd, r;

	*out = NULL;
	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return OTG_ERR_NOMEM;
	/* sqlite would create it under the umask; the index holds transcripts */
	if ((fd = file_create(path, 0640)) != -1)
		close(fd);
	else if (errno != EEXIST) {
		free(ix);
		return OTG_ERR_IO;
	}
	if (sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
	    NULL) != SQLITE_OK) {
		r = index_err(ix, path);
		goto out;
	}
	sqlite3_busy_timeout(ix->db, 5000);
	if (sqlite3_exec(ix->db, index_schema, NULL, NULL, NULL) != SQLITE_OK) {
		r = index_err(ix, "schema");
		goto out;
	}
	if (sqlite3_prepare_v2(ix->db, index_put_sql, -1, &ix->put_session, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ix->db, index_line_sql, -1, &ix->add_line, NULL) != SQLITE_OK) {
		r = index_err(ix, "prepare");
		goto out;
	}
	*out = ix;
	return 0;
out:
	index_close(ix);
	return r;
}

int
index_open_readonly(const char *path, struct rec_index **out)
{
	struct rec_index *ix;

	*out = NULL;
	if (access(path, F_OK) == -1)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return OTG_ERR_NOMEM;
	if (sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW,
	    NULL) != SQLITE_OK) {
		index_err(ix, path);
		index_close(ix);
		return OTG_ERR_IO;
	}
	sqlite3_busy_timeout(ix->db, 5000);
	*out = ix;
	return 0;
}

void
index_close(struct rec_index *ix)
{
	if (ix == NULL)
		return;
	sqlite3_finalize(ix->put_session);
	sqlite3_finalize(ix->add_line);
	sqlite3_close(ix->db);
	free(ix);
}

int
index_begin(struct rec_index *ix)
{
	if (sqlite3_exec(ix->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return index_err(ix, "begin");
	return 0;
}

int
index_commit(struct rec_index *ix)
{
	if (sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return index_err(ix, "commit");
	return 0;
}

/* After a failed statement: nothing of the transaction stays, and the next
 * index_begin can start afresh. */
void
index_rollback(struct rec_index *ix)
{
	sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
index_step(struct rec_index *ix, sqlite3_stmt *st, const char *what)
{
	int r = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r == SQLITE_DONE ? 0 : index_err(ix, what);
}

int
index_put_session(struct rec_index *ix, const struct index_session *s)
{
	sqlite3_stmt *st = ix->put_session;

	if (st == NULL)
		return OTG_ERR_PERM;	/* opened read-only */
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, s->conn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, s->user, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, s->company, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, s->asset, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, s->src, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, s->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, s->start);
	if (s->end > 0)
		sqlite3_bind_int64(st, 9, s->end);
	if (s->exit_status >= 0)
		sqlite3_bind_int(st, 10, s->exit_status);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)s->bytes_in);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)s->bytes_out);
	sqlite3_bind_text(st, 13, s->recording, -1, SQLITE_TRANSIENT);
	return index_step(ix, st, "session");
}

int
index_add_line(struct rec_index *ix, const char *session, double t, const char *line,
    size_t len)
{
	sqlite3_stmt *st = ix->add_line;

	if (st == NULL)
		return OTG_ERR_PERM;
	sqlite3_bind_text(st, 1, session, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 2, t);
	sqlite3_bind_text(st, 3, line, (int)len, SQLITE_TRANSIENT);
	return index_step(ix, st, "transcript");
}

/* The live index dropped the session's text from offset t on (bulk output
 * outran it); rebuilding the session from its recording clears the mark. */
int
index_set_partial(struct rec_index *ix, const char *session, double t)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(ix->db, "INSERT INTO partial(session, t) VALUES(?1, ?2)"
	    " ON CONFLICT(session) DO UPDATE SET t = min(t, ?2)", -1, &st, NULL) != SQLITE_OK)
		return index_err(ix, "prepare");
	sqlite3_bind_text(st, 1, session, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 2, t);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : index_err(ix, "partial");
	sqlite3_finalize(st);
	return r;
}

static int
index_exec_id(struct rec_index *ix, const char *sql, const char *session)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK)
		return index_err(ix, "prepare");
	sqlite3_bind_text(st, 1, session, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return index_err(ix, "delete");
	}
	sqlite3_finalize(st);
	return 0;
}

int
index_delete_session(struct rec_index *ix, const char *session)
{
	int r;

	if ((r = index_exec_id(ix, "DELETE FROM sessions WHERE id = ?1", session)) != 0 ||
	    (r = index_exec_id(ix, "DELETE FROM partial WHERE session = ?1", session)) != 0)
		return r;
	return index_exec_id(ix, "DELETE FROM transcript WHERE session = ?1", session);
}

int
index_prune(struct rec_index *ix, unsigned long *npruned)
{
	struct strlist gone = { NULL, 0 };
	sqlite3_stmt *st;
	const char *path;
	size_t i;
	int r = 0, step;

	*npruned = 0;
	if (sqlite3_prepare_v2(ix->db, "SELECT id, recording FROM sessions", -1, &st,
	    NULL) != SQLITE_OK)
		return index_err(ix, "prune");
	/* collect first: rows are not deleted under a running SELECT */
	while (r == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		path = (const char *)sqlite3_column_text(st, 1);
		if (path == NULL || access(path, F_OK) == -1)
			r = strlist_push(&gone, (const char *)sqlite3_column_text(st, 0));
	}
	if (r == 0 && step != SQLITE_DONE)
		r = index_err(ix, "prune");
	sqlite3_finalize(st);
	for (i = 0; r == 0 && i < gone.n; i++) {
		if ((r = index_delete_session(ix, gone.v[i])) == 0)
			(*npruned)++;
	}
	strlist_free(&gone);
	return r;
}

static const char *
index_col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

/* Bind the filters shared by both queries: ?10 user, ?11 asset, ?12 since, ?13 until. */
static void
index_bind_query(sqlite3_stmt *st, const struct index_query *q)
{
	if (q->user != NULL)
		sqlite3_bind_text(st, 10, q->user, -1, SQLITE_TRANSIENT);
	if (q->asset != NULL)
		sqlite3_bind_text(st, 11, q->asset, -1, SQLITE_TRANSIENT);
	if (q->since != 0)
		sqlite3_bind_int64(st, 12, q->since);
	if (q->until != 0)
		sqlite3_bind_int64(st, 13, q->until);
}

#define INDEX_FILTERS \
    " (?10 IS NULL OR s.user = ?10) AND (?11 IS NULL OR s.asset = ?11) AND" \
    " (?12 IS NULL OR coalesce(s.end, s.start) >= ?12) AND" \
    " (?13 IS NULL OR s.start <= ?13)"

int
index_sessions(struct rec_index *ix, const struct index_query *q, index_session_fn *cb,
    void *arg)
{
	struct index_session s;
	sqlite3_stmt *st;
	int r = 0, step;

	if (sqlite3_prepare_v2(ix->db, "SELECT id, conn, user, company, asset, src, kind,"
	    " start, end, exit, bytes_in, bytes_out, recording FROM sessions s WHERE"
	    INDEX_FILTERS " ORDER BY start, id", -1, &st, NULL) != SQLITE_OK)
		return index_err(ix, "query");
	index_bind_query(st, q);
	while (r == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&s, 0, sizeof(s));
		snprintf(s.id, sizeof(s.id), "%s", index_col(st, 0));
		snprintf(s.conn, sizeof(s.conn), "%s", index_col(st, 1));
		s.user = index_col(st, 2);
		s.company = index_col(st, 3);
		s.asset = index_col(st, 4);
		s.src = index_col(st, 5);
		s.kind = index_col(st, 6);
		s.start = sqlite3_column_int64(st, 7);
		s.end = sqlite3_column_int64(st, 8);
		s.exit_status = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 9);
		s.bytes_in = (uint64_t)sqlite3_column_int64(st, 10);
		s.bytes_out = (uint64_t)sqlite3_column_int64(st, 11);
		s.recording = index_col(st, 12);
		r = cb(arg, &s);
	}
	if (r == 0 && step != SQLITE_DONE)
		r = index_err(ix, "query");
	sqlite3_finalize(st);
	return r;
}

/* How many sessions under the filters the live index holds only in part. An
 * index from before partial rows existed has none. */
int
index_partial_count(struct rec_index *ix, const struct index_query *q, unsigned long *n)
{
	sqlite3_stmt *st;
	int r = 0;

	*n = 0;
	if (sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM partial p JOIN sessions s"
	    " ON s.id = p.session WHERE" INDEX_FILTERS, -1, &st, NULL) != SQLITE_OK)
		return 0;
	index_bind_query(st, q);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = (unsigned long)sqlite3_column_int64(st, 0);
	else
		r = index_err(ix, "partial");
	sqlite3_finalize(st);
	return r;
}

/* TEXT as one FTS5 phrase: its double quotes doubled. */
static int
index_phrase(struct buf *b, const char *text)
{
	int r;

	if ((r = buf_putc(b, '"')) != 0)
		return r;
	for (; *text != '\0'; text++) {
		if ((r = buf_putc(b, *text)) != 0 ||
		    (*text == '"' && (r = buf_putc(b, '"')) != 0))
			return r;
	}
	if ((r = buf_putc(b, '"')) != 0)
		return r;
	return buf_putc(b, '\0');
}

static int
index_has_word(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || (unsigned char)*s >= 0x80)
			return 1;
	}
	return 0;
}

int
index_search(struct rec_index *ix, const struct index_query *q, index_match_fn *cb,
    void *arg)
{
	sqlite3_stmt *st = NULL;
	struct buf phrase;
	int r = 0, step = SQLITE_DONE, words = index_has_word(q->text);

	buf_init(&phrase, 65536);
	/* the word index finds candidates; the exact text (any case) decides */
	if (sqlite3_prepare_v2(ix->db, words ?
	    "SELECT t.session, s.user, s.start, t.t, t.line FROM transcript t"
	    " LEFT JOIN sessions s ON s.id = t.session WHERE t.line MATCH ?1 AND"
	    " instr(lower(t.line), lower(?2)) > 0 AND" INDEX_FILTERS
	    " ORDER BY s.start, t.session, t.t" :
	    "SELECT t.session, s.user, s.start, t.t, t.line FROM transcript t"
	    " LEFT JOIN sessions s ON s.id = t.session WHERE ?1 IS NULL AND"
	    " instr(lower(t.line), lower(?2)) > 0 AND" INDEX_FILTERS
	    " ORDER BY s.start, t.session, t.t", -1, &st, NULL) != SQLITE_OK) {
		r = index_err(ix, "search");
		goto out;
	}
	if (words) {
		if ((r = index_phrase(&phrase, q->text)) != 0)
			goto out;
		sqlite3_bind_text(st, 1, (const char *)buf_ptr(&phrase), -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_text(st, 2, q->text, -1, SQLITE_TRANSIENT);
	index_bind_query(st, q);
	while (r == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
		r = cb(arg, index_col(st, 0), index_col(st, 1), sqlite3_column_int64(st, 2),
		    sqlite3_column_double(st, 3), index_col(st, 4));
	if (r == 0 && step != SQLITE_DONE)
		r = index_err(ix, "search");
out:
	sqlite3_finalize(st);
	buf_free(&phrase);
	return r;
}
