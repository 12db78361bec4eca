/*
 * draft.c: what the records say, put where the NIS2 Art. 23 reports need it.
 * indicators.json lists the indicators of compromise a CSIRT asks for
 * (source addresses, accounts, companies, assets, files written with their
 * hashes, commands). report-24h.md (early warning) and report-72h.md
 * (incident notification) are drafts: filled with facts from the records,
 * with every judgement only people can make left as a marked blank. The first
 * line of each draft is the audit chain's verdict, so a broken chain cannot
 * be overlooked.
 */
#include <string.h>

#include "policy/policy.h"
#include "report/report.h"

#define DRAFT_BLANK "[TO BE COMPLETED BY THE INCIDENT HANDLER: "

struct draft_sets {
	struct strlist sources, users, companies, assets;
};

static void
draft_sets_free(struct draft_sets *d)
{
	strlist_free(&d->sources);
	strlist_free(&d->users);
	strlist_free(&d->companies);
	strlist_free(&d->assets);
}

static int
draft_add(struct strlist *l, const char *s)
{
	if (s == NULL || s[0] == '\0' || strlist_contains(l, s))
		return 0;
	return strlist_push(l, s);
}

static int
draft_collect(const struct bundle *b, struct draft_sets *d)
{
	const struct auditlog *log = b->p->log;
	const struct scope_event *ev;
	char user[256];
	size_t i;
	int r = 0;

	memset(d, 0, sizeof(*d));
	for (i = 0; r == 0 && i < log->n; i++) {
		if (!b->keep[i])
			continue;
		ev = &log->ev[i];
		scope_user_part(ev->user, user, sizeof(user));
		if ((r = draft_add(&d->sources, ev->src)) != 0 ||
		    (r = draft_add(&d->users, user)) != 0 ||
		    (r = draft_add(&d->companies, json_get_str(ev->j, "company"))) != 0)
			break;
		/* assets reached, not merely named in a refused login */
		if (strcmp(ev->event, "session.start") == 0 ||
		    strcmp(ev->event, "transfer.file") == 0 ||
		    strcmp(ev->event, "forward.open") == 0)
			r = draft_add(&d->assets, ev->asset);
	}
	return r;
}

static int
draft_json_str(struct buf *out, const char *s)
{
	int r;

	if ((r = buf_putc(out, '"')) != 0 ||
	    (r = escape_json(out, s != NULL ? s : "", s != NULL ? strlen(s) : 0)) != 0)
		return r;
	return buf_putc(out, '"');
}

/* ["a", "b"] */
static int
draft_json_array(struct buf *out, const struct strlist *l)
{
	size_t i;
	int r = buf_putc(out, '[');

	for (i = 0; r == 0 && i < l->n; i++)
		if ((r = buf_puts(out, i ? ", " : "")) == 0)
			r = draft_json_str(out, l->v[i]);
	return r == 0 ? buf_putc(out, ']') : r;
}

static int
draft_json_list(struct buf *out, const char *key, const struct strlist *l)
{
	int r;

	if ((r = buf_printf(out, "  \"%s\": ", key)) != 0 ||
	    (r = draft_json_array(out, l)) != 0)
		return r;
	return buf_puts(out, ",\n");
}

/* The tags of an asset in the policy in force now ("zone:cell-3 level:1"). */
static int
draft_tags(const struct bundle *b, const char *asset, struct strlist *tags)
{
	const struct policy_asset *a;
	size_t i;
	int r = 0;

	if (b->p->policy == NULL || (a = policy_asset(b->p->policy, asset)) == NULL)
		return 0;
	for (i = 0; r == 0 && i < a->tags.n; i++)
		r = strlist_push(tags, a->tags.v[i]);
	return r;
}

/* The name of a transferred file, whatever key the event gives it. */
static const char *
draft_file_name(const struct scope_event *ev)
{
	static const char *const keys[] = { "path", "name", "file" };
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((s = json_get_str(ev->j, keys[i])) != NULL && s[0] != '\0')
			return s;
	return "";
}

int
draft_indicators(const struct bundle *b)
{
	const struct auditlog *log = b->p->log;
	const struct scope_event *ev;
	struct draft_sets d;
	struct strlist tags = { NULL, 0 };
	struct buf out;
	char since[32], until[32];
	const char *cmd, *sep = "";
	size_t i, k;
	int r;

	buf_init(&out, BUF_DEFAULT_MAX);
	if ((r = draft_collect(b, &d)) != 0)
		goto out;
	recstate_time(b->p->scope->since, since, sizeof(since));
	recstate_time(b->p->scope->until, until, sizeof(until));
	if ((r = buf_printf(&out, "{\n  \"since\": \"%s\",\n  \"until\": \"%s\",\n"
	    "  \"audit_chain\": \"%s\",\n", since, until, log->chain_ok ? "verified" :
	    "broken")) != 0 || (r = draft_json_list(&out, "sources", &d.sources)) != 0 ||
	    (r = draft_json_list(&out, "users", &d.users)) != 0 ||
	    (r = draft_json_list(&out, "companies", &d.companies)) != 0 ||
	    (r = buf_puts(&out, "  \"assets\": [")) != 0)
		goto out;
	for (i = 0; i < d.assets.n; i++) {
		strlist_free(&tags);
		if ((r = draft_tags(b, d.assets.v[i], &tags)) != 0 ||
		    (r = buf_puts(&out, i ? ", {\"name\": " : "{\"name\": ")) != 0 ||
		    (r = draft_json_str(&out, d.assets.v[i])) != 0 ||
		    (r = buf_puts(&out, ", \"tags\": ")) != 0 ||
		    (r = draft_json_array(&out, &tags)) != 0 || (r = buf_putc(&out, '}')) != 0)
			goto out;
	}
	if ((r = buf_puts(&out, "],\n  \"files\": [")) != 0)
		goto out;
	for (i = 0; i < log->n; i++) {
		ev = &log->ev[i];
		if (!b->keep[i] || strcmp(ev->event, "transfer.file") != 0)
			continue;
		/* the broker's close (and scp) events hash what was written to
		 * and read from the asset; an open event hashes nothing yet */
		for (k = 0; k < 3; k++) {
			const char *dir, *sha;

			if (k == 0) {
				dir = "upload";
				sha = json_get_str(ev->j, "sha256_written");
			} else if (k == 1) {
				dir = "download";
				sha = json_get_str(ev->j, "sha256_read");
			} else {
				dir = json_get_str(ev->j, "direction");
				sha = json_get_str(ev->j, "sha256");
			}
			if (sha == NULL || sha[0] == '\0')
				continue;
			if ((r = buf_printf(&out, "%s{\"session\": ", sep)) != 0 ||
			    (r = draft_json_str(&out, ev->session)) != 0 ||
			    (r = buf_puts(&out, ", \"user\": ")) != 0 ||
			    (r = draft_json_str(&out, ev->user)) != 0 ||
			    (r = buf_puts(&out, ", \"asset\": ")) != 0 ||
			    (r = draft_json_str(&out, ev->asset)) != 0 ||
			    (r = buf_puts(&out, ", \"name\": ")) != 0 ||
			    (r = draft_json_str(&out, draft_file_name(ev))) != 0 ||
			    (r = buf_puts(&out, ", \"direction\": ")) != 0 ||
			    (r = draft_json_str(&out, dir)) != 0 ||
			    (r = buf_puts(&out, ", \"sha256\": ")) != 0 ||
			    (r = draft_json_str(&out, sha)) != 0 ||
			    (r = buf_putc(&out, '}')) != 0)
				goto out;
			sep = ", ";
		}
	}
	if ((r = buf_puts(&out, "],\n  \"commands\": [")) != 0)
		goto out;
	sep = "";
	for (i = 0; i < b->nsess; i++) {
		cmd = b->sess[i].start != NULL ? json_get_str(b->sess[i].start->j, "command") :
		    NULL;
		for (k = 0; k <= b->sess[i].typed.n; k++) {
			if (k == 0 && (cmd == NULL || cmd[0] == '\0'))
				continue;
			if ((r = buf_printf(&out, "%s{\"session\": \"%s\", \"how\": \"%s\", "
			    "\"command\": ", sep, b->sess[i].id, k == 0 ? "exec" : "typed")) != 0 ||
			    (r = draft_json_str(&out, k == 0 ? cmd : b->sess[i].typed.v[k - 1])) !=
			    0 || (r = buf_putc(&out, '}')) != 0)
				goto out;
			sep = ", ";
		}
	}
	if ((r = buf_puts(&out, "],\n  \"hostkey_mismatches\": [")) != 0)
		goto out;
	sep = "";
	for (i = 0; i < log->n; i++) {
		ev = &log->ev[i];
		if (!b->keep[i] || strcmp(ev->event, "hostkey.mismatch") != 0)
			continue;
		if ((r = buf_printf(&out, "%s{\"asset\": ", sep)) != 0 ||
		    (r = draft_json_str(&out, ev->asset)) != 0 ||
		    (r = buf_puts(&out, ", \"fingerprint\": ")) != 0 ||
		    (r = draft_json_str(&out, json_get_str(ev->j, "fingerprint"))) != 0 ||
		    (r = buf_putc(&out, '}')) != 0)
			goto out;
		sep = ", ";
	}
	if ((r = buf_puts(&out, "]\n}\n")) == 0)
		r = bundle_put_file(b, "indicators.json", &out);
out:
	strlist_free(&tags);
	draft_sets_free(&d);
	buf_free(&out);
	return r;
}

static unsigned long
draft_count(const struct bundle *b, const char *event)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < b->p->log->n; i++)
		n += b->keep[i] && strcmp(b->p->log->ev[i].event, event) == 0;
	return n;
}

static int
draft_md_list(struct buf *out, const struct strlist *l)
{
	size_t i;
	int r = 0;

	if (l->n == 0)
		return buf_puts(out, "none recorded");
	for (i = 0; r == 0 && i < l->n; i++)
		if ((r = buf_puts(out, i ? ", " : "")) == 0)
			r = bundle_md(out, l->v[i]);
	return r;
}

/* The facts both drafts share. */
static int
draft_facts(const struct bundle *b, const struct draft_sets *d, struct buf *out)
{
	const struct evsession *s;
	struct strlist tags = { NULL, 0 };
	char since[32], until[32], ts[64], cover[512];
	unsigned long ok = 0;
	const char *v;
	size_t i;
	int r;

	recstate_time(b->p->scope->since, since, sizeof(since));
	recstate_time(b->p->scope->until, until, sizeof(until));
	if ((r = buf_printf(out, "## What the broker recorded\n\n"
	    "- Period examined: %s to %s (UTC). Report made with: `", since, until)) != 0 ||
	    (r = bundle_md(out, b->p->command_line)) != 0 ||
	    (r = buf_printf(out, "`\n- Audit events in scope: %zu (timeline.md, "
	    "timeline.jsonl)\n- Vendor companies: ", b->nkept)) != 0 ||
	    (r = draft_md_list(out, &d->companies)) != 0 ||
	    (r = buf_puts(out, "\n- Accounts: ")) != 0 ||
	    (r = draft_md_list(out, &d->users)) != 0 ||
	    (r = buf_puts(out, "\n- Source addresses: ")) != 0 ||
	    (r = draft_md_list(out, &d->sources)) != 0 ||
	    (r = buf_printf(out, "\n- Failed logins: %lu; lockouts: %lu; refusals by policy: "
	    "%lu; approvals granted: %lu, denied: %lu; host-key mismatches: %lu; "
	    "policy reloads: %lu\n\n",
	    draft_count(b, "auth.failure"), draft_count(b, "auth.lockout"),
	    draft_count(b, "policy.deny"), draft_count(b, "approval.granted"),
	    draft_count(b, "approval.denied"), draft_count(b, "hostkey.mismatch"),
	    draft_count(b, "policy.reload"))) != 0)
		goto out;
	bundle_coverage_line(b->p->log, b->p->scope->since, cover, sizeof(cover));
	if ((cover[0] != '\0' && (r = buf_printf(out, "**%s**\n\n", cover)) != 0) ||
	    (r = buf_puts(out, "### Assets reached\n\n")) != 0)
		goto out;
	if (d->assets.n == 0 && (r = buf_puts(out, "None.\n")) != 0)
		goto out;
	for (i = 0; i < d->assets.n; i++) {
		strlist_free(&tags);
		if ((r = draft_tags(b, d->assets.v[i], &tags)) != 0 ||
		    (r = buf_puts(out, "- ")) != 0 || (r = bundle_md(out, d->assets.v[i])) != 0 ||
		    (r = buf_puts(out, " (tags: ")) != 0 || (r = draft_md_list(out, &tags)) != 0 ||
		    (r = buf_puts(out, ")\n")) != 0)
			goto out;
	}
	if ((r = buf_puts(out, "\n### Sessions\n\n| session | start | user | asset | kind | "
	    "command | end | recording |\n|---|---|---|---|---|---|---|---|\n")) != 0)
		goto out;
	for (i = 0; i < b->nsess; i++) {
		s = &b->sess[i];
		ok += s->status == VERIFY_OK;
		if ((r = buf_printf(out, "| %s | %s | ", s->id, s->start ?
		    bundle_ts(s->start, ts, sizeof(ts)) : "before the period")) != 0 ||
		    (r = bundle_md(out, s->start ? s->start->user : "")) != 0 ||
		    (r = buf_puts(out, " | ")) != 0 ||
		    (r = bundle_md(out, s->start ? s->start->asset : "")) != 0 ||
		    (r = buf_puts(out, " | ")) != 0 ||
		    (r = bundle_md(out, s->start && (v = json_get_str(s->start->j, "kind")) ?
		    v : "")) != 0 || (r = buf_puts(out, " | ")) != 0 ||
		    (r = bundle_md(out, s->start && (v = json_get_str(s->start->j,
		    "command")) ? v : "")) != 0 || (r = buf_puts(out, " | ")) != 0 ||
		    (r = bundle_md(out, s->end && (v = json_get_str(s->end->j, "reason")) ?
		    v : s->end ? "ended" : "no end recorded in the period")) != 0 ||
		    (r = buf_puts(out, " | ")) != 0 ||
		    (r = bundle_md(out, s->verdict + (strlen(s->verdict) > REC_ID_LEN + 2 ?
		    REC_ID_LEN + 2 : 0))) != 0 || (r = buf_puts(out, " |\n")) != 0)
			goto out;
	}
	r = buf_printf(out, "\nRecordings: %lu of %zu verified against their seals%s "
	    "(sessions/ID/verify.txt).\n", ok, b->nsess, ok == b->nsess ? "" :
	    "; **the others are listed above with what is wrong**");
	if (r == 0 && b->policies_missing.n > 0) {
		r = buf_puts(out, "\n**Policies in force whose text is missing from the state: ");
		if (r == 0 && (r = draft_md_list(out, &b->policies_missing)) == 0)
			r = buf_puts(out, "**\n");
	}
	if (r == 0)
		r = buf_printf(out, "\nPolicies in force during the period: %zu, in policies/ "
		    "by SHA-256.\n", b->policies.n);
out:
	strlist_free(&tags);
	return r;
}

int
draft_reports(const struct bundle *b)
{
	struct draft_sets d;
	struct buf out;
	char chain[600];
	int r;

	buf_init(&out, BUF_DEFAULT_MAX);
	bundle_chain_line(b->p->log, chain, sizeof(chain));
	if ((r = draft_collect(b, &d)) != 0)
		goto out;
	if ((r = buf_printf(&out, "%s\n\n# NIS2 Art. 23(4)(a) early warning (24 hours) - "
	    "DRAFT\n\nPrepared from the records of the otgate remote-access broker. "
	    "Every line marked " DRAFT_BLANK "...] needs a person.\n\n"
	    "- Date and time the incident was detected: " DRAFT_BLANK "time of detection]\n"
	    "- Suspected to be caused by unlawful or malicious acts: " DRAFT_BLANK
	    "yes / no / unknown, and why]\n"
	    "- Could have a cross-border impact: " DRAFT_BLANK "yes / no / unknown]\n"
	    "- Contact point: " DRAFT_BLANK "name, phone, e-mail]\n\n", chain)) != 0 ||
	    (r = draft_facts(b, &d, &out)) != 0 ||
	    (r = bundle_put_file(b, "report-24h.md", &out)) != 0)
		goto out;
	buf_reset(&out);
	if ((r = buf_printf(&out, "%s\n\n# NIS2 Art. 23(4)(b) incident notification "
	    "(72 hours) - DRAFT\n\nUpdates the early warning. Every line marked "
	    DRAFT_BLANK "...] needs a person.\n\n"
	    "- Initial assessment of the incident: " DRAFT_BLANK "what happened]\n"
	    "- Severity: " DRAFT_BLANK "low / medium / high / critical, and why]\n"
	    "- Impact (operations, safety, services, users affected): " DRAFT_BLANK
	    "impact]\n"
	    "- Root cause as far as known: " DRAFT_BLANK "cause]\n"
	    "- Cross-border impact: " DRAFT_BLANK "yes / no, which Member States]\n"
	    "- Mitigation applied and ongoing: " DRAFT_BLANK "measures]\n\n"
	    "## Indicators of compromise\n\nindicators.json lists every source address, "
	    "account, vendor company, asset, file written to an asset (with its SHA-256) "
	    "and command seen in the period.\n\n", chain)) != 0 ||
	    (r = draft_facts(b, &d, &out)) != 0)
		goto out;
	r = bundle_put_file(b, "report-72h.md", &out);
out:
	draft_sets_free(&d);
	buf_free(&out);
	return r;
}
