/*
 * session.c: one vendor channel and the asset connection that serves it. The
 * channel's pty-req and env requests are collected; the shell, exec or
 * subsystem request is decided by the policy and held until the asset side
 * answered its own, so the vendor's client sees the asset's answer. Every
 * refusal is one line on the channel's stderr, `otgate: ASSET: REASON`, exit
 * status 1, and an audit event; a port forward has no stderr: its held open
 * fails, or its channel closes (forward.c).
 *
 * A session is refcounted; session_close only changes its state and stops both
 * sides, the free runs later from the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "broker/broker.h"
#include "recorder/recorder.h"

static void
session_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg, **pp;
	struct conn *c = s->conn;

	(void)fd;
	(void)what;
	for (pp = &c->sessions; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	asset_free(s->up);
	transfer_free(s->transfer);
	forward_free(s->forward);
	if (s->vch != NULL && s->relay != NULL)
		relay_vendor_callbacks_clear(s, s->vch);
	relay_free(s->relay);
	menu_free(s->menu);
	if (s->vch != NULL)
		ssh_channel_free(s->vch);
	strlist_free(&s->env);
	free(s->command);
	free(s->reason);
	reason_free(s);
	free(s->signal);
	free(s->exit_signal);
	server_policy_release(s->policy);
	free(s);
	vendor_unref(c);
}

void
session_unref(struct session *s)
{
	if (--s->refs > 0)
		return;
	if (event_base_once(s->conn->srv->base, -1, EV_TIMEOUT, session_free_cb, s,
	    NULL) != 0)
		log_warnx("session %.8s: cannot schedule its free", s->id);
}

struct session *
session_open(struct conn *c, ssh_channel vch)
{
	struct session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->relay = relay_new()) == NULL) {
		free(s);
		return NULL;
	}
	server_newid(s->id);
	s->conn = c;
	s->vch = vch;
	s->refs = 1;
	s->exit_status = -1;
	s->state = SESSION_SETUP;
	snprintf(s->asset, sizeof(s->asset), "%s", c->asset);
	if (vch != NULL)	/* NULL: a forward whose open waits (forward.c) */
		relay_vendor_callbacks(s, vch);
	c->refs++;
	c->nsessions++;
	s->next = c->sessions;
	c->sessions = s;
	return s;
}

static const char *
session_kind(const struct session *s)
{
	return policy_channel_name(s->kind);
}

void
session_describe(struct session *s, struct buf *out, int json)
{
	char start[32] = "-";
	struct tm tm;

	if (s->started) {
		gmtime_r(&s->start, &tm);
		strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (!json) {
		buf_printf(out, "%s %s %s %s %s %s in=%llu out=%llu\n", s->id,
		    s->conn->user, s->asset[0] ? s->asset : "-", session_kind(s),
		    s->conn->src, start, (unsigned long long)s->bytes_in,
		    (unsigned long long)s->bytes_out);
		return;
	}
	buf_printf(out, "{\"id\":\"%s\",\"conn\":\"%s\",\"user\":\"", s->id, s->conn->id);
	escape_json(out, s->conn->user, strlen(s->conn->user));
	buf_puts(out, "\",\"company\":\"");
	escape_json(out, s->conn->company, strlen(s->conn->company));
	buf_puts(out, "\",\"asset\":\"");
	escape_json(out, s->asset, strlen(s->asset));
	buf_printf(out, "\",\"src\":\"%s\",\"kind\":\"%s\",\"start\":%s%s%s,"
	    "\"end\":null,\"exit\":null,\"bytes_in\":%llu,\"bytes_out\":%llu,"
	    "\"recording\":", s->conn->src, session_kind(s),
	    s->started ? "\"" : "", s->started ? start : "null", s->started ? "\"" : "",
	    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
	/* the file as it is while the session runs; null before or once it failed */
	if (s->rec != NULL) {
		buf_putc(out, '"');
		escape_json(out, recording_file(s->rec), strlen(recording_file(s->rec)));
		buf_puts(out, "\"}\n");
	} else {
		buf_puts(out, "null}\n");
	}
}

/* Text for the vendor's terminal: CRLF line ends when a pty is attached. */
static void
session_say(struct session *s, const char *text)
{
	size_t len = strlen(text);

	if (s->pty && len > 0 && text[len - 1] == '\n') {
		ssh_channel_write_stderr(s->vch, text, (uint32_t)(len - 1));
		ssh_channel_write_stderr(s->vch, "\r\n", 2);
	} else {
		ssh_channel_write_stderr(s->vch, text, (uint32_t)len);
	}
}

void
session_refuse(struct session *s, const char *event, const char *reason)
{
	char line[1600], asset[USERNAME_MAX * 4], why[512];

	if (s->state == SESSION_CLOSED)
		return;
	escape_str(asset, sizeof(asset), s->asset[0] ? s->asset : "-");
	escape_str(why, sizeof(why), reason);
	if (s->held != NULL && s->kind != POLICY_FORWARD) {
		/* the request itself succeeds: the answer is the text and status */
		ssh_message_channel_request_reply_success(s->held);
		ssh_message_free(s->held);
		s->held = NULL;
	}
	snprintf(line, sizeof(line), "otgate: %s: %s\n", asset, why);
	if (s->kind != POLICY_FORWARD)
		session_say(s, line);
	if (event != NULL)
		server_audit(s->conn->srv, event, (struct audit_field[]){
		    AUDIT_STR("conn", s->conn->id), AUDIT_STR("session", s->id),
		    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
		    AUDIT_STR("src", s->conn->src), AUDIT_STR("kind", session_kind(s)),
		    AUDIT_STR("reason", reason) }, 7);
	log_info("session %.8s: %s on %s refused: %s", s->id, s->conn->user, asset, why);
	if (s->kind == POLICY_FORWARD) {
		/* no stderr: a held open fails ("administratively prohibited"),
		 * an open channel closes */
		session_close(s, reason);
		return;
	}
	if (s->started)
		s->exit_status = 1;
	ssh_channel_request_send_exit_status(s->vch, 1);
	ssh_channel_send_eof(s->vch);
	session_close(s, reason);
}

void
session_close(struct session *s, const char *why)
{
	time_t now = time(NULL);

	if (s->state == SESSION_CLOSED)
		return;
	s->state = SESSION_CLOSED;
	if (s->held != NULL) {
		ssh_message_reply_default(s->held);
		ssh_message_free(s->held);
		s->held = NULL;
	}
	transfer_end(s);
	forward_end(s);
	watch_end(s, why);
	record_session_close(s);
	if (s->started) {
		server_audit(s->conn->srv, "session.end", (struct audit_field[]){
		    AUDIT_STR("session", s->id), AUDIT_STR("conn", s->conn->id),
		    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
		    AUDIT_STR("kind", session_kind(s)),
		    AUDIT_NUM("bytes_in", s->bytes_in), AUDIT_NUM("bytes_out", s->bytes_out),
		    AUDIT_NUM("duration", now - s->start), AUDIT_NUM("exit", s->exit_status),
		    AUDIT_STR("signal", s->exit_signal), AUDIT_STR("reason", why) }, 11);
		log_info("session %.8s: ended (%s), exit %d, %llu bytes in, %llu out",
		    s->id, why, s->exit_status, (unsigned long long)s->bytes_in,
		    (unsigned long long)s->bytes_out);
	}
	if (s->up != NULL)
		asset_close(s->up);
	if (s->conn->state != CONN_CLOSED && s->vch != NULL && ssh_channel_is_open(s->vch))
		ssh_channel_close(s->vch);
	s->conn->nsessions--;
	session_unref(s);
}

/* Decide with the current policy and start the asset side. */
static void
session_decide(struct session *s)
{
	struct policy_decision d;
	const struct policy_asset *a;

	server_policy_release(s->policy);
	s->policy = server_policy_hold(s->conn->srv);
	if (policy_decide(s->policy->policy, s->conn->user, s->asset, s->kind,
	    time(NULL), &d) != 0) {
		session_refuse(s, "policy.deny", "no decision possible");
		return;
	}
	/* the reason first: approvers see it with the request */
	if ((d.verdict == POLICY_ALLOW || d.verdict == POLICY_NEEDS_APPROVAL) &&
	    d.reason_required && s->reason == NULL) {
		reason_start(s);
		return;
	}
	/* a pty waits for the operator; 0 when an approval covers this already */
	if (d.verdict == POLICY_NEEDS_APPROVAL && approval_check(s, d.role) != 0)
		return;
	if (d.verdict != POLICY_ALLOW && d.verdict != POLICY_NEEDS_APPROVAL) {
		session_refuse(s, "policy.deny", d.reason);
		return;
	}
	s->role = d.role;
	if ((a = policy_asset(s->policy->policy, s->asset)) == NULL) {
		session_refuse(s, "policy.deny", "unknown asset");
		return;
	}
	if (limits_admit(s, a, &d) != 0)
		return;
	s->state = SESSION_CONNECT;
	asset_start(s, a);
}

void
session_asset_ready(struct session *s)
{
	if (auditguard_down(s->conn->srv)) {
		session_refuse(s, NULL, "audit log unavailable");
		return;
	}
	/* recorded from the first byte, or refused */
	if (record_session_open(s) != 0)
		return;
	if ((s->kind == POLICY_SFTP || s->kind == POLICY_EXEC) && transfer_start(s) != 0) {
		session_refuse(s, "transfer.error", "out of memory");
		return;
	}
	if (s->held != NULL) {
		ssh_message_channel_request_reply_success(s->held);
		ssh_message_free(s->held);
		s->held = NULL;
	}
	s->state = SESSION_RUNNING;
	s->start = time(NULL);
	s->started = 1;
	server_audit(s->conn->srv, "session.start", (struct audit_field[]){
	    AUDIT_STR("session", s->id), AUDIT_STR("conn", s->conn->id),
	    AUDIT_STR("user", s->conn->user), AUDIT_STR("company", s->conn->company),
	    AUDIT_STR("asset", s->asset), AUDIT_STR("src", s->conn->src),
	    AUDIT_STR("kind", session_kind(s)), AUDIT_NUM("pty", s->pty),
	    AUDIT_STR("command", s->command),
	    AUDIT_STR("policy", policy_hash(s->policy->policy)),
	    AUDIT_STR("role", s->role), AUDIT_STR("reason", s->reason),
	    AUDIT_STR("recording", s->rec != NULL ? recording_path(s->rec) : NULL) },
	    13);
	log_info("session %.8s: %s on %s (%s) started", s->id, s->conn->user, s->asset,
	    session_kind(s));
}

static int
session_env_ok(const char *name, const char *value)
{
	return (strcmp(name, "TERM") == 0 || strcmp(name, "LANG") == 0 ||
	    strncmp(name, "LC_", 3) == 0) && strlen(name) < 64 && strlen(value) < 256 &&
	    value_utf8_ok(value, strlen(value)) && strchr(name, '=') == NULL;
}

static void
session_env(struct session *s, ssh_message m)
{
	const char *name = ssh_message_channel_request_env_name(m);
	const char *value = ssh_message_channel_request_env_value(m);
	char *pair;

	if (s->state != SESSION_SETUP || name == NULL || value == NULL ||
	    !session_env_ok(name, value) || s->env.n >= SESSION_MAX_ENV ||
	    asprintf(&pair, "%s=%s", name, value) == -1) {
		ssh_message_reply_default(m);
		return;
	}
	if (strlist_push(&s->env, pair) != 0)
		ssh_message_reply_default(m);
	else
		ssh_message_channel_request_reply_success(m);
	free(pair);
}

static int
session_term_ok(const char *t)
{
	size_t i;

	for (i = 0; t[i] != '\0'; i++)
		if (!(t[i] >= 'a' && t[i] <= 'z') && !(t[i] >= 'A' && t[i] <= 'Z') &&
		    !(t[i] >= '0' && t[i] <= '9') && strchr(".+-_", t[i]) == NULL)
			return 0;
	return i > 0 && i < 64;
}

static void
session_size(struct session *s, int cols, int rows)
{
	s->cols = cols < 1 ? 80 : cols > 1000 ? 1000 : cols;
	s->rows = rows < 1 ? 24 : rows > 1000 ? 1000 : rows;
}

static void
session_pty(struct session *s, ssh_message m)
{
	const char *term;
	int cols, rows;

	if (s->state != SESSION_SETUP || s->pty) {
		ssh_message_reply_default(m);
		return;
	}
	sshmsg_pty(m, &term, &cols, &rows);
	snprintf(s->term, sizeof(s->term), "%s",
	    term != NULL && session_term_ok(term) ? term : "xterm");
	session_size(s, cols, rows);
	s->pty = 1;
	ssh_message_channel_request_reply_success(m);
}

/* shell, exec or subsystem: what the vendor wants; decide, then connect. */
static void
session_begin(struct session *s, ssh_message m)
{
	const char *sub;
	char reason[200];

	switch (ssh_message_subtype(m)) {
	case SSH_CHANNEL_REQUEST_EXEC:
		s->kind = POLICY_EXEC;
		if ((s->command = strdup(ssh_message_channel_request_command(m) ?
		    ssh_message_channel_request_command(m) : "")) == NULL) {
			ssh_message_free(m);
			session_close(s, "out of memory");
			return;
		}
		break;
	case SSH_CHANNEL_REQUEST_SUBSYSTEM:
		s->kind = POLICY_SFTP;
		sub = ssh_message_channel_request_subsystem(m);
		if (sub != NULL && strcmp(sub, "sftp") == 0)
			break;
		s->held = m;
		snprintf(reason, sizeof(reason), "subsystem %.40s is not available "
		    "through this broker", sub != NULL && value_name_ok(sub) ? sub : "?");
		session_refuse(s, "policy.deny", reason);
		return;
	default:
		s->kind = POLICY_SHELL;
		break;
	}
	s->held = m;
	if (s->asset[0] != '\0') {
		session_decide(s);
		return;
	}
	if (s->kind == POLICY_SHELL && s->pty) {
		ssh_message_channel_request_reply_success(m);
		ssh_message_free(m);
		s->held = NULL;
		s->state = SESSION_MENU;
		if (menu_start(s) != 0)
			session_close(s, "menu failed");
		return;
	}
	session_refuse(s, "policy.deny", "no asset named: use ssh USER+ASSET@BROKER "
	    "[COMMAND] (or ssh -t USER@BROKER for a menu)");
}

void
session_message(struct session *s, ssh_message m)
{
	const char *term;
	int cols, rows;

	if (ssh_message_type(m) != SSH_REQUEST_CHANNEL) {
		ssh_message_reply_default(m);
		ssh_message_free(m);
		return;
	}
	switch (ssh_message_subtype(m)) {
	case SSH_CHANNEL_REQUEST_PTY:
		session_pty(s, m);
		break;
	case SSH_CHANNEL_REQUEST_ENV:
		session_env(s, m);
		break;
	case SSH_CHANNEL_REQUEST_WINDOW_CHANGE:
		sshmsg_pty(m, &term, &cols, &rows);
		session_size(s, cols, rows);
		s->resized = 1;
		ssh_message_channel_request_reply_success(m);
		break;
	case SSH_CHANNEL_REQUEST_SHELL:
	case SSH_CHANNEL_REQUEST_EXEC:
	case SSH_CHANNEL_REQUEST_SUBSYSTEM:
		if (s->state == SESSION_SETUP) {
			session_begin(s, m);	/* takes m */
			return;
		}
		ssh_message_reply_default(m);
		break;
	default:
		/* x11-req, auth-agent-req@openssh.com and unknown requests */
		server_audit(s->conn->srv, "channel.refused", (struct audit_field[]){
		    AUDIT_STR("conn", s->conn->id), AUDIT_STR("user", s->conn->user),
		    AUDIT_STR("src", s->conn->src), AUDIT_STR("kind",
		    ssh_message_subtype(m) == SSH_CHANNEL_REQUEST_X11 ? "x11" :
		    "channel request (agent forwarding or unknown)") }, 4);
		ssh_message_reply_default(m);
		break;
	}
	ssh_message_free(m);
}

void
session_step(struct session *s)
{
	const char *why;

	s->refs++;
	switch (s->state) {
	case SESSION_SETUP:
		if (ssh_channel_is_closed(s->vch))
			session_close(s, "vendor closed the channel");
		break;
	case SESSION_MENU:
		switch (menu_input(s)) {
		case MENU_CHOSEN:
			menu_free(s->menu);
			s->menu = NULL;
			session_decide(s);
			break;
		case MENU_QUIT:
			ssh_channel_request_send_exit_status(s->vch,
			    s->exit_status < 0 ? 0 : s->exit_status);
			ssh_channel_send_eof(s->vch);
			session_close(s, "left the menu");
			break;
		case MENU_WAIT:
			break;
		}
		break;
	case SESSION_APPROVAL:
		if (approval_step(s) == APPROVAL_GO)
			session_decide(s);
		break;
	case SESSION_REASON:
		if (reason_input(s) == REASON_GIVEN)
			session_decide(s);
		break;
	case SESSION_CONNECT:
		if (s->vch == NULL)
			break;	/* a forward's open waits for the device */
		if (ssh_channel_is_closed(s->vch))
			session_close(s, "vendor left while connecting");
		else
			asset_step(s);
		break;
	case SESSION_RUNNING:
		if ((why = s->forward != NULL ? forward_pump(s) : relay_pump(s)) != NULL)
			session_close(s, why);
		break;
	case SESSION_CLOSED:
		break;
	}
	if (s->conn->state != CONN_CLOSED)
		bridge_update(s->conn->bridge);
	if (s->up != NULL)
		asset_update(s->up);
	session_unref(s);
}
