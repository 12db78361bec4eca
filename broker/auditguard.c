/*
 * auditguard.c: otgated fails closed when its audit log cannot be written
 * (disk full, EIO, EACCES; IEC 62443-3-3 SR 2.10). The first event that does
 * not reach the file marks the log unavailable and says so loudly, once. From
 * then on nothing is written to the log but counted as lost, no login is
 * granted and no session starts (auth.c, session.c ask auditguard_down), and
 * from the loop, never inside the caller that noticed, every open session
 * ends with "audit log unavailable". Each second a retry writes
 * audit.recovered (since when, how many events were lost); once that line is
 * in the file the broker serves again. The chain stays whole: an event that
 * was not written has neither a line nor a seq. The recorder thread writes
 * session.checkpoint itself: it reads auditguard_down, and the loop counts
 * what it could not write (auditguard_lost, record.c).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "broker/broker.h"

#define AUDITGUARD_RETRY_SECONDS 1

struct auditguard {
	struct event *retry;
	time_t since;			/* 0 while the log is writable */
	atomic_int down;		/* since != 0, for the recorder thread */
	unsigned long long lost;	/* events not written since then */
	int swept;			/* the sessions were ended */
};

static void auditguard_retry_cb(evutil_socket_t fd, short what, void *arg);

int
auditguard_start(struct server *srv)
{
	struct auditguard *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	if ((g->retry = evtimer_new(srv->base, auditguard_retry_cb, srv)) == NULL) {
		free(g);
		return -1;
	}
	srv->auditguard = g;
	return 0;
}

void
auditguard_stop(struct server *srv)
{
	struct auditguard *g = srv->auditguard;

	if (g == NULL)
		return;
	if (g->since != 0)
		log_warnx("audit log: still unavailable at stop; %llu event(s) were "
		    "not written", g->lost);
	event_free(g->retry);
	free(g);
	srv->auditguard = NULL;
}

int
auditguard_down(const struct server *srv)
{
	return srv->auditguard != NULL && atomic_load(&srv->auditguard->down);
}

static void
auditguard_schedule(struct server *srv, time_t seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(srv->auditguard->retry, &tv);
}

void
auditguard_failed(struct server *srv, const char *event)
{
	auditguard_lost(srv, event, 1);
}

void
auditguard_lost(struct server *srv, const char *event, unsigned long long n)
{
	struct auditguard *g = srv->auditguard;

	if (g == NULL) {
		log_warnx("audit log: could not record %llu %s", n, event);
		return;
	}
	g->lost += n;
	if (g->since != 0)
		return;
	g->since = time(NULL);
	atomic_store(&g->down, 1);
	g->swept = 0;
	log_warn("audit log %s: cannot record %s; refusing logins and ending sessions "
	    "until it can be written", srv->conf->audit_log, event);
	auditguard_schedule(srv, 0);
}

static void
auditguard_end_cb(struct session *s, void *arg)
{
	(void)arg;
	if (s->state != SESSION_SETUP)
		session_refuse(s, NULL, "audit log unavailable");
}

static void
auditguard_stamp(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* From the loop: end the sessions once, then try to write again. */
static void
auditguard_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct auditguard *g = srv->auditguard;
	char since[32];

	(void)fd;
	(void)what;
	if (g->since == 0)
		return;
	if (!g->swept) {
		g->swept = 1;
		vendor_foreach_session(srv, auditguard_end_cb, NULL);
	}
	auditguard_stamp(g->since, since, sizeof(since));
	if (srv->audit == NULL || audit_event(srv->audit, "audit.recovered",
	    (struct audit_field[]){ { "since", since, 0 },
	    AUDIT_NUM("lost", g->lost) }, 2) != 0) {
		auditguard_schedule(srv, AUDITGUARD_RETRY_SECONDS);
		return;
	}
	log_info("audit log %s: writable again; %llu event(s) since %s were not written",
	    srv->conf->audit_log, g->lost, since);
	g->since = 0;
	atomic_store(&g->down, 0);
	g->lost = 0;
}

/* One line for `otgate status`. */
void
auditguard_status(const struct server *srv, struct buf *out)
{
	const struct auditguard *g = srv->auditguard;
	char since[32];

	if (!auditguard_down(srv)) {
		buf_printf(out, "audit ok\n");
		return;
	}
	auditguard_stamp(g->since, since, sizeof(since));
	buf_printf(out, "audit unavailable since %s, %llu event(s) not written\n",
	    since, g->lost);
}
