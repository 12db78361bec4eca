/*
 * conf.c: otgated.conf, the daemon's settings (DESIGN.md section 8). A table
 * names every key with its parser and default; unknown keys, bad values and
 * repeated keys are errors with their line and column. Relative paths are
 * taken from the config file's folder, so a test or demo tree can be moved.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

enum conf_type { CONF_PATH, CONF_PATHS, CONF_STRING, CONF_LISTEN, CONF_EGRESS, CONF_STARTUPS,
	CONF_UINT, CONF_FAILURES, CONF_DURATION, CONF_SIEM, CONF_SECCOMP, CONF_BOOL };

struct conf_key {
	const char *key;
	enum conf_type type;
	size_t offset;		/* into struct conf */
	const char *def;	/* default, NULL for none */
	int repeat;		/* may appear several times */
};

/* siem-format values, in the order of the broker's enum siem_format */
static const char *const conf_siem[] = { "json", "rfc5424", "cef" };
/* seccomp values, in the order of the broker's enum sandbox_mode */
static const char *const conf_seccomp[] = { "enforce", "log", "off" };

#define CONF_OFF(f) offsetof(struct conf, f)
static const struct conf_key conf_keys[] = {
	{ "listen", CONF_LISTEN, CONF_OFF(listen), "127.0.0.1:2222", 1 },
	{ "hostkey", CONF_PATH, CONF_OFF(hostkey), "/etc/otgate/ssh_host_ed25519_key", 0 },
	{ "policy", CONF_PATH, CONF_OFF(policy), "/etc/otgate/policy.conf", 0 },
	{ "vault", CONF_PATH, CONF_OFF(vault), "/etc/otgate/vault", 0 },
	{ "state", CONF_PATH, CONF_OFF(state), "/var/lib/otgate", 0 },
	{ "audit-log", CONF_PATH, CONF_OFF(audit_log), "/var/log/otgate/audit.log", 0 },
	{ "control", CONF_PATH, CONF_OFF(control), "/run/otgate/control.sock", 0 },
	{ "egress", CONF_EGRESS, 0, NULL, 1 },
	{ "user", CONF_STRING, CONF_OFF(user), NULL, 0 },
	{ "banner", CONF_PATH, CONF_OFF(banner), NULL, 0 },
	{ "max-startups", CONF_STARTUPS, 0, "10:30:100", 0 },
	{ "max-startups-per-source", CONF_UINT, CONF_OFF(startups_per_source), "10", 0 },
	{ "login-grace", CONF_DURATION, CONF_OFF(login_grace), "30s", 0 },
	{ "connect-timeout", CONF_DURATION, CONF_OFF(connect_timeout), "10s", 0 },
	{ "keepalive", CONF_DURATION, CONF_OFF(keepalive), "30s", 0 },
	{ "mfa-grace", CONF_DURATION, CONF_OFF(mfa_grace), "0", 0 },
	{ "max-auth-failures", CONF_FAILURES, CONF_OFF(max_auth_failures), "5", 0 },
	{ "lockout", CONF_DURATION, CONF_OFF(lockout), "15m", 0 },
	{ "siem-format", CONF_SIEM, CONF_OFF(siem_format), "json", 0 },
	{ "recording-retention", CONF_DURATION, CONF_OFF(recording_retention), "400d", 0 },
	{ "recording-recipient", CONF_PATHS, CONF_OFF(recording_recipient), NULL, 1 },
	{ "approval-timeout", CONF_DURATION, CONF_OFF(approval_timeout), "10m", 0 },
	{ "on-request", CONF_PATH, CONF_OFF(on_request), NULL, 0 },
	{ "seccomp", CONF_SECCOMP, CONF_OFF(seccomp), "enforce", 0 },
	{ "announce-watch", CONF_BOOL, CONF_OFF(announce_watch), "yes", 0 },
};
#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static int
conf_path_value(const struct conf *c, const char *value, char **out)
{
	char dirbuf[PATH_MAX];
	const char *dir;
	size_t len;

	if (value[0] == '/' || c->path == NULL) {
		*out = strdup(value);
	} else {
		snprintf(dirbuf, sizeof(dirbuf), "%s", c->path);
		dir = dirname(dirbuf);
		len = strlen(dir) + 1 + strlen(value) + 1;
		if ((*out = malloc(len)) != NULL)
			snprintf(*out, len, "%s/%s", dir, value);
	}
	return *out == NULL ? OTG_ERR_NOMEM : 0;
}

/* host:port or [v6]:port, numeric host, port required */
static int
conf_listen_ok(const char *s)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned char addr[16];
	uint16_t port;
	size_t n;

	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL || (n = (size_t)(colon - s - 1)) >= sizeof(host))
			return 0;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		return inet_pton(AF_INET6, host, addr) == 1 && value_port(colon + 2, &port) == 0;
	}
	colon = strrchr(s, ':');
	if (colon == NULL || (n = (size_t)(colon - s)) >= sizeof(host))
		return 0;
	memcpy(host, s, n);
	host[n] = '\0';
	return inet_pton(AF_INET, host, addr) == 1 && value_port(colon + 1, &port) == 0;
}

static int
conf_startups(struct conf *c, const char *v)
{
	unsigned a, b, f;
	char tail;

	if (sscanf(v, "%u:%u:%u%c", &a, &b, &f, &tail) != 3 || a == 0 || b > 100 ||
	    f < a)
		return OTG_ERR_INVAL;
	c->startups_begin = a;
	c->startups_rate = b;
	c->startups_full = f;
	return 0;
}

static int
conf_egress(struct conf *c, const char *v, const char **bad)
{
	struct strlist words;
	struct cidr *list;
	size_t i;
	int r = 0;

	if ((r = strlist_split(v, &words)) != 0)
		return r;
	for (i = 0; i < words.n && r == 0; i++) {
		list = realloc(c->egress, (c->negress + 1) * sizeof(*list));
		if (list == NULL) {
			r = OTG_ERR_NOMEM;
			break;
		}
		c->egress = list;
		if (cidr_parse(words.v[i], &c->egress[c->negress]) != 0) {
			*bad = v + (strstr(v, words.v[i]) - v);
			r = OTG_ERR_INVAL;
			break;
		}
		c->negress++;
	}
	strlist_free(&words);
	return r;
}

/* Apply one value; on a bad value write what was expected to expect. */
static int
conf_apply(struct conf *c, const struct conf_key *k, const char *v,
    const char **expect)
{
	void *field = (char *)c + k->offset;
	struct strlist words;
	const char *bad = NULL;
	uint64_t n;
	size_t i;
	int r;

	switch (k->type) {
	case CONF_PATH:
		if (v[0] == '\0') {
			*expect = "a path";
			return OTG_ERR_INVAL;
		}
		free(*(char **)field);
		return conf_path_value(c, v, (char **)field);
	case CONF_PATHS:
		if ((r = strlist_split(v, &words)) != 0)
			return r;
		for (i = 0; i < words.n && r == 0; i++) {
			char *path;

			if ((r = conf_path_value(c, words.v[i], &path)) == 0) {
				r = strlist_push((struct strlist *)field, path);
				free(path);
			}
		}
		if (words.n == 0) {
			*expect = "one or more paths";
			r = OTG_ERR_INVAL;
		}
		strlist_free(&words);
		return r;
	case CONF_STRING:
		if (!value_name_ok(v)) {
			*expect = "a user name";
			return OTG_ERR_INVAL;
		}
		free(*(char **)field);
		return (*(char **)field = strdup(v)) == NULL ? OTG_ERR_NOMEM : 0;
	case CONF_LISTEN:
		if ((r = strlist_split(v, &words)) != 0)
			return r;
		for (i = 0; i < words.n && r == 0; i++) {
			if (!conf_listen_ok(words.v[i])) {
				*expect = "ADDRESS:PORT or [IPV6]:PORT with a numeric address";
				r = OTG_ERR_INVAL;
			} else {
				r = strlist_push(&c->listen, words.v[i]);
			}
		}
		if (words.n == 0) {
			*expect = "ADDRESS:PORT";
			r = OTG_ERR_INVAL;
		}
		strlist_free(&words);
		return r;
	case CONF_EGRESS:
		if ((r = conf_egress(c, v, &bad)) == OTG_ERR_INVAL)
			*expect = "networks as ADDRESS/BITS, e.g. 10.0.0.0/8 fd00::/8";
		return r;
	case CONF_STARTUPS:
		*expect = "START:RATE:FULL, e.g. 10:30:100 (rate in percent)";
		return conf_startups(c, v);
	case CONF_UINT:
		*expect = "a whole number from 1 to 100000";
		if (value_uint(v, 100000, &n) != 0 || n == 0)
			return OTG_ERR_INVAL;
		*(unsigned *)field = (unsigned)n;
		return 0;
	case CONF_FAILURES:
		*expect = "a whole number from 1 to 32";
		if (value_uint(v, 32, &n) != 0 || n == 0)
			return OTG_ERR_INVAL;
		*(unsigned *)field = (unsigned)n;
		return 0;
	case CONF_DURATION:
		*expect = "a duration such as 30s, 15m, 2h or 7d";
		return value_duration(v, (uint64_t *)field);
	case CONF_SIEM:
		*expect = "json, rfc5424 or cef";
		for (i = 0; i < sizeof(conf_siem) / sizeof(conf_siem[0]); i++) {
			if (strcmp(v, conf_siem[i]) == 0) {
				*(int *)field = (int)i;
				return 0;
			}
		}
		return OTG_ERR_INVAL;
	case CONF_BOOL:
		*expect = "yes or no";
		return value_bool(v, (int *)field);
	case CONF_SECCOMP:
		*expect = "enforce, log or off";
		for (i = 0; i < sizeof(conf_seccomp) / sizeof(conf_seccomp[0]); i++) {
			if (strcmp(v, conf_seccomp[i]) == 0) {
				*(int *)field = (int)i;
				return 0;
			}
		}
		return OTG_ERR_INVAL;
	}
	return OTG_ERR_INVAL;
}

static int
conf_defaults(struct conf *c)
{
	const char *expect;
	size_t i;
	int r;

	for (i = 0; i < CONF_NKEYS; i++) {
		if (conf_keys[i].def == NULL)
			continue;
		/* absolute defaults: do not resolve against the config's folder */
		if ((r = conf_apply(c, &conf_keys[i], conf_keys[i].def, &expect)) != 0)
			return r;
	}
	return 0;
}

static const struct conf_key *
conf_find(const char *key)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (strcmp(conf_keys[i].key, key) == 0)
			return &conf_keys[i];
	return NULL;
}

static void
conf_unknown(struct diag *d, const struct ini_entry *e, const char *file)
{
	char list[1024] = "";
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++) {
		strncat(list, i ? " " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, conf_keys[i].key, sizeof(list) - strlen(list) - 1);
	}
	diag_add(d, DIAG_ERROR, file, e->line, e->col,
	    "unknown key '%s' (expected one of: %s)", e->key, list);
}

static void
conf_check_entries(struct conf *c, const struct ini *ini, struct diag *d)
{
	const struct ini_section *top = &ini->sections[0];
	unsigned seen[CONF_NKEYS] = { 0 }, first[CONF_NKEYS] = { 0 };
	const struct conf_key *k;
	const char *expect = "";
	size_t i;
	int r;

	for (i = 0; i < top->n; i++) {
		const struct ini_entry *e = &top->entries[i];

		if ((k = conf_find(e->key)) == NULL) {
			conf_unknown(d, e, ini->file);
			continue;
		}
		if (seen[k - conf_keys]++ && !k->repeat) {
			diag_add(d, DIAG_ERROR, ini->file, e->line, e->col,
			    "'%s' given twice (first on line %u)", e->key, first[k - conf_keys]);
			continue;
		}
		first[k - conf_keys] = e->line;
		/* the first listen line replaces the default */
		if (k->type == CONF_LISTEN && seen[k - conf_keys] == 1)
			strlist_free(&c->listen);
		if ((r = conf_apply(c, k, e->value, &expect)) == OTG_ERR_NOMEM) {
			diag_add(d, DIAG_ERROR, ini->file, e->line, e->vcol, "out of memory");
		} else if (r != 0) {
			diag_add(d, DIAG_ERROR, ini->file, e->line, e->vcol,
			    "bad value for '%s': expected %s", e->key, expect);
		}
	}
	/* sections come after every top-level key, so this keeps line order */
	for (i = 1; i < ini->n; i++)
		diag_add(d, DIAG_ERROR, ini->file, ini->sections[i].line,
		    ini->sections[i].col, "otgated.conf has no sections, expected 'key = value'");
	if (c->negress == 0)
		diag_add(d, DIAG_WARNING, ini->file, 0, 0,
		    "no 'egress' networks: no asset can be reached");
}

int
conf_load(const char *path, struct diag *d, struct conf **out)
{
	struct conf *c;
	struct ini *ini = NULL;
	char *text = NULL;
	size_t len, before = d->nerrors;
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OTG_ERR_NOMEM;
	if ((r = conf_defaults(c)) != 0)
		goto out;
	if ((c->path = strdup(path)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	if ((r = file_read(path, INI_MAX_FILE, &text, &len)) != 0) {
		diag_add(d, DIAG_ERROR, path, 0, 0, "cannot read: %s",
		    r == OTG_ERR_IO || r == OTG_ERR_NOTFOUND ? strerror(errno) :
		    otg_strerror(r));
		r = OTG_ERR_INVAL;
		goto out;
	}
	if ((r = ini_parse(path, text, len, d, &ini)) == OTG_ERR_NOMEM)
		goto out;
	conf_check_entries(c, ini, d);
	r = d->nerrors > before ? OTG_ERR_INVAL : 0;
out:
	ini_free(ini);
	free(text);
	if (r != 0) {
		conf_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	strlist_free(&c->listen);
	free(c->hostkey);
	free(c->policy);
	free(c->vault);
	free(c->state);
	free(c->audit_log);
	free(c->control);
	free(c->egress);
	free(c->user);
	free(c->banner);
	strlist_free(&c->recording_recipient);
	free(c->on_request);
	free(c);
}

const char *
conf_default_path(const char *arg)
{
	const char *env;

	if (arg != NULL)
		return arg;
	if ((env = getenv("OTGATE_CONF")) != NULL && env[0] != '\0')
		return env;
	return CONF_DEFAULT_PATH;
}
