/*
 * transfer.c: what the broker does with an sftp channel beyond relaying it.
 * relay.c hands each chunk here after it was recorded (the raw stream goes to
 * ID.stream as sent); sftp.c cuts it into packets and names the operations,
 * and this file turns them into audit events (transfer.file for open and
 * close, transfer.op for the rest, transfer.denied for refusals) and
 * recording markers, with the role's sftp directions and max-file-size.
 * Legacy scp over exec goes through scp.c the same way, its bytes unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "recorder/recorder.h"

struct transfer {
	struct session *s;
	struct sftp *sftp;
	struct scp *scp;
	int failed;		/* a marker could not be recorded */
};

static const char *
transfer_event_name(const char *op)
{
	if (strcmp(op, "open") == 0 || strcmp(op, "close") == 0)
		return "transfer.file";
	if (strcmp(op, "denied") == 0)
		return "transfer.denied";
	return "transfer.op";
}

static void
transfer_event_cb(const struct sftp_event *ev, void *arg)
{
	struct transfer *t = arg;
	struct session *s = t->s;
	char label[2600];

	server_audit(s->conn->srv, transfer_event_name(ev->op), (struct audit_field[]){
	    AUDIT_STR("session", s->id), AUDIT_STR("conn", s->conn->id),
	    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
	    AUDIT_STR("op", ev->op), AUDIT_STR("path", ev->path),
	    AUDIT_STR("path2", ev->path2), AUDIT_NUM("flags", ev->pflags),
	    AUDIT_NUM("status", ev->status), AUDIT_NUM("bytes_read", ev->bytes_read),
	    AUDIT_NUM("bytes_written", ev->bytes_written),
	    AUDIT_STR("sha256_read", ev->sha_read),
	    AUDIT_STR("sha256_written", ev->sha_written),
	    AUDIT_STR("reason", ev->reason) }, 14);
	if (strcmp(ev->op, "close") == 0)
		snprintf(label, sizeof(label), "transfer close %s read=%llu%s%s "
		    "written=%llu%s%s", ev->path, (unsigned long long)ev->bytes_read,
		    ev->sha_read[0] ? " sha256=" : "", ev->sha_read,
		    (unsigned long long)ev->bytes_written,
		    ev->sha_written[0] ? " sha256=" : "", ev->sha_written);
	else
		snprintf(label, sizeof(label), "transfer %s %s%s%s%s%s", ev->op, ev->path,
		    ev->path2[0] ? " -> " : "", ev->path2, ev->reason[0] ? ": " : "",
		    ev->reason);
	if (s->rec != NULL && !t->failed &&
	    recording_marker(s->rec, recording_clock(s->rec), label) != 0)
		t->failed = 1;
}

static void
transfer_scp_cb(const struct scp_event *ev, void *arg)
{
	struct transfer *t = arg;
	struct session *s = t->s;
	int up = strcmp(ev->op, "upload") == 0;
	char label[2600];

	server_audit(s->conn->srv, "transfer.file", (struct audit_field[]){
	    AUDIT_STR("session", s->id), AUDIT_STR("conn", s->conn->id),
	    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
	    AUDIT_STR("op", up ? "scp-upload" : "scp-download"),
	    AUDIT_STR("path", ev->path), AUDIT_STR("status", ev->status),
	    AUDIT_NUM("bytes_read", up ? 0 : ev->size),
	    AUDIT_NUM("bytes_written", up ? ev->size : 0),
	    AUDIT_STR("sha256_read", up ? "" : ev->sha256),
	    AUDIT_STR("sha256_written", up ? ev->sha256 : ""),
	    AUDIT_STR("command", s->command) }, 12);
	snprintf(label, sizeof(label), "transfer scp %s %s size=%llu sha256=%s", ev->op,
	    ev->path, (unsigned long long)ev->size, ev->sha256);
	if (s->rec != NULL && !t->failed &&
	    recording_marker(s->rec, recording_clock(s->rec), label) != 0)
		t->failed = 1;
}

int
transfer_start(struct session *s)
{
	struct transfer *t;
	unsigned allow = SFTP_ALLOW_READ | SFTP_ALLOW_WRITE;
	uint64_t max = 0;
	int r;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->s = s;
	if (s->kind == POLICY_EXEC) {
		if ((r = scp_new(s->command, transfer_scp_cb, t, &t->scp)) != 0) {
			free(t);
			return r == OTG_ERR_NOTFOUND ? 0 : -1;
		}
		s->transfer = t;
		return 0;
	}
	policy_role_sftp(s->policy->policy, s->role, &allow, &max);
	if (sftp_new(allow, max, transfer_event_cb, t, &t->sftp) != 0) {
		free(t);
		return -1;
	}
	s->transfer = t;
	return 0;
}

int
transfer_input(struct session *s, int to_asset, const void *data, size_t len,
    struct buf *fwd, struct buf *reply)
{
	struct transfer *t = s->transfer;
	char why[200];

	if (t->scp != NULL) {
		if (scp_input(t->scp, to_asset, data, len, why, sizeof(why)) != 0) {
			session_refuse(s, "transfer.error", why);
			return -1;
		}
		if (buf_put(fwd, data, len) != 0)
			return -1;
	} else if (sftp_input(t->sftp, to_asset, data, len, fwd, reply, why,
	    sizeof(why)) != 0) {
		session_refuse(s, "transfer.error", why);
		return -1;
	}
	if (t->failed) {
		session_refuse(s, "recording.failed", "recording failed: cannot record "
		    "a transfer marker");
		return -1;
	}
	return 0;
}

void
transfer_end(struct session *s)
{
	if (s->transfer != NULL && s->transfer->sftp != NULL && s->rec != NULL)
		sftp_finish(s->transfer->sftp);
}

void
transfer_free(struct transfer *t)
{
	if (t == NULL)
		return;
	sftp_free(t->sftp);
	scp_free(t->scp);
	free(t);
}
