/*
 * report.h: NIS2 incident evidence. `otgate report incident` gathers what the
 * broker recorded about a time range (audit events, recordings with their
 * seals, the policies in force) into a bundle a CSIRT can check on its own:
 * every file is listed in MANIFEST.sha256, which the recording key signs in
 * OpenSSH's SSHSIG format. `otgate report access` is the periodic access
 * review. Sections by file.
 */
#ifndef OTGATE_REPORT_H
#define OTGATE_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/common.h"
#include "recorder/recorder.h"

/* sshsig.c: OpenSSH signatures (PROTOCOL.sshsig) by an Ed25519 key, armoured
 * as "-----BEGIN SSH SIGNATURE-----", so `ssh-keygen -Y verify` checks them. */
#define SSHSIG_NAMESPACE "otgate-report"
/* Sign msg with pkey (an Ed25519 EVP_PKEY *) under namespace; the armoured
 * text (ending in a newline) is appended to out. */
int sshsig_sign(void *pkey, const char *ns, const void *msg, size_t len, struct buf *out);
/* Check an armoured signature over msg under namespace: 0 with the signer's
 * raw public key in pub; OTG_ERR_PROTO when it is not SSHSIG, OTG_ERR_BADSIG
 * when it does not verify or names another namespace. */
int sshsig_verify(const char *armoured, size_t alen, const char *ns, const void *msg,
    size_t len, uint8_t pub[REC_ED25519_LEN]);
/* "ssh-ed25519 BASE64" of a raw public key, as allowed_signers wants it. */
int sshsig_pubkey_line(const uint8_t pub[REC_ED25519_LEN], struct buf *out);

/* scope.c: which audit events an incident report covers. Time always; then
 * assets, users and a source network, each when given. An event that names no
 * user, asset or source (policy.reload, control.command) is context and
 * stays in whenever its time does. A connection (conn) belongs to the scope
 * when one of its events does, so its login and its sessions come along. */
#define SCOPE_MAX_NAMES 64
struct scope {
	time_t since, until;	/* [since, until] inclusive, in Unix seconds */
	const char *assets[SCOPE_MAX_NAMES];
	size_t nassets;
	const char *users[SCOPE_MAX_NAMES];
	size_t nusers;
	struct cidr src;
	int has_src;
};
/* One audit line, parsed. Strings point into j (or are ""). */
struct scope_event {
	char *line;		/* the line as written, without its newline */
	struct json *j;
	time_t ts;
	int ts_ms;
	const char *event, *user, *asset, *src, *conn, *session;
};
/* "2026-11-23T14:00:00.123Z" to Unix seconds and milliseconds. */
int scope_ts_parse(const char *s, time_t *t, int *ms);
/* Parse one line into ev (it takes a copy of the line). OTG_ERR_PROTO when
 * it is not an audit event with a valid ts. */
int scope_event_parse(const char *line, size_t len, struct scope_event *ev);
void scope_event_free(struct scope_event *ev);
/* The user part of a login name "alice+plc1" / "alice:plc1" into out. */
void scope_user_part(const char *login, char *out, size_t outsz);
/* Does the event match the scope, ignoring connections? */
int scope_match(const struct scope *s, const struct scope_event *ev);
/* Mark in keep[i] the events of evs (time ordered) the report covers:
 * those that match, and those in range sharing a conn or session with one. */
int scope_select(const struct scope *s, const struct scope_event *evs, size_t n,
    unsigned char *keep);

/* auditlog.c: the audit log read for a report: the events of [since, until]
 * in log order, preceded by the last policy.reload before since; the chain
 * checked over the whole file. */
struct auditlog {
	struct scope_event *ev;
	size_t n;
	time_t first_ts;	/* of the file's first event */
	int has_first;
	unsigned long long nlines, bad_line;	/* bad_line: the first chain break, 0: none */
	char why[256];
	int chain_ok;
	unsigned long long first_seq;	/* > 1: the log continues a rotated file */
	unsigned long nskipped;	/* lines that were not events */
};
int auditlog_load(const char *path, time_t since, time_t until, struct auditlog *out);
void auditlog_free(struct auditlog *a);

/* bundle.c: the incident evidence bundle. */
struct bundle_params {
	const char *state;	/* broker state dir: recordings, policies, keys */
	const char *audit_log;
	const char *outdir;
	const char *keyfile;	/* auditor X25519 key for encrypted recordings, or NULL */
	const char *sign_key;	/* recording.key that signs the manifest */
	const struct scope *scope;
	const struct auditlog *log;
	const char *command_line;	/* how the report was asked for, into the drafts */
	void *policy;		/* struct policy * in force now, for asset tags; may be NULL */
};
struct bundle_summary {
	unsigned long events, sessions, verified, problems, policies;
};
int bundle_write(const struct bundle_params *p, struct bundle_summary *sum);

/* What the parts of a bundle share while it is written. */
struct evsession {
	char id[REC_ID_LEN + 1];
	const struct scope_event *start, *end;	/* session.start/.end, may be NULL */
	int status;		/* enum verify_status, or -1: no recording found */
	char verdict[1200];	/* the verify line */
	struct strlist typed;	/* lines the vendor typed (recorded input) */
};
struct bundle {
	const struct bundle_params *p;
	unsigned char *keep;	/* per log event: in scope */
	size_t nkept;
	struct evsession *sess;
	size_t nsess;
	struct strlist policies;	/* hashes in force during the range */
	struct strlist policies_missing;	/* of those, not in STATE/policies */
	void *reckey;		/* the signing key, EVP_PKEY * */
};
/* bundle.c: a file of the bundle from a buffer. */
int bundle_put_file(const struct bundle *b, const char *rel, const struct buf *data);
/* Markdown-safe text of untrusted s into out (escaped, '|' and '`' guarded). */
int bundle_md(struct buf *out, const char *s);
/* "2026-11-23T14:00:00.123Z" of an event. */
const char *bundle_ts(const struct scope_event *ev, char *out, size_t outsz);
/* The audit chain's verdict as one line (no newline). */
void bundle_chain_line(const struct auditlog *log, char *out, size_t outsz);
/* "" when the log reaches back to the range's start; else a warning that
 * earlier events are in rotated files this report did not read. */
void bundle_coverage_line(const struct auditlog *log, time_t since, char *out,
    size_t outsz);

/* timeline.c: timeline.jsonl (the audit lines as written, so their hashes
 * check) and timeline.md (the same for people). */
int timeline_write(const struct bundle *b);

/* evsession.c: sessions/ID/: the recording and seal as stored, verify.txt,
 * and export.cast, a plain asciicast (decrypted with --key when encrypted). */
int evsession_collect(struct bundle *b);
/* Every session of b->sess into the bundle; verdicts into each. */
int evsession_write_all(struct bundle *b);
void evsession_free(struct evsession *s);

/* draft.c: indicators.json and the report-24h.md / report-72h.md drafts. */
int draft_indicators(const struct bundle *b);
int draft_reports(const struct bundle *b);

/* manifest.c: MANIFEST.sha256 (sha256sum -c) over every file of a bundle and
 * its SSHSIG signature MANIFEST.sha256.sig. */
#define MANIFEST_NAME "MANIFEST.sha256"
#define MANIFEST_SIG_NAME "MANIFEST.sha256.sig"
int manifest_write(const char *dir, void *pkey);
/* Check a bundle: the signature (by a key in keys, else the bundle's own
 * keys/ with a warning that it must be compared out of band), every listed
 * file's hash, no unlisted files, and every recording in sessions/ against
 * its seal. One line per problem to fp; 0 when all holds, else OTG_ERR_BADSIG. */
int manifest_verify(const char *dir, const struct reckey_set *keys, FILE *fp);

/* access.c: `otgate report access`, the periodic review of who reached what. */
int access_report(const struct auditlog *log, time_t since, time_t until,
    const void *policy, int json, FILE *fp);

#endif
