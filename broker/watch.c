/*
 * watch.c: `otgate watch ID`, an operator's read-only view of a running pty
 * session. A watcher, a control client turned stream (control.c), first gets
 * the session's current screen redrawn, then every byte of the asset's output
 * as the vendor gets it, until the session ends or the watcher leaves.
 * Nothing a watcher sends is read.
 *
 * The screen model (screen.c, libvterm) exists only while someone watches:
 * kept for every pty session it would cost 70 KB or more a session and, worse,
 * libvterm's time on bulk output (it moves the whole screen for every line:
 * a few MB/s), paid in the one loop that serves every vendor. Instead each pty
 * session keeps the last WATCH_TAIL_MAX bytes of its output in a ring (grown
 * as output comes, a memcpy a byte), and a watcher's model is built from that
 * ring. The screen is exact while the ring holds all of the session's output,
 * and in practice whenever the last full redraw is in it; otherwise (and after
 * a resize nobody watched) the watcher is told that older parts may be
 * missing until the next redraw.
 *
 * A watcher never slows the vendor and never makes the broker hold more than
 * WATCH_BACKLOG_MAX for it: past that it is "behind", gets no more live output
 * and, once it has read what it has, the current screen again. The vendor is
 * told when an operator starts and stops watching (announce-watch), and both
 * are audited (session.watch, session.watch.end) with the operator's uid and
 * user name.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libssh/libssh.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"

#define WATCH_RENDER_MAX (8u * 1024 * 1024)	/* a screen redrawn, at its largest */
#define WATCH_TAIL_MIN 2048	/* the ring's first size; it doubles up to the max */

struct watcher {
	struct session *s;
	struct control_client *cl;
	uid_t uid;
	char name[64];		/* the operator's user name, "" when unknown */
	time_t since;
	int behind;		/* no live output until the backlog drained */
	struct watcher *next;
};

struct watch {
	struct screen *screen;	/* while watched, else NULL */
	struct watcher *watchers;
	uint8_t *tail;		/* the last output, a ring */
	size_t cap, len, head;	/* head: the oldest byte once full */
	int dropped;		/* output fell out of the ring */
	int resized;		/* the terminal changed size, unwatched */
};

static struct watch *
watch_get(struct session *s)
{
	if (s->watch == NULL)
		s->watch = calloc(1, sizeof(*s->watch));
	return s->watch;
}

/* Grow the ring while it is not full and not at its largest. */
static void
watch_tail_grow(struct watch *w, size_t need)
{
	size_t cap = w->cap ? w->cap : WATCH_TAIL_MIN;
	uint8_t *p;

	while (cap < w->len + need && cap < WATCH_TAIL_MAX)
		cap *= 2;
	if (cap > WATCH_TAIL_MAX)
		cap = WATCH_TAIL_MAX;
	/* a ring that wrapped (a failed growth) keeps its size */
	if (cap == w->cap || w->head != 0 || (p = realloc(w->tail, cap)) == NULL)
		return;
	w->tail = p;
	w->cap = cap;
}

static void
watch_tail_put(struct watch *w, const uint8_t *p, size_t len)
{
	size_t at, n;

	if (w->len + len > w->cap)
		watch_tail_grow(w, len);
	if (w->cap == 0) {
		w->dropped = 1;
		return;
	}
	if (len > w->cap) {
		p += len - w->cap;
		len = w->cap;
		w->dropped = 1;
	}
	while (len > 0) {
		at = (w->head + w->len) % w->cap;
		n = w->cap - at < len ? w->cap - at : len;
		if (w->len + n > w->cap) {
			/* full: the oldest bytes go */
			w->dropped = 1;
			w->head = (w->head + w->len + n - w->cap) % w->cap;
			w->len = w->cap - n;
		}
		memcpy(w->tail + at, p, n);
		w->len += n;
		p += n;
		len -= n;
	}
}

/* A model of the screen from the ring, for the first watcher. */
static int
watch_model(struct session *s, struct watch *w)
{
	size_t first;

	if (w->screen != NULL)
		return 0;
	if (screen_new(s->rows, s->cols, &w->screen) != 0)
		return -1;
	first = w->cap - w->head < w->len ? w->cap - w->head : w->len;
	if (first > 0)
		screen_feed(w->screen, w->tail + w->head, first);
	if (w->len > first)
		screen_feed(w->screen, w->tail, w->len - first);
	return 0;
}

/* One line on the vendor's terminal (their pty: CR LF). */
static void
watch_say(struct session *s, const char *text)
{
	char line[128];

	if (!s->conn->srv->conf->announce_watch || s->state == SESSION_CLOSED ||
	    s->conn->state == CONN_CLOSED)
		return;
	snprintf(line, sizeof(line), "\r\notgate: %s\r\n", text);
	ssh_channel_write_stderr(s->vch, line, (uint32_t)strlen(line));
	bridge_update(s->conn->bridge);
}

static void
watch_audit_end(struct watcher *wr, const char *reason)
{
	struct session *s = wr->s;

	server_audit(s->conn->srv, "session.watch.end", (struct audit_field[]){
	    AUDIT_STR("session", s->id), AUDIT_STR("user", s->conn->user),
	    AUDIT_STR("asset", s->asset), AUDIT_NUM("uid", wr->uid),
	    AUDIT_STR("operator", wr->name), AUDIT_NUM("duration", time(NULL) - wr->since),
	    AUDIT_STR("reason", reason) }, 7);
	log_info("session %.8s: uid %u stopped watching (%s)", s->id, (unsigned)wr->uid,
	    reason);
}

static void watch_note(struct watcher *, const struct watch *);

/* The current screen, from scratch: the watcher catches up. */
static void
watch_resync(struct watcher *wr)
{
	struct buf b;

	buf_init(&b, WATCH_RENDER_MAX);
	if (screen_render(wr->s->watch->screen, &b) == 0) {
		/* behind again at the next output if the backlog is still large */
		control_stream_send(wr->cl, CONTROL_SCREEN, buf_ptr(&b), buf_len(&b));
		wr->behind = 0;
	}
	buf_free(&b);
}

static void
watch_drained_cb(void *arg)
{
	struct watcher *wr = arg;

	if (wr->behind)
		watch_resync(wr);
}

static void
watch_unlink(struct watcher *wr)
{
	struct watcher **pp;

	for (pp = &wr->s->watch->watchers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == wr) {
			*pp = wr->next;
			break;
		}
	}
}

/* The watcher left (q, Ctrl-C, gone) or its connection failed. */
static void
watch_gone_cb(void *arg)
{
	struct watcher *wr = arg;
	struct watch *w = wr->s->watch;

	watch_unlink(wr);
	if (w->watchers == NULL) {
		/* nobody watches: the ring is enough until the next one */
		screen_free(w->screen);
		w->screen = NULL;
	}
	watch_audit_end(wr, "the operator left");
	watch_say(wr->s, "the operator stopped watching this session");
	free(wr);
}

void
watch_output(struct session *s, const void *data, size_t len)
{
	struct watch *w;
	struct watcher *wr;

	if (!s->pty || s->state == SESSION_CLOSED || (w = watch_get(s)) == NULL)
		return;
	watch_tail_put(w, data, len);
	if (w->screen == NULL)
		return;
	screen_feed(w->screen, data, len);
	for (wr = w->watchers; wr != NULL; wr = wr->next) {
		if (wr->behind ||
		    control_stream_send(wr->cl, CONTROL_OUTPUT, data, len) <= WATCH_BACKLOG_MAX)
			continue;
		wr->behind = 1;
		log_info("session %.8s: uid %u fell behind; the screen follows once it "
		    "caught up", s->id, (unsigned)wr->uid);
	}
}

void
watch_resize(struct session *s)
{
	struct watcher *wr;

	if (s->watch == NULL)
		return;
	if (s->watch->screen == NULL) {
		s->watch->resized = 1;
		return;
	}
	/* libvterm 0.1.4 can crash or hang on output after vterm_set_size
	 * (scroll regions, REP; found by fuzzing): a new model replays the ring
	 * at the new size instead, and the application's own redraw follows */
	screen_free(s->watch->screen);
	s->watch->screen = NULL;
	s->watch->resized = 1;
	if (watch_model(s, s->watch) != 0) {
		watch_end(s, "out of memory for the screen");
		return;
	}
	for (wr = s->watch->watchers; wr != NULL; wr = wr->next) {
		watch_note(wr, s->watch);
		watch_resync(wr);
	}
}

void
watch_end(struct session *s, const char *why)
{
	struct watch *w = s->watch;
	struct watcher *wr;
	char msg[600];

	if (w == NULL)
		return;
	snprintf(msg, sizeof(msg), "session %s ended: %s\n", s->id, why);
	while ((wr = w->watchers) != NULL) {
		w->watchers = wr->next;
		control_stream_end(wr->cl, CONTROL_OK, msg);
		watch_audit_end(wr, "the session ended");
		free(wr);
	}
	screen_free(w->screen);
	free(w->tail);
	free(w);
	s->watch = NULL;
}

/* Tell the operator when the screen may be incomplete. */
static void
watch_note(struct watcher *wr, const struct watch *w)
{
	char note[200];

	if (!w->dropped && !w->resized)
		return;
	snprintf(note, sizeof(note), "the screen was rebuilt from the last %zu KiB of "
	    "output%s: parts drawn earlier may be missing until the next redraw",
	    (w->len + 1023) / 1024, w->resized ? " after a resize" : "");
	control_stream_send(wr->cl, CONTROL_NOTE, note, strlen(note));
}

static void
watch_operator_name(uid_t uid, char *out, size_t outsz)
{
	struct passwd pw, *found = NULL;
	char text[1024];

	out[0] = '\0';
	if (getpwuid_r(uid, &pw, text, sizeof(text), &found) == 0 && found != NULL)
		snprintf(out, outsz, "%s", pw.pw_name);
}

int
watch_join(struct server *srv, const char *id, struct control_client *cl,
    const struct control_peer *peer, struct buf *out)
{
	struct session *s;
	struct watcher *wr;
	struct watch *w;

	if ((s = operator_session(srv, "watch", id, out)) == NULL)
		return -1;
	if (!s->pty) {
		buf_printf(out, "watch: session %s has no terminal: only pty sessions can "
		    "be watched\n", s->id);
		return -1;
	}
	if (s->state != SESSION_RUNNING) {
		buf_printf(out, "watch: session %s is not connected to its asset yet\n",
		    s->id);
		return -1;
	}
	if ((w = watch_get(s)) == NULL || watch_model(s, w) != 0 ||
	    (wr = calloc(1, sizeof(*wr))) == NULL) {
		buf_printf(out, "watch: out of memory\n");
		return -1;
	}
	wr->s = s;
	wr->cl = cl;
	wr->uid = peer->uid;
	wr->since = time(NULL);
	watch_operator_name(peer->uid, wr->name, sizeof(wr->name));
	wr->next = w->watchers;
	w->watchers = wr;
	control_stream_start(cl, watch_gone_cb, watch_drained_cb, wr);
	server_audit(srv, "session.watch", (struct audit_field[]){
	    AUDIT_STR("session", s->id), AUDIT_STR("conn", s->conn->id),
	    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
	    AUDIT_NUM("uid", wr->uid), AUDIT_STR("operator", wr->name) }, 6);
	log_info("session %.8s: uid %u (%s) watches", s->id, (unsigned)wr->uid,
	    wr->name[0] ? wr->name : "?");
	watch_say(s, "an operator is watching this session");
	watch_note(wr, w);
	watch_resync(wr);
	return 0;
}
