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
};

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
const struct policy_asset *policy_asset(const struct policy *p, const char *name);
size_t policy_nassets(const struct policy *p);
const struct policy_asset *policy_asset_at(const struct policy *p, size_t i);	/* name order */
void policy_counts(const struct policy *p, size_t *users, size_t *roles,
    size_t *assets, size_t *windows);

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

#endif
