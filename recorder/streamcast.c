/*
 * streamcast.c: a binary stream recording (exec without a pty, sftp, a
 * forward) turned into asciicast v2 as it is read, for `otgate export` and
 * for the recordings of an incident bundle. Output becomes "o" events and
 * input "i" (a UTF-8 sequence split across frames is carried to the next),
 * markers "m" and the exit status "x"; the header keeps the stream's metadata.
 */
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

/* A string of the header's object o, or "". */
static const char *
streamcast_str(const struct json *o, const char *key)
{
	const char *s = json_get_str(o, key);

	return s != NULL ? s : "";
}

int
streamcast_header(struct streamcast *sc, const struct json *h, const char *session,
    struct buf *out)
{
	const struct json *o = json_get(h, "otgate");
	const struct json *ts = json_get(h, "timestamp");
	struct rec_meta m;

	memset(sc, 0, sizeof(*sc));
	memset(&m, 0, sizeof(m));
	snprintf(m.session, sizeof(m.session), "%s", session != NULL ? session :
	    streamcast_str(o, "session"));
	snprintf(m.conn, sizeof(m.conn), "%s", streamcast_str(o, "conn"));
	m.user = json_get_str(o, "user");
	m.company = json_get_str(o, "company");
	m.asset = json_get_str(o, "asset");
	m.src = json_get_str(o, "src");
	m.kind = json_get_str(o, "kind");
	m.policy = json_get_str(o, "policy");
	m.command = json_get_str(h, "command");
	m.title = json_get_str(h, "title");
	m.start = ts != NULL && ts->type == JSON_NUMBER ? (time_t)ts->number : 0;
	return cast_header(out, &m);
}

int
streamcast_frame(struct streamcast *sc, const struct stream_frame *f, struct buf *out)
{
	char text[64];

	sc->last = f->t_us;
	if (f->dir == STREAM_OUT || f->dir == STREAM_IN)
		return cast_text(out, f->dir == STREAM_OUT ? &sc->out : &sc->in,
		    f->dir == STREAM_OUT ? "o" : "i", f->t_us, f->data, f->len);
	snprintf(text, sizeof(text), "%.*s", (int)(f->len < 32 ? f->len : 32),
	    (const char *)f->data);
	return cast_event(out, f->t_us, f->dir == STREAM_MARKER ? "m" : "x", text);
}

int
streamcast_finish(struct streamcast *sc, struct buf *out)
{
	int r;

	if ((r = cast_text_flush(out, &sc->out, "o", sc->last)) != 0)
		return r;
	return cast_text_flush(out, &sc->in, "i", sc->last);
}
