/*
 * reindex.c: the index rebuilt from the recordings themselves, which are the
 * record; the index is only a cache for listing and searching. Session
 * metadata comes from the header's "otgate" object, the end from the last
 * event, the exit status from an "x" event, and the transcript from the
 * output as transcript.c renders it.
 */
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

struct reindex_run {
	struct rec_index *ix;
	const char *session;
	unsigned long nlines;
	int err;
};

static void
reindex_line_cb(void *arg, double t, const char *line, size_t len)
{
	struct reindex_run *run = arg;

	if (run->err == 0)
		run->err = index_add_line(run->ix, run->session, t, line, len);
	if (run->err == 0)
		run->nlines++;
}

static void
reindex_meta(struct index_session *s, const struct recfile *f, const struct json *h)
{
	const struct json *o = json_get(h, "otgate");
	const struct json *ts = json_get(h, "timestamp");

	memset(s, 0, sizeof(*s));
	memcpy(s->id, f->id, sizeof(s->id));
	snprintf(s->conn, sizeof(s->conn), "%s", json_get_str(o, "conn") ?
	    json_get_str(o, "conn") : "");
	s->user = json_get_str(o, "user");
	s->company = json_get_str(o, "company");
	s->asset = json_get_str(o, "asset");
	s->src = json_get_str(o, "src");
	s->kind = json_get_str(o, "kind");
	if (ts != NULL && ts->type == JSON_NUMBER && ts->number > 0 && ts->number < 1e11)
		s->start = (int64_t)ts->number;
	s->exit_status = -1;
	s->recording = f->path;
}

static int
reindex_exit_status(const uint8_t *p, size_t len)
{
	int v = 0;
	size_t i;

	if (len == 0 || len > 3)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int
reindex_cast(struct reindex_run *run, const struct recfile *f, FILE *fp)
{
	struct cast_reader *r;
	struct cast_event ev;
	struct index_session s;
	struct transcript tr;
	double last = 0;
	int err;

	if ((err = cast_reader_open(fp, &r)) != 0)
		return err;
	reindex_meta(&s, f, cast_reader_header(r)->header);
	run->session = s.id;
	transcript_init(&tr, reindex_line_cb, run);
	while ((err = cast_reader_next(r, &ev)) == 0 && run->err == 0) {
		last = ev.t;
		if (strcmp(ev.code, "o") == 0 || strcmp(ev.code, "b") == 0) {
			s.bytes_out += ev.len;
			transcript_feed(&tr, ev.t, ev.data, ev.len);
		} else if (strcmp(ev.code, "i") == 0 || strcmp(ev.code, "bi") == 0) {
			s.bytes_in += ev.len;
		} else if (strcmp(ev.code, "x") == 0) {
			s.exit_status = reindex_exit_status(ev.data, ev.len);
		}
	}
	transcript_flush(&tr);
	if (!f->part)
		s.end = s.start + (int64_t)last;
	if (run->err == 0)
		run->err = index_put_session(run->ix, &s);
	cast_reader_free(r);
	/* a damaged tail still leaves the part before it indexed */
	return run->err;
}

static int
reindex_stream(struct reindex_run *run, const struct recfile *f, FILE *fp)
{
	struct stream_reader *r;
	struct stream_frame fr;
	struct index_session s;
	struct transcript tr;
	const char *kind;
	uint64_t last = 0;
	int err, text;

	if ((err = stream_reader_open(fp, &r)) != 0)
		return err;
	reindex_meta(&s, f, stream_reader_header(r));
	run->session = s.id;
	kind = s.kind != NULL ? s.kind : "";
	text = strcmp(kind, "sftp") != 0 && strcmp(kind, "forward") != 0;
	transcript_init(&tr, reindex_line_cb, run);
	if (text && json_get_str(stream_reader_header(r), "command") != NULL)
		reindex_line_cb(run, 0, json_get_str(stream_reader_header(r), "command"),
		    strlen(json_get_str(stream_reader_header(r), "command")));
	while ((err = stream_reader_next(r, &fr)) == 0 && run->err == 0) {
		last = fr.t_us;
		if (fr.dir == STREAM_OUT) {
			s.bytes_out += fr.len;
			if (text)
				transcript_feed(&tr, (double)fr.t_us / 1e6, fr.data, fr.len);
		} else if (fr.dir == STREAM_IN) {
			s.bytes_in += fr.len;
		} else if (fr.dir == STREAM_EXIT) {
			s.exit_status = reindex_exit_status(fr.data, fr.len);
		}
	}
	transcript_flush(&tr);
	if (!f->part)
		s.end = s.start + (int64_t)(last / 1000000);
	if (run->err == 0)
		run->err = index_put_session(run->ix, &s);
	stream_reader_free(r);
	return run->err;
}

int
reindex_recording(struct rec_index *ix, const struct recfile *f, void *key,
    unsigned long *nlines)
{
	struct reindex_run run = { ix, NULL, 0, 0 };
	FILE *fp;
	int r;

	*nlines = 0;
	if ((r = recfile_open(f, key, &fp)) != 0)
		return r;
	if ((r = index_delete_session(ix, f->id)) == 0)
		r = f->format == REC_CAST ? reindex_cast(&run, f, fp) :
		    reindex_stream(&run, f, fp);
	fclose(fp);
	*nlines = run.nlines;
	return r;
}
