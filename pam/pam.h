/*
 * pam.h: the second factor and the first-factor secrets that otgated and
 * pam_otgate.so share: TOTP checks (RFC 6238), the TOTP store under STATE/totp,
 * failure counting for lockout, and password hashes in STATE/passwd. Nothing
 * here logs: problems come back as an OTG_ERR_* code and a one-line reason
 * naming the file, and the caller decides where that line goes (syslog via
 * pam_syslog in the module, log_warnx in the broker, stderr in otgate).
 * Every function that touches files blocks: keep it off the event loop.
 */
#ifndef OTGATE_PAM_H
#define OTGATE_PAM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/common.h"

/* totp.c: RFC 6238 with HMAC-SHA-1 and 30 s steps, via liboath. Pure. */
#define TOTP_PERIOD 30
#define TOTP_SECRET_LEN 20		/* bytes of a new secret (RFC 4226 advice) */
#define TOTP_SECRET_MIN 10
#define TOTP_SECRET_MAX 64
#define TOTP_SECRET_B32_MAX 128		/* base32 of TOTP_SECRET_MAX, with NUL */
#define TOTP_DEFAULT_DIGITS 6
#define TOTP_DEFAULT_WINDOW 1		/* steps accepted either side of now */
#define TOTP_WINDOW_MAX 10
#define TOTP_URI_MAX 256
/* 0 when code is exactly `digits` ASCII digits (digits is 6 or 8), else
 * OTG_ERR_INVAL: spaces, letters, signs, empty and over-long answers. */
int totp_code_syntax(const char *code, unsigned digits);
/* Check code for the steps floor(now/30) - window .. + window. A match must be
 * at a counter above last_counter (each code is single-use); *counter gets
 * it. 0 on success; OTG_ERR_INVAL bad syntax or parameters, OTG_ERR_BADSIG no
 * match, OTG_ERR_EXISTS the code matched a step at or before last_counter. */
int totp_check(const uint8_t *secret, size_t secretlen, time_t now,
    unsigned window, unsigned digits, const char *code, uint64_t last_counter,
    uint64_t *counter);
/* A new random secret of TOTP_SECRET_LEN bytes. */
int totp_secret_new(uint8_t secret[TOTP_SECRET_LEN]);
/* Base32 (RFC 4648, no padding, as authenticator apps take it) both ways;
 * decode ignores case and refuses lengths outside MIN..MAX. */
int totp_base32_encode(const uint8_t *secret, size_t len, char *out, size_t outsz);
int totp_base32_decode(const char *b32, uint8_t *out, size_t outsz, size_t *len);
/* otpauth://totp/otgate:USER?secret=B32&issuer=otgate&algorithm=SHA1&digits=D&period=30
 * user must be a valid name (value_name_ok), so it needs no URI escaping. */
int totp_uri(const char *user, const char *b32, unsigned digits, char *out,
    size_t outsz);

/* qr.c: text (an otpauth:// line) as a QR code in UTF-8 half blocks, one
 * "\n"-ended line per two rows of modules, appended to out. Not in
 * pam_otgate.so. */
int qr_render(const char *text, struct buf *out);

/* statefile.c: secret files under the state folder. A folder must be a real
 * folder of ours (or root's) with no group/world access; files are 0600 and
 * never followed through a link. When root writes, new files and folders are
 * given to the owner of the folder they are in, so an enrolment done by root
 * stays readable by the broker's unprivileged user. */
#define STATEFILE_MAX (1024u * 1024)
/* Create dir (0700) if missing, then check it. */
int statefile_dir(const char *dir, char *why, size_t whysz);
/* Read a secret file; OTG_ERR_NOTFOUND when absent, OTG_ERR_PERM when loose. */
int statefile_read(const char *path, char **out, size_t *len, char *why,
    size_t whysz);
/* Replace path atomically with data (temp file PATH+tmpPID, fsync, rename). */
int statefile_write(const char *path, const void *data, size_t len, char *why,
    size_t whysz);
int statefile_remove(const char *path, char *why, size_t whysz);
/* An exclusive flock on path (created 0600 if missing); *fd to pass to unlock. */
int statefile_lock(const char *path, int *fd, char *why, size_t whysz);
void statefile_unlock(int fd);

/* totpstore.c: STATE/totp/ (0700). Per user, all 0600:
 *   USER          "BASE32SECRET LAST_COUNTER\n"      the active secret
 *   USER+pending  "BASE32SECRET EXPIRES\n"           enrolment awaiting a code
 *   USER+invite   "SHA256HEX EXPIRES\n"              one-time enrolment code
 *   USER+lock     empty; flock serialises everything about USER
 * '+' never occurs in a user name, so these cannot collide with a user. */
#define TOTPSTORE_PENDING_TTL 600	/* seconds to confirm an enrolment */
#define TOTPSTORE_INVITE_MAX 32		/* an invite code as typed, with NUL */
/* Lock USER's files; every call below except invite_create wants it held. */
int totpstore_lock(const char *dir, const char *user, int *fd, char *why,
    size_t whysz);
void totpstore_unlock(int fd);
/* Check code against USER's active secret; on success store the matched
 * counter (the code is then spent) and return 0. OTG_ERR_NOTFOUND: not
 * enrolled; others as totp_check, or file problems with why set. */
int totpstore_verify(const char *dir, const char *user, time_t now,
    unsigned window, unsigned digits, const char *code, uint64_t *counter,
    char *why, size_t whysz);
/* 1 when USER has an active secret, 0 when not, or negative. */
int totpstore_enrolled(const char *dir, const char *user, char *why, size_t whysz);
/* Start an enrolment: a new secret kept as USER+pending for
 * TOTPSTORE_PENDING_TTL; b32 (TOTP_SECRET_B32_MAX) gets it for the QR code. */
int totpstore_pending_new(const char *dir, const char *user, time_t now,
    char *b32, size_t b32sz, char *why, size_t whysz);
/* Activate the pending secret if code is valid for it (the confirming code is
 * spent too). OTG_ERR_NOTFOUND: none or expired; OTG_ERR_BADSIG: wrong code
 * (the pending secret stays for another try until it expires). */
int totpstore_pending_confirm(const char *dir, const char *user, time_t now,
    unsigned window, unsigned digits, const char *code, char *why, size_t whysz);
int totpstore_pending_cancel(const char *dir, const char *user, char *why,
    size_t whysz);
/* Remove USER's active secret (reset-mfa). 0 also when there was none. */
int totpstore_remove(const char *dir, const char *user, char *why, size_t whysz);
/* A new one-time enrolment code valid for valid seconds, replacing any
 * earlier one; code (TOTPSTORE_INVITE_MAX) gets "XXXX-XXXX-XXXX-XXXX". Only
 * its SHA-256 is stored. Takes the lock itself. */
int totpstore_invite_create(const char *dir, const char *user, time_t now,
    uint64_t valid, char *code, size_t codesz, char *why, size_t whysz);
/* Spend USER's enrolment code: 0 and the invite is gone (one-time);
 * OTG_ERR_NOTFOUND none or expired (an expired one is removed);
 * OTG_ERR_BADSIG wrong code (the invite stays). Case, dashes and spaces in
 * code do not matter. */
int totpstore_invite_redeem(const char *dir, const char *user, time_t now,
    const char *code, char *why, size_t whysz);

/* lockout.c: failure counting (IEC 62443 SR 1.11). Pure: the caller supplies
 * the time and decides what a key is (a user name, or a source address). A
 * key with max_failures failures within `period` is locked for `period`; a
 * source is throttled instead (lockout_delay). Admin locks last until
 * unlocked. Count only users who could log in (in the policy, or enrolled),
 * so that made-up names cannot fill a table and crowd out real ones; a
 * failure that cannot be counted (OTG_ERR_TOOBIG) must refuse the login.
 * The broker keeps two tables in memory (users, sources) and the users' also
 * in STATE/totp/+users (lockout_merge at start); pam_otgate keeps them in
 * STATE/totp/+users and +sources (lockout_format). */
#define LOCKOUT_DEFAULT_MAX_FAILURES 5
#define LOCKOUT_DEFAULT_PERIOD (15 * 60)
#define LOCKOUT_SLOTS 32		/* most failures remembered per key */
#define LOCKOUT_KEY_MAX 72		/* longest key + NUL */
#define LOCKOUT_DELAY_MAX 30		/* seconds a throttled source waits at most */
#define LOCKOUT_FOREVER UINT64_MAX	/* locked_until of an admin lock */
struct lockout_entry {
	char key[LOCKOUT_KEY_MAX];
	uint64_t locked_until;		/* 0: not locked */
	uint64_t fail[LOCKOUT_SLOTS];	/* failure times, oldest first */
	unsigned nfail;
};
struct lockout {
	unsigned max_failures;		/* 1..LOCKOUT_SLOTS */
	uint64_t period;		/* seconds, both the counting window and the lock */
	size_t max_entries;
	struct lockout_entry *v;
	size_t n, cap;
};
/* max_failures 1..LOCKOUT_SLOTS, period > 0, max_entries > 0. */
int lockout_init(struct lockout *l, unsigned max_failures, uint64_t period,
    size_t max_entries);
void lockout_free(struct lockout *l);
/* Seconds key stays locked from now: 0 when it may try, LOCKOUT_FOREVER when
 * an admin locked it. */
uint64_t lockout_locked(const struct lockout *l, const char *key, time_t now);
/* Count a failure: 1 when this one locked key, 0 when not, or negative. */
int lockout_fail(struct lockout *l, const char *key, time_t now);
/* Seconds the next attempt from key should wait: 0 below max_failures recent
 * failures, then 1, 2, 4, ... up to LOCKOUT_DELAY_MAX. */
uint64_t lockout_delay(const struct lockout *l, const char *key, time_t now);
/* A successful login, or an admin's unlock: the key's record is forgotten. */
void lockout_clear(struct lockout *l, const char *key);
/* An admin's lock: until lockout_clear. */
int lockout_lock(struct lockout *l, const char *key);
/* 1 when key has a record (failures or a lock) in l. */
int lockout_known(const struct lockout *l, const char *key);
/* Take a table read back from disk into l after a restart: each key's
 * failures are counted again under l's rules, its lock lasts at least as long
 * as the stored one (but no longer than l's period from now) and admin locks
 * stay. A restart thus neither resets nor extends a count. */
int lockout_merge(struct lockout *l, const struct lockout *stored, time_t now);
/* Persistent form, one line per key that still matters at now:
 * "KEY LOCKED_UNTIL T1 T2 ...\n". parse replaces l's entries; keys must be
 * 1..LOCKOUT_KEY_MAX-1 printable non-space bytes. */
int lockout_format(const struct lockout *l, time_t now, struct buf *out);
int lockout_parse(struct lockout *l, const char *text, size_t len);

/* grace.c: `mfa-grace` (otgated.conf, default 0 = off). After a login with a
 * code, the same user with the same public key (its SHA256 fingerprint) from
 * the same source address skips the code for `period` seconds, counted from
 * the code. The broker keeps one table in memory; lock, unlock and reset-mfa
 * call grace_forget. */
#define GRACE_FIELD_MAX 72
struct grace_entry {
	char user[GRACE_FIELD_MAX];
	char key[GRACE_FIELD_MAX];	/* "SHA256:..." of the key that logged in */
	char source[GRACE_FIELD_MAX];	/* numeric address */
	uint64_t until;
};
struct grace {
	uint64_t period;		/* seconds; 0: grace is off */
	size_t max_entries;		/* when full, the entry ending soonest goes */
	struct grace_entry *v;
	size_t n, cap;
};
int grace_init(struct grace *g, uint64_t period, size_t max_entries);
void grace_free(struct grace *g);
/* A login that passed its TOTP code (not one that used grace). */
int grace_remember(struct grace *g, const char *user, const char *key,
    const char *source, time_t now);
/* 1 when a connection by user, authenticated with key, from source may skip
 * the code; 0 otherwise (also for a NULL key: passwords get no grace). */
int grace_covers(const struct grace *g, const char *user, const char *key,
    const char *source, time_t now);
void grace_forget(struct grace *g, const char *user);

/* pamauth.c: `auth = pam`: the password goes to a PAM service (`otgate`), as
 * one hidden-prompt answer; blocks, so helper processes only. 0 accepted;
 * OTG_ERR_BADSIG wrong or unknown (or a stack asking for more than one
 * password); OTG_ERR_PERM account expired or refused; OTG_ERR_IO the service
 * is unusable, with why set. pam_unix can check other accounts only as root:
 * PAM mode is meant for sssd, LDAP or AD. */
#define PAMAUTH_SERVICE "otgate"
int pamauth_check(const char *service, const char *user, const char *password,
    const char *rhost, char *why, size_t whysz);

/* passwd.c: STATE/passwd, 0600, lines "USER:HASH" with yescrypt hashes made by
 * crypt(3). Verifying an unknown user hashes against a dummy so that it costs
 * the same time as a known one. */
#define PASSWD_MAX 1024			/* longest password accepted, bytes */
/* hash (at least PASSWD_HASH_MAX) gets a new yescrypt hash of password. */
#define PASSWD_HASH_MAX 256
int passwd_hash(const char *password, char *hash, size_t hashsz);
/* 0 when password is USER's; OTG_ERR_BADSIG when wrong or USER unknown
 * (indistinguishable on purpose); file problems with why set. */
int passwd_verify(const char *path, const char *user, const char *password,
    char *why, size_t whysz);
/* Set or replace USER's hash (serialised with a flock on PATH+lock). */
int passwd_set(const char *path, const char *user, const char *hash, char *why,
    size_t whysz);

#endif
