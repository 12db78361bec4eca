/*
 * scope.c: which audit events an incident report covers. Pure functions over
 * parsed audit lines, so the filtering is unit-tested without a broker. The
 * scope is a closed time range plus optional assets, users and a source
 * network; a connection or session that has one event in scope brings its
 * other events in range along (the login before a session on the asset, the
 * checkpoints after it).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

/* Fixed-width digits: sscanf would accept signs and spaces. */
static int
scope_digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
scope_ts_parse(const char *s, time_t *t, int *ms)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, m = 0;
	size_t n = strlen(s);

	/* YYYY-MM-DDTHH:MM:SS[.mmm]Z, as audit.c writes it */
	if (n != 20 && n != 24)
		return OTG_ERR_INVAL;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[n - 1] != 'Z' || (n == 24 && s[19] != '.'))
		return OTG_ERR_INVAL;
	if (scope_digits(s, 4, &y) || scope_digits(s + 5, 2, &mo) ||
	    scope_digits(s + 8, 2, &d) || scope_digits(s + 11, 2, &h) ||
	    scope_digits(s + 14, 2, &mi) || scope_digits(s + 17, 2, &sec) ||
	    (n == 24 && scope_digits(s + 20, 3, &m)))
		return OTG_ERR_INVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return OTG_ERR_INVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = timegm(&tm);
	*ms = m;
	return 0;
}

static const char *
scope_str(const struct json *j, const char *key)
{
	const char *s = json_get_str(j, key);

	return s != NULL ? s : "";
}

int
scope_event_parse(const char *line, size_t len, struct scope_event *ev)
{
	const char *ts;
	int r;

	memset(ev, 0, sizeof(*ev));
	if ((r = json_parse(line, len, &ev->j)) != 0)
		return OTG_ERR_PROTO;
	r = OTG_ERR_PROTO;
	if (ev->j->type != JSON_OBJECT || (ts = json_get_str(ev->j, "ts")) == NULL ||
	    json_get_str(ev->j, "event") == NULL ||
	    scope_ts_parse(ts, &ev->ts, &ev->ts_ms) != 0)
		goto out;
	if ((ev->line = strndup(line, len)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	ev->event = scope_str(ev->j, "event");
	ev->user = scope_str(ev->j, "user");
	ev->asset = scope_str(ev->j, "asset");
	ev->src = scope_str(ev->j, "src");
	ev->conn = scope_str(ev->j, "conn");
	ev->session = scope_str(ev->j, "session");
	return 0;
out:
	scope_event_free(ev);
	return r;
}

void
scope_event_free(struct scope_event *ev)
{
	json_free(ev->j);
	free(ev->line);
	memset(ev, 0, sizeof(*ev));
}

void
scope_user_part(const char *login, char *out, size_t outsz)
{
	size_t n = strcspn(login, "+:");

	snprintf(out, outsz, "%.*s", (int)n, login);
}

/* The asset a failed login named ("alice+plc1"), when the event has none. */
static const char *
scope_login_asset(const struct scope_event *ev)
{
	const char *p;

	if (ev->asset[0] != '\0')
		return ev->asset;
	p = ev->user + strcspn(ev->user, "+:");
	return *p != '\0' ? p + 1 : "";
}

static int
scope_listed(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return 1;
	return 0;
}

static int
scope_src_in(const struct cidr *c, const char *src)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	memset(&in4, 0, sizeof(in4));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, src, &in4.sin_addr) == 1) {
		in4.sin_family = AF_INET;
		return cidr_contains(c, (const struct sockaddr *)&in4);
	}
	if (inet_pton(AF_INET6, src, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		return cidr_contains(c, (const struct sockaddr *)&in6);
	}
	return 0;
}

int
scope_match(const struct scope *s, const struct scope_event *ev)
{
	char user[256];
	const char *asset = scope_login_asset(ev);
	int named = ev->user[0] != '\0' || asset[0] != '\0' || ev->src[0] != '\0';

	if (ev->ts < s->since || ev->ts > s->until)
		return 0;
	if (s->nassets == 0 && s->nusers == 0 && !s->has_src)
		return 1;
	if (!named)
		return ev->conn[0] == '\0' && ev->session[0] == '\0';
	scope_user_part(ev->user, user, sizeof(user));
	if (s->nassets > 0 && !scope_listed(s->assets, s->nassets, asset))
		return 0;
	if (s->nusers > 0 && !scope_listed(s->users, s->nusers, user))
		return 0;
	if (s->has_src && !scope_src_in(&s->src, ev->src))
		return 0;
	return 1;
}

static int
scope_id_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
scope_id_has(const char **ids, size_t n, const char *id)
{
	return id[0] != '\0' && bsearch(&id, ids, n, sizeof(*ids), scope_id_cmp) != NULL;
}

int
scope_select(const struct scope *s, const struct scope_event *evs, size_t n,
    unsigned char *keep)
{
	const char **conns = NULL, **sessions = NULL;
	size_t i, nc = 0, ns = 0;
	int r = OTG_ERR_NOMEM;

	if (n > 0 && ((conns = calloc(n, sizeof(*conns))) == NULL ||
	    (sessions = calloc(n, sizeof(*sessions))) == NULL))
		goto out;
	for (i = 0; i < n; i++) {
		keep[i] = (unsigned char)scope_match(s, &evs[i]);
		if (!keep[i])
			continue;
		if (evs[i].conn[0] != '\0')
			conns[nc++] = evs[i].conn;
		if (evs[i].session[0] != '\0')
			sessions[ns++] = evs[i].session;
	}
	qsort(conns, nc, sizeof(*conns), scope_id_cmp);
	qsort(sessions, ns, sizeof(*sessions), scope_id_cmp);
	/* a checkpoint names only its session; a login only its conn */
	for (i = 0; i < n; i++) {
		if (keep[i] || evs[i].ts < s->since || evs[i].ts > s->until)
			continue;
		keep[i] = (unsigned char)(scope_id_has(conns, nc, evs[i].conn) ||
		    scope_id_has(sessions, ns, evs[i].session));
	}
	r = 0;
out:
	free(conns);
	free(sessions);
	return r;
}
