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
	r = audit_verify(path, &out->nlines, &out->bad_line, out->why, sizeof(out->why));
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
