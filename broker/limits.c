/*
 * limits.c: how many vendors an asset takes at once and how long a session
 * may last. An asset's `max-sessions` is checked when a session is decided:
 * the next vendor is told who holds the asset and since when. The deciding
 * roles' `max-session` (from the session's start) and `idle-timeout` (no byte
 * either way) are enforced by one tick a second over all sessions, which
 * costs nothing per byte relayed: activity is read from the relay's byte
 * counters. The vendor is warned a minute before either end (half the limit
 * when the limit is shorter than two minutes), and the end is audited.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "broker/broker.h"

#define LIMITS_WARN_SECS 60

/* "2h", "15m", "90s": the largest unit that divides it. */
static void
limits_duration_text(uint64_t secs, char *out, size_t outsz)
{
	if (secs >= 86400 && secs % 86400 == 0)
		snprintf(out, outsz, "%llud", (unsigned long long)(secs / 86400));
	else if (secs >= 3600 && secs % 3600 == 0)
		snprintf(out, outsz, "%lluh", (unsigned long long)(secs / 3600));
	else if (secs >= 60 && secs % 60 == 0)
		snprintf(out, outsz, "%llum", (unsigned long long)(secs / 60));
	else
		snprintf(out, outsz, "%llus", (unsigned long long)secs);
}

static uint64_t
limits_warn_lead(uint64_t limit)
{
	return limit >= 2 * LIMITS_WARN_SECS ? LIMITS_WARN_SECS : limit / 2;
}

struct limits_holder {
	const struct session *self;
	const char *asset;
	const struct session *first;
	unsigned n;
};

static void
limits_holder_cb(struct session *s, void *arg)
{
	struct limits_holder *h = arg;

	if (s == h->self || strcmp(s->asset, h->asset) != 0 ||
	    (s->state != SESSION_CONNECT && s->state != SESSION_RUNNING))
		return;
	h->n++;
	if (h->first == NULL || (s->started && (!h->first->started ||
	    s->start < h->first->start)))
		h->first = s;
}

int
limits_admit(struct session *s, const struct policy_asset *a,
    const struct policy_decision *d)
{
	struct limits_holder h = { s, a->name, NULL, 0 };
	char why[512], since[64];
	struct tm tm;

	s->max_session = d->max_session;
	s->idle_timeout = d->idle_timeout;
	if (a->max_sessions == 0)
		return 0;
	vendor_foreach_session(s->conn->srv, limits_holder_cb, &h);
	if (h.n < a->max_sessions)
		return 0;
	if (h.first->started) {
		localtime_r(&h.first->start, &tm);
		strftime(since, sizeof(since), "since %Y-%m-%d %H:%M %Z", &tm);
	} else {
		snprintf(since, sizeof(since), "connecting now");
	}
	snprintf(why, sizeof(why), "in use by %s%s%s%s %s (max-sessions %u)",
	    h.first->conn->user, h.first->conn->company[0] ? " (" : "",
	    h.first->conn->company, h.first->conn->company[0] ? ")" : "", since,
	    a->max_sessions);
	session_refuse(s, "session.busy", why);
	return -1;
}

/* A line on the vendor's terminal, without ending anything. */
static void
limits_say(struct session *s, const char *text)
{
	char line[400];

	if (s->kind == POLICY_FORWARD)
		return;	/* a port forward has no stderr: its end is audited */
	snprintf(line, sizeof(line), "\r\notgate: %s: %s%s", s->asset, text,
	    s->pty ? "\r\n" : "\n");
	/* without a pty the text must not start with a stray CR */
	ssh_channel_write_stderr(s->vch, s->pty ? line : line + 2,
	    (uint32_t)strlen(s->pty ? line : line + 2));
	bridge_update(s->conn->bridge);
}

static void
limits_check_cb(struct session *s, void *arg)
{
	time_t now = *(time_t *)arg;
	uint64_t seen = s->bytes_in + s->bytes_out, left;
	char d[32], text[200];

	if (s->state != SESSION_RUNNING || !s->started)
		return;
	if (s->active == 0 || seen != s->seen) {
		s->seen = seen;
		s->active = now;
		s->warned &= ~LIMITS_WARNED_IDLE;
	}
	if (s->max_session > 0) {
		limits_duration_text(s->max_session, d, sizeof(d));
		left = (uint64_t)(now - s->start) >= s->max_session ? 0 :
		    s->max_session - (uint64_t)(now - s->start);
		if (left == 0) {
			snprintf(text, sizeof(text), "max-session %s reached", d);
			session_refuse(s, "session.limit", text);
			return;
		}
		if (left <= limits_warn_lead(s->max_session) &&
		    !(s->warned & LIMITS_WARNED_MAX)) {
			s->warned |= LIMITS_WARNED_MAX;
			snprintf(text, sizeof(text), "this session ends in %llus "
			    "(max-session %s)", (unsigned long long)left, d);
			limits_say(s, text);
		}
	}
	if (s->idle_timeout > 0) {
		limits_duration_text(s->idle_timeout, d, sizeof(d));
		left = (uint64_t)(now - s->active) >= s->idle_timeout ? 0 :
		    s->idle_timeout - (uint64_t)(now - s->active);
		if (left == 0) {
			snprintf(text, sizeof(text), "idle-timeout %s reached", d);
			session_refuse(s, "session.limit", text);
			return;
		}
		if (left <= limits_warn_lead(s->idle_timeout) &&
		    !(s->warned & LIMITS_WARNED_IDLE)) {
			s->warned |= LIMITS_WARNED_IDLE;
			snprintf(text, sizeof(text), "idle: this session ends in %llus "
			    "without activity (idle-timeout %s)", (unsigned long long)left, d);
			limits_say(s, text);
		}
	}
}

static void
limits_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	time_t now = time(NULL);

	(void)fd;
	(void)what;
	vendor_foreach_session(srv, limits_check_cb, &now);
}

int
limits_start(struct server *srv)
{
	struct timeval tv = { 1, 0 };

	srv->limits_tick = event_new(srv->base, -1, EV_PERSIST, limits_tick_cb, srv);
	if (srv->limits_tick == NULL || event_add(srv->limits_tick, &tv) != 0) {
		log_warnx("limits: cannot start the session timer");
		return -1;
	}
	return 0;
}

void
limits_stop(struct server *srv)
{
	if (srv->limits_tick != NULL)
		event_free(srv->limits_tick);
	srv->limits_tick = NULL;
}
