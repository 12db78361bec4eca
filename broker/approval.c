/*
 * approval.c: just-in-time approval. When the policy says needs-approval, the
 * vendor's request becomes a numbered request that a plant operator answers
 * with `otgate approve N [--for 2h]` or `otgate deny N [--reason TEXT]`. A pty
 * shell waits on a line saying so (no timer, no polling: it only wakes on the
 * vendor's input or the answer; Ctrl-C cancels); exec, sftp and forwarding
 * are refused with the request number, and once approved a retry within the
 * approval's --for goes through, as do the vendor's next sessions to that
 * asset. Unanswered requests expire after approval-timeout. A role's
 * `approvers = GROUP` limits who may answer to members of that Unix group.
 * Requests live in memory: a restart forgets them (the vendor asks again).
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"

#define APPROVAL_KEEP 256		/* answered requests remembered for errors */
#define APPROVAL_WAITING_MAX 1024	/* open requests at once */
#define APPROVAL_FOR_DEFAULT (15 * 60)	/* approve without --for */
#define APPROVAL_FOR_MAX (7 * 86400)

enum approval_state { APPROVAL_WAITING, APPROVAL_GRANTED, APPROVAL_DENIED,
	APPROVAL_EXPIRED };

struct approval {
	struct approvals *all;
	unsigned long id;
	enum approval_state state;
	char user[USERNAME_MAX];
	char company[128];
	char asset[USERNAME_MAX];
	char reason[APPROVAL_REASON_MAX + 1];	/* the vendor's, as typed */
	char approvers[40];	/* group, "" for any operator */
	char answer[CONTROL_REASON_MAX + 1];	/* deny's reason */
	time_t since;
	time_t until;		/* waiting: expiry; granted: end of the grant */
	struct event *expiry;
	struct approval *next;
};

struct approvals {
	struct server *srv;
	unsigned long next_id;
	struct approval *list;	/* newest first */
	unsigned n, waiting;
};

static const char *
approval_state_name(enum approval_state st)
{
	switch (st) {
	case APPROVAL_WAITING: return "waiting";
	case APPROVAL_GRANTED: return "approved";
	case APPROVAL_DENIED: return "denied";
	case APPROVAL_EXPIRED: return "expired";
	}
	return "?";
}

static void
approval_free(struct approval *a)
{
	if (a->expiry != NULL)
		event_free(a->expiry);
	free(a);
}

/* Forget the oldest answered requests beyond APPROVAL_KEEP. */
static void
approval_trim(struct approvals *all)
{
	struct approval **pp, *a;
	unsigned kept = 0;

	for (pp = &all->list; (a = *pp) != NULL;) {
		if (a->state != APPROVAL_WAITING && a->state != APPROVAL_GRANTED &&
		    ++kept > APPROVAL_KEEP) {
			*pp = a->next;
			all->n--;
			approval_free(a);
			continue;
		}
		pp = &a->next;
	}
}

static struct approval *
approval_find(struct approvals *all, unsigned long id)
{
	struct approval *a;

	for (a = all->list; a != NULL; a = a->next)
		if (a->id == id)
			return a;
	return NULL;
}

struct approval_wake {
	unsigned long id;
};

/* The sessions waiting on a request act on its answer from their own step. */
static void
approval_wake_cb(struct session *s, void *arg)
{
	struct approval_wake *w = arg;

	if (s->state == SESSION_APPROVAL && s->request == w->id)
		session_step(s);
}

static void
approval_wake(struct approvals *all, unsigned long id)
{
	struct approval_wake w = { id };

	vendor_foreach_session(all->srv, approval_wake_cb, &w);
}

static void
approval_audit(struct approval *a, const char *event, uid_t uid, const char *text)
{
	server_audit(a->all->srv, event, (struct audit_field[]){
	    AUDIT_NUM("request", a->id), AUDIT_STR("user", a->user),
	    AUDIT_STR("asset", a->asset), AUDIT_NUM("uid", uid),
	    AUDIT_STR("reason", text) }, 5);
}

static void
approval_expiry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct approval *a = arg;

	(void)fd;
	(void)what;
	if (a->state == APPROVAL_WAITING) {
		a->state = APPROVAL_EXPIRED;
		a->all->waiting--;
		server_audit(a->all->srv, "approval.expired", (struct audit_field[]){
		    AUDIT_NUM("request", a->id), AUDIT_STR("user", a->user),
		    AUDIT_STR("asset", a->asset) }, 3);
		log_info("approval: request %lu expired unanswered", a->id);
		approval_wake(a->all, a->id);
	} else if (a->state == APPROVAL_GRANTED) {
		/* the grant ran out: later sessions ask again */
		a->state = APPROVAL_EXPIRED;
	}
	approval_trim(a->all);
}

static int
approval_arm(struct approval *a, time_t at)
{
	struct timeval tv = { at > time(NULL) ? at - time(NULL) : 0, 0 };

	a->until = at;
	return event_add(a->expiry, &tv);
}

/* A new request for the session's user and asset; NULL when full. */
static void approval_json(struct buf *out, const struct approval *a);

/* Hand the request to on-request (if set), as the JSON `requests --json` prints. */
static void
approval_notify(struct server *srv, const struct approval *a)
{
	struct buf b;

	if (srv->onrequest_fd == -1)
		return;
	buf_init(&b, ONREQUEST_MSG_MAX);
	approval_json(&b, a);
	onrequest_run(srv, a->id, &b);
	buf_free(&b);
}

static struct approval *
approval_new(struct approvals *all, struct session *s, const char *role)
{
	struct server *srv = all->srv;
	const char *group = policy_role_approvers(s->policy->policy, role);
	struct approval *a;

	if (all->waiting >= APPROVAL_WAITING_MAX || (a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->all = all;
	a->id = all->next_id++;
	a->state = APPROVAL_WAITING;
	a->since = time(NULL);
	snprintf(a->user, sizeof(a->user), "%s", s->conn->user);
	snprintf(a->company, sizeof(a->company), "%s", s->conn->company);
	snprintf(a->asset, sizeof(a->asset), "%s", s->asset);
	snprintf(a->reason, sizeof(a->reason), "%s", s->reason != NULL ? s->reason : "");
	snprintf(a->approvers, sizeof(a->approvers), "%s", group != NULL ? group : "");
	if ((a->expiry = evtimer_new(srv->base, approval_expiry_cb, a)) == NULL ||
	    approval_arm(a, a->since + (time_t)srv->conf->approval_timeout) != 0) {
		approval_free(a);
		return NULL;
	}
	a->next = all->list;
	all->list = a;
	all->n++;
	all->waiting++;
	server_audit(srv, "approval.request", (struct audit_field[]){
	    AUDIT_NUM("request", a->id), AUDIT_STR("session", s->id),
	    AUDIT_STR("conn", s->conn->id), AUDIT_STR("user", a->user),
	    AUDIT_STR("company", a->company), AUDIT_STR("asset", a->asset),
	    AUDIT_STR("kind", policy_channel_name(s->kind)), AUDIT_STR("role", role),
	    AUDIT_STR("approvers", a->approvers), AUDIT_STR("reason", a->reason) }, 10);
	log_info("approval: request %lu: %s on %s waits for an operator", a->id, a->user,
	    a->asset);
	approval_notify(srv, a);
	return a;
}

int
approval_check(struct session *s, const char *role)
{
	struct approvals *all = s->conn->srv->approvals;
	struct approval *a, *waiting = NULL;
	time_t now = time(NULL);
	char text[USERNAME_MAX + 200];

	for (a = all->list; a != NULL; a = a->next) {
		if (strcmp(a->user, s->conn->user) != 0 || strcmp(a->asset, s->asset) != 0)
			continue;
		if (a->state == APPROVAL_GRANTED && now < a->until) {
			s->request = a->id;
			return 0;
		}
		if (a->state == APPROVAL_WAITING && waiting == NULL)
			waiting = a;
	}
	if (waiting == NULL && (waiting = approval_new(all, s, role)) == NULL) {
		session_refuse(s, "policy.deny", "needs approval, and too many requests "
		    "are waiting: try again later");
		return -1;
	}
	s->request = waiting->id;
	if (s->kind != POLICY_SHELL || !s->pty) {
		snprintf(text, sizeof(text), "request %lu is waiting for approval",
		    waiting->id);
		session_refuse(s, "policy.deny", text);
		return -1;
	}
	/* the shell itself succeeds: the vendor's terminal shows the wait */
	if (s->held != NULL) {
		ssh_message_channel_request_reply_success(s->held);
		ssh_message_free(s->held);
		s->held = NULL;
	}
	s->state = SESSION_APPROVAL;
	snprintf(text, sizeof(text), "Access to %s needs approval: request %lu is "
	    "waiting for a plant operator (Ctrl-C to cancel)\r\n", s->asset, waiting->id);
	ssh_channel_write(s->vch, text, (uint32_t)strlen(text));
	return -1;
}

enum approval_result
approval_step(struct session *s)
{
	struct approval *a = approval_find(s->conn->srv->approvals, s->request);
	char text[CONTROL_REASON_MAX + 100];
	uint8_t c;
	int n, i;

	relay_drop_vendor_stderr(s);
	for (i = 0; i < 256; i++) {
		n = ssh_channel_read_nonblocking(s->vch, &c, 1, 0);
		if (n < 0 || (n == 0 && (ssh_channel_is_eof(s->vch) ||
		    ssh_channel_is_closed(s->vch)))) {
			session_close(s, "vendor left while waiting for approval");
			return APPROVAL_DONE;
		}
		if (n == 0)
			break;
		if (c == 3 || c == 4) {	/* Ctrl-C, Ctrl-D */
			s->exit_status = 1;
			session_refuse(s, NULL, "cancelled while waiting for approval");
			return APPROVAL_DONE;
		}
	}
	if (a == NULL || a->state == APPROVAL_EXPIRED) {
		snprintf(text, sizeof(text), "request %lu expired unanswered", s->request);
		session_refuse(s, "policy.deny", text);
		return APPROVAL_DONE;
	}
	if (a->state == APPROVAL_DENIED) {
		snprintf(text, sizeof(text), "request %lu was denied%s%s", a->id,
		    a->answer[0] ? ": " : "", a->answer);
		session_refuse(s, "policy.deny", text);
		return APPROVAL_DONE;
	}
	if (a->state == APPROVAL_GRANTED)
		return APPROVAL_GO;
	return APPROVAL_WAIT;
}

static int
approval_may(const struct approval *a, const struct control_peer *peer)
{
	struct group *g;
	size_t i;

	if (a->approvers[0] == '\0')
		return 1;
	if ((g = getgrnam(a->approvers)) == NULL)
		return 0;
	if (peer->gid == g->gr_gid)
		return 1;
	for (i = 0; i < peer->ngroups; i++)
		if (peer->groups[i] == g->gr_gid)
			return 1;
	return 0;
}

int
approval_answer(struct server *srv, int approve, const char *idtext, const char *arg,
    const struct control_peer *peer, struct buf *out)
{
	struct approvals *all = srv->approvals;
	struct approval *a;
	unsigned long id;
	uint64_t secs = APPROVAL_FOR_DEFAULT;
	const char *verb = approve ? "approve" : "deny";
	char *end;

	id = strtoul(idtext, &end, 10);
	if (idtext[0] < '0' || idtext[0] > '9' || *end != '\0' || id == 0) {
		buf_printf(out, "%s: a request is a number (see otgate requests)\n", verb);
		return -1;
	}
	if ((a = approval_find(all, id)) == NULL) {
		buf_printf(out, "%s: no request %lu\n", verb, id);
		return -1;
	}
	if (a->state != APPROVAL_WAITING) {
		buf_printf(out, "%s: request %lu is %s already\n", verb, id,
		    approval_state_name(a->state));
		return -1;
	}
	if (!approval_may(a, peer)) {
		buf_printf(out, "%s: only members of group %s may answer request %lu\n",
		    verb, a->approvers, id);
		server_audit(srv, "approval.refused", (struct audit_field[]){
		    AUDIT_NUM("request", a->id), AUDIT_STR("verb", verb),
		    AUDIT_NUM("uid", peer->uid), AUDIT_STR("approvers", a->approvers) }, 4);
		return -1;
	}
	if (approve && arg[0] != '\0' && (value_duration(arg, &secs) != 0 || secs == 0 ||
	    secs > APPROVAL_FOR_MAX)) {
		buf_printf(out, "approve: bad --for: expected a duration from 1s to 7d, "
		    "as in 30m or 2h\n");
		return -1;
	}
	if (!approve && strlen(arg) > CONTROL_REASON_MAX) {
		buf_printf(out, "deny: the reason must be at most %u bytes\n",
		    CONTROL_REASON_MAX);
		return -1;
	}
	all->waiting--;
	if (approve) {
		a->state = APPROVAL_GRANTED;
		event_del(a->expiry);
		approval_arm(a, time(NULL) + (time_t)secs);
		approval_audit(a, "approval.granted", peer->uid, arg);
		buf_printf(out, "request %lu approved: %s on %s for %llus\n", id, a->user,
		    a->asset, (unsigned long long)secs);
	} else {
		a->state = APPROVAL_DENIED;
		event_del(a->expiry);
		snprintf(a->answer, sizeof(a->answer), "%s", arg);
		approval_audit(a, "approval.denied", peer->uid, arg);
		buf_printf(out, "request %lu denied\n", id);
	}
	log_info("approval: request %lu %s by uid %u", id, approval_state_name(a->state),
	    (unsigned)peer->uid);
	approval_wake(all, id);
	approval_trim(all);
	return 0;
}

static void
approval_json_str(struct buf *out, const char *key, const char *v)
{
	buf_printf(out, ",\"%s\":\"", key);
	escape_json(out, v, strlen(v));
	buf_puts(out, "\"");
}

/* One request as a line of JSON: `otgate requests --json` and on-request's stdin. */
static void
approval_json(struct buf *out, const struct approval *a)
{
	char since[32];
	struct tm tm;

	gmtime_r(&a->since, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(out, "{\"id\":%lu", a->id);
	approval_json_str(out, "user", a->user);
	approval_json_str(out, "company", a->company);
	approval_json_str(out, "asset", a->asset);
	approval_json_str(out, "reason", a->reason);
	buf_printf(out, ",\"since\":\"%s\"}\n", since);
}

void
approval_list(struct server *srv, struct buf *out, int json)
{
	struct approval *a;
	char since[32], text[USERNAME_MAX * 4], comp[512], why[APPROVAL_REASON_MAX * 4 + 1];
	struct tm tm;

	for (a = srv->approvals->list; a != NULL; a = a->next) {
		if (a->state != APPROVAL_WAITING)
			continue;
		if (json) {
			approval_json(out, a);
			continue;
		}
		gmtime_r(&a->since, &tm);
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
		escape_str(comp, sizeof(comp), a->company[0] ? a->company : "-");
		escape_str(why, sizeof(why), a->reason[0] ? a->reason : "-");
		buf_printf(out, "%lu %s %s %s (%s) reason: %s\n", a->id, since,
		    escape_str(text, sizeof(text), a->user), a->asset, comp, why);
	}
}

int
approval_start(struct server *srv)
{
	if ((srv->approvals = calloc(1, sizeof(*srv->approvals))) == NULL)
		return -1;
	srv->approvals->srv = srv;
	srv->approvals->next_id = 1;
	return 0;
}

void
approval_stop(struct server *srv)
{
	struct approval *a, *next;

	if (srv->approvals == NULL)
		return;
	for (a = srv->approvals->list; a != NULL; a = next) {
		next = a->next;
		approval_free(a);
	}
	free(srv->approvals);
	srv->approvals = NULL;
}
