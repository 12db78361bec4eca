/*
 * record.c: the broker's side of the recorder. At start the signer process
 * (the only holder of the long-term recording key) is forked before anything
 * secret is loaded and before privileges drop, recordings a crash left open
 * are closed and audited as interrupted, and the auditors' public keys of
 * recording-recipient are loaded. Each relayed channel gets a recording when
 * it starts running; relay.c hands every byte here before it forwards it, so
 * a byte that could not be recorded is never relayed: the session ends with
 * `otgate: ASSET: recording failed: WHY` and a recording.failed event. One
 * timer a second flushes and seals every recording. The loop only encodes:
 * a worker thread (recworker.c) writes, hashes and seals, at most 256 KiB
 * behind a recording (the loop waits past that), and a failure it meets ends
 * the session at the recording's next event or tick. The worker also writes
 * each seal's session.checkpoint to the audit log (16,384 a GiB: a tenth of
 * the relay's thread when the loop wrote them); one it cannot write counts
 * as lost with auditguard, from the loop, which then ends the sessions.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker/broker.h"
#include "recorder/recorder.h"

struct record {
	struct signer *signer;
	struct recworker *worker;
	struct indexer *index;
	int index_failed;	/* logged once; recordings go on unindexed */
	struct strlist recovered;	/* recordings a crash left open, to re-index */
	uint8_t (*recipients)[32];
	size_t nrecipients;
	struct event *tick;
	atomic_ulong checkpoints_lost;	/* the worker could not audit them */
};

static void
record_recovered_cb(void *arg, const char *path)
{
	struct server *srv = arg;
	struct recfile f;

	if (recfile_from_path(path, &f) != 0)
		return;
	log_warnx("recording %s was left open by a crash: interrupted", path);
	server_audit(srv, "recording.interrupted", (struct audit_field[]){
	    AUDIT_STR("session", f.id), AUDIT_STR("file", path) }, 2);
	if (strlist_push(&srv->record->recovered, path) != 0)
		log_warnx("recording %s: not re-indexed (out of memory)", path);
}

/* The index rows of recordings a crash left open still say "active": their
 * end and the text they reached come from the files (encrypted ones keep
 * the metadata the broker wrote at their start). */
static void
record_reindex(const char *path, const struct strlist *paths)
{
	struct rec_index *ix;
	unsigned long n;
	struct recfile f;
	size_t i;
	int r;

	if (paths->n == 0)
		return;
	if ((r = index_open(path, &ix)) != 0) {
		log_warnx("index %s: %s", path, otg_strerror(r));
		return;
	}
	for (i = 0; i < paths->n; i++) {
		if (recfile_from_path(paths->v[i], &f) != 0 || f.encrypted)
			continue;
		if ((r = index_begin(ix)) == 0 &&
		    (r = reindex_recording(ix, &f, NULL, &n)) == 0)
			r = index_commit(ix);
		if (r != 0)
			log_warnx("index: %s: %s", paths->v[i], otg_strerror(r));
	}
	index_close(ix);
}

/* The index is opened on the loop, after the privilege drop, so that its
 * files (index.sqlite, -wal, -shm) belong to the user that writes them. */
static struct indexer *
record_index(struct server *srv)
{
	struct record *rc = srv->record;
	char path[4096];
	int r;

	if (rc->index != NULL || rc->index_failed)
		return rc->index;
	snprintf(path, sizeof(path), "%s/index.sqlite", srv->conf->state);
	record_reindex(path, &rc->recovered);
	strlist_free(&rc->recovered);
	if ((r = indexer_start(path, &rc->index)) != 0) {
		rc->index_failed = 1;
		log_warnx("index %s: %s; recordings are not indexed until "
		    "`otgate index rebuild`", path, otg_strerror(r));
	}
	return rc->index;
}

static void
record_index_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	record_index(arg);
}

/* End a session whose recording failed; nothing more of it is relayed. The
 * recording keeps what reached its file (no final seal: verify calls it
 * interrupted) and its index row gets the end. */
static void
record_fail(struct session *s)
{
	char reason[320];

	snprintf(reason, sizeof(reason), "recording failed: %s",
	    s->rec != NULL ? recording_why(s->rec) : "no recording");
	if (s->rec != NULL)
		recording_close(s->rec, recording_clock(s->rec), -1);
	s->rec = NULL;
	session_refuse(s, "recording.failed", reason);
}

static void
record_tick_one_cb(struct session *s, void *arg)
{
	(void)arg;
	if (s->rec == NULL || s->state != SESSION_RUNNING)
		return;
	if (recording_tick(s->rec, recording_clock(s->rec)) == 0)
		return;
	s->refs++;
	record_fail(s);
	if (s->conn->state != CONN_CLOSED)
		bridge_update(s->conn->bridge);
	if (s->up != NULL)
		asset_update(s->up);
	session_unref(s);
}

/* From the loop: checkpoints the worker could not audit are lost events. */
static void
record_checkpoints_lost(struct server *srv)
{
	unsigned long n;

	if (atomic_load(&srv->record->checkpoints_lost) == 0)
		return;
	n = atomic_exchange(&srv->record->checkpoints_lost, 0);
	auditguard_lost(srv, "session.checkpoint", n);
}

static void
record_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	record_checkpoints_lost(arg);
	vendor_foreach_session(arg, record_tick_one_cb, NULL);
}

static int
record_recipients(struct server *srv, struct record *rc)
{
	const struct strlist *l = &srv->conf->recording_recipient;
	size_t i;
	int r;

	if (l->n == 0)
		return 0;
	if (l->n > ATREST_MAX_RECIPIENTS) {
		log_warnx("recording-recipient: at most %d keys", ATREST_MAX_RECIPIENTS);
		return -1;
	}
	if ((rc->recipients = calloc(l->n, sizeof(*rc->recipients))) == NULL)
		return -1;
	for (i = 0; i < l->n; i++) {
		if ((r = atrest_public_load(l->v[i], rc->recipients[i])) != 0) {
			log_warnx("recording-recipient %s: %s", l->v[i], otg_strerror(r));
			return -1;
		}
	}
	rc->nrecipients = l->n;
	return 0;
}

int
record_start(struct server *srv)
{
	struct record *rc;
	char keys[4096], key[4200], pub[4300];
	int r;

	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return -1;
	srv->record = rc;
	snprintf(keys, sizeof(keys), "%s/keys", srv->conf->state);
	snprintf(key, sizeof(key), "%s/%s", keys, RECKEY_PRIVATE);
	/* a first start makes the key `otgate recording keygen` would */
	if (access(key, F_OK) == -1 && errno == ENOENT) {
		if ((r = reckey_generate(keys, pub, sizeof(pub))) != 0) {
			log_warnx("recording key %s: cannot create: %s", key, otg_strerror(r));
			return -1;
		}
		log_info("recording key created; public half %s", pub);
	}
	if ((r = signer_start(key, &rc->signer)) != 0) {
		log_warnx("recording key %s: %s", key, otg_strerror(r));
		return -1;
	}
	if (record_recipients(srv, rc) != 0)
		return -1;
	if ((r = recworker_start(&rc->worker)) != 0) {
		log_warnx("recording worker: %s", otg_strerror(r));
		return -1;
	}
	if ((r = recording_recover(srv->conf->state, record_recovered_cb, srv)) < 0)
		log_warnx("recordings under %s/recordings: cannot recover: %s",
		    srv->conf->state, otg_strerror(r));
	rc->tick = event_new(srv->base, -1, EV_PERSIST, record_tick_cb, srv);
	if (rc->tick == NULL || event_add(rc->tick, &(struct timeval){ 1, 0 }) != 0 ||
	    event_base_once(srv->base, -1, EV_TIMEOUT, record_index_cb, srv,
	    &(struct timeval){ 0, 0 }) != 0)
		return -1;
	return 0;
}

void
record_stop(struct server *srv)
{
	struct record *rc = srv->record;

	if (rc == NULL)
		return;
	if (rc->tick != NULL)
		event_free(rc->tick);
	recworker_stop(rc->worker);
	record_checkpoints_lost(srv);	/* auditguard_stop reports them */
	indexer_stop(rc->index);
	signer_stop(rc->signer);
	strlist_free(&rc->recovered);
	free(rc->recipients);
	free(rc);
	srv->record = NULL;
}

/* On the worker's thread (recording.c): nothing here may touch the loop's
 * state. While the log is down an event is not written but counted. */
static void
record_checkpoint_cb(void *arg, const struct rec_checkpoint *cp)
{
	struct server *srv = arg;

	if (srv->audit != NULL && !auditguard_down(srv) &&
	    audit_event(srv->audit, "session.checkpoint", (struct audit_field[]){
	    AUDIT_STR("session", cp->session), AUDIT_STR("file", cp->file),
	    AUDIT_NUM("seal", cp->seq), AUDIT_NUM("offset", cp->offset),
	    AUDIT_NUM("time", cp->time_ms), AUDIT_STR("h", cp->h),
	    AUDIT_NUM("final", cp->final) }, 7) == 0)
		return;
	atomic_fetch_add(&srv->record->checkpoints_lost, 1);
}

int
record_session_open(struct session *s)
{
	struct server *srv = s->conn->srv;
	struct record *rc = srv->record;
	struct recording_params p;
	char why[320];
	int r;

	memset(&p, 0, sizeof(p));
	p.state_dir = srv->conf->state;
	memcpy(p.meta.session, s->id, sizeof(p.meta.session));
	memcpy(p.meta.conn, s->conn->id, sizeof(p.meta.conn));
	p.meta.user = s->conn->user;
	p.meta.company = s->conn->company;
	p.meta.asset = s->asset;
	p.meta.src = s->conn->src;
	p.meta.kind = policy_channel_name(s->kind);
	p.meta.policy = policy_hash(s->policy->policy);
	p.meta.command = s->command != NULL ? s->command : "";
	/* the vendor's reason for access titles the recording (escaped there) */
	p.meta.title = s->reason != NULL ? s->reason : "";
	p.meta.term = s->pty ? s->term : NULL;
	p.meta.width = s->pty ? (unsigned)s->cols : 0;
	p.meta.height = s->pty ? (unsigned)s->rows : 0;
	p.pty = s->pty;
	p.record_input = policy_role_record_input(s->policy->policy, s->role);
	p.certify = signer_certify_cb;
	p.certify_arg = rc->signer;
	p.checkpoint = record_checkpoint_cb;
	p.checkpoint_arg = srv;
	p.index = record_index(srv);
	p.worker = rc->worker;
	p.recipients = (const uint8_t (*)[32])rc->recipients;
	p.nrecipients = rc->nrecipients;
	errno = 0;
	if ((r = recording_open(&p, &s->rec)) != 0) {
		/* recording_open logged the detail; errno still names an I/O failure */
		snprintf(why, sizeof(why), "recording failed: %s",
		    r == OTG_ERR_IO && errno != 0 ? strerror(errno) : otg_strerror(r));
		session_refuse(s, "recording.failed", why);
		return -1;
	}
	if (recording_marker(s->rec, recording_clock(s->rec), "login") != 0) {
		record_fail(s);
		return -1;
	}
	return 0;
}

int
record_data(struct session *s, int to_asset, const void *data, size_t len)
{
	int r;

	/* a running session without a recording is one whose recording failed */
	if (s->rec == NULL)
		return -1;
	record_checkpoints_lost(s->conn->srv);
	r = to_asset ? recording_input(s->rec, recording_clock(s->rec), data, len) :
	    recording_output(s->rec, recording_clock(s->rec), data, len);
	if (r != 0)
		record_fail(s);
	return r != 0 ? -1 : 0;
}

int
record_resize(struct session *s)
{
	if (s->rec != NULL &&
	    recording_resize(s->rec, recording_clock(s->rec), (unsigned)s->cols,
	    (unsigned)s->rows) == 0)
		return 0;
	if (s->rec != NULL)
		record_fail(s);
	return -1;
}

void
record_session_close(struct session *s)
{
	struct recording *rec = s->rec;
	char text[320];
	const char *reason = text;
	int r;

	if (rec == NULL)
		return;
	s->rec = NULL;
	r = recording_close(rec, recording_clock(rec), s->exit_status);
	record_checkpoints_lost(s->conn->srv);
	if (r == 0)
		return;
	/* the session is over; the vendor cannot be told any more, the log can */
	snprintf(text, sizeof(text), "recording failed at close: %s",
	    otg_strerror(r));
	server_audit(s->conn->srv, "recording.failed", (struct audit_field[]){
	    AUDIT_STR("conn", s->conn->id), AUDIT_STR("session", s->id),
	    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
	    AUDIT_STR("reason", reason) }, 5);
}
