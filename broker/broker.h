/*
 * broker.h: otgated, the event-driven SSH broker. One libevent loop owns every
 * vendor-side libssh server session and every asset-side libssh client session.
 * Sections by file; the control socket's wire protocol is in control-protocol.h.
 */
#ifndef OTGATE_BROKER_H
#define OTGATE_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libssh/libssh.h>

#include "common/common.h"
#include "policy/policy.h"

struct event_base;

/* username.c: "USER+ASSET", "USER:ASSET" or "USER" from the SSH user name.
 * asset is set to "" when absent. OTG_ERR_INVAL with a one-line reason in why
 * for two separators, empty parts, bad names, over-long input or control bytes. */
#define USERNAME_MAX 256
int username_parse(const char *in, char *user, size_t usersz, char *asset,
    size_t assetsz, char *why, size_t whysz);

/* audit.c: JSON-lines audit log, one object per line, hash-chained:
 * {"ts":"RFC3339 UTC ms","seq":n,"prev":"sha256 hex of previous line","event":...}.
 * Values are escaped; the chain resumes from the last line on open. */
struct audit;
struct audit_field {
	const char *key;
	const char *str;	/* NULL: number */
	long long num;
};
#define AUDIT_STR(k, v) ((struct audit_field){ (k), (v) ? (v) : "", 0 })
#define AUDIT_NUM(k, v) ((struct audit_field){ (k), NULL, (long long)(v) })
int audit_open(const char *path, struct audit **out);
void audit_close(struct audit *a);
int audit_event(struct audit *a, const char *event, const struct audit_field *f,
    size_t n);
/* Check the chain of a whole audit log file; on a break, *bad_line is set. */
int audit_verify(const char *path, unsigned long long *nlines,
    unsigned long long *bad_line, char *why, size_t whysz);

/* vault.c: the asset credentials the vendor never sees: VAULT/NAME.key (an
 * OpenSSH private key) or VAULT/NAME.password, both 0600 and ours. */
struct vault_secret {
	ssh_key key;		/* NULL when a password */
	char *password;		/* NULL when a key; wiped by vault_secret_clear */
};
int vault_load(const char *dir, const char *name, struct vault_secret *out,
    char *why, size_t whysz);
void vault_secret_clear(struct vault_secret *s);
int vault_store_key(const char *dir, const char *name, const char *keyfile,
    char *why, size_t whysz);
int vault_store_password(const char *dir, const char *name, const char *password,
    char *why, size_t whysz);

/* policystore.c: every loaded policy kept as STATE/policies/SHA256.conf */
int policystore_keep(const char *state_dir, const struct policy *p);

/* control.c: the control socket (0660, peer checked with SO_PEERCRED: root, the
 * broker's own uid, or a member of otgate-admin). The daemon supplies the verbs'
 * work through these callbacks; each writes its reply text into out. */
struct control;
struct control_ops {
	void (*status)(struct buf *out, void *arg);
	void (*sessions)(struct buf *out, int json, void *arg);
	int (*reload)(struct buf *out, void *arg);	/* 0 ok, -1 kept old */
	/* may be NULL: told of each accepted request ("status", "sessions",
	 * "reload") and the caller's uid before it runs, to audit control.command */
	void (*command)(const char *verb, uid_t uid, void *arg);
};
int control_open(struct event_base *base, const char *path,
    const struct control_ops *ops, void *arg, struct control **out);
void control_close(struct control *c);

/* sdnotify.c: systemd's Type=notify protocol over $NOTIFY_SOCKET (a path or
 * @abstract), without libsystemd. No-ops returning 0 when the variable is unset;
 * -1 (logged) when it is malformed or the send fails. After a reload, call
 * sdnotify_ready again. */
int sdnotify_ready(void);	/* READY=1: listening */
int sdnotify_reloading(void);	/* RELOADING=1 with MONOTONIC_USEC */
int sdnotify_stopping(void);	/* STOPPING=1 */

#endif
