/*
 * resolve.c: the policy as a whole, once every file is read. Sections are
 * sorted by name for lookups; duplicates and references to missing windows
 * or roles are errors; selectors that match no asset are warnings, since a
 * role that silently grants nothing surprises an admin at the worst time.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* By name, then by order of appearance, so the later duplicate is reported. */
#define RESOLVE_CMP(type, field) \
static int \
resolve_cmp_##type(const void *a, const void *b) \
{ \
	const struct type *x = a, *y = b; \
	int c = strcmp(x->field, y->field); \
\
	if (c != 0) \
		return c; \
	return x->loc.seq < y->loc.seq ? -1 : x->loc.seq > y->loc.seq; \
}
RESOLVE_CMP(policy_window, name)
RESOLVE_CMP(policy_role, name)
RESOLVE_CMP(policy_asset_def, asset.name)
RESOLVE_CMP(policy_user_def, user.name)

static void
resolve_duplicate(struct diag *d, const char *kind, const char *name,
    const struct policy_loc *first, const struct policy_loc *again)
{
	diag_add(d, DIAG_ERROR, again->file, again->line, again->col,
	    "duplicate [%s %s] (first at %s:%u)", kind, name, first->file, first->line);
}

static int
resolve_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct policy_window *
resolve_find_window(const struct policy *p, const char *name)
{
	size_t lo = 0, hi = p->nwindows, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, p->windows[mid].name)) == 0)
			return &p->windows[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const struct policy_role *
resolve_find_role(const struct policy *p, const char *name)
{
	size_t lo = 0, hi = p->nroles, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, p->roles[mid].name)) == 0)
			return &p->roles[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* "; did you mean 'x'?" when a name is near, for small policies only. */
static void
resolve_suggest(char *out, size_t outsz, const char *word, const void *arr, size_t n,
    size_t stride)
{
	const char *near = NULL;

	out[0] = '\0';
	if (n <= 256)
		near = parse_near(word, arr, n, stride);
	if (near != NULL)
		snprintf(out, outsz, "; did you mean '%s'?", near);
}

static int
resolve_roles(struct policy *p, struct diag *d)
{
	struct policy_role *r;
	const struct policy_window *w;
	char hint[100];
	size_t i, j;

	for (i = 0; i < p->nroles; i++) {
		r = &p->roles[i];
		if (r->window_names.n == 0)
			continue;
		r->windows = calloc(r->window_names.n, sizeof(*r->windows));
		if (r->windows == NULL)
			return OTG_ERR_NOMEM;
		for (j = 0; j < r->window_names.n; j++) {
			if ((w = resolve_find_window(p, r->window_names.v[j])) != NULL) {
				r->windows[j] = w;
				continue;
			}
			resolve_suggest(hint, sizeof(hint), r->window_names.v[j],
			    p->nwindows ? &p->windows[0].name : NULL, p->nwindows,
			    sizeof(p->windows[0]));
			diag_add(d, DIAG_ERROR, r->window_loc.file, r->window_loc.line,
			    r->window_loc.col, "role %s names unknown window '%s' (no "
			    "[window %s] section)%s", r->name, r->window_names.v[j],
			    r->window_names.v[j], hint);
		}
	}
	return 0;
}

static int
resolve_users(struct policy *p, struct diag *d)
{
	struct policy_user_def *u;
	const struct policy_role *r;
	char hint[100];
	size_t i, j;

	for (i = 0; i < p->nusers; i++) {
		u = &p->users[i];
		if (u->user.roles.n == 0)
			continue;
		if ((u->roles = calloc(u->user.roles.n, sizeof(*u->roles))) == NULL)
			return OTG_ERR_NOMEM;
		for (j = 0; j < u->user.roles.n; j++) {
			if ((r = resolve_find_role(p, u->user.roles.v[j])) != NULL) {
				u->roles[j] = r;
				continue;
			}
			resolve_suggest(hint, sizeof(hint), u->user.roles.v[j],
			    p->nroles ? &p->roles[0].name : NULL, p->nroles,
			    sizeof(p->roles[0]));
			diag_add(d, DIAG_ERROR, u->roles_loc.file, u->roles_loc.line,
			    u->roles_loc.col, "user %s names unknown role '%s' (no [role "
			    "%s] section)%s", u->user.name, u->user.roles.v[j],
			    u->user.roles.v[j], hint);
		}
	}
	return 0;
}

/* Warn about selectors that match no asset; tags is every asset tag, sorted. */
static void
resolve_check_selectors(const struct policy *p, const struct policy_role *r,
    const struct strlist *sel, const struct policy_loc *loc, const char **tags,
    size_t ntags, struct diag *d)
{
	size_t i;
	int hit;

	for (i = 0; i < sel->n; i++) {
		if (strcmp(sel->v[i], "*") == 0)
			hit = p->nassets > 0;
		else if (strchr(sel->v[i], ':') != NULL)
			hit = ntags > 0 && bsearch(&sel->v[i], tags, ntags, sizeof(*tags),
			    resolve_cmp_str) != NULL;
		else
			hit = policy_asset(p, sel->v[i]) != NULL;
		if (!hit)
			diag_add(d, DIAG_WARNING, loc->file, loc->line, loc->col,
			    "selector '%s' in role %s matches no asset", sel->v[i],
			    r->name);
	}
}

static int
resolve_check_all_selectors(const struct policy *p, struct diag *d)
{
	const char **tags = NULL;
	size_t ntags = 0, i, j;

	for (i = 0; i < p->nassets; i++)
		ntags += p->assets[i].asset.tags.n;
	if (ntags > 0 && (tags = calloc(ntags, sizeof(*tags))) == NULL)
		return OTG_ERR_NOMEM;
	ntags = 0;
	for (i = 0; i < p->nassets; i++)
		for (j = 0; j < p->assets[i].asset.tags.n; j++)
			tags[ntags++] = p->assets[i].asset.tags.v[j];
	if (ntags > 0)
		qsort(tags, ntags, sizeof(*tags), resolve_cmp_str);
	for (i = 0; i < p->nroles; i++) {
		resolve_check_selectors(p, &p->roles[i], &p->roles[i].assets,
		    &p->roles[i].assets_loc, tags, ntags, d);
		resolve_check_selectors(p, &p->roles[i], &p->roles[i].deny,
		    &p->roles[i].deny_loc, tags, ntags, d);
	}
	free(tags);
	return 0;
}

int
resolve_policy(struct policy *p, struct diag *d)
{
	size_t i;
	int r;

	if (p->nwindows > 0)
		qsort(p->windows, p->nwindows, sizeof(*p->windows), resolve_cmp_policy_window);
	if (p->nroles > 0)
		qsort(p->roles, p->nroles, sizeof(*p->roles), resolve_cmp_policy_role);
	if (p->nassets > 0)
		qsort(p->assets, p->nassets, sizeof(*p->assets), resolve_cmp_policy_asset_def);
	if (p->nusers > 0)
		qsort(p->users, p->nusers, sizeof(*p->users), resolve_cmp_policy_user_def);
	for (i = 1; i < p->nwindows; i++)
		if (strcmp(p->windows[i].name, p->windows[i - 1].name) == 0)
			resolve_duplicate(d, "window", p->windows[i].name,
			    &p->windows[i - 1].loc, &p->windows[i].loc);
	for (i = 1; i < p->nroles; i++)
		if (strcmp(p->roles[i].name, p->roles[i - 1].name) == 0)
			resolve_duplicate(d, "role", p->roles[i].name, &p->roles[i - 1].loc,
			    &p->roles[i].loc);
	for (i = 1; i < p->nassets; i++)
		if (strcmp(p->assets[i].asset.name, p->assets[i - 1].asset.name) == 0)
			resolve_duplicate(d, "asset", p->assets[i].asset.name,
			    &p->assets[i - 1].loc, &p->assets[i].loc);
	for (i = 1; i < p->nusers; i++)
		if (strcmp(p->users[i].user.name, p->users[i - 1].user.name) == 0)
			resolve_duplicate(d, "user", p->users[i].user.name,
			    &p->users[i - 1].loc, &p->users[i].loc);
	if ((r = resolve_roles(p, d)) != 0 ||
	    (r = resolve_users(p, d)) != 0 ||
	    (r = resolve_check_all_selectors(p, d)) != 0)
		return r;
	return 0;
}

