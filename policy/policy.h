/*
 * policy.h: the admin's policy (users, roles, assets, windows) and the access
 * decision. policy_load reads policy.conf and every policy.d/ *.conf beside it as
 * one policy, or nothing at all; policy_decide is pure (no I/O, no global TZ).
 * See packaging/man/otgate-policy.5 and DESIGN.md section 3.
 */
#ifndef OTGATE_POLICY_H
#define OTGATE_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/common.h"

enum policy_channel {
	POLICY_SHELL,
	POLICY_EXEC,
	POLICY_SFTP,
	POLICY_FORWARD,
	POLICY_NCHANNELS
};

enum policy_verdict {
	POLICY_ALLOW,
	POLICY_DENY,
	POLICY_NEEDS_APPROVAL
};

/* auth factors of a user, a bit each */
#define POLICY_AUTH_PUBLICKEY	0x01
#define POLICY_AUTH_PASSWORD	0x02
#define POLICY_AUTH_PAM		0x04
#define POLICY_AUTH_TOTP	0x08

struct policy_asset {
	char *name;
	char *address;		/* as written: numeric IP or host name */
	uint16_t port;		/* default 22 */
	char *login;
	char *credential;	/* vault entry name; default: the asset name */
	struct strlist hostkeys;	/* "type base64" each, comments stripped */
	struct strlist tags;	/* "key:value" each */
	uint16_t *forward;
	size_t nforward;
	unsigned max_sessions;	/* 0: no limit */
	int legacy_algorithms;	/* old kex/ciphers/MACs/ssh-rsa for old devices */
	int reuse;		/* warm connections: vendor channels share one login */
	uint64_t reuse_idle;	/* seconds an unused warm connection stays open */
};
#define POLICY_REUSE_IDLE_DEFAULT 300	/* 5m */
#define POLICY_REUSE_IDLE_MAX 86400	/* 1d */

struct policy_user {
	char *name;
	char *fullname;		/* "name =" key; may be NULL */
	char *company;		/* may be NULL */
	struct strlist roles;
	unsigned auth;		/* POLICY_AUTH_* bits */
	struct strlist pubkeys;	/* "type base64 [comment]" each */
	time_t expires;		/* first second no longer valid; 0: never */
	int disabled;
};

struct policy_decision {
	enum policy_verdict verdict;
	const char *role;	/* deciding role, NULL if none; owned by the policy */
	char reason[256];	/* human reason, e.g. "outside window weekdays (...)" */
	uint64_t max_session;	/* seconds, 0: no limit */
	uint64_t idle_timeout;	/* seconds, 0: no limit */
	int reason_required;	/* some allowing role has reason = required */
};

struct policy_menu_entry {
	const struct policy_asset *asset;
	struct policy_decision decision;
};

struct policy;

/* policy.c / parse.c */
/* Load path plus path's folder policy.d/ *.conf in name order. All problems go to
 * d; on any error *out is NULL and OTG_ERR_INVAL is returned. */
int policy_load(const char *path, struct diag *d, struct policy **out);
/* Load one in-memory text (tests and fuzzing); name is used in diagnostics. */
int policy_load_buffer(const char *name, const char *text, size_t len,
    struct diag *d, struct policy **out);
void policy_free(struct policy *p);
/* SHA-256 hex of the exact source text the policy was loaded from. */
const char *policy_hash(const struct policy *p);
/* The source text (all files concatenated, each preceded by a "# file: NAME" line). */
const char *policy_source(const struct policy *p, size_t *len);

const struct policy_user *policy_user(const struct policy *p, const char *name);
/* The factors logins start with, over every user: POLICY_AUTH_PUBLICKEY and/or
 * POLICY_AUTH_PASSWORD (a password or PAM first); PUBLICKEY for no user. What
 * the broker advertises, the same whatever user name is tried. */
unsigned policy_first_factors(const struct policy *p);
const struct policy_asset *policy_asset(const struct policy *p, const char *name);
/* The role's record-input: 1 (also for an unknown or NULL role), or 0. */
int policy_role_record_input(const struct policy *p, const char *role);
/* The role's sftp directions (POLICY_SFTP_* bits; both for an unknown or NULL
 * role) and max-file-size in bytes (0: no limit). */
#define POLICY_SFTP_READ 1u
#define POLICY_SFTP_WRITE 2u
void policy_role_sftp(const struct policy *p, const char *role, unsigned *dirs,
    uint64_t *max_file_size);
/* The Unix group whose members may approve the role's sessions (approvers =),
 * or NULL (also for an unknown or NULL role): any operator may. */
const char *policy_role_approvers(const struct policy *p, const char *role);
size_t policy_nassets(const struct policy *p);
const struct policy_asset *policy_asset_at(const struct policy *p, size_t i);	/* name order */
void policy_counts(const struct policy *p, size_t *users, size_t *roles,
    size_t *assets, size_t *windows);

/* Warn (in d) about assets whose numeric address lies outside the egress
 * networks; host names are checked by the broker when it resolves them. */
void policy_check_egress(const struct policy *p, const struct cidr *egress,
    size_t negress, struct diag *d);

/* decide.c */
/* Pure: may user do kind on asset at time now? Fills out; returns 0, or
 * OTG_ERR_INVAL for bad arguments. Unknown user or asset is a deny. */
int policy_decide(const struct policy *p, const char *user, const char *asset,
    enum policy_channel kind, time_t now, struct policy_decision *out);
/* Every asset that some role of user selects, in name order, with its decision
 * for a shell at now. *out is malloc'd; free it. */
int policy_assets_for(const struct policy *p, const char *user, time_t now,
    struct policy_menu_entry **out, size_t *n);

const char *policy_channel_name(enum policy_channel kind);
int policy_channel_parse(const char *s, enum policy_channel *out);
const char *policy_verdict_name(enum policy_verdict v);	/* allow deny needs-approval */

/* dump.c: canonical text; two equivalent policies dump the same. */
int policy_dump(const struct policy *p, FILE *fp);

/*
 * Internals shared by the files of policy/ (parse.c, keys.c, resolve.c,
 * window.c, decide.c, dump.c); other components use only the functions above.
 */
struct policy_loc {
	const char *file;	/* owned by the policy */
	unsigned line, col;
	size_t seq;		/* order of the section across all files */
};

struct policy_window {
	char *name;
	uint8_t days;		/* bit d: opens on weekday d (0 = sunday) */
	unsigned start, end;	/* minutes after midnight; end <= start: crosses midnight */
	char *zone;		/* as written; NULL: the host's zone */
	const struct tz *tz;	/* resolved at load, owned by the policy */
	struct policy_loc loc;
};

struct policy_role {
	char *name;
	struct strlist assets;	/* selectors: NAME, key:value or * */
	struct strlist deny;
	unsigned allow;		/* bit (1 << enum policy_channel) each */
	struct strlist window_names;
	const struct policy_window **windows;	/* resolved window_names */
	int approval;		/* approval = required */
	char *approvers;	/* approvers = GROUP: who may approve; NULL: any operator */
	int reason;		/* reason = required */
	uint64_t max_session, idle_timeout;	/* seconds, 0: no limit */
	int record_input;	/* record-input: the vendor's keystrokes too (default) */
	unsigned sftp;		/* sftp = read write: POLICY_SFTP_* bits, default both */
	uint64_t max_file_size;	/* bytes an sftp write may reach, 0: no limit */
	struct policy_loc loc, assets_loc, deny_loc, window_loc;
};

struct policy_asset_def {
	struct policy_asset asset;
	struct policy_loc loc;
};

struct policy_user_def {
	struct policy_user user;
	char *expires_date;	/* "YYYY-MM-DD" as the reason and dump show it */
	const struct policy_role **roles;	/* resolved user.roles */
	struct policy_loc loc, roles_loc;
};

struct policy {
	char *source;
	size_t source_len;
	char hash[65];
	struct strlist files;	/* every file name a loc points to */
	struct tz *host;	/* the host's zone, for expiry and windows without one */
	struct tz **zones;	/* every other zone named, loaded once */
	size_t nzones;
	struct policy_window *windows;	/* each array sorted by name */
	size_t nwindows;
	struct policy_role *roles;
	size_t nroles;
	struct policy_asset_def *assets;
	size_t nassets;
	struct policy_user_def *users;
	size_t nusers;
};

/* policy.c */
const struct policy_user_def *policy_user_def(const struct policy *p, const char *name);

/* parse.c: the sections of one parsed file into p; problems to d. */
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
int parse_policy_ini(struct policy *p, const struct ini *ini, struct diag *d);
void parse_policy_free(struct policy *p);
char *parse_strdup(struct parse *ps, const char *s);	/* sets ps->nomem */
/* The name nearest to word within 2 edits among n names found at cands,
 * stride bytes apart; NULL if none is that near. */
const char *parse_near(const char *word, const void *cands, size_t n, size_t stride);

/* keys.c: each section kind's keys, ended by a NULL key */
extern const struct parse_key keys_window[], keys_role[], keys_asset[], keys_user[];

/* resolve.c: after every file: sort, find duplicates, resolve references, warn. */
int resolve_policy(struct policy *p, struct diag *d);

/* window.c: days, time and the pure "is t inside" test */
int window_parse_days(const char *s, uint8_t *days);
int window_parse_time(const char *s, unsigned *start, unsigned *end);
/* "mon-fri 07:00-18:00 Europe/Rome" */
void window_describe(const struct policy_window *w, char *out, size_t outsz);
void window_days_text(uint8_t days, char *out, size_t outsz);
void window_time_text(const struct policy_window *w, char *out, size_t outsz);
int window_contains(const struct policy_window *w, time_t t);

#endif
