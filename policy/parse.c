/*
 * parse.c: the sections of one parsed file into the policy. Each section's
 * keys go through its kind's table (keys.c); unknown and repeated keys are
 * reported with a near match, and a badly named section still has its keys
 * checked, so an admin fixes a file in one pass. Sections missing what a
 * connection will need (an address, a login, a host key, a usable login
 * method) are reported here too.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

char *
parse_strdup(struct parse *ps, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		ps->nomem = 1;
	return copy;
}

/* --- sections --- */

/* Edit distance, capped: only small distances matter for "did you mean". */
static size_t
parse_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t row[65];

	if (la > 64 || lb > 64)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			tmp = row[j];
			row[j] = cur;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *
parse_near(const char *word, const void *cands, size_t n, size_t stride)
{
	const char *best = NULL, *c;
	size_t i, dist, bestdist = 3;

	for (i = 0; i < n; i++) {
		c = *(const char *const *)(const void *)((const char *)cands + i * stride);
		if ((dist = parse_distance(word, c)) < bestdist) {
			bestdist = dist;
			best = c;
		}
	}
	return best;
}

static void
parse_unknown_key(struct parse *ps, const char *kind, const struct parse_key *keys,
    const struct ini_entry *e)
{
	char list[256];
	const char *near;
	size_t n, used = 0;

	for (n = 0; keys[n].key != NULL; n++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
		    n ? ", " : "", keys[n].key);
	near = parse_near(e->key, &keys[0].key, n, sizeof(keys[0]));
	if (near != NULL)
		diag_add(ps->d, DIAG_ERROR, ps->file, e->line, e->col,
		    "unknown key '%s' in [%s]; did you mean '%s'? (valid: %s)", e->key,
		    kind, near, list);
	else
		diag_add(ps->d, DIAG_ERROR, ps->file, e->line, e->col,
		    "unknown key '%s' in [%s] (valid: %s)", e->key, kind, list);
}

/* Bounds that keep the checks below linear however large a file is. */
#define PARSE_MAX_KEYS 16	/* keys in a section kind's table */
#define PARSE_MAX_WORDS 256	/* values in one list */
#define PARSE_MAX_REPEAT 64	/* lines of one repeatable key in a section */

static size_t
parse_count_words(const char *s)
{
	size_t n = 0;
	int in = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t') {
			in = 0;
		} else if (!in) {
			n++;
			in = 1;
		}
	}
	return n;
}

static void
parse_entries(struct parse *ps, const char *kind, const struct parse_key *keys,
    const struct ini_section *sec, void *obj)
{
	const struct ini_entry *e;
	unsigned first[PARSE_MAX_KEYS], seen[PARSE_MAX_KEYS];
	size_t i, k;

	memset(first, 0, sizeof(first));
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < sec->n; i++) {
		e = &sec->entries[i];
		for (k = 0; keys[k].key != NULL && strcmp(keys[k].key, e->key) != 0; k++)
			;
		if (keys[k].key == NULL) {
			parse_unknown_key(ps, kind, keys, e);
			continue;
		}
		if (seen[k]++ > 0 && !keys[k].repeat) {
			diag_add(ps->d, DIAG_ERROR, ps->file, e->line, e->col,
			    "duplicate key '%s' in [%s %s] (first at line %u)", e->key,
			    kind, sec->name != NULL ? sec->name : "", first[k]);
			continue;
		}
		if (seen[k] == 1)
			first[k] = e->line;
		if (seen[k] == PARSE_MAX_REPEAT + 1)
			diag_add(ps->d, DIAG_ERROR, ps->file, e->line, e->col,
			    "too many '%s' lines in [%s %s] (at most %d)", e->key, kind,
			    sec->name != NULL ? sec->name : "", PARSE_MAX_REPEAT);
		if (seen[k] > PARSE_MAX_REPEAT)
			continue;
		if (e->value[0] == '\0') {
			PARSE_ERR(ps, e, "%s needs a value", e->key);
			continue;
		}
		if (parse_count_words(e->value) > PARSE_MAX_WORDS) {
			PARSE_ERR(ps, e, "too many values for %s (at most %d)", e->key,
			    PARSE_MAX_WORDS);
			continue;
		}
		keys[k].fn(ps, obj, e);
	}
}

/*
 * Grow an array of objects of size sz by one zeroed slot. The capacity is
 * implied by the count (8, then doubling at each power of two), so a policy
 * with 100k sections costs n log n, not n squared.
 */
static void *
parse_grow(struct parse *ps, void **arr, size_t *n, size_t sz)
{
	char *v = *arr;

	if (*n == 0 || (*n >= 8 && (*n & (*n - 1)) == 0)) {
		if ((v = realloc(*arr, (*n == 0 ? 8 : *n * 2) * sz)) == NULL) {
			ps->nomem = 1;
			return NULL;
		}
		*arr = v;
	}
	memset(v + *n * sz, 0, sz);
	return v + (*n)++ * sz;
}

static void
parse_set_loc(struct parse *ps, struct policy_loc *loc, const struct ini_section *sec)
{
	loc->file = ps->file;
	loc->line = sec->line;
	loc->col = sec->col;
	loc->seq = ps->p->nwindows + ps->p->nroles + ps->p->nassets + ps->p->nusers;
}

static void
parse_window_free(struct policy_window *w)
{
	free(w->name);
	free(w->zone);
}

static void
parse_role_free(struct policy_role *r)
{
	free(r->name);
	free(r->approvers);
	strlist_free(&r->assets);
	strlist_free(&r->deny);
	strlist_free(&r->window_names);
	free(r->windows);
}

static void
parse_asset_free(struct policy_asset_def *a)
{
	free(a->asset.name);
	free(a->asset.address);
	free(a->asset.login);
	free(a->asset.credential);
	strlist_free(&a->asset.hostkeys);
	strlist_free(&a->asset.tags);
	free(a->asset.forward);
}

static void
parse_user_free(struct policy_user_def *u)
{
	free(u->user.name);
	free(u->user.fullname);
	free(u->user.company);
	strlist_free(&u->user.roles);
	strlist_free(&u->user.pubkeys);
	free(u->expires_date);
	free(u->roles);
}

static void
parse_window_section(struct parse *ps, const struct ini_section *sec, int keep)
{
	struct policy_window *w, tmp;
	size_t pos;

	memset(&tmp, 0, sizeof(tmp));
	tmp.days = 0x7f;
	tmp.end = 24 * 60;
	tmp.tz = ps->p->host;
	parse_set_loc(ps, &tmp.loc, sec);
	parse_entries(ps, "window", keys_window, sec, &tmp);
	pos = ps->p->nwindows;
	if (!keep || (tmp.name = parse_strdup(ps, sec->name)) == NULL ||
	    (w = parse_grow(ps, (void **)&ps->p->windows, &pos, sizeof(*w))) == NULL) {
		parse_window_free(&tmp);
		return;
	}
	*w = tmp;
	ps->p->nwindows = pos;
}

static void
parse_role_section(struct parse *ps, const struct ini_section *sec, int keep)
{
	struct policy_role *r, tmp;
	size_t pos;

	memset(&tmp, 0, sizeof(tmp));
	parse_set_loc(ps, &tmp.loc, sec);
	tmp.record_input = 1;
	tmp.sftp = POLICY_SFTP_READ | POLICY_SFTP_WRITE;
	parse_entries(ps, "role", keys_role, sec, &tmp);
	if (keep && tmp.assets.n > 0 && tmp.allow == 0)
		diag_add(ps->d, DIAG_WARNING, ps->file, sec->line, sec->col,
		    "role %s selects assets but allows nothing (add allow = shell exec "
		    "sftp forward, or a subset)", sec->name != NULL ? sec->name : "");
	pos = ps->p->nroles;
	if (!keep || (tmp.name = parse_strdup(ps, sec->name)) == NULL ||
	    (r = parse_grow(ps, (void **)&ps->p->roles, &pos, sizeof(*r))) == NULL) {
		parse_role_free(&tmp);
		return;
	}
	*r = tmp;
	ps->p->nroles = pos;
}

static void
parse_asset_section(struct parse *ps, const struct ini_section *sec, int keep)
{
	struct policy_asset_def *a, tmp;
	const char *name = sec->name != NULL ? sec->name : "";
	size_t pos;

	memset(&tmp, 0, sizeof(tmp));
	tmp.asset.port = 22;
	tmp.asset.reuse_idle = POLICY_REUSE_IDLE_DEFAULT;
	parse_set_loc(ps, &tmp.loc, sec);
	parse_entries(ps, "asset", keys_asset, sec, &tmp.asset);
	if (tmp.asset.address == NULL)
		diag_add(ps->d, DIAG_ERROR, ps->file, sec->line, sec->col,
		    "asset %s has no address (add address = IP or host name)", name);
	if (tmp.asset.login == NULL)
		diag_add(ps->d, DIAG_ERROR, ps->file, sec->line, sec->col,
		    "asset %s has no login (add login = the account on the asset)", name);
	if (keep && tmp.asset.hostkeys.n == 0)
		diag_add(ps->d, DIAG_WARNING, ps->file, sec->line, sec->col,
		    "asset %s has no hostkey: connections to it will be refused "
		    "(otgate asset trust %s prints one)", name, name);
	if (tmp.asset.credential == NULL && keep)
		tmp.asset.credential = parse_strdup(ps, name);
	pos = ps->p->nassets;
	if (!keep || (tmp.asset.name = parse_strdup(ps, name)) == NULL ||
	    (a = parse_grow(ps, (void **)&ps->p->assets, &pos, sizeof(*a))) == NULL) {
		parse_asset_free(&tmp);
		return;
	}
	*a = tmp;
	ps->p->nassets = pos;
}

static void
parse_user_section(struct parse *ps, const struct ini_section *sec, int keep)
{
	struct policy_user_def *u, tmp;
	const char *name = sec->name != NULL ? sec->name : "";
	unsigned first;
	size_t pos;

	memset(&tmp, 0, sizeof(tmp));
	tmp.user.auth = POLICY_AUTH_PUBLICKEY | POLICY_AUTH_TOTP;
	parse_set_loc(ps, &tmp.loc, sec);
	parse_entries(ps, "user", keys_user, sec, &tmp);
	if (keep && tmp.user.roles.n == 0)
		diag_add(ps->d, DIAG_WARNING, ps->file, sec->line, sec->col,
		    "user %s has no role and can reach nothing (add roles = ...)", name);
	first = tmp.user.auth & (POLICY_AUTH_PASSWORD | POLICY_AUTH_PAM);
	if (tmp.user.pubkeys.n > 0)
		first |= tmp.user.auth & POLICY_AUTH_PUBLICKEY;
	if (keep && first == 0 && (tmp.user.auth & ~POLICY_AUTH_TOTP) != 0)
		diag_add(ps->d, DIAG_WARNING, ps->file, sec->line, sec->col,
		    "user %s cannot log in: auth has publickey but no pubkey is given",
		    name);
	if (keep && tmp.user.pubkeys.n > 0 && !(tmp.user.auth & POLICY_AUTH_PUBLICKEY))
		diag_add(ps->d, DIAG_WARNING, ps->file, sec->line, sec->col,
		    "user %s has a pubkey but auth does not include publickey", name);
	pos = ps->p->nusers;
	if (!keep || (tmp.user.name = parse_strdup(ps, name)) == NULL ||
	    (u = parse_grow(ps, (void **)&ps->p->users, &pos, sizeof(*u))) == NULL) {
		parse_user_free(&tmp);
		return;
	}
	*u = tmp;
	ps->p->nusers = pos;
}

int
parse_policy_ini(struct policy *p, const struct ini *ini, struct diag *d)
{
	static const struct {
		const char *kind;
		void (*fn)(struct parse *, const struct ini_section *, int);
	} kinds[] = {
		{ "asset", parse_asset_section },
		{ "window", parse_window_section },
		{ "role", parse_role_section },
		{ "user", parse_user_section },
	};
	struct parse ps;
	const struct ini_section *sec;
	size_t i, k;
	int keep;

	memset(&ps, 0, sizeof(ps));
	ps.p = p;
	ps.d = d;
	ps.file = p->files.v[p->files.n - 1];
	for (i = 0; i < ini->sections[0].n; i++)
		diag_add(d, DIAG_ERROR, ps.file, ini->sections[0].entries[i].line,
		    ini->sections[0].entries[i].col, "key '%s' outside a section: put it "
		    "under [asset NAME], [window NAME], [role NAME] or [user NAME]",
		    ini->sections[0].entries[i].key);
	for (i = 1; i < ini->n && !ps.nomem; i++) {
		sec = &ini->sections[i];
		for (k = 0; k < 4 && strcmp(sec->kind, kinds[k].kind) != 0; k++)
			;
		if (k == 4) {
			diag_add(d, DIAG_ERROR, ps.file, sec->line, sec->col,
			    "unknown section [%s]: expected [asset NAME], [window NAME], "
			    "[role NAME] or [user NAME]", sec->kind);
			continue;
		}
		keep = 1;
		if (sec->name == NULL) {
			diag_add(d, DIAG_ERROR, ps.file, sec->line, sec->col,
			    "[%s] needs a name, as in [%s NAME]", sec->kind, sec->kind);
			keep = 0;
		} else if (!value_name_ok(sec->name)) {
			diag_add(d, DIAG_ERROR, ps.file, sec->line, sec->col,
			    "bad %s name '%s': expected [A-Za-z0-9][A-Za-z0-9._-]{0,63}",
			    sec->kind, sec->name);
			keep = 0;
		}
		/* the keys of a badly named section are still checked */
		kinds[k].fn(&ps, sec, keep);
	}
	return ps.nomem ? OTG_ERR_NOMEM : 0;
}


void
parse_policy_free(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->nwindows; i++)
		parse_window_free(&p->windows[i]);
	for (i = 0; i < p->nroles; i++)
		parse_role_free(&p->roles[i]);
	for (i = 0; i < p->nassets; i++)
		parse_asset_free(&p->assets[i]);
	for (i = 0; i < p->nusers; i++)
		parse_user_free(&p->users[i]);
	free(p->windows);
	free(p->roles);
	free(p->assets);
	free(p->users);
}
