/*
 * dump.c: the policy in canonical form, for admins who diff policies between
 * plants or before and after an edit. Sections come sorted by kind and name,
 * defaults are written out, sets are sorted and every value is normalised;
 * lists whose order shows in decisions (a user's roles, a role's selectors
 * and windows) keep the order they were written in. Loading a dump gives a
 * policy that dumps the same.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static int
dump_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
dump_cmp_port(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return x < y ? -1 : x > y;
}

static void
dump_list(FILE *fp, const char *key, const struct strlist *l, int sorted)
{
	const char **v;
	size_t i;

	if (l->n == 0)
		return;
	if (!sorted || (v = calloc(l->n, sizeof(*v))) == NULL) {
		v = NULL;
	} else {
		for (i = 0; i < l->n; i++)
			v[i] = l->v[i];
		qsort(v, l->n, sizeof(*v), dump_cmp_str);
	}
	fprintf(fp, "%s =", key);
	for (i = 0; i < l->n; i++)
		fprintf(fp, " %s", v != NULL ? v[i] : l->v[i]);
	fputc('\n', fp);
	free(v);
}

/* One line per value, sorted: repeatable keys such as hostkey and pubkey. */
static void
dump_lines(FILE *fp, const char *key, const struct strlist *l)
{
	const char **v;
	size_t i;

	if (l->n == 0)
		return;
	if ((v = calloc(l->n, sizeof(*v))) == NULL) {
		for (i = 0; i < l->n; i++)
			fprintf(fp, "%s = %s\n", key, l->v[i]);
		return;
	}
	for (i = 0; i < l->n; i++)
		v[i] = l->v[i];
	qsort(v, l->n, sizeof(*v), dump_cmp_str);
	for (i = 0; i < l->n; i++)
		fprintf(fp, "%s = %s\n", key, v[i]);
	free(v);
}

/* The largest whole unit: 7200 -> 2h, 90 -> 90s. */
static void
dump_duration(FILE *fp, const char *key, uint64_t secs)
{
	static const struct {
		uint64_t secs;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i;

	if (secs == 0)
		return;
	for (i = 0; secs % units[i].secs != 0; i++)
		;
	fprintf(fp, "%s = %llu%c\n", key, (unsigned long long)(secs / units[i].secs),
	    units[i].unit);
}

static void
dump_window(FILE *fp, const struct policy_window *w)
{
	char days[40], span[16];

	window_days_text(w->days, days, sizeof(days));
	window_time_text(w, span, sizeof(span));
	fprintf(fp, "[window %s]\ndays = %s\ntime = %s\n", w->name, days, span);
	if (w->zone != NULL)
		fprintf(fp, "timezone = %s\n", w->zone);
}

static void
dump_role(FILE *fp, const struct policy_role *r)
{
	unsigned k;
	int any = 0;

	fprintf(fp, "[role %s]\n", r->name);
	dump_list(fp, "assets", &r->assets, 0);
	dump_list(fp, "deny", &r->deny, 0);
	for (k = 0; k < POLICY_NCHANNELS; k++) {
		if (r->allow & (1u << k)) {
			fprintf(fp, "%s%s", any ? " " : "allow = ",
			    policy_channel_name((enum policy_channel)k));
			any = 1;
		}
	}
	if (any)
		fputc('\n', fp);
	dump_list(fp, "window", &r->window_names, 0);
	fprintf(fp, "approval = %s\n", r->approval ? "required" : "none");
	if (r->approvers != NULL)
		fprintf(fp, "approvers = %s\n", r->approvers);
	fprintf(fp, "reason = %s\n", r->reason ? "required" : "none");
	dump_duration(fp, "max-session", r->max_session);
	dump_duration(fp, "idle-timeout", r->idle_timeout);
	fprintf(fp, "record-input = %s\n", r->record_input ? "yes" : "no");
	if (r->sftp != (POLICY_SFTP_READ | POLICY_SFTP_WRITE))
		fprintf(fp, "sftp = %s\n", r->sftp == POLICY_SFTP_READ ? "read" :
		    r->sftp == POLICY_SFTP_WRITE ? "write" : "none");
	if (r->max_file_size > 0)
		fprintf(fp, "max-file-size = %llu\n", (unsigned long long)r->max_file_size);
}

static void
dump_asset(FILE *fp, const struct policy_asset *a)
{
	uint16_t *ports;
	size_t i;

	fprintf(fp, "[asset %s]\naddress = %s\nport = %u\nlogin = %s\n"
	    "credential = %s\n", a->name, a->address, (unsigned)a->port, a->login,
	    a->credential);
	dump_lines(fp, "hostkey", &a->hostkeys);
	dump_list(fp, "tags", &a->tags, 1);
	if (a->nforward > 0 && (ports = calloc(a->nforward, sizeof(*ports))) != NULL) {
		memcpy(ports, a->forward, a->nforward * sizeof(*ports));
		qsort(ports, a->nforward, sizeof(*ports), dump_cmp_port);
		fprintf(fp, "forward =");
		for (i = 0; i < a->nforward; i++)
			fprintf(fp, " %u", (unsigned)ports[i]);
		fputc('\n', fp);
		free(ports);
	}
	if (a->max_sessions > 0)
		fprintf(fp, "max-sessions = %u\n", a->max_sessions);
	if (a->legacy_algorithms)
		fprintf(fp, "legacy-algorithms = yes\n");
	if (a->reuse)
		fprintf(fp, "reuse = yes\nreuse-idle = %llus\n",
		    (unsigned long long)a->reuse_idle);
}

static void
dump_user(FILE *fp, const struct policy_user_def *d)
{
	static const struct {
		unsigned bit;
		const char *name;
	} auth[] = {
		{ POLICY_AUTH_PUBLICKEY, "publickey" }, { POLICY_AUTH_PASSWORD, "password" },
		{ POLICY_AUTH_PAM, "pam" }, { POLICY_AUTH_TOTP, "totp" },
	};
	const struct policy_user *u = &d->user;
	size_t i;
	int any = 0;

	fprintf(fp, "[user %s]\n", u->name);
	if (u->fullname != NULL)
		fprintf(fp, "name = %s\n", u->fullname);
	if (u->company != NULL)
		fprintf(fp, "company = %s\n", u->company);
	dump_list(fp, "roles", &u->roles, 0);
	for (i = 0; i < sizeof(auth) / sizeof(auth[0]); i++) {
		if (u->auth & auth[i].bit) {
			fprintf(fp, "%s%s", any ? " " : "auth = ", auth[i].name);
			any = 1;
		}
	}
	if (any)
		fputc('\n', fp);
	dump_lines(fp, "pubkey", &u->pubkeys);
	if (d->expires_date != NULL)
		fprintf(fp, "expires = %s\n", d->expires_date);
	if (u->disabled)
		fprintf(fp, "disabled = yes\n");
}

int
policy_dump(const struct policy *p, FILE *fp)
{
	size_t i;

	if (p == NULL || fp == NULL)
		return OTG_ERR_INVAL;
	fprintf(fp, "# otgate policy, canonical form (otgate policy dump)\n");
	for (i = 0; i < p->nassets; i++) {
		fputc('\n', fp);
		dump_asset(fp, &p->assets[i].asset);
	}
	for (i = 0; i < p->nwindows; i++) {
		fputc('\n', fp);
		dump_window(fp, &p->windows[i]);
	}
	for (i = 0; i < p->nroles; i++) {
		fputc('\n', fp);
		dump_role(fp, &p->roles[i]);
	}
	for (i = 0; i < p->nusers; i++) {
		fputc('\n', fp);
		dump_user(fp, &p->users[i]);
	}
	if (fflush(fp) != 0 || ferror(fp))
		return OTG_ERR_IO;
	return 0;
}
