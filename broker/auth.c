/*
 * auth.c: the vendor's login. libssh delivers every auth request whatever
 * methods were advertised, so the order of factors is enforced here: the
 * policy's `auth` line names them, the first is the public key, and only a
 * signature that libssh verified (SSH_PUBLICKEY_STATE_VALID) names the user.
 * Probes (is this key acceptable?) are answered but never counted as failures.
 * Unknown, disabled and expired users fail exactly like a wrong key.
 *
 * Passwords, PAM, TOTP and keyboard-interactive go to mfa.c, which may hold
 * the request until an auth helper answered (AUTH_HELD). A combination of
 * factors the broker does not implement refuses the login with that reason,
 * shown in a banner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "broker/broker.h"

static void
auth_banner(struct conn *c, const char *text)
{
	ssh_string s;

	if ((s = ssh_string_from_char(text)) == NULL)
		return;
	ssh_send_issue_banner(c->ssh, s);
	ssh_string_free(s);
}

/* A refusal the vendor sees once per connection (identity already proven, or
 * a malformed user name that reveals nothing). */
static void
auth_tell(struct conn *c, const char *reason)
{
	char line[256];

	if (c->auth.reason_sent)
		return;
	c->auth.reason_sent = 1;
	snprintf(line, sizeof(line), "otgate: %s\n", reason);
	auth_banner(c, line);
}

/* The policy's first factors, never the tried user's own: a list that
 * changed with the name would tell which names exist and how they log in. */
static unsigned
auth_first_factors(struct server *srv)
{
	struct policyref *ref = server_policy_hold(srv);
	unsigned first = policy_first_factors(ref->policy);

	server_policy_release(ref);
	return first;
}

void
auth_advertise(struct conn *c)
{
	unsigned first = auth_first_factors(c->srv);
	int methods = 0;

	if (first & POLICY_AUTH_PUBLICKEY)
		methods |= SSH_AUTH_METHOD_PUBLICKEY;
	if (first & POLICY_AUTH_PASSWORD)
		methods |= SSH_AUTH_METHOD_PASSWORD;
	ssh_set_auth_methods(c->ssh, methods);
}

static void
auth_reject(struct conn *c, ssh_message m, const char *reason, int counts)
{
	c->auth.rejected++;
	if (counts)
		c->auth.tries++;
	snprintf(c->auth.last_reason, sizeof(c->auth.last_reason), "%.120s", reason);
	auth_advertise(c);
	ssh_message_reply_default(m);
}

static int
auth_key_listed(const struct policy_user *u, const ssh_key key)
{
	struct strlist words;
	ssh_key k;
	size_t i;
	int found = 0;

	for (i = 0; i < u->pubkeys.n && !found; i++) {
		if (strlist_split(u->pubkeys.v[i], &words) != 0)
			continue;
		if (words.n >= 2 && ssh_pki_import_pubkey_base64(words.v[1],
		    ssh_key_type_from_name(words.v[0]), &k) == SSH_OK) {
			found = ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0;
			ssh_key_free(k);
		}
		strlist_free(&words);
	}
	return found;
}

static void
auth_fingerprint(const ssh_key key, char *out, size_t outsz)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	snprintf(out, outsz, "?");
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		return;
	if ((fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL) {
		snprintf(out, outsz, "%s", fp);
		ssh_string_free_char(fp);
	}
	ssh_clean_pubkey_hash(&hash);
}

/* The factor still missing, or 0 when the login is complete. */
static unsigned
auth_next_factor(const struct policy_user *u, unsigned done)
{
	static const unsigned order[] = { POLICY_AUTH_PUBLICKEY, POLICY_AUTH_PASSWORD,
	    POLICY_AUTH_PAM, POLICY_AUTH_TOTP };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((u->auth & order[i]) && !(done & order[i]))
			return order[i];
	return 0;
}

static const char *
auth_factor_name(unsigned f)
{
	switch (f) {
	case POLICY_AUTH_PUBLICKEY:
		return "publickey";
	case POLICY_AUTH_PASSWORD:
		return "password";
	case POLICY_AUTH_PAM:
		return "pam";
	case POLICY_AUTH_TOTP:
		return "totp";
	}
	return "?";
}

static int
auth_user_valid(const struct policy_user *u)
{
	return u != NULL && !u->disabled && (u->expires == 0 || time(NULL) < u->expires);
}

static enum auth_result
auth_publickey(struct conn *c, ssh_message m, const char *user, const char *asset)
{
	struct policyref *ref = server_policy_hold(c->srv);
	const struct policy_user *u = policy_user(ref->policy, user);
	ssh_key key = sshmsg_auth_pubkey(m);
	enum ssh_publickey_state_e state = sshmsg_auth_pubkey_state(m);
	char fp[128], reason[160];
	const char *fptext = fp;
	unsigned next;
	int match;

	match = key != NULL && auth_user_valid(u) && (u->auth & POLICY_AUTH_PUBLICKEY) &&
	    auth_key_listed(u, key);
	if (state == SSH_PUBLICKEY_STATE_NONE) {
		/* a probe: say whether a signature with this key could work */
		if (match)
			ssh_message_auth_reply_pk_ok_simple(m);
		else
			auth_reject(c, m, "no matching key", 0);
		server_policy_release(ref);
		return AUTH_CONTINUE;
	}
	if (state != SSH_PUBLICKEY_STATE_VALID || !match) {
		if (state != SSH_PUBLICKEY_STATE_VALID)
			mfa_count_failure(c, user);
		auth_reject(c, m, state == SSH_PUBLICKEY_STATE_VALID ?
		    "no matching key" : "bad signature", 1);
		server_policy_release(ref);
		return AUTH_CONTINUE;
	}
	c->auth.factors_done |= POLICY_AUTH_PUBLICKEY;
	auth_fingerprint(key, fp, sizeof(fp));
	next = auth_next_factor(u, c->auth.factors_done);
	if (next == POLICY_AUTH_TOTP) {
		server_policy_release(ref);
		return mfa_after_key(c, m, user, asset, fp);
	}
	if (next == 0 && mfa_user_locked(c->srv, user)) {
		/* the key holder learns of the lock; nobody else can */
		auth_tell(c, "login refused: this user is locked");
		auth_reject(c, m, "user locked", 1);
		c->auth.factors_done = 0;
		server_policy_release(ref);
		return AUTH_CONTINUE;
	}
	if (next != 0) {
		snprintf(reason, sizeof(reason), "login refused: auth factor %s is not "
		    "available on this broker yet", auth_factor_name(next));
		auth_tell(c, reason);
		auth_reject(c, m, reason, 1);
		c->auth.factors_done = 0;
		server_policy_release(ref);
		return AUTH_CONTINUE;
	}
	server_policy_release(ref);
	return auth_grant(c, m, user, asset, "publickey", fptext);
}

enum auth_result
auth_grant(struct conn *c, ssh_message m, const char *user, const char *asset,
    const char *method, const char *keyfp)
{
	struct policyref *ref = server_policy_hold(c->srv);
	const struct policy_user *u = policy_user(ref->policy, user);

	snprintf(c->user, sizeof(c->user), "%s", user);
	snprintf(c->asset, sizeof(c->asset), "%s", asset);
	snprintf(c->company, sizeof(c->company), "%s",
	    u != NULL && u->company != NULL ? u->company : "");
	server_policy_release(ref);
	/* fail closed: no login whose auth.success is not in the audit log */
	if (auditguard_down(c->srv) || server_audit(c->srv, "auth.success",
	    (struct audit_field[]){ AUDIT_STR("conn", c->id), AUDIT_STR("user", user),
	    AUDIT_STR("company", c->company), AUDIT_STR("src", c->src),
	    AUDIT_STR("method", method), AUDIT_STR("key", keyfp) }, 6) != 0) {
		auth_tell(c, "login refused: audit log unavailable");
		auth_reject(c, m, "audit log unavailable", 0);
		c->auth.factors_done = 0;
		return AUTH_CONTINUE;
	}
	c->auth.granted = 1;
	ssh_message_auth_reply_success(m, 0);
	log_info("conn %.8s: %s authenticated from %s with %s%s%s", c->id, user, c->src,
	    method, keyfp != NULL && keyfp[0] != '\0' ? " " : "", keyfp ? keyfp : "");
	return AUTH_GRANTED;
}

enum auth_result
auth_message(struct conn *c, ssh_message m)
{
	const char *name = ssh_message_auth_user(m);
	char user[USERNAME_MAX], asset[USERNAME_MAX], why[160];
	enum auth_result r = AUTH_CONTINUE;

	if (!c->auth.banner_sent && c->srv->banner != NULL)
		auth_banner(c, c->srv->banner);
	c->auth.banner_sent = 1;
	if (mfa_busy(c)) {
		/* a client waits for its answer; this one broke the protocol */
		auth_reject(c, m, "request while another was judged", 0);
		return AUTH_CONTINUE;
	}
	/* a keyboard-interactive answer carries no user name: mfa.c kept it */
	if (ssh_message_subtype(m) == SSH_AUTH_METHOD_INTERACTIVE)
		return mfa_kbdint(c, m);
	snprintf(c->auth.last_user, sizeof(c->auth.last_user), "%s", name ? name : "");
	if (username_parse(name ? name : "", user, sizeof(user), asset, sizeof(asset),
	    why, sizeof(why)) != 0) {
		auth_tell(c, why);
		auth_reject(c, m, why, ssh_message_subtype(m) != SSH_AUTH_METHOD_NONE);
	} else if (ssh_message_subtype(m) == SSH_AUTH_METHOD_PUBLICKEY) {
		r = auth_publickey(c, m, user, asset);
	} else if (ssh_message_subtype(m) == SSH_AUTH_METHOD_PASSWORD &&
	    (auth_first_factors(c->srv) & POLICY_AUTH_PASSWORD)) {
		/* unadvertised methods arrive too (libssh): refused below */
		r = mfa_password(c, m, user, asset);
	} else if (ssh_message_subtype(m) == SSH_AUTH_METHOD_NONE) {
		auth_reject(c, m, "no method", 0);
	} else {
		auth_reject(c, m, "method not accepted", 1);
	}
	if (r == AUTH_CONTINUE && c->auth.tries >= AUTH_MAX_TRIES)
		r = AUTH_DISCONNECT;
	return r;
}

void
auth_finish(struct conn *c)
{
	char user[USERNAME_MAX * 4], reason[512];

	if (c->auth.granted || c->auth.rejected == 0)
		return;
	server_audit(c->srv, "auth.failure", (struct audit_field[]){
	    AUDIT_STR("conn", c->id), AUDIT_STR("user", c->auth.last_user),
	    AUDIT_STR("src", c->src), AUDIT_STR("reason", c->auth.last_reason),
	    AUDIT_NUM("attempts", c->auth.tries) }, 5);
	log_info("conn %.8s: login failed from %s as %s: %s", c->id, c->src,
	    escape_str(user, sizeof(user), c->auth.last_user),
	    escape_str(reason, sizeof(reason), c->auth.last_reason));
}
