/*
 * server.c: what the whole daemon shares: the configuration, the current
 * policy (refcounted, swapped whole on reload), the audit log, the SSH host
 * key, the listeners and the control socket's verbs. Reload validates the new
 * policy completely before anything changes, and ends the sessions that the new
 * policy no longer allows.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "broker/broker.h"

#define SERVER_BANNER_MAX (16u * 1024)
#define SERVER_CIPHERS "aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
	"chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr"
/* vendors run current clients: curve25519 and etm MACs only (libssh adds
 * strict KEX); the host key signs with whichever of these fits its type */
#define SERVER_KEX "curve25519-sha256,curve25519-sha256@libssh.org"
#define SERVER_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
#define SERVER_HOSTKEY_ALGORITHMS "ssh-ed25519,ecdsa-sha2-nistp256," \
	"ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"

void
server_newid(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[16];
	size_t i;

	arc4random_buf(raw, sizeof(raw));
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[32] = '\0';
}

int
server_audit(struct server *srv, const char *event, const struct audit_field *f,
    size_t n)
{
	/* while the log is down only auditguard's retry writes to it */
	if (srv->audit != NULL && !auditguard_down(srv) &&
	    audit_event(srv->audit, event, f, n) == 0)
		return 0;
	auditguard_failed(srv, event);
	return -1;
}

static struct policyref *
server_policyref(struct policy *p)
{
	struct policyref *ref;

	if ((ref = calloc(1, sizeof(*ref))) == NULL)
		return NULL;
	ref->policy = p;
	ref->refs = 1;
	return ref;
}

struct policyref *
server_policy_hold(struct server *srv)
{
	srv->policy->refs++;
	return srv->policy;
}

void
server_policy_release(struct policyref *ref)
{
	if (ref == NULL || --ref->refs > 0)
		return;
	policy_free(ref->policy);
	free(ref);
}

/* Every diagnostic to the log and, when asked, to the control reply. */
static void
server_report(const struct diag *d, struct buf *report)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&text, &len)) == NULL)
		return;
	diag_print(d, fp);
	fclose(fp);
	if (report != NULL)
		buf_put(report, text, len);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		log_warnx("%s", line);
	free(text);
}

struct server_revoke {
	struct policy *policy;
	time_t now;
	unsigned ended;
};

static void
server_revoke_cb(struct session *s, void *arg)
{
	struct server_revoke *r = arg;
	struct policy_decision d;
	char why[300];

	if (s->state != SESSION_RUNNING && s->state != SESSION_CONNECT &&
	    s->state != SESSION_APPROVAL)
		return;
	/* needs-approval still holds a session that waits or was approved */
	if (policy_decide(r->policy, s->conn->user, s->asset, s->kind, r->now, &d) != 0 ||
	    d.verdict == POLICY_ALLOW ||
	    (d.verdict == POLICY_NEEDS_APPROVAL && s->request != 0))
		return;
	/* the vendor learns that the rules changed, not only the new rule */
	snprintf(why, sizeof(why), "ended by a policy reload: %s", d.reason);
	session_refuse(s, "policy.deny", why);
	r->ended++;
}

int
server_reload(struct server *srv, struct buf *report)
{
	struct policy *p = NULL;
	struct policyref *ref;
	struct server_revoke revoke;
	struct diag d;
	int r;

	diag_init(&d);
	r = policy_load(srv->conf->policy, &d, &p);
	server_report(&d, report);
	diag_free(&d);
	if (r != 0 || p == NULL) {
		log_warnx("reload: %s is invalid; keeping policy %.12s",
		    srv->conf->policy, policy_hash(srv->policy->policy));
		if (report != NULL)
			buf_printf(report, "reload refused: keeping policy %s\n",
			    policy_hash(srv->policy->policy));
		server_audit(srv, "policy.reload", (struct audit_field[]){
		    AUDIT_STR("result", "invalid"),
		    AUDIT_STR("policy", policy_hash(srv->policy->policy)) }, 2);
		return -1;
	}
	if (policystore_keep(srv->conf->state, p) != 0)
		log_warnx("reload: could not keep a copy of policy %.12s", policy_hash(p));
	if ((ref = server_policyref(p)) == NULL) {
		policy_free(p);
		return -1;
	}
	/* "policy" is the one in force from now on, "old" the one it replaced */
	server_audit(srv, "policy.reload", (struct audit_field[]){
	    AUDIT_STR("result", "ok"), AUDIT_STR("policy", policy_hash(p)),
	    AUDIT_STR("old", policy_hash(srv->policy->policy)) }, 3);
	server_policy_release(srv->policy);
	srv->policy = ref;
	log_info("policy %s loaded", policy_hash(p));
	revoke.policy = p;
	revoke.now = time(NULL);
	revoke.ended = 0;
	vendor_foreach_session(srv, server_revoke_cb, &revoke);
	if (report != NULL)
		buf_printf(report, "policy %s loaded; %u session(s) ended\n",
		    policy_hash(p), revoke.ended);
	return 0;
}

static void
server_count_cb(struct session *s, void *arg)
{
	(void)s;
	(*(unsigned *)arg)++;
}

static void
server_status_cb(struct buf *out, void *arg)
{
	struct server *srv = arg;
	unsigned n = 0;

	vendor_foreach_session(srv, server_count_cb, &n);
	buf_printf(out, "version %s\nuptime %llds\nconnections %u\nsessions %u\npolicy %s\n",
	    OTGATE_VERSION, (long long)(time(NULL) - srv->started), srv->nconns, n,
	    policy_hash(srv->policy->policy));
	auditguard_status(srv, out);
}

struct server_list {
	struct buf *out;
	int json;
};

static void
server_list_cb(struct session *s, void *arg)
{
	struct server_list *l = arg;

	session_describe(s, l->out, l->json);
}

static void
server_sessions_cb(struct buf *out, int json, void *arg)
{
	struct server_list l = { out, json };

	vendor_foreach_session(arg, server_list_cb, &l);
}

static int
server_reload_cb(struct buf *out, void *arg)
{
	return server_reload(arg, out);
}

static void
server_command_cb(const char *verb, uid_t uid, void *arg)
{
	server_audit(arg, "control.command", (struct audit_field[]){
	    AUDIT_STR("verb", verb), AUDIT_NUM("uid", uid) }, 2);
}

static int
server_user_cb(const char *verb, const char *user, struct buf *out, void *arg)
{
	return mfa_user_command(arg, verb, user, out);
}

static int
server_kill_cb(const char *id, const char *reason, uid_t uid, struct buf *out, void *arg)
{
	return operator_kill(arg, id, reason, uid, out);
}

static void
server_requests_cb(struct buf *out, int json, void *arg)
{
	approval_list(arg, out, json);
}

static int
server_answer_cb(int approve, const char *id, const char *value,
    const struct control_peer *peer, struct buf *out, void *arg)
{
	return approval_answer(arg, approve, id, value, peer, out);
}

static int
server_watch_cb(const char *id, struct control_client *cl,
    const struct control_peer *peer, struct buf *out, void *arg)
{
	return watch_join(arg, id, cl, peer, out);
}

static const struct control_ops server_control_ops = {
	server_status_cb, server_sessions_cb, server_reload_cb, server_command_cb,
	server_user_cb, server_kill_cb, server_requests_cb, server_answer_cb,
	server_watch_cb
};

static void
server_accept_cb(int fd, const struct sockaddr *sa, socklen_t salen,
    struct listener_slot *slot, void *arg)
{
	vendor_accept(arg, fd, sa, salen, slot);
}

static int
server_hostkey(struct server *srv)
{
	char why[256];
	ssh_key key = NULL;
	bool no = false;
	int fd;

	if ((fd = open(srv->conf->hostkey, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_warn("host key %s", srv->conf->hostkey);
		return -1;
	}
	if (file_check_secret(fd, srv->conf->hostkey, why, sizeof(why)) != 0) {
		log_warnx("host key %s: %s", srv->conf->hostkey, why);
		close(fd);
		return -1;
	}
	close(fd);
	if (ssh_pki_import_privkey_file(srv->conf->hostkey, NULL, NULL, NULL, &key) != SSH_OK) {
		log_warnx("host key %s: not an OpenSSH private key", srv->conf->hostkey);
		return -1;
	}
	if ((srv->bind = ssh_bind_new()) == NULL ||
	    ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_CIPHERS_C_S, SERVER_CIPHERS) != 0 ||
	    ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_CIPHERS_S_C, SERVER_CIPHERS) != 0 ||
	    ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_KEY_EXCHANGE, SERVER_KEX) != 0 ||
	    ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_HMAC_C_S, SERVER_MACS) != 0 ||
	    ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_HMAC_S_C, SERVER_MACS) != 0 ||
	    ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS,
	    SERVER_HOSTKEY_ALGORITHMS) != 0 ||
	    ssh_bind_options_set(srv->bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != 0) {
		log_warnx("host key %s: %s", srv->conf->hostkey,
		    srv->bind ? ssh_get_error(srv->bind) : "out of memory");
		ssh_key_free(key);
		return -1;
	}
	return 0;
}

int
server_start(struct server *srv, struct event_base *base, struct conf *conf,
    struct policy *policy)
{
	size_t len;

	memset(srv, 0, sizeof(*srv));
	srv->base = base;
	srv->conf = conf;
	srv->started = time(NULL);
	if ((srv->policy = server_policyref(policy)) == NULL) {
		policy_free(policy);
		return -1;
	}
	if (audit_open(conf->audit_log, &srv->audit) != 0) {
		log_warnx("audit log %s: cannot open", conf->audit_log);
		return -1;
	}
	if (auditguard_start(srv) != 0)
		return -1;
	if (audit_set_siem(srv->audit, (enum siem_format)conf->siem_format, NULL) != 0)
		log_warn("siem-format: cannot open a socket for /dev/log");
	/* the signer forks before any secret is read and before root is dropped */
	if (record_start(srv) != 0)
		return -1;
	if (policystore_keep(conf->state, policy) != 0)
		log_warnx("could not keep a copy of policy %.12s", policy_hash(policy));
	/* the policy in force from now on, for auditors and incident reports */
	server_audit(srv, "broker.start", (struct audit_field[]){
	    AUDIT_STR("version", OTGATE_VERSION), AUDIT_STR("policy", policy_hash(policy)),
	    AUDIT_NUM("pid", getpid()) }, 3);
	if (server_hostkey(srv) != 0)
		return -1;
	/* the auth helpers fork now, before the listener and control socket open */
	if (mfa_start(srv) != 0 || onrequest_start(srv) != 0)
		return -1;
	if (conf->banner != NULL && file_read(conf->banner, SERVER_BANNER_MAX,
	    &srv->banner, &len) != 0) {
		log_warn("banner %s", conf->banner);
		return -1;
	}
	srv->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (srv->dns == NULL)
		srv->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (listener_open(base, conf, server_accept_cb, srv, &srv->listener) != 0)
		return -1;
	if (control_open(base, conf->control, &server_control_ops, srv, &srv->control) != 0) {
		log_warnx("control socket %s: cannot open", conf->control);
		return -1;
	}
	if (limits_start(srv) != 0 || approval_start(srv) != 0)
		return -1;
	log_info("otgated %s started, policy %s", OTGATE_VERSION, policy_hash(policy));
	return 0;
}

/* Each vendor reads why the session ends before the connections close. */
static void
server_goodbye_cb(struct session *s, void *arg)
{
	(void)arg;
	if (s->state != SESSION_SETUP)
		session_refuse(s, NULL, "the broker is shutting down");
}

void
server_stop(struct server *srv)
{
	int i;

	if (srv->control != NULL)
		control_close(srv->control);
	srv->control = NULL;
	limits_stop(srv);
	/* nothing new is accepted: the loop no longer runs the listener */
	vendor_foreach_session(srv, server_goodbye_cb, NULL);
	vendor_close_all(srv);
	mfa_stop(srv);	/* a request in flight fails and lets its connection go */
	/* the frees were scheduled on the loop: let them run */
	for (i = 0; i < 4; i++)
		event_base_loop(srv->base, EVLOOP_NONBLOCK);
	onrequest_stop(srv);
	assetpool_stop(srv);	/* after the sessions left their links */
	record_stop(srv);	/* after the sessions closed their recordings */
	approval_stop(srv);
	listener_close(srv->listener);
	srv->listener = NULL;
	if (srv->dns != NULL)
		evdns_base_free(srv->dns, 0);
	srv->dns = NULL;
	if (srv->bind != NULL)
		ssh_bind_free(srv->bind);
	srv->bind = NULL;
	server_policy_release(srv->policy);
	srv->policy = NULL;
	auditguard_stop(srv);
	if (srv->audit != NULL)
		audit_close(srv->audit);
	srv->audit = NULL;
	conf_free(srv->conf);
	srv->conf = NULL;
	free(srv->banner);
	srv->banner = NULL;
}
