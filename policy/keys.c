/*
 * keys.c: the keys of each section kind and what their values may be. Every
 * value is checked where it is written, with a message that names what was
 * expected; a key table per kind is all parse.c needs to know.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/policy.h"

static void
keys_split(struct parse *ps, const char *s, struct strlist *out)
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
keys_selector_ok(const char *s)
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
keys_ssh_key(const char *s, char **out, char **comment)
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
keys_window_days(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_window *w = obj;

	if (window_parse_days(e->value, &w->days) != 0)
		PARSE_ERR(ps, e, "bad days '%s': expected days mon tue wed thu fri sat "
		    "sun and ranges, as in 'mon-fri' or 'fri-mon sat'", e->value);
}

static void
keys_window_time(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_window *w = obj;

	if (window_parse_time(e->value, &w->start, &w->end) != 0)
		PARSE_ERR(ps, e, "bad time '%s': expected HH:MM-HH:MM, as in "
		    "'07:00-18:00' or '22:00-06:00' across midnight", e->value);
}

static const struct tz *
keys_zone(struct parse *ps, const char *name)
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
keys_window_timezone(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_window *w = obj;

	if ((w->tz = keys_zone(ps, e->value)) == NULL) {
		PARSE_ERR(ps, e, "unknown timezone '%s': expected an IANA zone such as "
		    "'Europe/Rome' or 'UTC'", e->value);
		return;
	}
	w->zone = parse_strdup(ps, e->value);
}

const struct parse_key keys_window[] = {
	{ "days", 0, keys_window_days },
	{ "time", 0, keys_window_time },
	{ "timezone", 0, keys_window_timezone },
	{ NULL, 0, NULL }
};

/* --- [role NAME] --- */

static void
keys_selectors(struct parse *ps, const struct ini_entry *e, struct strlist *out,
    struct policy_loc *loc)
{
	size_t i, before = out->n;

	keys_split(ps, e->value, out);
	for (i = before; i < out->n; i++)
		if (!keys_selector_ok(out->v[i]))
			PARSE_ERR(ps, e, "bad selector '%s': expected an asset name, a "
			    "tag as key:value, or *", out->v[i]);
	loc->file = ps->file;
	loc->line = e->line;
	loc->col = e->vcol;
}

static void
keys_role_assets(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_role *r = obj;

	keys_selectors(ps, e, &r->assets, &r->assets_loc);
}

static void
keys_role_deny(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_role *r = obj;

	keys_selectors(ps, e, &r->deny, &r->deny_loc);
}

static void
keys_role_allow(struct parse *ps, void *obj, const struct ini_entry *e)
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
keys_role_window(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_role *r = obj;
	size_t i, before = r->window_names.n;

	keys_split(ps, e->value, &r->window_names);
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
keys_required(struct parse *ps, const struct ini_entry *e, int *out)
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
keys_role_approval(struct parse *ps, void *obj, const struct ini_entry *e)
{
	keys_required(ps, e, &((struct policy_role *)obj)->approval);
}

/* A Unix group name as useradd(8) takes it; the group need not exist here. */
static void
keys_role_approvers(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_role *r = obj;
	size_t n = strspn(e->value, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	if (e->value[n] != '\0' || n == 0 || n > 32 || e->value[0] == '-' ||
	    (e->value[0] >= '0' && e->value[0] <= '9')) {
		PARSE_ERR(ps, e, "bad approvers '%s': expected one Unix group name",
		    e->value);
		return;
	}
	free(r->approvers);
	if ((r->approvers = strdup(e->value)) == NULL)
		PARSE_ERR(ps, e, "out of memory");
}

static void
keys_role_reason(struct parse *ps, void *obj, const struct ini_entry *e)
{
	keys_required(ps, e, &((struct policy_role *)obj)->reason);
}

static void
keys_duration(struct parse *ps, const struct ini_entry *e, uint64_t *out)
{
	if (value_duration(e->value, out) != 0)
		PARSE_ERR(ps, e, "bad duration '%s' for %s: expected a number with a "
		    "unit s, m, h or d, as in 90s 15m 2h 7d (at most 100 years)",
		    e->value, e->key);
}

static void
keys_role_max_session(struct parse *ps, void *obj, const struct ini_entry *e)
{
	keys_duration(ps, e, &((struct policy_role *)obj)->max_session);
}

static void
keys_role_idle_timeout(struct parse *ps, void *obj, const struct ini_entry *e)
{
	keys_duration(ps, e, &((struct policy_role *)obj)->idle_timeout);
}

static void
keys_role_record_input(struct parse *ps, void *obj, const struct ini_entry *e)
{
	if (value_bool(e->value, &((struct policy_role *)obj)->record_input) != 0)
		PARSE_ERR(ps, e, "bad record-input '%s': expected yes or no", e->value);
}

/* sftp = read write: the directions a role's sftp channels may carry; none
 * allows listings and nothing else. */
static void
keys_role_sftp(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_role *r = obj;
	struct strlist w;
	size_t i;

	if (strlist_split(e->value, &w) != 0) {
		ps->nomem = 1;
		return;
	}
	r->sftp = 0;
	for (i = 0; i < w.n; i++) {
		if (strcmp(w.v[i], "read") == 0)
			r->sftp |= POLICY_SFTP_READ;
		else if (strcmp(w.v[i], "write") == 0)
			r->sftp |= POLICY_SFTP_WRITE;
		else if (strcmp(w.v[i], "none") != 0 || w.n != 1)
			PARSE_ERR(ps, e, "unknown sftp direction '%s': expected read, "
			    "write, both, or none alone", w.v[i]);
	}
	strlist_free(&w);
}

/* max-file-size = 100M: a number of bytes with an optional K, M, G or T
 * (powers of 1024); 0 means no limit. */
static void
keys_role_max_file_size(struct parse *ps, void *obj, const struct ini_entry *e)
{
	static const char units[] = "KMGT";
	struct policy_role *r = obj;
	char num[32];
	const char *u;
	size_t len = strlen(e->value);
	uint64_t n, mult = 1;

	if (len > 0 && len < sizeof(num) && (u = strchr(units, e->value[len - 1])) != NULL &&
	    *u != '\0') {
		mult = 1ull << (10 * (u - units + 1));
		len--;
	}
	if (len == 0 || len >= sizeof(num)) {
		PARSE_ERR(ps, e, "bad max-file-size '%s': expected bytes, as in 500M or 2G",
		    e->value);
		return;
	}
	memcpy(num, e->value, len);
	num[len] = '\0';
	if (value_uint(num, UINT64_MAX / mult, &n) != 0) {
		PARSE_ERR(ps, e, "bad max-file-size '%s': expected bytes, as in 500M or 2G",
		    e->value);
		return;
	}
	r->max_file_size = n * mult;
}

const struct parse_key keys_role[] = {
	{ "assets", 0, keys_role_assets },
	{ "deny", 0, keys_role_deny },
	{ "allow", 0, keys_role_allow },
	{ "window", 1, keys_role_window },
	{ "approval", 0, keys_role_approval },
	{ "approvers", 0, keys_role_approvers },
	{ "reason", 0, keys_role_reason },
	{ "max-session", 0, keys_role_max_session },
	{ "idle-timeout", 0, keys_role_idle_timeout },
	{ "record-input", 0, keys_role_record_input },
	{ "sftp", 0, keys_role_sftp },
	{ "max-file-size", 0, keys_role_max_file_size },
	{ NULL, 0, NULL }
};

/* --- [asset NAME] --- */

/* A numeric address or a DNS host name; resolving is the broker's business. */
static int
keys_address_ok(const char *s)
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
keys_asset_address(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;

	if (!keys_address_ok(e->value)) {
		PARSE_ERR(ps, e, "bad address '%s': expected an IP address or a host "
		    "name", e->value);
		return;
	}
	a->address = parse_strdup(ps, e->value);
}

static void
keys_asset_port(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;

	if (value_port(e->value, &a->port) != 0)
		PARSE_ERR(ps, e, "bad port '%s': expected a number from 1 to 65535",
		    e->value);
}

static void
keys_asset_login(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;
	const char *c;

	/* an account name on the asset: no spaces, nothing a shell would read */
	for (c = e->value; *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-' ||
		    *c == '@' || *c == '\\') || c - e->value >= 64) {
			PARSE_ERR(ps, e, "bad login '%s': expected an account name of "
			    "letters, digits, '.', '_', '-', '@' and backslash (at most 64)", e->value);
			return;
		}
	}
	a->login = parse_strdup(ps, e->value);
}

static void
keys_asset_credential(struct parse *ps, void *obj, const struct ini_entry *e)
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
keys_asset_hostkey(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;
	char *key, *comment;
	int r;

	if ((r = keys_ssh_key(e->value, &key, &comment)) == OTG_ERR_NOMEM) {
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
keys_asset_tags(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_asset *a = obj;
	size_t i, j;

	keys_split(ps, e->value, &a->tags);
	for (i = 0; i < a->tags.n; i++) {
		if (strchr(a->tags.v[i], ':') == NULL || !keys_selector_ok(a->tags.v[i]))
			PARSE_ERR(ps, e, "bad tag '%s': expected key:value, as in "
			    "zone:cell-3", a->tags.v[i]);
		for (j = 0; j < i; j++)
			if (strcmp(a->tags.v[i], a->tags.v[j]) == 0)
				PARSE_ERR(ps, e, "duplicate tag '%s'", a->tags.v[i]);
	}
}

static void
keys_asset_forward(struct parse *ps, void *obj, const struct ini_entry *e)
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
keys_asset_max_sessions(struct parse *ps, void *obj, const struct ini_entry *e)
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

static void
keys_asset_legacy_algorithms(struct parse *ps, void *obj, const struct ini_entry *e)
{
	if (value_bool(e->value, &((struct policy_asset *)obj)->legacy_algorithms) != 0)
		PARSE_ERR(ps, e, "bad legacy-algorithms '%s': expected yes or no",
		    e->value);
}

static void
keys_asset_reuse(struct parse *ps, void *obj, const struct ini_entry *e)
{
	if (value_bool(e->value, &((struct policy_asset *)obj)->reuse) != 0)
		PARSE_ERR(ps, e, "bad reuse '%s': expected yes or no", e->value);
}

static void
keys_asset_reuse_idle(struct parse *ps, void *obj, const struct ini_entry *e)
{
	uint64_t v;

	if (value_duration(e->value, &v) != 0 || v == 0 || v > POLICY_REUSE_IDLE_MAX) {
		PARSE_ERR(ps, e, "bad reuse-idle '%s': expected a duration from 1s to "
		    "1d, as in 90s or 5m", e->value);
		return;
	}
	((struct policy_asset *)obj)->reuse_idle = v;
}

const struct parse_key keys_asset[] = {
	{ "address", 0, keys_asset_address },
	{ "port", 0, keys_asset_port },
	{ "login", 0, keys_asset_login },
	{ "credential", 0, keys_asset_credential },
	{ "hostkey", 1, keys_asset_hostkey },
	{ "tags", 0, keys_asset_tags },
	{ "forward", 0, keys_asset_forward },
	{ "max-sessions", 0, keys_asset_max_sessions },
	{ "legacy-algorithms", 0, keys_asset_legacy_algorithms },
	{ "reuse", 0, keys_asset_reuse },
	{ "reuse-idle", 0, keys_asset_reuse_idle },
	{ NULL, 0, NULL }
};

/* --- [user NAME] --- */

/* Free text shown to operators and auditors: printable, one line. */
static void
keys_text(struct parse *ps, const struct ini_entry *e, char **out)
{
	if (strlen(e->value) > 200) {
		PARSE_ERR(ps, e, "%s is too long (at most 200 bytes)", e->key);
		return;
	}
	*out = parse_strdup(ps, e->value);
}

static void
keys_user_name(struct parse *ps, void *obj, const struct ini_entry *e)
{
	keys_text(ps, e, &((struct policy_user_def *)obj)->user.fullname);
}

static void
keys_user_company(struct parse *ps, void *obj, const struct ini_entry *e)
{
	keys_text(ps, e, &((struct policy_user_def *)obj)->user.company);
}

static void
keys_user_roles(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_user_def *u = obj;
	size_t i, j;

	keys_split(ps, e->value, &u->user.roles);
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
} keys_auth_names[] = {
	{ "publickey", POLICY_AUTH_PUBLICKEY },
	{ "password", POLICY_AUTH_PASSWORD },
	{ "pam", POLICY_AUTH_PAM },
	{ "totp", POLICY_AUTH_TOTP },
};

static void
keys_user_auth(struct parse *ps, void *obj, const struct ini_entry *e)
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
		for (j = 0; j < 4 && strcmp(w.v[i], keys_auth_names[j].name) != 0; j++)
			;
		if (j == 4)
			PARSE_ERR(ps, e, "unknown auth method '%s': expected publickey, "
			    "password, pam and/or totp", w.v[i]);
		else
			u->user.auth |= keys_auth_names[j].bit;
	}
	strlist_free(&w);
	if (u->user.auth != 0 && (u->user.auth & ~POLICY_AUTH_TOTP) == 0)
		PARSE_ERR(ps, e, "auth '%s' has no first factor: add publickey, "
		    "password or pam (totp is a second factor)", e->value);
}

static void
keys_user_pubkey(struct parse *ps, void *obj, const struct ini_entry *e)
{
	struct policy_user_def *u = obj;
	char *key, *comment, *full;
	size_t len;
	int r;

	if ((r = keys_ssh_key(e->value, &key, &comment)) == OTG_ERR_NOMEM) {
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
keys_after_date(const struct tz *tz, time_t t, int y, int m, int d)
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
keys_user_expires(struct parse *ps, void *obj, const struct ini_entry *e)
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
		if (keys_after_date(ps->p->host, mid, y, m, d))
			hi = mid;
		else
			lo = mid;
	}
	u->user.expires = hi;
	u->expires_date = parse_strdup(ps, e->value);
}

static void
keys_user_disabled(struct parse *ps, void *obj, const struct ini_entry *e)
{
	if (value_bool(e->value, &((struct policy_user_def *)obj)->user.disabled) != 0)
		PARSE_ERR(ps, e, "bad disabled '%s': expected yes or no", e->value);
}

const struct parse_key keys_user[] = {
	{ "name", 0, keys_user_name },
	{ "company", 0, keys_user_company },
	{ "roles", 0, keys_user_roles },
	{ "auth", 0, keys_user_auth },
	{ "pubkey", 1, keys_user_pubkey },
	{ "expires", 0, keys_user_expires },
	{ "disabled", 0, keys_user_disabled },
	{ NULL, 0, NULL }
};

