/*
 * auditlog.c: the audit log as a report reads it. Every line is parsed, but
 * only the events of the range are kept, plus the last policy.reload before
 * it (the policy in force when the range began), so a year of checkpoints
 * costs a report of one afternoon nothing but reading time. The hash chain is
 * checked over the whole file first: a break is the first thing a CSIRT must
 * be told, since events after it may have been rewritten.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "report/report.h"

/* A log that logrotate started continues the rotated file's chain: its first
 * line's seq and prev are where this file's check starts (the rotated file
 * itself is not read). */
static int
auditlog_verify(const char *path, const struct scope_event *first, struct auditlog *a)
{
	const struct json *seq = first != NULL ? json_get(first->j, "seq") : NULL;
	const char *prev = first != NULL ? json_get_str(first->j, "prev") : NULL;
	unsigned long long last_seq;
	char last_hash[65];

	if (seq == NULL || seq->type != JSON_NUMBER || seq->number <= 1 ||
	    seq->number >= 9007199254740992.0 || prev == NULL)
		return audit_verify(path, &a->nlines, &a->bad_line, a->why, sizeof(a->why));
	a->first_seq = (unsigned long long)seq->number;
	return audit_verify_continued(path, a->first_seq, prev, &last_seq, last_hash,
	    &a->nlines, &a->bad_line, a->why, sizeof(a->why));
}

static int
auditlog_push(struct auditlog *a, struct scope_event *ev, size_t *cap)
{
	struct scope_event *grown;

	if (a->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		if ((grown = realloc(a->ev, *cap * sizeof(*grown))) == NULL)
			return OTG_ERR_NOMEM;
		a->ev = grown;
	}
	a->ev[a->n++] = *ev;
	return 0;
}

int
auditlog_load(const char *path, time_t since, time_t until, struct auditlog *out)
{
	struct scope_event ev, first, before;
	struct recline rl;
	const char *line;
	size_t len, cap = 0;
	FILE *fp;
	int r, complete;

	memset(out, 0, sizeof(*out));
	memset(&first, 0, sizeof(first));
	memset(&before, 0, sizeof(before));
	if ((fp = fopen(path, "re")) == NULL)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	recline_init(&rl, fp);
	while ((r = recline_next(&rl, &line, &len, &complete)) == 0) {
		if (scope_event_parse(line, len, &ev) != 0) {
			out->nskipped++;
			continue;
		}
		if (first.j == NULL) {
			out->first_ts = ev.ts;
			out->has_first = 1;
			/* its seq and prev say where the chain starts; keep a copy */
			if ((r = scope_event_parse(line, len, &first)) != 0) {
				scope_event_free(&ev);
				break;
			}
		}
		if (ev.ts < since && strcmp(ev.event, "policy.reload") == 0) {
			scope_event_free(&before);
			before = ev;
		} else if (ev.ts < since || ev.ts > until) {
			scope_event_free(&ev);
		} else {
			/* the reload in force comes first, before the range's events */
			if (out->n == 0 && before.j != NULL) {
				if ((r = auditlog_push(out, &before, &cap)) != 0) {
					scope_event_free(&ev);
					break;
				}
				memset(&before, 0, sizeof(before));
			}
			if ((r = auditlog_push(out, &ev, &cap)) != 0) {
				scope_event_free(&ev);
				break;
			}
		}
	}
	recline_free(&rl);
	fclose(fp);
	if (r >= 0 && out->n == 0 && before.j != NULL) {
		if ((r = auditlog_push(out, &before, &cap)) == 0)
			memset(&before, 0, sizeof(before));
	}
	if (r < 0)
		goto out;
	r = auditlog_verify(path, first.j != NULL ? &first : NULL, out);
	out->chain_ok = r == 0;
	if (!out->chain_ok && out->why[0] == '\0')
		snprintf(out->why, sizeof(out->why), "%s", otg_strerror(r));
	r = 0;
out:
	scope_event_free(&first);
	scope_event_free(&before);
	if (r != 0)
		auditlog_free(out);
	return r;
}

void
auditlog_free(struct auditlog *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		scope_event_free(&a->ev[i]);
	free(a->ev);
	memset(a, 0, sizeof(*a));
}
