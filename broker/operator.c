/*
 * operator.c: what the plant operator on shift does to running sessions
 * through the control socket. `kill` ends one session, named by any unique
 * prefix of its ID (8 hex or more, as `sessions --active` prints it): the
 * vendor reads the operator's reason as the session's last line, the
 * recording is closed and sealed like any other end, and the kill is audited
 * with the operator's uid before the session's own end.
 */
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"

#define OPERATOR_ID_MIN 8

struct operator_find {
	const char *prefix;
	size_t len;
	struct session *found;
	unsigned matches;
};

static void
operator_find_cb(struct session *s, void *arg)
{
	struct operator_find *f = arg;

	if (s->state == SESSION_CLOSED || strncmp(s->id, f->prefix, f->len) != 0)
		return;
	f->found = s;
	f->matches++;
}

/* 8 to 32 lowercase hex: what the broker prints, nothing to escape. */
static int
operator_id_ok(const char *id)
{
	size_t n = strspn(id, "0123456789abcdef");

	return id[n] == '\0' && n >= OPERATOR_ID_MIN && n <= 32;
}

struct session *
operator_session(struct server *srv, const char *verb, const char *id, struct buf *out)
{
	struct operator_find f = { id, strlen(id), NULL, 0 };

	if (!operator_id_ok(id)) {
		buf_printf(out, "%s: a session ID is 8 to 32 lowercase hex characters "
		    "(see otgate sessions --active)\n", verb);
		return NULL;
	}
	vendor_foreach_session(srv, operator_find_cb, &f);
	if (f.matches == 0) {
		buf_printf(out, "%s: no active session %s (it may have ended)\n", verb, id);
		return NULL;
	}
	if (f.matches > 1) {
		buf_printf(out, "%s: %s names %u sessions; give more of the ID\n", verb, id,
		    f.matches);
		return NULL;
	}
	return f.found;
}

int
operator_kill(struct server *srv, const char *id, const char *reason, uid_t uid,
    struct buf *out)
{
	struct session *s;
	char why[CONTROL_REASON_MAX + 64];

	/* any bytes: the vendor's line and the audit log escape them */
	if (strlen(reason) > CONTROL_REASON_MAX) {
		buf_printf(out, "kill: the reason must be at most %u bytes\n",
		    CONTROL_REASON_MAX);
		return -1;
	}
	if ((s = operator_session(srv, "kill", id, out)) == NULL)
		return -1;
	snprintf(why, sizeof(why), "ended by an operator%s%s", reason[0] ? ": " : "",
	    reason);
	server_audit(srv, "session.kill", (struct audit_field[]){
	    AUDIT_STR("session", s->id), AUDIT_STR("conn", s->conn->id),
	    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
	    AUDIT_NUM("uid", uid), AUDIT_STR("reason", reason) }, 6);
	buf_printf(out, "session %s ended\n", s->id);
	/* the vendor's last line; session.end and the sealed recording follow */
	session_refuse(s, NULL, why);
	return 0;
}
