/*
 * timeline.c: the events of an incident in time order. timeline.jsonl holds
 * the audit lines byte for byte as the broker wrote them, so each line's
 * "prev" hash can still be checked against the line before it in the audit
 * log; timeline.md is the same events as a table for the people who write
 * the report, every value escaped.
 */
#include <string.h>

#include "report/report.h"

/* Keys shown in their own column, or that only matter to machines. */
static int
timeline_common_key(const char *k)
{
	static const char *const keys[] = { "ts", "seq", "prev", "event", "user", "asset",
	    "src" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i]) == 0)
			return 1;
	return 0;
}

/* The rest of an event as "key=value" pairs. */
static int
timeline_details(struct buf *out, const struct scope_event *ev)
{
	const struct json *v;
	char num[64];
	size_t i;
	int r = 0, first = 1;

	for (i = 0; r == 0 && i < ev->j->n; i++) {
		if (timeline_common_key(ev->j->keys[i]))
			continue;
		v = &ev->j->items[i];
		if (v->type == JSON_STRING && v->str[0] == '\0')
			continue;
		if ((r = buf_puts(out, first ? "" : ", ")) != 0 ||
		    (r = bundle_md(out, ev->j->keys[i])) != 0 || (r = buf_putc(out, '=')) != 0)
			break;
		first = 0;
		if (v->type == JSON_STRING) {
			r = bundle_md(out, v->str);
		} else if (v->type == JSON_NUMBER) {
			snprintf(num, sizeof(num), "%.0f", v->number);
			r = buf_puts(out, num);
		} else {
			r = buf_puts(out, "...");
		}
	}
	return r;
}

int
timeline_write(const struct bundle *b)
{
	const struct auditlog *log = b->p->log;
	const struct scope_event *ev;
	struct buf jl, md;
	char line[600], ts[64];
	size_t i;
	int r;

	buf_init(&jl, BUF_DEFAULT_MAX);
	buf_init(&md, BUF_DEFAULT_MAX);
	bundle_chain_line(log, line, sizeof(line));
	if ((r = buf_printf(&md, "%s\n\n# Timeline\n\n%zu events in scope. Times are UTC; "
	    "`timeline.jsonl` holds the same events exactly as the audit log does.\n\n"
	    "| time | seq | event | user | asset | source | details |\n"
	    "|---|---|---|---|---|---|---|\n", line, b->nkept)) != 0)
		goto out;
	for (i = 0; i < log->n; i++) {
		if (!b->keep[i])
			continue;
		ev = &log->ev[i];
		if ((r = buf_puts(&jl, ev->line)) != 0 || (r = buf_putc(&jl, '\n')) != 0)
			goto out;
		if ((r = buf_printf(&md, "| %s | %.0f | ", bundle_ts(ev, ts, sizeof(ts)),
		    json_get(ev->j, "seq") ? json_get(ev->j, "seq")->number : 0)) != 0 ||
		    (r = bundle_md(&md, ev->event)) != 0 || (r = buf_puts(&md, " | ")) != 0 ||
		    (r = bundle_md(&md, ev->user)) != 0 || (r = buf_puts(&md, " | ")) != 0 ||
		    (r = bundle_md(&md, ev->asset)) != 0 || (r = buf_puts(&md, " | ")) != 0 ||
		    (r = bundle_md(&md, ev->src)) != 0 || (r = buf_puts(&md, " | ")) != 0 ||
		    (r = timeline_details(&md, ev)) != 0 || (r = buf_puts(&md, " |\n")) != 0)
			goto out;
	}
	if ((r = bundle_put_file(b, "timeline.jsonl", &jl)) == 0)
		r = bundle_put_file(b, "timeline.md", &md);
out:
	buf_free(&jl);
	buf_free(&md);
	return r;
}
