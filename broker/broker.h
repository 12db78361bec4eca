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
#include <libssh/server.h>

#include "common/common.h"
#include "policy/policy.h"

struct event_base;

/* username.c: "USER+ASSET", "USER:ASSET" or "USER" from the SSH user name.
 * asset is set to "" when absent. OTG_ERR_INVAL with a one-line reason in why
 * for two separators, empty parts, bad names, over-long input or control bytes. */
#define USERNAME_MAX 256
int username_parse(const char *in, char *user, size_t usersz, char *asset,
    size_t assetsz, char *why, size_t whysz);

enum siem_format { SIEM_JSON, SIEM_RFC5424, SIEM_CEF };	/* see siem.c */

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
/* After log rotation (SIGHUP): write to a fresh file at the same path. The
 * chain goes on: the new file's first line has the next seq and the hash of
 * the old file's last line. */
int audit_reopen(struct audit *a);
/* How each event also reaches syslog: SIEM_JSON (the default) sends the audit
 * line through syslog(3); SIEM_RFC5424 and SIEM_CEF send their own line as one
 * datagram to socket_path (NULL: /dev/log), CEF behind an RFC 3164 header. */
int audit_set_siem(struct audit *a, enum siem_format format, const char *socket_path);
/* audit_verify for a file that continues another: its first line must carry
 * first_seq and first_prev (64 hex; audit_verify is first_seq 1, 64 zeros).
 * The last line's seq and hash come back to check the next file with. */
int audit_verify_continued(const char *path, unsigned long long first_seq,
    const char *first_prev, unsigned long long *last_seq, char last_hash[65],
    unsigned long long *nlines, unsigned long long *bad_line, char *why,
    size_t whysz);
/* audit_verify_continued on an open stream; first_seq 0 and first_prev NULL:
 * the chain starts where the first line says (last_seq 0 when it is empty). */
int audit_verify_stream(FILE *fp, unsigned long long first_seq,
    const char *first_prev, unsigned long long *last_seq, char last_hash[65],
    unsigned long long *nlines, unsigned long long *bad_line, char *why,
    size_t whysz);

/* auditset.c: an audit log and its rotated files (LOG-DATE or LOG.N, plain or
 * .gz, read through gzip -dc), checked as one chain from the oldest. */
struct auditset_file {
	char *path;
	int checked;			/* auditset_verify got to it */
	int status;			/* 0 verified, else OTG_ERR_* and why */
	unsigned long long first_seq;	/* of its first line; 0 when empty */
	unsigned long long nlines;	/* lines read */
	unsigned long long bad_line;	/* the line that breaks the chain */
	char why[512];
};
struct auditset {
	struct auditset_file *file;
	size_t n;
};
struct auditset_key {
	int dated;		/* LOG-DATE (logrotate dateext), else LOG.N */
	unsigned long number;
	char date[64];
};
/* Is name (a directory entry) a rotated file of the log named base? */
int auditset_rotated(const char *base, const char *name, struct auditset_key *key);
/* log's rotated files oldest first, then log itself. OTG_ERR_EXISTS when both
 * LOG-DATE and LOG.N files are there (no order between them to trust). */
int auditset_find(const char *log, struct auditset *set);
int auditset_add(struct auditset *set, const char *path);
/* Each file continues the one before; stops at the first that fails and
 * returns its status. */
int auditset_verify(struct auditset *set);
void auditset_free(struct auditset *set);

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
struct control_client;
/* who is asking, as SO_PEERCRED and SO_PEERGROUPS saw it at connect */
#define CONTROL_PEER_GROUPS 64
struct control_peer {
	uid_t uid;
	gid_t gid;
	gid_t groups[CONTROL_PEER_GROUPS];	/* supplementary, the first 64 */
	size_t ngroups;
};
struct control_ops {
	void (*status)(struct buf *out, void *arg);
	void (*sessions)(struct buf *out, int json, void *arg);
	int (*reload)(struct buf *out, void *arg);	/* 0 ok, -1 kept old */
	/* may be NULL: told of each accepted request ("status", "sessions",
	 * "reload") and the caller's uid before it runs, to audit control.command */
	void (*command)(const char *verb, uid_t uid, void *arg);
	/* may be NULL: `user lock|unlock|reset-mfa USER` ("lock", ...); 0 ok, -1 failed */
	int (*user)(const char *verb, const char *user, struct buf *out, void *arg);
	/* may be NULL: `kill ID [REASON]` (reason "" when none) by uid; 0 ok, -1
	 * failed (unknown, ambiguous or ended session) */
	int (*kill)(const char *id, const char *reason, uid_t uid, struct buf *out,
	    void *arg);
	/* may be NULL: `requests` (waiting approval requests, text or JSON) */
	void (*requests)(struct buf *out, int json, void *arg);
	/* may be NULL: `approve N [FOR]` (approve 1) or `deny N [REASON]`; 0 ok */
	int (*answer)(int approve, const char *id, const char *value,
	    const struct control_peer *peer, struct buf *out, void *arg);
	/* may be NULL: `watch ID` from peer on cl: 0 once cl streams
	 * (control_stream_start), -1 with why in out */
	int (*watch)(const char *id, struct control_client *cl,
	    const struct control_peer *peer, struct buf *out, void *arg);
};
int control_open(struct event_base *base, const char *path,
    const struct control_ops *ops, void *arg, struct control **out);
void control_close(struct control *c);
/* A client that streams (watch) instead of getting one reply. gone runs once
 * when the client leaves or fails before control_stream_end; drained when what
 * it has not read yet fell to CONTROL_STREAM_LOW bytes. */
typedef void control_stream_cb(void *arg);
void control_stream_start(struct control_client *cl, control_stream_cb *gone,
    control_stream_cb *drained, void *arg);
/* Queue one message (cut into pieces of CONTROL_STREAM_CHUNK bytes); returns
 * the bytes the client has not read yet, including these. */
size_t control_stream_send(struct control_client *cl, uint16_t type, const void *p,
    size_t len);
/* The last message; the client closes once it is written, gone never runs. */
void control_stream_end(struct control_client *cl, uint16_t type, const char *msg);

/* ---- the engine: otgated's own modules (bridge, listener, vendor, auth, menu,
 * asset, relay, session, server). ---- */

struct bridge;
struct evdns_base;
struct event;
struct listener;
struct listener_slot;
struct conn;
struct menu;
struct relay;
struct session;
struct upstream;

/* bridge.c: drives one libssh session from libevent. Level-triggered reads run
 * ssh_event_dopoll; the write event is on exactly while libssh has output
 * pending. The owner's callback runs after libssh's own callbacks returned, so
 * it may act on any session. Create it after the session's first I/O call. */
typedef void bridge_cb(void *arg);
struct bridge *bridge_new(struct event_base *base, ssh_session session,
    bridge_cb *cb, void *arg);
void bridge_update(struct bridge *b);	/* after any call into the session */
/* Another owner's callback from now on (a connection changing hands). */
void bridge_retarget(struct bridge *b, bridge_cb *cb, void *arg);
void bridge_free(struct bridge *b);

/* sshmsg.c: the only caller of libssh 0.10's deprecated message getters. */
const char *sshmsg_auth_password(ssh_message m);
ssh_key sshmsg_auth_pubkey(ssh_message m);
enum ssh_publickey_state_e sshmsg_auth_pubkey_state(ssh_message m);
/* pty-req and window-change: terminal (may be NULL), columns, rows */
void sshmsg_pty(ssh_message m, const char **term, int *cols, int *rows);

/* server.c: the daemon's shared state. The current policy is refcounted so a
 * reload never frees one that a session still looks at. */
struct policyref {
	struct policy *policy;
	unsigned refs;
};
struct server {
	struct event_base *base;
	struct evdns_base *dns;
	struct conf *conf;
	struct audit *audit;
	struct policyref *policy;
	ssh_bind bind;
	struct listener *listener;
	struct control *control;
	time_t started;
	char *banner;		/* text shown before login, NULL for none */
	struct conn *conns;
	unsigned nconns;
	struct mfa *mfa;	/* mfa.c */
	struct record *record;	/* record.c */
	struct event *limits_tick;	/* limits.c */
	struct approvals *approvals;	/* approval.c */
	struct assetlink *links;	/* assetpool.c: warm asset connections */
	int onrequest_fd;	/* onrequest.c: to the helper, -1 none */
	pid_t onrequest_pid;
	struct auditguard *auditguard;	/* auditguard.c */
};
/* Takes ownership of conf and policy. */
int server_start(struct server *srv, struct event_base *base, struct conf *conf,
    struct policy *policy);
void server_stop(struct server *srv);
/* Validate the policy file again and swap it in; errors go to report. 0, or -1
 * with the old policy kept. */
int server_reload(struct server *srv, struct buf *report);
struct policyref *server_policy_hold(struct server *srv);
void server_policy_release(struct policyref *ref);
/* 0 when the event is in the audit log; -1 when it is not (auditguard.c
 * then fails closed until the log can be written again). */
int server_audit(struct server *srv, const char *event,
    const struct audit_field *f, size_t n);
/* 32 lowercase hex characters from 128 random bits. */
void server_newid(char out[33]);

/* auditguard.c: fail closed while the audit log cannot be written: no login,
 * no new session, running sessions ended; retried each second until an
 * audit.recovered line is written. */
int auditguard_start(struct server *srv);
void auditguard_stop(struct server *srv);
void auditguard_failed(struct server *srv, const char *event);
void auditguard_lost(struct server *srv, const char *event, unsigned long long n);
int auditguard_down(const struct server *srv);	/* 1 while unavailable; any thread */
void auditguard_status(const struct server *srv, struct buf *out);

/* listener.c: every `listen` address, max-startups (start:rate:full with random
 * early drop), a per-source limit, and back-off when out of descriptors. A slot
 * counts one unauthenticated connection until released. */
typedef void listener_accept_cb(int fd, const struct sockaddr *sa, socklen_t salen,
    struct listener_slot *slot, void *arg);
int listener_open(struct event_base *base, const struct conf *conf,
    listener_accept_cb *cb, void *arg, struct listener **out);
void listener_release(struct listener_slot *slot);	/* NULL is fine */
void listener_close(struct listener *l);

/* auth.c: the vendor's login as a state machine over auth requests. Only a
 * verified signature names the user; factors are asked in the policy's order,
 * and a factor the broker does not implement refuses the login with a reason. */
enum auth_result {
	AUTH_CONTINUE,		/* answered; wait for the next request */
	AUTH_GRANTED,		/* every factor passed; the user is c->user */
	AUTH_DISCONNECT,	/* too many failures */
	AUTH_HELD		/* mfa.c keeps the message and answers later */
};
#define AUTH_MAX_TRIES 6
struct auth {
	unsigned factors_done;	/* POLICY_AUTH_* bits */
	unsigned tries;		/* failed attempts (probes not counted) */
	unsigned rejected;	/* every refused request, probes included */
	int banner_sent;
	int reason_sent;
	int granted;
	char last_user[USERNAME_MAX];	/* as sent, for the audit log */
	char last_reason[128];
	struct mfa_login *mfa;	/* mfa.c: the login after its first factor */
};
enum auth_result auth_message(struct conn *c, ssh_message m);
/* At close: one auth.failure event if the login never succeeded. */
void auth_finish(struct conn *c);
/* Every factor passed: reply success, set c->user, audit auth.success with
 * method ("publickey", "password+totp", ...) and key (fingerprint or ""). */
enum auth_result auth_grant(struct conn *c, ssh_message m, const char *user,
    const char *asset, const char *method, const char *keyfp);
/* Before a failure reply: the methods the policy starts logins with, the same
 * list whatever user name was tried (as OpenSSH lists its enabled methods). */
void auth_advertise(struct conn *c);

/* vendor.c: one vendor SSH connection: key exchange, login, channel opens and
 * requests, refusals of what is not supported. */
enum conn_state { CONN_KEX, CONN_AUTH, CONN_OPEN, CONN_CLOSED };
struct conn {
	struct server *srv;
	char id[33];
	char src[64];		/* numeric address of the vendor */
	enum conn_state state;
	ssh_session ssh;
	struct bridge *bridge;
	struct listener_slot *slot;
	struct event *grace;	/* login grace, then keepalive */
	struct auth auth;
	char user[USERNAME_MAX];	/* set once authenticated */
	char asset[USERNAME_MAX];	/* from the user name, "" for the menu */
	char company[128];
	struct session *sessions;	/* list through session.next */
	unsigned nsessions;
	unsigned refs;
	struct conn *next;	/* server-wide list */
};
#define CONN_MAX_SESSIONS 16
void vendor_accept(struct server *srv, int fd, const struct sockaddr *sa,
    socklen_t salen, struct listener_slot *slot);
void vendor_close(struct conn *c, const char *why);
void vendor_close_all(struct server *srv);
void vendor_unref(struct conn *c);
/* mfa.c answered a held auth request: act on r, then go on with c. */
void vendor_auth_done(struct conn *c, enum auth_result r);
/* Run the pending work of every session of c (after I/O on any of its sides). */
void vendor_step(struct conn *c);
/* Every session of every connection, for the control socket and reload. */
void vendor_foreach_session(struct server *srv, void (*fn)(struct session *, void *),
    void *arg);

/* session.c: one vendor channel and the asset connection that serves it. The
 * vendor's shell/exec/subsystem request is answered only once the asset
 * answered its own. Close is a state; the free runs later from the loop. */
enum session_state {
	SESSION_SETUP,		/* channel open; pty/env gathered */
	SESSION_MENU,		/* choosing an asset */
	SESSION_APPROVAL,	/* a pty waits for an operator (approval.c) */
	SESSION_REASON,		/* a pty is asked for its reason (reason.c) */
	SESSION_CONNECT,	/* asset side in progress */
	SESSION_RUNNING,	/* relaying */
	SESSION_CLOSED
};
#define SESSION_MAX_ENV 16
struct session {
	struct conn *conn;
	char id[33];
	enum session_state state;
	enum policy_channel kind;
	int pty;
	char term[64];
	int cols, rows;
	int resized;		/* a window-change waits to be relayed */
	char *signal;		/* a signal waits to be relayed */
	struct strlist env;	/* "NAME=VALUE" */
	char *command;		/* exec, NULL for a shell */
	char asset[USERNAME_MAX];
	struct policyref *policy;
	const char *role;	/* deciding role, owned by policy */
	ssh_channel vch;	/* vendor side */
	ssh_message held;	/* the vendor request answered once the asset is ready */
	struct upstream *up;	/* asset side, NULL until connecting */
	struct menu *menu;
	struct relay *relay;
	time_t start;
	int started;		/* session.start audited */
	uint64_t bytes_in, bytes_out;	/* vendor->asset, asset->vendor */
	int exit_status;	/* -1 unknown */
	char *exit_signal;
	struct recording *rec;	/* record.c; NULL before running or once failed */
	uint64_t max_session, idle_timeout;	/* limits.c: seconds, 0 none */
	time_t active;		/* limits.c: last time bytes moved */
	uint64_t seen;		/* limits.c: bytes_in + bytes_out then */
	int warned;		/* limits.c: LIMITS_WARNED_* told the vendor */
	unsigned long request;	/* approval.c: the request waited on or granted */
	char *reason;		/* the vendor's reason for access, NULL none */
	struct reason_line *reason_line;	/* reason.c: the line being typed */
	struct transfer *transfer;	/* transfer.c: sftp channels, else NULL */
	struct watch *watch;	/* watch.c: pty sessions once output came, else NULL */
	struct forward *forward;	/* forward.c: direct-tcpip channels, else NULL */
	struct session *next;	/* in conn->sessions */
	unsigned refs;
};
struct session *session_open(struct conn *c, ssh_channel vch);
void session_message(struct session *s, ssh_message m);
void session_step(struct session *s);
/* Refuse: stderr "otgate: ASSET: REASON", exit status 1, audit event. */
void session_refuse(struct session *s, const char *event, const char *reason);
void session_close(struct session *s, const char *why);
void session_unref(struct session *s);
/* One line (text) or one JSON object (json) per active session. */
void session_describe(struct session *s, struct buf *out, int json);
/* The asset side reports progress: ready, or failed (already refused). */
void session_asset_ready(struct session *s);

/* menu.c: the asset menu for a pty shell without an asset. */
enum menu_result { MENU_WAIT, MENU_CHOSEN, MENU_QUIT };
int menu_start(struct session *s);
/* Read what the vendor typed; on MENU_CHOSEN s->asset is set. */
enum menu_result menu_input(struct session *s);
void menu_free(struct menu *m);

/* asset.c: the asset side: resolve (numeric or evdns), egress check, connect
 * to exactly the checked address with a timeout, pinned host key, vaulted
 * credential, channel and its requests. Never blocks the loop. */
int asset_start(struct session *s, const struct policy_asset *asset);
/* Continue after I/O; calls session_asset_ready or session_refuse. */
void asset_step(struct session *s);
ssh_channel asset_channel(const struct upstream *up);
ssh_session asset_ssh(const struct upstream *up);
void asset_update(struct upstream *up);	/* rearm its bridge */
void asset_close(struct upstream *up);	/* stop talking to the asset */
void asset_free(struct upstream *up);
struct session *asset_session(const struct upstream *up);

/* assetpool.c: warm asset connections (`reuse = yes`): links, each one
 * logged-in connection to an asset that many sessions' channels share.
 * assetpool_find: a live link made with the asset's current policy section
 * and vault entry, with room for a channel, inside egress; NULL for none
 * (links made before a change are retired). assetpool_adopt takes a session's
 * logged-in ssh and its bridge (the bridge then steps every session on the
 * link); -1 when out of memory (the caller keeps them). A link with no
 * session closes after the asset's reuse-idle; a dead or retired one at once. */
struct assetlink;
struct assetlink *assetpool_find(struct server *srv, const struct policy_asset *a);
int assetpool_adopt(struct server *srv, const struct policy_asset *a, ssh_session ssh,
    struct bridge *b, const char *addr, const struct sockaddr *sa, socklen_t salen,
    struct assetlink **out);
void assetpool_attach(struct assetlink *l, struct upstream *up);
void assetpool_detach(struct assetlink *l, struct upstream *up);
/* The asset refused a channel: no more on l until one of its sessions ends. */
void assetpool_refused(struct assetlink *l);
int assetpool_alive(const struct assetlink *l);
ssh_session assetpool_ssh(const struct assetlink *l);
struct bridge *assetpool_bridge(const struct assetlink *l);
const char *assetpool_id(const struct assetlink *l);
const char *assetpool_addr(const struct assetlink *l);
void assetpool_stop(struct server *srv);	/* close every link */

/* relay.c: the channel pair, both ways, within the receivers' windows. */
struct relay *relay_new(void);
void relay_free(struct relay *r);
/* Move what can move; NULL while the session goes on, else why it ended. */
const char *relay_pump(struct session *s);
/* The asset channel's exit-status/exit-signal callbacks land here. */
void relay_asset_callbacks(struct session *s, ssh_channel ach);
/* Before a channel that outlives s (on a shared link) is let go. */
void relay_asset_callbacks_clear(struct session *s, ssh_channel ach);
/* The vendor channel's signal callback; cleared before the session is freed
 * (libssh keeps a freed channel until the peer's close and calls it then). */
void relay_vendor_callbacks(struct session *s, ssh_channel vch);
void relay_vendor_callbacks_clear(struct session *s, ssh_channel vch);
/* Throw away extended data a vendor sent: a session's stderr only flows from
 * the server, and libssh would keep it (re-opening the window) for ever. */
void relay_drop_vendor_stderr(struct session *s);

/* record.c: every relayed channel recorded (recorder/recorder.h), fail closed.
 * record_start forks the signer (STATE/keys/recording.key, made if missing),
 * so call it before the host key is read and privileges drop; it audits
 * recordings a crash left open (recording.interrupted) and opens the index on
 * the loop's first turn. The session calls return -1 after they refused the
 * session with "recording failed: WHY" (audit recording.failed): the caller
 * relays nothing more. */
struct record;
struct recording;
int record_start(struct server *srv);
void record_stop(struct server *srv);
int record_session_open(struct session *s);	/* before the first byte */
/* Before forwarding: to_asset 1 for the vendor's input, 0 for the asset's output. */
int record_data(struct session *s, int to_asset, const void *data, size_t len);
int record_resize(struct session *s);	/* s->cols, s->rows */
void record_session_close(struct session *s);	/* uses s->exit_status */

/* sdnotify.c: systemd's Type=notify protocol over $NOTIFY_SOCKET (a path or
 * @abstract), without libsystemd. No-ops returning 0 when the variable is unset;
 * -1 (logged) when it is malformed or the send fails. After a reload, call
 * sdnotify_ready again. */
int sdnotify_ready(void);	/* READY=1: listening */
int sdnotify_reloading(void);	/* RELOADING=1 with MONOTONIC_USEC */
int sdnotify_stopping(void);	/* STOPPING=1 */

/* siem.c: audit events as one line for a SIEM (siem-format = json | rfc5424 |
 * cef): RFC 5424 with structured data [otgate@32473 ...] (facility authpriv),
 * or a CEF:0 record for the body of a syslog message. Values are escaped
 * (escape_text, then the format's own escapes); lines carry no newline. */
struct siem_origin {
	const char *host;	/* RFC 5424 HOSTNAME, e.g. from gethostname */
	const char *app;	/* APP-NAME, "otgated" */
	long pid;
};
int siem_format_parse(const char *s, enum siem_format *out);
int siem_rfc5424(struct buf *out, const struct siem_origin *o, uint64_t time_ms,
    unsigned long long seq, const char *event, const struct audit_field *f, size_t n);
int siem_cef(struct buf *out, const char *version, uint64_t time_ms, unsigned long long seq,
    const char *event, const struct audit_field *f, size_t n);

/* ---- file transfer and port forwarding (issue 6) ---- */

/* sftp.c: the SFTP v3 stream of one channel read both ways while relayed
 * (pure). Input goes on to fwd as it arrives; of each packet only the head
 * the parser must see is held (control packets whole, WRITE and DATA up to
 * their data's length, others up to the id), data is hashed on its way. The
 * broker's own answers to refused requests (SSH_FX_PERMISSION_DENIED for a
 * direction the role does not allow or a write past max-file-size; the packet
 * is dropped) go into the stream to the vendor (reply when the vendor's bytes
 * come in, fwd when the asset's do; the same buffer in relay.c) only between
 * two of the asset's packets. Events: open (status: the asset's answer, 0 ok),
 * close (bytes, SHA-256 of what was written, and of what was read when read in
 * order from 0), remove rename mkdir rmdir setstat fsetstat symlink hardlink,
 * denied (reason), unknown (path names the packet type; once per type). Paths
 * are escaped. A malformed packet: OTG_ERR_PROTO with why; end the channel. */
#define SFTP_PACKET_MAX (256u * 1024)	/* as OpenSSH's sftp-server */
#define SFTP_HANDLES_MAX 256		/* files open at once per channel */
#define SFTP_REQUESTS_MAX 1024		/* requests awaiting an answer */
#define SFTP_ALLOW_READ 1u
#define SFTP_ALLOW_WRITE 2u
struct sftp;
struct sftp_event {
	const char *op;
	const char *path, *path2;	/* escaped, "" when none */
	uint32_t pflags;		/* open, close: SSH_FXF_* */
	int type;			/* the packet type */
	int status;			/* the asset's SSH_FX_* answer, -1 unknown */
	uint64_t bytes_read, bytes_written;
	const char *sha_read, *sha_written;	/* 64 hex, "" when not known */
	const char *reason;		/* denied: why, else "" */
};
typedef void sftp_event_cb(const struct sftp_event *ev, void *arg);
int sftp_new(unsigned allow, uint64_t max_file_size, sftp_event_cb *cb, void *arg,
    struct sftp **out);
/* to_asset: 1 for the vendor's bytes, 0 for the asset's (reply unused then). */
int sftp_input(struct sftp *p, int to_asset, const void *data, size_t len,
    struct buf *fwd, struct buf *reply, char *why, size_t whysz);
void sftp_finish(struct sftp *p);	/* close events for files left open */
void sftp_free(struct sftp *p);

/* scp.c: legacy scp (scp -O: `scp -t` / `scp -f` over exec), read on the
 * sending side's stream (pure, nothing held back): one event per file with
 * its path (directories joined, escaped), size and SHA-256. scp_new:
 * OTG_ERR_NOTFOUND when the command is not scp -t or -f. Malformed headers:
 * OTG_ERR_PROTO with why; end the channel. */
struct scp;
struct scp_event {
	const char *op;		/* "upload" (vendor -> asset) or "download" */
	const char *path;
	uint64_t size;
	const char *sha256;	/* 64 hex */
	const char *status;	/* "ok" or "failed" (the sender's status byte) */
};
typedef void scp_event_cb(const struct scp_event *ev, void *arg);
int scp_new(const char *command, scp_event_cb *cb, void *arg, struct scp **out);
int scp_input(struct scp *p, int to_asset, const void *data, size_t len, char *why,
    size_t whysz);
void scp_free(struct scp *p);

/* transfer.c: an sftp session's parser, audit events (transfer.file,
 * transfer.op, transfer.denied, transfer.error) and recording markers, with
 * the deciding role's sftp directions and max-file-size. */
struct transfer;
/* Once running: sftp sessions, and exec sessions running scp -t/-f; others
 * keep s->transfer NULL. */
int transfer_start(struct session *s);
/* relay.c: a recorded chunk; whole packets to fwd, the broker's answers to
 * reply. -1: the session was refused with the reason (stop relaying). */
int transfer_input(struct session *s, int to_asset, const void *data, size_t len,
    struct buf *fwd, struct buf *reply);
void transfer_end(struct session *s);	/* at close, before the recording ends */
void transfer_free(struct transfer *t);

/* forward.c: direct-tcpip. forward_target (pure): host is an asset's policy
 * name or its address exactly as written there, port in its forward list, and
 * the connection's asset (if named) is that one; else OTG_ERR_PERM and why.
 * forward_open takes the vendor's open request: refused ("administratively
 * prohibited", audit forward.denied) unless forward_target, the policy
 * (allow = forward), a numeric address inside egress that is not the broker's
 * own listen address all pass; then a session of kind forward (vch NULL)
 * holds the open through the session's admission (approval, max-sessions)
 * and the broker's own connect to the device: the open succeeds once the
 * device answered, or fails (audited) with "administratively prohibited",
 * the only refusal libssh 0.10's server API can send. Returns 1 when it kept
 * m, 0 when it answered it (the caller frees m then). */
struct forward;
int forward_target(const struct policy *p, const char *conn_asset, const char *host,
    unsigned port, const struct policy_asset **out, char *why, size_t whysz);
int forward_open(struct conn *c, ssh_message m);
const char *forward_pump(struct session *s);	/* as relay_pump */
void forward_end(struct session *s);	/* at close: audit, close the socket */
void forward_free(struct forward *f);

/* ---- MFA: second factors, passwords and PAM (issue 5) ---- */

/* authpool.c: a bounded pool of helper processes forked at start-up that do
 * the login work which blocks (password hashing, PAM, the TOTP store) and
 * answer the loop over SOCK_SEQPACKET socketpairs. One request per helper at
 * a time, a bounded queue, a time limit; a helper that dies or overruns is
 * replaced and its request fails closed (OTG_ERR_IO). */
#define AUTHPOOL_HELPERS 3
#define AUTHPOOL_QUEUE_MAX 64
#define AUTHPOOL_TIMEOUT 30		/* seconds one request may take */
#define AUTHPOOL_MSG_MAX 2048		/* one framed request or reply */
enum authpool_op {
	AUTHPOOL_PASSWORD = 1,	/* secret against STATE/passwd */
	AUTHPOOL_PAM,		/* secret to PAM service `otgate` */
	AUTHPOOL_ENROLLED,	/* value: 1 when user has an active secret */
	AUTHPOOL_TOTP,		/* secret is a code; "" judges nothing (fails) */
	AUTHPOOL_INVITE,	/* redeem enrolment code; text: new pending secret */
	AUTHPOOL_CONFIRM,	/* secret is a code for the pending secret */
	AUTHPOOL_RESET,		/* remove user's active and pending secret */
	AUTHPOOL_LOCK,		/* an admin lock in STATE/totp/+users (pam_otgate) */
	AUTHPOOL_UNLOCK,	/* clear user's entry there */
	AUTHPOOL_FAIL		/* count a failure there; secret "MAX_FAILURES PERIOD" */
};
#define AUTHPOOL_USERS_MAX 1024	/* entries of +users, as pam_otgate keeps them */
struct authpool_req {
	enum authpool_op op;
	const char *user;	/* a valid name (username_parse) */
	const char *secret;	/* password or code, "" for none */
	const char *rhost;	/* vendor's address, for PAM */
};
struct authpool_reply {
	int status;		/* 0 or OTG_ERR_* as the pam.h call returned */
	long long value;
	char text[256];		/* INVITE: base32 secret; else why, or "" */
};
struct authpool;
typedef void authpool_cb(const struct authpool_reply *r, void *arg);
/* state: the state folder (STATE/passwd, STATE/totp). Started as root, each
 * helper drops to user (otgated.conf `user`; NULL: stays) right after fork,
 * so no helper keeps root while the broker itself drops later. */
int authpool_open(struct event_base *base, const char *state, const char *user,
    struct authpool **out);
/* Queue a request; cb runs later from the loop, exactly once (also when the
 * pool closes). OTG_ERR_TOOBIG: queue full; OTG_ERR_INVAL: fields too long. */
int authpool_submit(struct authpool *p, const struct authpool_req *req,
    authpool_cb *cb, void *arg);
void authpool_close(struct authpool *p);
/* The framing, pure (both sides and the unit tests use it). */
int authpool_encode_req(const struct authpool_req *req, uint8_t *out, size_t outsz,
    size_t *len);
/* Decodes in place: req's strings point into msg. */
int authpool_decode_req(uint8_t *msg, size_t len, struct authpool_req *req);
int authpool_encode_reply(const struct authpool_reply *r, uint8_t *out, size_t outsz,
    size_t *len);
int authpool_decode_reply(const uint8_t *msg, size_t len, struct authpool_reply *r);

/* authwork.c: what a helper does for one request (blocks). */
void authwork_run(const char *state, const struct authpool_req *req,
    struct authpool_reply *rep);

/* mfa.c: the second factor and password logins on the loop: lockout and
 * per-source throttling (in memory), mfa-grace, keyboard-interactive prompts,
 * enrolment by invite. srv->mfa is set by mfa_start. */
struct mfa;
struct mfa_login;
int mfa_start(struct server *srv);
void mfa_stop(struct server *srv);
/* auth.c hands over: after a good signature when TOTP follows; a password
 * request; a keyboard-interactive request. AUTH_HELD: mfa owns m now. */
enum auth_result mfa_after_key(struct conn *c, ssh_message m, const char *user,
    const char *asset, const char *keyfp);
enum auth_result mfa_password(struct conn *c, ssh_message m, const char *user,
    const char *asset);
enum auth_result mfa_kbdint(struct conn *c, ssh_message m);
/* A failed signature (never a probe) counts towards the user's lockout. */
void mfa_count_failure(struct conn *c, const char *user);
/* 1 when user is locked (failures or an admin): a key alone is refused too. */
int mfa_user_locked(struct server *srv, const char *user);
/* 1 while a request of c is held: auth.c refuses any other meanwhile. */
int mfa_busy(const struct conn *c);
/* At the connection's free. */
void mfa_login_free(struct conn *c);
/* Control verbs: lock, unlock, reset-mfa; reply text into out. 0 or -1. */
int mfa_user_command(struct server *srv, const char *verb, const char *user,
    struct buf *out);

/* ---- hardening (issue 8) ---- */

/* privdrop.c: no-new-privileges, RLIMIT_CORE 0 and not dumpable, for the
 * process and every helper it forks (call first). privdrop_lookup resolves
 * `user` while files can still be read (-1: root without a `user`, unknown or
 * uid 0); privdrop_drop then gives root up for good when running as root
 * (setgroups, setresgid, setresuid, verified), after handing the audit log,
 * control socket and kept policies it created to that user; else a no-op. */
int privdrop_harden(void);
int privdrop_lookup(const struct conf *conf, uid_t *uid, gid_t *gid);
int privdrop_drop(const struct conf *conf, uid_t uid, gid_t gid);

/* sandbox.c: the seccomp allow-list, applied last before the loop runs (after
 * privdrop_drop). Also moves a trail that the last run's trap left in
 * STATE/sandbox.trail into the audit log (`sandbox.violation`). 0 or -1. */
enum sandbox_mode { SANDBOX_ENFORCE, SANDBOX_LOG, SANDBOX_OFF };	/* conf->seccomp */
int sandbox_apply(struct server *srv);

/* deadpeer.c: a vanished peer is dropped by the kernel: TCP keepalive probes
 * every `keepalive` seconds and TCP_USER_TIMEOUT of three periods on vendor and
 * asset sockets (keepalive 0: nothing set). 0, or -1 with errno. */
int deadpeer_arm(int fd, uint64_t keepalive);

/* ---- plant operations (issue 7) ---- */

/* operator.c: the operator's verbs on running sessions. kill: id is a unique
 * prefix (8+ hex) of an active session; reason (may be "") is shown to the
 * vendor and audited (session.kill) with uid. 0, or -1 with why in out. */
int operator_kill(struct server *srv, const char *id, const char *reason, uid_t uid,
    struct buf *out);
/* The active session id (a unique prefix) names, or NULL with why in out,
 * each line starting with verb. */
struct session *operator_session(struct server *srv, const char *verb, const char *id,
    struct buf *out);

/* limits.c: at the decision (after ALLOW), keep d's max-session and
 * idle-timeout for s and check a's max-sessions: -1 after refusing s with who
 * holds the asset and since when (audit session.busy). limits_start runs a
 * tick a second that warns the vendor before either limit and ends the session
 * at it (audit session.limit). */
#define LIMITS_WARNED_MAX 1
#define LIMITS_WARNED_IDLE 2
int limits_admit(struct session *s, const struct policy_asset *a,
    const struct policy_decision *d);
int limits_start(struct server *srv);
void limits_stop(struct server *srv);

/* approval.c: just-in-time approval requests, in memory. approval_check (at
 * a needs-approval decision, role deciding): 0 when a grant covers s's user
 * and asset (go on as allowed); -1 when it took s over: a pty shell now waits
 * in SESSION_APPROVAL, anything else was refused with the request number. */
#define APPROVAL_REASON_MAX 200	/* the vendor's reason, bytes */
enum approval_result { APPROVAL_WAIT, APPROVAL_GO, APPROVAL_DONE };
int approval_start(struct server *srv);
void approval_stop(struct server *srv);
int approval_check(struct session *s, const char *role);
/* From session_step in SESSION_APPROVAL: GO to decide again, DONE when s was
 * closed or refused (denied, expired, Ctrl-C, vendor gone). */
enum approval_result approval_step(struct session *s);
/* reason.c: role `reason = required`. reason_start prompts a pty shell (state
 * SESSION_REASON; 0) or refuses anything else (-1). reason_input from
 * session_step: GIVEN once s->reason is set (decide again), DONE when s was
 * closed or refused. */
enum reason_result { REASON_WAIT, REASON_GIVEN, REASON_DONE };
int reason_start(struct session *s);
enum reason_result reason_input(struct session *s);
void reason_free(struct session *s);

/* onrequest.c: `on-request = PATH`: a helper forked by onrequest_start
 * (before privileges drop) runs PATH for each request, JSON on stdin. */
#define ONREQUEST_MSG_MAX 4096	/* one request's JSON line */
int onrequest_start(struct server *srv);
/* Send request id's JSON line (from approval.c) to the helper, never blocking. */
void onrequest_run(struct server *srv, unsigned long id, const struct buf *json);
void onrequest_stop(struct server *srv);

/* screen.c: the screen a pty session shows, as a libvterm model fed with the
 * asset's output (pure). A model keeps its size (at least 2x2, at most
 * SCREEN_ROWS_MAX x SCREEN_COLS_MAX); the alternate screen's buffer exists
 * once it is used.
 * screen_render appends a sequence that redraws the screen on a terminal:
 * cursor hidden, reset, clear, each non-blank cell with its attributes (SGR),
 * the cursor's position and visibility. */
#define SCREEN_ROWS_MAX 200
#define SCREEN_COLS_MAX 400
struct screen;
int screen_new(int rows, int cols, struct screen **out);
void screen_free(struct screen *sc);
void screen_feed(struct screen *sc, const void *data, size_t len);
void screen_size(const struct screen *sc, int *rows, int *cols);
int screen_render(const struct screen *sc, struct buf *out);

/* watch.c: `otgate watch ID`, a read-only live view of a pty session for
 * an operator: the current screen (screen.c, built from the last
 * WATCH_TAIL_MAX bytes of output each pty session keeps), then the asset's
 * output as it goes to the vendor, until the session ends or the watcher
 * leaves. Nothing flows back. A watcher that falls WATCH_BACKLOG_MAX behind
 * gets no more live output until it has read what it has, then the current
 * screen again. The vendor is told (announce-watch) and the audit log has
 * session.watch and session.watch.end with the operator's uid and name. */
#define WATCH_BACKLOG_MAX (256u * 1024)
#define WATCH_TAIL_MAX (64u * 1024)
struct watch;
/* relay.c: output on its way to the vendor; s->cols x s->rows changed */
void watch_output(struct session *s, const void *data, size_t len);
void watch_resize(struct session *s);
/* session.c: at close; every watcher is told why */
void watch_end(struct session *s, const char *why);
/* control: take cl as a watcher of the session id names; 0, or -1 with why */
int watch_join(struct server *srv, const char *id, struct control_client *cl,
    const struct control_peer *peer, struct buf *out);

/* Control verbs; reply text into out. */
void approval_list(struct server *srv, struct buf *out, int json);
int approval_answer(struct server *srv, int approve, const char *id, const char *arg,
    const struct control_peer *peer, struct buf *out);

#endif
