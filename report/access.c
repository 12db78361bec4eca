/*
 * access.c: `otgate report access`, the periodic review NIS2 Art. 21(2)(d)
 * and (i) ask for: per vendor company and user, which assets they reached
 * and how often; access outside windows that was requested or approved;
 * accounts and roles unused in the period (candidates for removal); users
 * without a second factor; assets without a pinned host key. Sessions come
 * from the audit log, accounts and roles from the policy in force now.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "report/report.h"

struct access_row {
	const char *company, *user, *asset;
	unsigned long n;
};

struct access_review {
	struct access_row *rows;
	size_t n, cap;
	struct strlist users_seen, roles_used;
	struct strlist users, roles;	/* defined in the policy */
};

static int
access_row_cmp(const void *a, const void *b)
{
	const struct access_row *x = a, *y = b;
	int c;

	if ((c = strcmp(x->company, y->company)) != 0 || (c = strcmp(x->user, y->user)) != 0)
		return c;
	return strcmp(x->asset, y->asset);
}

static int
access_count(struct access_review *a, const struct scope_event *ev)
{
	struct access_row *grown;
	const char *company = json_get_str(ev->j, "company");
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (strcmp(a->rows[i].user, ev->user) == 0 &&
		    strcmp(a->rows[i].asset, ev->asset) == 0) {
			a->rows[i].n++;
			return 0;
		}
	}
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 32;
		if ((grown = realloc(a->rows, a->cap * sizeof(*grown))) == NULL)
			return OTG_ERR_NOMEM;
		a->rows = grown;
	}
	a->rows[a->n++] = (struct access_row){ company ? company : "", ev->user, ev->asset, 1 };
	return 0;
}

/* The names of the [user] and [role] sections of the policy. */
static int
access_policy_names(const struct policy *p, struct access_review *a)
{
	struct diag d;
	struct ini *ini = NULL;
	const char *src;
	size_t len, i;
	int r = 0;

	if (p == NULL || (src = policy_source(p, &len)) == NULL)
		return 0;
	diag_init(&d);
	/* it loaded once already, so it parses */
	if ((r = ini_parse("policy", src, len, &d, &ini)) == 0) {
		for (i = 0; r == 0 && i < ini->n; i++) {
			if (ini->sections[i].kind == NULL || ini->sections[i].name == NULL)
				continue;
			if (strcmp(ini->sections[i].kind, "user") == 0)
				r = strlist_push(&a->users, ini->sections[i].name);
			else if (strcmp(ini->sections[i].kind, "role") == 0)
				r = strlist_push(&a->roles, ini->sections[i].name);
		}
	}
	ini_free(ini);
	diag_free(&d);
	return r;
}

static void
access_review_free(struct access_review *a)
{
	free(a->rows);
	strlist_free(&a->users_seen);
	strlist_free(&a->roles_used);
	strlist_free(&a->users);
	strlist_free(&a->roles);
}

static void
access_print_str(FILE *fp, int json, const char *s)
{
	struct buf b;

	buf_init(&b, BUF_DEFAULT_MAX);
	if ((json ? escape_json(&b, s, strlen(s)) : escape_text(&b, s, strlen(s))) == 0 &&
	    buf_putc(&b, '\0') == 0)
		fprintf(fp, json ? "\"%s\"" : "%s", (const char *)buf_ptr(&b));
	buf_free(&b);
}

/* One finding: JSON {"type":T,"user":...} or a text line. */
static void
access_finding(FILE *fp, int json, const char *type, const char *key, const char *value,
    const char *note)
{
	if (json) {
		fprintf(fp, "{\"type\":\"%s\",\"%s\":", type, key);
		access_print_str(fp, 1, value);
		fputs(",\"note\":", fp);
		access_print_str(fp, 1, note);
		fputs("}\n", fp);
	} else {
		fprintf(fp, "%-16s %s ", type, key);
		access_print_str(fp, 0, value);
		fprintf(fp, ": %s\n", note);
	}
}

static void
access_print_rows(const struct access_review *a, int json, FILE *fp)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (json) {
			fputs("{\"type\":\"access\",\"company\":", fp);
			access_print_str(fp, 1, a->rows[i].company);
			fputs(",\"user\":", fp);
			access_print_str(fp, 1, a->rows[i].user);
			fputs(",\"asset\":", fp);
			access_print_str(fp, 1, a->rows[i].asset);
			fprintf(fp, ",\"sessions\":%lu}\n", a->rows[i].n);
		} else {
			fputs("access           ", fp);
			access_print_str(fp, 0, a->rows[i].company[0] ? a->rows[i].company :
			    "(no company)");
			fputs(" / ", fp);
			access_print_str(fp, 0, a->rows[i].user);
			fputs(" -> ", fp);
			access_print_str(fp, 0, a->rows[i].asset);
			fprintf(fp, ": %lu session(s)\n", a->rows[i].n);
		}
	}
}

int
access_report(const struct auditlog *log, time_t since, time_t until,
    const void *policy_arg, int json, FILE *fp)
{
	const struct policy *p = policy_arg;
	const struct policy_user *u;
	const struct policy_asset *as;
	const struct scope_event *ev;
	struct access_review a;
	char user[256], note[512], since_s[32], until_s[32];
	const char *role;
	size_t i;
	int r = 0;

	memset(&a, 0, sizeof(a));
	recstate_time(since, since_s, sizeof(since_s));
	recstate_time(until, until_s, sizeof(until_s));
	if (!json)
		fprintf(fp, "access review %s to %s (UTC); audit log chain %s\n", since_s,
		    until_s, log->chain_ok ? "verified" : "BROKEN: see otgate verify --audit");
	for (i = 0; r == 0 && i < log->n; i++) {
		ev = &log->ev[i];
		if (ev->ts < since || ev->ts > until)
			continue;
		scope_user_part(ev->user, user, sizeof(user));
		if (strcmp(ev->event, "auth.success") == 0 || strcmp(ev->event,
		    "session.start") == 0)
			r = strlist_contains(&a.users_seen, user) ? 0 :
			    strlist_push(&a.users_seen, user);
		if (r == 0 && strcmp(ev->event, "session.start") == 0) {
			r = access_count(&a, ev);
			role = json_get_str(ev->j, "role");
			if (r == 0 && role != NULL && !strlist_contains(&a.roles_used, role))
				r = strlist_push(&a.roles_used, role);
		}
		/* access outside windows goes through an operator's approval */
		if (r == 0 && strncmp(ev->event, "approval.", 9) == 0) {
			snprintf(note, sizeof(note), "%s at %s%s%s", ev->event + 9,
			    json_get_str(ev->j, "ts"), ev->asset[0] ? " for " : "", ev->asset);
			access_finding(fp, json, "approval", "user", user, note);
		}
	}
	if (r != 0)
		goto out;
	qsort(a.rows, a.n, sizeof(*a.rows), access_row_cmp);
	access_print_rows(&a, json, fp);
	if ((r = access_policy_names(p, &a)) != 0)
		goto out;
	for (i = 0; i < a.users.n; i++) {
		if (!strlist_contains(&a.users_seen, a.users.v[i]))
			access_finding(fp, json, "unused-account", "user", a.users.v[i],
			    "no login in the period: a candidate for removal");
		if ((u = policy_user(p, a.users.v[i])) != NULL &&
		    !(u->auth & POLICY_AUTH_TOTP))
			access_finding(fp, json, "no-mfa", "user", a.users.v[i],
			    "auth has no second factor (totp)");
	}
	for (i = 0; i < a.roles.n; i++)
		if (!strlist_contains(&a.roles_used, a.roles.v[i]))
			access_finding(fp, json, "unused-role", "role", a.roles.v[i],
			    "no session used it in the period");
	for (i = 0; p != NULL && i < policy_nassets(p); i++)
		if ((as = policy_asset_at(p, i)) != NULL && as->hostkeys.n == 0)
			access_finding(fp, json, "no-hostkey", "asset", as->name,
			    "no pinned host key: every connection to it is refused");
out:
	access_review_free(&a);
	return r;
}
