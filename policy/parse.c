/*
 * parse.c: the meaning of the policy's sections. Each section kind has a key
 * table; every value is checked where it is written and every problem is
 * reported with its line and column, so an admin fixes a file in one pass.
 * Once all files are read, sections are sorted by name, duplicates and
 * dangling references are errors, and things that will surely surprise at
 * connect time (no host key, no usable login, a selector matching nothing)
 * are warnings.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/policy.h"

/* Where the sections of one file are being read. */
struct parse {
	struct policy *p;
	struct diag *d;
	const char *file;	/* owned by p->files */
	int nomem;
};

struct parse_key {
	const char *key;
	int repeat;		/* may appear more than once */
	void (*fn)(struct parse *, void *, const struct ini_entry *);
};

#define PARSE_ERR(ps, e, ...) \
	diag_add((ps)->d, DIAG_ERROR, (ps)->file, (e)->line, (e)->vcol, __VA_ARGS__)

static char *
parse_strdup(struct parse *ps, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		ps->nomem = 1;
	return copy;
}

static void
parse_split(struct parse *ps, const char *s, struct strlist *out)
{
	struct strlist words;
	size_t i;

	if (strlist_split(s, &words) != 0) {
		ps->nomem = 1;
		return;
	}
	for (i = 0; i < words.n; i++)
		if (strlist_push(out, words.v[i]) != 0)
			ps->nomem = 1;
	strlist_free(&words);
}

/* A selector: an asset name, key:value, or *. */
static int
parse_selector_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	char key[65];
	size_t n;

	if (strcmp(s, "*") == 0)
		return 1;
	if (colon == NULL)
		return value_name_ok(s);
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof(key))
		return 0;
	memcpy(key, s, n);
	key[n] = '\0';
	return value_name_ok(key) && value_name_ok(colon + 1);
}

/*
 * An OpenSSH key as "type base64 [comment]": the base64 must decode to a
 * blob that names the same type, which catches keys cut or mangled by copy
 * and paste. The canonical "type base64" goes to out.
 */
static int
parse_ssh_key(const char *s, char **out, char **comment)
{
	struct strlist w;
	unsigned char *blob = NULL;
	size_t b64len, tlen, i;
	uint32_t n;
	int len, r = OTG_ERR_INVAL;

	*out = NULL;
	if (comment != NULL)
		*comment = NULL;
	if (strlist_split(s, &w) != 0)
		return OTG_ERR_NOMEM;
	if (w.n < 2 || (comment == NULL && w.n > 2))
		goto out;
	b64len = strlen(w.v[1]);
	tlen = strlen(w.v[0]);
	if (b64len % 4 != 0 || b64len == 0 || b64len > 16384)
		goto out;
	for (i = 0; i < b64len; i++) {
		char c = w.v[1][i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		    (c == '=' && i >= b64len - 2)))
			goto out;
	}
	if ((blob = malloc(b64len / 4 * 3 + 1)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	len = EVP_DecodeBlock(blob, (const unsigned char *)w.v[1], (int)b64len);
	if (len < 4)
		goto out;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 |
	    blob[3];
	/* the type, then the key itself */
	if (n != tlen || (size_t)len <= 4 + tlen + 4 || memcmp(blob + 4, w.v[0], tlen) != 0)
		goto out;
	len = (int)(tlen + 1 + b64len + 1);
	if ((*out = malloc((size_t)len)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	snprintf(*out, (size_t)len, "%s %s", w.v[0], w.v[1]);
	r = 0;
	if (comment != NULL && w.n > 2) {
		/* the comment is the rest of the line, spaces and all */
		const char *c = strstr(s, w.v[1]) + b64len;

		while (*c == ' ' || *c == '\t')
			c++;
		if ((*comment = strdup(c)) == NULL)
			r = OTG_ERR_NOMEM;
	}
out:
	free(blob);
	strlist_free(&w);
	return r;
}

/* --- [window NAME] --- */

static void
parse_window_days(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_window *w = obj;

	if (window_parse_days(e->value, &w->days) != 0)
		PARSE_ERR(ps, e, "bad days '%s': expected days mon tue wed thu fri sat "
		    "sun and ranges, as in 'mon-fri' or 'fri-mon sat'", e->value);
}

static void
parse_window_time(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_window *w = obj;

	if (window_parse_time(e->value, &w->start, &w->end) != 0)
		PARSE_ERR(ps, e, "bad time '%s': expected HH:MM-HH:MM, as in "
		    "'07:00-18:00' or '22:00-06:00' across midnight", e->value);
}

static const struct tz *
parse_zone(struct parse *ps, const char *name)
{
	struct tz **v, *tz;
	size_t i;

	for (i = 0; i < ps->p->nzones; i++)
		if (strcmp(tz_name(ps->p->zones[i]), name) == 0)
			return ps->p->zones[i];
	if (tz_load(name, &tz) != 0)
		return NULL;
	if ((v = realloc(ps->p->zones, (ps->p->nzones + 1) * sizeof(*v))) == NULL) {
		tz_free(tz);
		ps->nomem = 1;
		return NULL;
	}
	ps->p->zones = v;
	v[ps->p->nzones++] = tz;
	return tz;
}

static void
parse_window_timezone(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_window *w = obj;

	if ((w->tz = parse_zone(ps, e->value)) == NULL) {
		PARSE_ERR(ps, e, "unknown timezone '%s': expected an IANA zone such as "
		    "'Europe/Rome' or 'UTC'", e->value);
		return;
	}
	w->zone = parse_strdup(ps, e->value);
}

static const struct parse_key parse_window_keys[] = {
	{ "days", 0, parse_window_days },
	{ "time", 0, parse_window_time },
	{ "timezone", 0, parse_window_timezone },
	{ NULL, 0, NULL }
};

/* --- [role NAME] --- */

static void
parse_selectors(struct parse *ps, const struct ini_entry *e, struct strlist *out,
    struct policy_loc *loc)
{
	size_t i, before = out->n;

	parse_split(ps, e->value, out);
	for (i = before; i < out->n; i++)
		if (!parse_selector_ok(out->v[i]))
			PARSE_ERR(ps, e, "bad selector '%s': expected an asset name, a "
			    "tag as key:value, or *", out->v[i]);
	loc->file = ps->file;
	loc->line = e->line;
	loc->col = e->vcol;
}

static void
parse_role_assets(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_role *r = obj;

	parse_selectors(ps, e, &r->assets, &r->assets_loc);
}

static void
parse_role_deny(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_role *r = obj;

	parse_selectors(ps, e, &r->deny, &r->deny_loc);
}

static void
parse_role_allow(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_role *r = obj;
	struct strlist w;
	enum policy_channel kind;
	size_t i;

	if (strlist_split(e->value, &w) != 0) {
		ps->nomem = 1;
		return;
	}
	for (i = 0; i < w.n; i++) {
		if (policy_channel_parse(w.v[i], &kind) != 0)
			PARSE_ERR(ps, e, "unknown channel kind '%s': expected shell, exec, "
			    "sftp or forward", w.v[i]);
		else
			r->allow |= 1u << kind;
	}
	strlist_free(&w);
}

static void
parse_role_window(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_role *r = obj;
	size_t i, before = r->window_names.n;

	parse_split(ps, e->value, &r->window_names);
	for (i = before; i < r->window_names.n; i++)
		if (!value_name_ok(r->window_names.v[i]))
			PARSE_ERR(ps, e, "bad window name '%s': expected "
			    "[A-Za-z0-9][A-Za-z0-9._-]{0,63}", r->window_names.v[i]);
	if (before == 0) {
		r->window_loc.file = ps->file;
		r->window_loc.line = e->line;
		r->window_loc.col = e->vcol;
	}
}

static void
parse_required(struct parse *ps, const struct ini_entry *e, int *out)
{
	if (strcmp(e->value, "required") == 0)
		*out = 1;
	else if (strcmp(e->value, "none") == 0)
		*out = 0;
	else
		PARSE_ERR(ps, e, "bad %s '%s': expected required or none", e->key,
		    e->value);
}

static void
parse_role_approval(struct parse *ps, void *obj, const struct ini_entry *e)
{
	parse_required(ps, e, &((struct policy_role *)obj)->approval);
}

static void
parse_role_reason(struct parse *ps, void *obj, const struct ini_entry *e)
{
	parse_required(ps, e, &((struct policy_role *)obj)->reason);
}

static void
parse_duration(struct parse *ps, const struct ini_entry *e, uint64_t *out)
{
	if (value_duration(e->value, out) != 0)
		PARSE_ERR(ps, e, "bad duration '%s' for %s: expected a number with a "
		    "unit s, m, h or d, as in 90s 15m 2h 7d (at most 100 years)",
		    e->value, e->key);
}

static void
parse_role_max_session(struct parse *ps, void *obj, const struct ini_entry *e)
{
	parse_duration(ps, e, &((struct policy_role *)obj)->max_session);
}

static void
parse_role_idle_timeout(struct parse *ps, void *obj, const struct ini_entry *e)
{
	parse_duration(ps, e, &((struct policy_role *)obj)->idle_timeout);
}

static const struct parse_key parse_role_keys[] = {
	{ "assets", 0, parse_role_assets },
	{ "deny", 0, parse_role_deny },
	{ "allow", 0, parse_role_allow },
	{ "window", 1, parse_role_window },
	{ "approval", 0, parse_role_approval },
	{ "reason", 0, parse_role_reason },
	{ "max-session", 0, parse_role_max_session },
	{ "idle-timeout", 0, parse_role_idle_timeout },
	{ NULL, 0, NULL }
};

/* --- [asset NAME] --- */

/* A numeric address or a DNS host name; resolving is the broker's business. */
static int
parse_address_ok(const char *s)
{
	size_t i, len = strlen(s), label = 0;

	if (len == 0 || len > 253)
		return 0;
	if (strchr(s, ':') != NULL) {
		for (i = 0; i < len; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			    (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':' || s[i] == '.'))
				return 0;
		return 1;
	}
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && label > 0)) || ++label > 63)
			return 0;
	}
	return label > 0;
}

static void
parse_asset_address(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;

	if (!parse_address_ok(e->value)) {
		PARSE_ERR(ps, e, "bad address '%s': expected an IP address or a host "
		    "name", e->value);
		return;
	}
	a->address = parse_strdup(ps, e->value);
}

static void
parse_asset_port(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;

	if (value_port(e->value, &a->port) != 0)
		PARSE_ERR(ps, e, "bad port '%s': expected a number from 1 to 65535",
		    e->value);
}

static void
parse_asset_login(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;
	const char *c;

	/* an account name on the asset: no spaces, nothing a shell would read */
	for (c = e->value; *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-' ||
		    *c == '@' || *c == '\\') || c - e->value >= 64) {
			PARSE_ERR(ps, e, "bad login '%s': expected an account name of "
			    "letters, digits and . _ - @ \\ (at most 64)", e->value);
			return;
		}
	}
	a->login = parse_strdup(ps, e->value);
}

static void
parse_asset_credential(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;

	if (!value_name_ok(e->value)) {
		PARSE_ERR(ps, e, "bad credential '%s': expected a vault entry name "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,63}", e->value);
		return;
	}
	free(a->credential);
	a->credential = parse_strdup(ps, e->value);
}

static void
parse_asset_hostkey(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;
	char *key, *comment;
	int r;

	if ((r = parse_ssh_key(e->value, &key, &comment)) == OTG_ERR_NOMEM) {
		ps->nomem = 1;
		return;
	}
	free(comment);
	if (r != 0) {
		PARSE_ERR(ps, e, "bad hostkey: expected 'TYPE BASE64' as printed by "
		    "'otgate asset trust' or ssh-keyscan");
		return;
	}
	if (strlist_contains(&a->hostkeys, key))
		PARSE_ERR(ps, e, "duplicate hostkey");
	else if (strlist_push(&a->hostkeys, key) != 0)
		ps->nomem = 1;
	free(key);
}

static void
parse_asset_tags(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;
	size_t i, j;

	parse_split(ps, e->value, &a->tags);
	for (i = 0; i < a->tags.n; i++) {
		if (strchr(a->tags.v[i], ':') == NULL || !parse_selector_ok(a->tags.v[i]))
			PARSE_ERR(ps, e, "bad tag '%s': expected key:value, as in "
			    "zone:cell-3", a->tags.v[i]);
		for (j = 0; j < i; j++)
			if (strcmp(a->tags.v[i], a->tags.v[j]) == 0)
				PARSE_ERR(ps, e, "duplicate tag '%s'", a->tags.v[i]);
	}
}

static void
parse_asset_forward(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;
	struct strlist w;
	uint16_t port, *v;
	size_t i, j;

	if (strlist_split(e->value, &w) != 0) {
		ps->nomem = 1;
		return;
	}
	for (i = 0; i < w.n; i++) {
		if (value_port(w.v[i], &port) != 0) {
			PARSE_ERR(ps, e, "bad forward port '%s': expected numbers from 1 "
			    "to 65535", w.v[i]);
			continue;
		}
		for (j = 0; j < a->nforward && a->forward[j] != port; j++)
			;
		if (j < a->nforward) {
			PARSE_ERR(ps, e, "duplicate forward port %u", (unsigned)port);
			continue;
		}
		if ((v = realloc(a->forward, (a->nforward + 1) * sizeof(*v))) == NULL) {
			ps->nomem = 1;
			break;
		}
		a->forward = v;
		v[a->nforward++] = port;
	}
	strlist_free(&w);
}

static void
parse_asset_max_sessions(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;
	uint64_t v;

	if (value_uint(e->value, 100000, &v) != 0) {
		PARSE_ERR(ps, e, "bad max-sessions '%s': expected a number from 0 (no "
		    "limit) to 100000", e->value);
		return;
	}
	a->max_sessions = (unsigned)v;
}

static const struct parse_key parse_asset_keys[] = {
	{ "address", 0, parse_asset_address },
	{ "port", 0, parse_asset_port },
	{ "login", 0, parse_asset_login },
	{ "credential", 0, parse_asset_credential },
	{ "hostkey", 1, parse_asset_hostkey },
	{ "tags", 0, parse_asset_tags },
	{ "forward", 0, parse_asset_forward },
	{ "max-sessions", 0, parse_asset_max_sessions },
	{ NULL, 0, NULL }
};

/* --- [user NAME] --- */

/* Free text shown to operators and auditors: printable, one line. */
static void
parse_text(struct parse *ps, const struct ini_entry *e, char **out)
{
	if (strlen(e->value) > 200) {
		PARSE_ERR(ps, e, "%s is too long (at most 200 bytes)", e->key);
		return;
	}
	*out = parse_strdup(ps, e->value);
}

static void
parse_user_name(struct parse *ps, void *obj, const struct ini_entry *e)
{
	parse_text(ps, e, &((struct policy_user_def *)obj)->user.fullname);
}

static void
parse_user_company(struct parse *ps, void *obj, const struct ini_entry *e)
{
	parse_text(ps, e, &((struct policy_user_def *)obj)->user.company);
}

static void
parse_user_roles(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_user_def *u = obj;
	size_t i, j;

	parse_split(ps, e->value, &u->user.roles);
	for (i = 0; i < u->user.roles.n; i++) {
		if (!value_name_ok(u->user.roles.v[i]))
			PARSE_ERR(ps, e, "bad role name '%s': expected "
			    "[A-Za-z0-9][A-Za-z0-9._-]{0,63}", u->user.roles.v[i]);
		for (j = 0; j < i; j++)
			if (strcmp(u->user.roles.v[i], u->user.roles.v[j]) == 0)
				PARSE_ERR(ps, e, "role '%s' listed twice",
				    u->user.roles.v[i]);
	}
	u->roles_loc.file = ps->file;
	u->roles_loc.line = e->line;
	u->roles_loc.col = e->vcol;
}

static const struct {
	const char *name;
	unsigned bit;
} parse_auth_names[] = {
	{ "publickey", POLICY_AUTH_PUBLICKEY },
	{ "password", POLICY_AUTH_PASSWORD },
	{ "pam", POLICY_AUTH_PAM },
	{ "totp", POLICY_AUTH_TOTP },
};

static void
parse_user_auth(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_user_def *u = obj;
	struct strlist w;
	size_t i, j;

	if (strlist_split(e->value, &w) != 0) {
		ps->nomem = 1;
		return;
	}
	u->user.auth = 0;
	for (i = 0; i < w.n; i++) {
		for (j = 0; j < 4 && strcmp(w.v[i], parse_auth_names[j].name) != 0; j++)
			;
		if (j == 4)
			PARSE_ERR(ps, e, "unknown auth method '%s': expected publickey, "
			    "password, pam and/or totp", w.v[i]);
		else
			u->user.auth |= parse_auth_names[j].bit;
	}
	strlist_free(&w);
	if (u->user.auth != 0 && (u->user.auth & ~POLICY_AUTH_TOTP) == 0)
		PARSE_ERR(ps, e, "auth '%s' has no first factor: add publickey, "
		    "password or pam (totp is a second factor)", e->value);
}

static void
parse_user_pubkey(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_user_def *u = obj;
	char *key, *comment, *full;
	size_t len;
	int r;

	if ((r = parse_ssh_key(e->value, &key, &comment)) == OTG_ERR_NOMEM) {
		ps->nomem = 1;
		return;
	}
	if (r != 0) {
		PARSE_ERR(ps, e, "bad pubkey: expected 'TYPE BASE64 [COMMENT]' as in "
		    "~/.ssh/id_ed25519.pub");
		return;
	}
	len = strlen(key) + (comment != NULL ? strlen(comment) + 1 : 0) + 1;
	if ((full = malloc(len)) == NULL) {
		ps->nomem = 1;
	} else {
		snprintf(full, len, "%s%s%s", key, comment != NULL ? " " : "",
		    comment != NULL ? comment : "");
		if (strlist_push(&u->user.pubkeys, full) != 0)
			ps->nomem = 1;
	}
	free(full);
	free(key);
	free(comment);
}

/* Is t's local date in zone tz after y-m-d? */
static int
parse_after_date(const struct tz *tz, time_t t, int y, int m, int d)
{
	struct tm tm;

	tz_localtime(tz, t, &tm);
	if (tm.tm_year + 1900 != y)
		return tm.tm_year + 1900 > y;
	if (tm.tm_mon + 1 != m)
		return tm.tm_mon + 1 > m;
	return tm.tm_mday > d;
}

/*
 * Valid through D 23:59:59 in the host's zone: expires at the first instant
 * whose local date is after D, found by bisection from D's noon so that a
 * DST change at midnight cannot fool it.
 */
static void
parse_user_expires(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_user_def *u = obj;
	struct tm tm;
	time_t lo, hi, mid;
	int y, m, d;

	if (value_date(e->value, &y, &m, &d) != 0) {
		PARSE_ERR(ps, e, "bad date '%s': expected YYYY-MM-DD", e->value);
		return;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	if (tz_mktime(ps->p->host, &tm, &lo) != 0) {
		tm.tm_hour = 14;
		if (tz_mktime(ps->p->host, &tm, &lo) != 0) {
			PARSE_ERR(ps, e, "date '%s' has no noon in the host's zone %s",
			    e->value, tz_name(ps->p->host));
			return;
		}
	}
	hi = lo + 2 * 86400;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (parse_after_date(ps->p->host, mid, y, m, d))
			hi = mid;
		else
			lo = mid;
	}
	u->user.expires = hi;
	u->expires_date = parse_strdup(ps, e->value);
}

static void
parse_user_disabled(struct parse *ps, void *obj, const struct ini_entry *e)
{
	if (value_bool(e->value, &((struct policy_user_def *)obj)->user.disabled) != 0)
		PARSE_ERR(ps, e, "bad disabled '%s': expected yes or no", e->value);
}

static const struct parse_key parse_user_keys[] = {
	{ "name", 0, parse_user_name },
	{ "company", 0, parse_user_company },
	{ "roles", 0, parse_user_roles },
	{ "auth", 0, parse_user_auth },
	{ "pubkey", 1, parse_user_pubkey },
	{ "expires", 0, parse_user_expires },
	{ "disabled", 0, parse_user_disabled },
	{ NULL, 0, NULL }
};

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

/* The candidate nearest to word within 2 edits, or NULL. */
static const char *
parse_near(const char *word, const char *const *cands, size_t n, size_t stride)
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
	near = parse_near(e->key, (const char *const *)(const void *)&keys[0].key, n,
	    sizeof(keys[0]));
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
	parse_entries(ps, "window", parse_window_keys, sec, &tmp);
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
	parse_entries(ps, "role", parse_role_keys, sec, &tmp);
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
	parse_set_loc(ps, &tmp.loc, sec);
	parse_entries(ps, "asset", parse_asset_keys, sec, &tmp.asset);
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
	parse_entries(ps, "user", parse_user_keys, sec, &tmp);
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

/* --- after the last file --- */

/* By name, then by order of appearance, so the later duplicate is reported. */
#define PARSE_CMP(type, field) \
static int \
parse_cmp_##type(const void *a, const void *b) \
{ \
	const struct type *x = a, *y = b; \
	int c = strcmp(x->field, y->field); \
\
	if (c != 0) \
		return c; \
	return x->loc.seq < y->loc.seq ? -1 : x->loc.seq > y->loc.seq; \
}
PARSE_CMP(policy_window, name)
PARSE_CMP(policy_role, name)
PARSE_CMP(policy_asset_def, asset.name)
PARSE_CMP(policy_user_def, user.name)

static void
parse_duplicate(struct diag *d, const char *kind, const char *name,
    const struct policy_loc *first, const struct policy_loc *again)
{
	diag_add(d, DIAG_ERROR, again->file, again->line, again->col,
	    "duplicate [%s %s] (first at %s:%u)", kind, name, first->file, first->line);
}

static int
parse_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct policy_window *
parse_find_window(const struct policy *p, const char *name)
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
parse_find_role(const struct policy *p, const char *name)
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
parse_suggest(char *out, size_t outsz, const char *word, const void *arr, size_t n,
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
parse_resolve_roles(struct policy *p, struct diag *d)
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
			if ((w = parse_find_window(p, r->window_names.v[j])) != NULL) {
				r->windows[j] = w;
				continue;
			}
			parse_suggest(hint, sizeof(hint), r->window_names.v[j],
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
parse_resolve_users(struct policy *p, struct diag *d)
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
			if ((r = parse_find_role(p, u->user.roles.v[j])) != NULL) {
				u->roles[j] = r;
				continue;
			}
			parse_suggest(hint, sizeof(hint), u->user.roles.v[j],
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
parse_check_selectors(const struct policy *p, const struct policy_role *r,
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
			    parse_cmp_str) != NULL;
		else
			hit = policy_asset(p, sel->v[i]) != NULL;
		if (!hit)
			diag_add(d, DIAG_WARNING, loc->file, loc->line, loc->col,
			    "selector '%s' in role %s matches no asset", sel->v[i],
			    r->name);
	}
}

static int
parse_check_all_selectors(const struct policy *p, struct diag *d)
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
		qsort(tags, ntags, sizeof(*tags), parse_cmp_str);
	for (i = 0; i < p->nroles; i++) {
		parse_check_selectors(p, &p->roles[i], &p->roles[i].assets,
		    &p->roles[i].assets_loc, tags, ntags, d);
		parse_check_selectors(p, &p->roles[i], &p->roles[i].deny,
		    &p->roles[i].deny_loc, tags, ntags, d);
	}
	free(tags);
	return 0;
}

int
parse_policy_finish(struct policy *p, struct diag *d)
{
	size_t i;
	int r;

	if (p->nwindows > 0)
		qsort(p->windows, p->nwindows, sizeof(*p->windows), parse_cmp_policy_window);
	if (p->nroles > 0)
		qsort(p->roles, p->nroles, sizeof(*p->roles), parse_cmp_policy_role);
	if (p->nassets > 0)
		qsort(p->assets, p->nassets, sizeof(*p->assets), parse_cmp_policy_asset_def);
	if (p->nusers > 0)
		qsort(p->users, p->nusers, sizeof(*p->users), parse_cmp_policy_user_def);
	for (i = 1; i < p->nwindows; i++)
		if (strcmp(p->windows[i].name, p->windows[i - 1].name) == 0)
			parse_duplicate(d, "window", p->windows[i].name,
			    &p->windows[i - 1].loc, &p->windows[i].loc);
	for (i = 1; i < p->nroles; i++)
		if (strcmp(p->roles[i].name, p->roles[i - 1].name) == 0)
			parse_duplicate(d, "role", p->roles[i].name, &p->roles[i - 1].loc,
			    &p->roles[i].loc);
	for (i = 1; i < p->nassets; i++)
		if (strcmp(p->assets[i].asset.name, p->assets[i - 1].asset.name) == 0)
			parse_duplicate(d, "asset", p->assets[i].asset.name,
			    &p->assets[i - 1].loc, &p->assets[i].loc);
	for (i = 1; i < p->nusers; i++)
		if (strcmp(p->users[i].user.name, p->users[i - 1].user.name) == 0)
			parse_duplicate(d, "user", p->users[i].user.name,
			    &p->users[i - 1].loc, &p->users[i].loc);
	if ((r = parse_resolve_roles(p, d)) != 0 ||
	    (r = parse_resolve_users(p, d)) != 0 ||
	    (r = parse_check_all_selectors(p, d)) != 0)
		return r;
	return 0;
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
