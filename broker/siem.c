/*
 * siem.c: audit events rendered for a SIEM (Splunk, QRadar, Wazuh, ArcSight)
 * as well as the JSON line of the audit log (siem-format = rfc5424 | cef):
 *   RFC 5424: <PRI>1 TIME HOST APP PID EVENT [otgate@32473 seq="n" k="v" ...] EVENT
 *   CEF:      CEF:0|otgate|otgate|VERSION|EVENT|NAME|SEVERITY|rt=ms suser=... ...
 * Every value is first made safe with escape_text (so no line break, control or
 * bidi override reaches the collector) and then escaped for the format, so a
 * collector that unescapes a value gets exactly the escape_text form.
 * 32473 is the private enterprise number RFC 5612 reserves for documentation:
 * otgate has none of its own. Pure functions: the caller sends the line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "broker/broker.h"

#define SIEM_VALUE_MAX 1024	/* bytes of one value before escaping */
#define SIEM_SDID "otgate@32473"
#define SIEM_FACILITY_AUTHPRIV 10

/* Events worth more attention than routine ones, and a CEF name for each. */
static const struct siem_event {
	const char *event;
	const char *name;
	int cef_severity;	/* 0-10 */
	int syslog_severity;	/* RFC 5424: 4 warning, 5 notice, 6 informational */
} siem_events[] = {
	{ "auth.success", "Login succeeded", 3, 6 },
	{ "auth.failure", "Login failed", 5, 5 },
	{ "auth.lockout", "User locked out", 7, 4 },
	{ "session.start", "Session started", 3, 6 },
	{ "session.end", "Session ended", 3, 6 },
	{ "session.checkpoint", "Recording sealed", 1, 6 },
	{ "policy.deny", "Access denied by policy", 5, 5 },
	{ "policy.reload", "Policy reloaded", 3, 5 },
	{ "approval.request", "Approval requested", 3, 5 },
	{ "approval.granted", "Approval granted", 3, 5 },
	{ "approval.denied", "Approval denied", 5, 5 },
	{ "approval.expired", "Approval request expired", 3, 5 },
	{ "approval.refused", "Approval refused to a non-approver", 6, 4 },
	{ "session.kill", "Session ended by an operator", 5, 5 },
	{ "session.watch", "Operator watches a session", 3, 5 },
	{ "session.watch.end", "Operator stopped watching", 2, 6 },
	{ "session.limit", "Session ended at its time limit", 3, 5 },
	{ "session.busy", "Asset busy (max-sessions)", 3, 5 },
	{ "hostkey.mismatch", "Asset host key mismatch", 8, 4 },
	{ "asset.legacy", "Legacy SSH algorithms to asset", 4, 5 },
	{ "asset.connect", "Session on a warm asset connection", 2, 6 },
	{ "asset.unreachable", "Asset unreachable", 4, 5 },
	{ "transfer.file", "File transferred", 3, 6 },
	{ "forward.open", "Port forward opened", 3, 6 },
	{ "forward.close", "Port forward closed", 3, 6 },
	{ "control.command", "Operator command", 4, 5 },
	{ "recording.failed", "Recording failed", 8, 4 },
	{ "audit.recovered", "Audit log writable again after events were lost", 8, 4 },
};

/* Audit keys with a CEF dictionary key; the custom ones carry a label. */
static const struct siem_cef_key {
	const char *key;
	const char *cef;
	const char *label;	/* for csN / cnN */
} siem_cef_keys[] = {
	{ "user", "suser", NULL },
	{ "asset", "dhost", NULL },
	{ "reason", "reason", NULL },
	{ "result", "outcome", NULL },
	{ "bytes_in", "in", NULL },
	{ "bytes_out", "out", NULL },
	{ "uid", "suid", NULL },
	{ "session", "cs1", "session" },
	{ "conn", "cs2", "conn" },
	{ "policy", "cs3", "policy" },
	{ "kind", "cs4", "kind" },
	{ "company", "cs5", "company" },
	{ "command", "cs6", "command" },
	{ "exit", "cn1", "exit" },
	{ "duration", "cn2", "duration" },
	{ "attempts", "cn3", "attempts" },
};

static const struct siem_event *
siem_event_find(const char *event)
{
	size_t i;

	for (i = 0; i < sizeof(siem_events) / sizeof(siem_events[0]); i++)
		if (strcmp(siem_events[i].event, event) == 0)
			return &siem_events[i];
	return NULL;
}

int
siem_format_parse(const char *s, enum siem_format *out)
{
	if (strcmp(s, "json") == 0)
		*out = SIEM_JSON;
	else if (strcmp(s, "rfc5424") == 0)
		*out = SIEM_RFC5424;
	else if (strcmp(s, "cef") == 0)
		*out = SIEM_CEF;
	else
		return OTG_ERR_INVAL;
	return 0;
}

/* s made safe by escape_text (cut at SIEM_VALUE_MAX on a character boundary),
 * then a backslash before every byte of specials and every backslash. */
static int
siem_put_value(struct buf *out, const char *s, const char *specials)
{
	struct buf safe;
	const uint8_t *p;
	size_t len = strnlen(s, SIEM_VALUE_MAX + 1), i;
	int cut = 0, r;

	if (len > SIEM_VALUE_MAX) {
		len = SIEM_VALUE_MAX;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
		cut = 1;
	}
	buf_init(&safe, 8 * SIEM_VALUE_MAX + 16);
	if ((r = escape_text(&safe, s, len)) != 0 || (cut && (r = buf_puts(&safe, "...")) != 0))
		goto out;
	p = buf_ptr(&safe);
	for (i = 0; i < buf_len(&safe) && r == 0; i++) {
		if (p[i] == '\\' || strchr(specials, p[i]) != NULL)
			r = buf_putc(out, '\\');
		if (r == 0)
			r = buf_putc(out, p[i]);
	}
out:
	buf_free(&safe);
	return r;
}

/* A token of printable US-ASCII without space (RFC 5424 header fields,
 * SD-PARAM names, CEF extension keys); anything else becomes '_'. */
static int
siem_put_token(struct buf *out, const char *s, size_t max, const char *forbidden)
{
	size_t i;
	int r = 0;

	if (s == NULL || s[0] == '\0')
		return buf_putc(out, '-');
	for (i = 0; s[i] != '\0' && i < max && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		r = buf_putc(out, c > 32 && c < 127 && strchr(forbidden, c) == NULL ? c : '_');
	}
	return r;
}

static void
siem_time(uint64_t time_ms, char ts[32])
{
	time_t secs = (time_t)(time_ms / 1000);
	struct tm tm;
	char base[24];

	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, 32, "%s.%03uZ", base, (unsigned)(time_ms % 1000));
}

int
siem_rfc5424(struct buf *out, const struct siem_origin *o, uint64_t time_ms,
    unsigned long long seq, const char *event, const struct audit_field *f, size_t n)
{
	const struct siem_event *e = siem_event_find(event);
	char ts[32];
	size_t i;
	int r;

	siem_time(time_ms, ts);
	if ((r = buf_printf(out, "<%d>1 %s ", SIEM_FACILITY_AUTHPRIV * 8 +
	    (e != NULL ? e->syslog_severity : 6), ts)) != 0 ||
	    (r = siem_put_token(out, o->host, 255, "")) != 0 ||
	    (r = buf_putc(out, ' ')) != 0 ||
	    (r = siem_put_token(out, o->app, 48, "")) != 0 ||
	    (r = buf_printf(out, " %ld ", o->pid)) != 0 ||
	    (r = siem_put_token(out, event, 32, "")) != 0 ||
	    (r = buf_printf(out, " [" SIEM_SDID " seq=\"%llu\"", seq)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = buf_putc(out, ' ')) != 0 ||
		    (r = siem_put_token(out, f[i].key, 32, "=]\"")) != 0 ||
		    (r = buf_puts(out, "=\"")) != 0)
			return r;
		if (f[i].str != NULL)
			r = siem_put_value(out, f[i].str, "\"]");
		else
			r = buf_printf(out, "%lld", f[i].num);
		if (r != 0 || (r = buf_putc(out, '"')) != 0)
			return r;
	}
	if ((r = buf_puts(out, "] ")) != 0)
		return r;
	return siem_put_value(out, e != NULL ? e->name : event, "");
}

/* The CEF key of an audit key: its dictionary key, else "otgate" followed by
 * the key's letters and digits (otgateFingerprint). */
static int
siem_cef_key(struct buf *out, const char *key, int *custom)
{
	size_t i;
	int r, upper = 1;

	*custom = -1;
	for (i = 0; i < sizeof(siem_cef_keys) / sizeof(siem_cef_keys[0]); i++) {
		if (strcmp(siem_cef_keys[i].key, key) == 0) {
			if (siem_cef_keys[i].label != NULL)
				*custom = (int)i;
			return buf_puts(out, siem_cef_keys[i].cef);
		}
	}
	if ((r = buf_puts(out, "otgate")) != 0)
		return r;
	for (i = 0; key[i] != '\0' && i < 32 && r == 0; i++) {
		if (!isalnum((unsigned char)key[i])) {
			upper = 1;
			continue;
		}
		r = buf_putc(out, upper ? toupper((unsigned char)key[i]) : key[i]);
		upper = 0;
	}
	return r;
}

/* src is the source address (CEF src) only when numeric; else its host name. */
static int
siem_cef_src(struct buf *out, const char *src)
{
	unsigned char addr[16];
	int r;

	if (inet_pton(AF_INET, src, addr) == 1 || inet_pton(AF_INET6, src, addr) == 1)
		r = buf_puts(out, "src=");
	else
		r = buf_puts(out, "shost=");
	return r != 0 ? r : siem_put_value(out, src, "=");
}

int
siem_cef(struct buf *out, const char *version, uint64_t time_ms, unsigned long long seq,
    const char *event, const struct audit_field *f, size_t n)
{
	const struct siem_event *e = siem_event_find(event);
	size_t i;
	int r, custom;

	if ((r = buf_puts(out, "CEF:0|otgate|otgate|")) != 0 ||
	    (r = siem_put_value(out, version, "|")) != 0 || (r = buf_putc(out, '|')) != 0 ||
	    (r = siem_put_value(out, event, "|")) != 0 || (r = buf_putc(out, '|')) != 0 ||
	    (r = siem_put_value(out, e != NULL ? e->name : event, "|")) != 0 ||
	    (r = buf_printf(out, "|%d|rt=%llu otgateSeq=%llu", e != NULL ? e->cef_severity : 3,
	    (unsigned long long)time_ms, seq)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = buf_putc(out, ' ')) != 0)
			return r;
		if (strcmp(f[i].key, "src") == 0 && f[i].str != NULL) {
			if ((r = siem_cef_src(out, f[i].str)) != 0)
				return r;
			continue;
		}
		if ((r = siem_cef_key(out, f[i].key, &custom)) != 0 || (r = buf_putc(out, '=')) != 0)
			return r;
		if (f[i].str != NULL)
			r = siem_put_value(out, f[i].str, "=");
		else
			r = buf_printf(out, "%lld", f[i].num);
		if (r == 0 && custom >= 0)
			r = buf_printf(out, " %sLabel=%s", siem_cef_keys[custom].cef,
			    siem_cef_keys[custom].label);
		if (r != 0)
			return r;
	}
	return 0;
}
