/*
 * auditlog.c: the audit log as a report reads it. The whole file is loaded
 * (events are small, and a report wants them all in order), every line is
 * parsed, and the hash chain is checked first: a break is the first thing a
 * CSIRT must be told, since events after it may have been rewritten.
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
auditlog_verify(const char *path, struct auditlog *a)
{
	const struct json *seq;
	const char *prev;
	unsigned long long last_seq;
	char last_hash[65];

	if (a->n == 0 || (seq = json_get(a->ev[0].j, "seq")) == NULL ||
	    seq->type != JSON_NUMBER || seq->number <= 1 || seq->number >= 9007199254740992.0 ||
	    (prev = json_get_str(a->ev[0].j, "prev")) == NULL)
		return audit_verify(path, &a->nlines, &a->bad_line, a->why, sizeof(a->why));
	a->first_seq = (unsigned long long)seq->number;
	return audit_verify_continued(path, a->first_seq, prev, &last_seq, last_hash,
	    &a->nlines, &a->bad_line, a->why, sizeof(a->why));
}

int
auditlog_load(const char *path, struct auditlog *out)
{
	struct recline rl;
	struct scope_event ev, *grown;
	const char *line;
	size_t len, cap = 0;
	FILE *fp;
	int r, complete;

	memset(out, 0, sizeof(*out));
	if ((fp = fopen(path, "re")) == NULL)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	recline_init(&rl, fp);
	while ((r = recline_next(&rl, &line, &len, &complete)) == 0) {
		if (scope_event_parse(line, len, &ev) != 0) {
			out->nskipped++;
			continue;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((grown = realloc(out->ev, cap * sizeof(*grown))) == NULL) {
				scope_event_free(&ev);
				r = OTG_ERR_NOMEM;
				break;
			}
			out->ev = grown;
		}
		out->ev[out->n++] = ev;
	}
	recline_free(&rl);
	fclose(fp);
	if (r < 0)
		goto out;
	r = auditlog_verify(path, out);
	out->chain_ok = r == 0;
	if (!out->chain_ok && out->why[0] == '\0')
		snprintf(out->why, sizeof(out->why), "%s", otg_strerror(r));
	r = 0;
out:
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
