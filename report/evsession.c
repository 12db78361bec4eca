/*
 * evsession.c: the sessions of an incident, each in sessions/ID/ of the
 * bundle: the recording file and its seal exactly as stored (so anyone can
 * verify them with docs/FORMATS.md alone), verify.txt with otgate's verdict
 * (checked against the checkpoints the audit log holds, which catches a seal
 * file cut back), and export.cast, a plain asciicast that any player
 * replays (decrypted with the auditor's --key when the recording is
 * encrypted). A session whose recording is gone or damaged is reported, never
 * a reason to stop: that may be the most important finding of all.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report.h"

#define EVSESSION_MAX_TYPED 256	/* input lines kept per session */
#define EVSESSION_TYPED_LEN 512

struct evsession_files {
	struct bundle *b;
	struct recfile *found;	/* per session: its recording */
};

static struct evsession *
evsession_find(struct bundle *b, const char *id)
{
	size_t i;

	for (i = 0; i < b->nsess; i++)
		if (strcmp(b->sess[i].id, id) == 0)
			return &b->sess[i];
	return NULL;
}

static int
evsession_add(struct bundle *b, const struct scope_event *ev, size_t *cap)
{
	struct evsession *s, *grown;

	/* the ID names a folder of the bundle: a forged one must not climb out */
	if (strlen(ev->session) != REC_ID_LEN ||
	    strspn(ev->session, "0123456789abcdef") != REC_ID_LEN)
		return 0;
	if ((s = evsession_find(b, ev->session)) == NULL) {
		if (b->nsess == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			if ((grown = realloc(b->sess, *cap * sizeof(*grown))) == NULL)
				return OTG_ERR_NOMEM;
			b->sess = grown;
		}
		s = &b->sess[b->nsess++];
		memset(s, 0, sizeof(*s));
		memcpy(s->id, ev->session, REC_ID_LEN + 1);
		s->status = -1;
	}
	if (strcmp(ev->event, "session.start") == 0)
		s->start = ev;
	else if (strcmp(ev->event, "session.end") == 0)
		s->end = ev;
	return 0;
}

int
evsession_collect(struct bundle *b)
{
	const struct auditlog *log = b->p->log;
	size_t i, cap = 0;
	int r;

	for (i = 0; i < log->n; i++) {
		if (!b->keep[i] || (strcmp(log->ev[i].event, "session.start") != 0 &&
		    strcmp(log->ev[i].event, "session.end") != 0))
			continue;
		if ((r = evsession_add(b, &log->ev[i], &cap)) != 0)
			return r;
	}
	return 0;
}

void
evsession_free(struct evsession *s)
{
	strlist_free(&s->typed);
}

/* A byte-exact copy into the bundle. */
static int
evsession_copy(struct bundle *b, const char *from, const char *rel)
{
	char path[4096], chunk[65536];
	FILE *in;
	size_t n;
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", b->p->outdir, rel) >= (int)sizeof(path))
		return OTG_ERR_TOOBIG;
	if ((in = fopen(from, "re")) == NULL)
		return OTG_ERR_NOTFOUND;
	if ((fd = file_create(path, 0640)) == -1) {
		fclose(in);
		return OTG_ERR_IO;
	}
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if (write(fd, chunk, n) != (ssize_t)n)
			r = OTG_ERR_IO;
	if (ferror(in))
		r = OTG_ERR_IO;
	fclose(in);
	if (close(fd) != 0 && r == 0)
		r = OTG_ERR_IO;
	return r;
}

/* Lines the vendor typed: input events split at CR or LF. */
static void
evsession_typed(struct evsession *s, struct buf *line, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\r' && p[i] != '\n') {
			if (buf_len(line) < EVSESSION_TYPED_LEN)
				buf_putc(line, p[i]);
			continue;
		}
		if (buf_len(line) > 0 && s->typed.n < EVSESSION_MAX_TYPED) {
			/* kept raw; escaped where it is written */
			buf_putc(line, '\0');
			strlist_push(&s->typed, (const char *)buf_ptr(line));
		}
		buf_reset(line);
	}
}

/* asciicast of a stream: output as "o", input as "i", markers and exit. */
static int
evsession_stream_cast(struct evsession *s, FILE *in, struct buf *out)
{
	struct stream_reader *rd = NULL;
	struct stream_frame f;
	struct streamcast sc;
	int r;

	if ((r = stream_reader_open(in, &rd)) != 0)
		return r;
	if ((r = streamcast_header(&sc, stream_reader_header(rd), s->id, out)) != 0)
		goto out;
	while ((r = stream_reader_next(rd, &f)) == 0)
		if ((r = streamcast_frame(&sc, &f, out)) != 0)
			break;
	/* a cut stream still exports what it holds; verify.txt says it was cut */
	r = streamcast_finish(&sc, out);
out:
	stream_reader_free(rd);
	return r;
}

/* A cast as it is, and the vendor's typed lines from its input events. The
 * plaintext may come from a decrypting stream that cannot seek: it is read
 * once, then parsed from memory. */
static int
evsession_cast_copy(struct evsession *s, FILE *in, struct buf *out)
{
	struct cast_reader *rd = NULL;
	struct cast_event ev;
	struct buf line;
	char chunk[65536];
	FILE *mem;
	size_t n;
	int r = 0;

	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if ((r = buf_put(out, chunk, n)) != 0)
			return r;
	if (ferror(in))
		return OTG_ERR_IO;
	if (buf_len(out) == 0 || (mem = fmemopen((void *)buf_ptr(out), buf_len(out), "r")) ==
	    NULL)
		return 0;
	buf_init(&line, EVSESSION_TYPED_LEN + 1);
	if (cast_reader_open(mem, &rd) == 0) {
		while (cast_reader_next(rd, &ev) == 0)
			if (strcmp(ev.code, "i") == 0)
				evsession_typed(s, &line, ev.data, ev.len);
		evsession_typed(s, &line, (const uint8_t *)"\n", 1);
	}
	cast_reader_free(rd);
	fclose(mem);
	buf_free(&line);
	return 0;
}

static int
evsession_export(struct bundle *b, struct evsession *s, const struct recfile *f,
    void *key, const char *dir)
{
	struct buf out, note;
	char rel[128];
	FILE *in = NULL;
	int r;

	buf_init(&out, BUF_DEFAULT_MAX);
	buf_init(&note, 4096);
	snprintf(rel, sizeof(rel), "%s/export.cast", dir);
	if ((r = recfile_open(f, key, &in)) != 0) {
		snprintf(rel, sizeof(rel), "%s/export.txt", dir);
		r = buf_printf(&note, "no export: %s\n", r == OTG_ERR_PERM ?
		    "the recording is encrypted; run the report again with --key "
		    "AUDITOR_KEY" : r == OTG_ERR_NOTFOUND ? "not encrypted to this key" :
		    otg_strerror(r));
		if (r == 0)
			r = bundle_put_file(b, rel, &note);
		goto out;
	}
	if (f->format == REC_CAST)
		r = evsession_cast_copy(s, in, &out);
	else
		r = evsession_stream_cast(s, in, &out);
	if (r != 0) {
		/* damage the verifier reports too: say so and keep going */
		snprintf(rel, sizeof(rel), "%s/export.txt", dir);
		buf_reset(&note);
		if ((r = buf_printf(&note, "no export: %s\n", otg_strerror(r))) == 0)
			r = bundle_put_file(b, rel, &note);
		goto out;
	}
	r = bundle_put_file(b, rel, &out);
out:
	if (in != NULL)
		fclose(in);
	buf_free(&out);
	buf_free(&note);
	return r;
}

static int
evsession_walk_cb(void *arg, const struct recfile *f)
{
	struct evsession_files *w = arg;
	size_t i;

	for (i = 0; i < w->b->nsess; i++) {
		if (strcmp(w->b->sess[i].id, f->id) != 0)
			continue;
		/* the final name wins over a leftover .part */
		if (w->found[i].id[0] == '\0' || (w->found[i].part && !f->part))
			w->found[i] = *f;
	}
	return 0;
}

/* One session into sessions/ID/; f->id is "" when no recording was found. */
static int
evsession_write(struct bundle *b, struct evsession *s, const struct recfile *f,
    const struct reckey_set *keys, const struct verify_checkpoints *cps, void *key)
{
	struct verify_result res;
	struct recfile copy;
	struct buf v;
	char dir[64], rel[256], path[4096];
	const char *base;
	int r;

	buf_init(&v, 65536);
	snprintf(dir, sizeof(dir), "sessions/%s", s->id);
	snprintf(path, sizeof(path), "%s/%s", b->p->outdir, dir);
	if ((r = file_mkdirs(path, 0750)) != 0)
		goto out;
	if (f->id[0] == '\0') {
		snprintf(s->verdict, sizeof(s->verdict), "%s: missing (no recording under "
		    "the state's recordings/)", s->id);
		goto verdict;
	}
	base = strrchr(f->path, '/') != NULL ? strrchr(f->path, '/') + 1 : f->path;
	snprintf(rel, sizeof(rel), "%s/%.80s", dir, base);
	if ((r = evsession_copy(b, f->path, rel)) != 0)
		goto out;
	snprintf(rel, sizeof(rel), "%s/%s.seal", dir, s->id);
	/* no seal file: the verdict below says missing */
	evsession_copy(b, f->seal, rel);
	/* verify what the bundle holds, not what the state holds now */
	snprintf(path, sizeof(path), "%s/%s/%.80s", b->p->outdir, dir, base);
	if ((r = recfile_from_path(path, &copy)) != 0 ||
	    (r = verify_recording_against(&copy, keys, cps, &res)) != 0)
		goto out;
	s->status = (int)res.status;
	verify_format(&copy, &res, s->verdict, sizeof(s->verdict));
	if ((r = evsession_export(b, s, &copy, key, dir)) != 0)
		goto out;
verdict:
	snprintf(rel, sizeof(rel), "%s/verify.txt", dir);
	if ((r = buf_printf(&v, "%s\n", s->verdict)) == 0)
		r = bundle_put_file(b, rel, &v);
out:
	buf_free(&v);
	return r;
}

int
evsession_write_all(struct bundle *b)
{
	struct evsession_files w;
	struct reckey_set keys = { NULL, 0 };
	struct verify_checkpoints cps = { NULL, 0 };
	char path[4096];
	unsigned long nbad;
	void *key = NULL;
	size_t i;
	int r = 0;

	if (b->nsess == 0)
		return 0;
	w.b = b;
	if ((w.found = calloc(b->nsess, sizeof(*w.found))) == NULL)
		return OTG_ERR_NOMEM;
	/* one walk of the recordings and one load of the keys for all sessions */
	if ((r = recfile_walk(b->p->state, evsession_walk_cb, &w)) != 0 &&
	    r != OTG_ERR_NOTFOUND)
		goto out;
	snprintf(path, sizeof(path), "%s/keys", b->p->state);
	if ((r = reckey_load_public_dir(path, &keys)) != 0 && r != OTG_ERR_NOTFOUND)
		goto out;
	/* the checkpoints the log holds catch a seal file cut back with its recording */
	if ((r = verify_checkpoints_load(b->p->audit_log, &cps, &nbad)) != 0)
		goto out;
	if (b->p->keyfile != NULL && (r = atrest_key_load(b->p->keyfile, &key)) != 0)
		goto out;
	for (i = 0; r == 0 && i < b->nsess; i++)
		r = evsession_write(b, &b->sess[i], &w.found[i], &keys, &cps, key);
out:
	free(w.found);
	reckey_set_free(&keys);
	verify_checkpoints_free(&cps);
	atrest_key_free(key);
	return r;
}
