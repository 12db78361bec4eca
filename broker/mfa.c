/*
 * mfa.c: logins beyond a lone public key, driven from the loop. auth.c hands
 * over a password request, the moment a key passed when TOTP follows, and
 * every keyboard-interactive request; the blocking work goes to the auth
 * helpers (authpool.c) while the SSH request is held, and the answer is sent
 * when the helper replies.
 *
 * What a prober can learn is kept small: a password is judged only after the
 * code was asked as well, and an unknown user, a user whose first factor
 * failed and a locked user all take the same path and fail like a wrong code.
 * Only a user whose first factor really passed and who has no secret yet is
 * asked for an enrolment code (a first factor alone never enrols a second).
 *
 * Failed passwords, codes and signatures count per user (lockout) and per
 * source address (throttling: the failure reply waits); key probes never
 * count. mfa-grace lets the same user, key and source skip the code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "broker/broker.h"
#include "pam/pam.h"

#define MFA_TABLE_MAX 10000	/* users, sources, grace entries remembered */
#define MFA_ANSWER_MAX 64	/* longest code or enrolment code taken */
#define MFA_CODE_PROMPT "Verification code: "
#define MFA_INVITE_PROMPT "Enrolment code: "

struct mfa {
	struct authpool *pool;
	struct lockout users;
	struct lockout sources;
	struct grace grace;
};

enum mfa_phase {
	MFA_IDLE,	/* no first factor answered */
	MFA_PARTIAL,	/* first factor answered with partial success */
	MFA_CODE,	/* "Verification code: " asked */
	MFA_INVITE,	/* "Enrolment code: " asked */
	MFA_CONFIRM	/* the QR code and "Verification code: " asked */
};

struct mfa_login {
	struct conn *c;
	enum mfa_phase phase;
	unsigned first;		/* POLICY_AUTH_* of the first factor */
	int known;		/* a valid policy user with this first factor */
	int first_ok;		/* the first factor passed (told nobody yet) */
	char user[USERNAME_MAX];
	char asset[USERNAME_MAX];
	char key[128];		/* key fingerprint, "" after a password */
	char b32[TOTP_SECRET_B32_MAX];	/* the secret being enrolled (QR code) */
	ssh_message held;	/* answered when a helper replies; holds a ref on c */
	struct event *delay;	/* a throttled failure waits on this */
};

static const char *
mfa_factor_name(unsigned f)
{
	switch (f) {
	case POLICY_AUTH_PUBLICKEY:
		return "publickey";
	case POLICY_AUTH_PASSWORD:
		return "password";
	case POLICY_AUTH_PAM:
		return "pam";
	}
	return "totp";
}

/* The policy's auth bits of a user who may log in now, or 0. */
static unsigned
mfa_user_auth(struct server *srv, const char *user)
{
	struct policyref *ref = server_policy_hold(srv);
	const struct policy_user *u = policy_user(ref->policy, user);
	unsigned auth = 0;

	if (u != NULL && !u->disabled && (u->expires == 0 || time(NULL) < u->expires))
		auth = u->auth;
	server_policy_release(ref);
	return auth;
}

static int
mfa_in_policy(struct server *srv, const char *user)
{
	struct policyref *ref = server_policy_hold(srv);
	int in = policy_user(ref->policy, user) != NULL;

	server_policy_release(ref);
	return in;
}

static int
mfa_locked(struct server *srv, const char *user)
{
	return lockout_locked(&srv->mfa->users, user, time(NULL)) != 0;
}

int
mfa_user_locked(struct server *srv, const char *user)
{
	return mfa_locked(srv, user);
}

static struct mfa_login *
mfa_login_get(struct conn *c)
{
	struct mfa_login *l = c->auth.mfa;

	if (l == NULL) {
		if ((l = calloc(1, sizeof(*l))) == NULL)
			return NULL;
		l->c = c;
		c->auth.mfa = l;
	}
	return l;
}

void
mfa_login_free(struct conn *c)
{
	struct mfa_login *l = c->auth.mfa;

	if (l == NULL)
		return;
	if (l->held != NULL)
		ssh_message_free(l->held);
	if (l->delay != NULL)
		event_free(l->delay);
	explicit_bzero(l, sizeof(*l));
	free(l);
	c->auth.mfa = NULL;
}

int
mfa_busy(const struct conn *c)
{
	return c->auth.mfa != NULL && c->auth.mfa->held != NULL;
}

static void
mfa_hold(struct mfa_login *l, ssh_message m)
{
	l->held = m;
	l->c->refs++;
}

/* The held request was answered (or the connection is gone): go on. */
static void
mfa_done(struct mfa_login *l, enum auth_result r)
{
	struct conn *c = l->c;

	ssh_message_free(l->held);
	l->held = NULL;
	if (c->state == CONN_AUTH)
		vendor_auth_done(c, r);
	vendor_unref(c);
}

static void
mfa_reply_failure(struct mfa_login *l)
{
	struct conn *c = l->c;

	auth_advertise(c);
	ssh_message_reply_default(l->held);
	mfa_done(l, c->auth.tries >= AUTH_MAX_TRIES ? AUTH_DISCONNECT : AUTH_CONTINUE);
}

static void
mfa_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mfa_login *l = arg;

	(void)fd;
	(void)what;
	if (l->c->state != CONN_AUTH)
		mfa_done(l, AUTH_CONTINUE);
	else
		mfa_reply_failure(l);
}

static void
mfa_store_cb(const struct authpool_reply *r, void *arg)
{
	const char *verb = arg;
	char why[512];

	if (r->status != 0)
		log_warnx("user %s: the store was not updated: %s", verb,
		    escape_str(why, sizeof(why), r->text[0] ? r->text : otg_strerror(r->status)));
}

/* A user's failure (AUTHPOOL_FAIL) or success (AUTHPOOL_UNLOCK) also goes to
 * STATE/totp/+users, so that a restart of the broker does not reset a count. */
static void
mfa_keep(struct server *srv, enum authpool_op op, const char *user)
{
	const struct lockout *t = &srv->mfa->users;
	char limits[64];
	struct authpool_req req = { op, user, limits, "" };

	snprintf(limits, sizeof(limits), "%u %llu", t->max_failures,
	    (unsigned long long)t->period);
	if (authpool_submit(srv->mfa->pool, &req, mfa_store_cb, op == AUTHPOOL_FAIL ?
	    (void *)"failure count" : (void *)"login") != 0)
		log_warnx("user %s: auth helpers busy, the failure count was not saved", user);
}

/* Count a failure of user from c's source; audit a lockout it causes. */
static void
mfa_count(struct conn *c, const char *user)
{
	struct mfa *mfa = c->srv->mfa;
	time_t now = time(NULL);
	int locked = 0;

	/* only names that could log in are counted, so made-up ones cannot
	 * crowd real users out of the table */
	if (mfa_in_policy(c->srv, user)) {
		locked = lockout_fail(&mfa->users, user, now) == 1;
		mfa_keep(c->srv, AUTHPOOL_FAIL, user);
	}
	if (locked) {
		grace_forget(&mfa->grace, user);
		server_audit(c->srv, "auth.lockout", (struct audit_field[]){
		    AUDIT_STR("conn", c->id), AUDIT_STR("user", user),
		    AUDIT_STR("src", c->src),
		    AUDIT_NUM("failures", mfa->users.max_failures),
		    AUDIT_NUM("seconds", mfa->users.period) }, 5);
		log_info("conn %.8s: user %s locked for %llus after %u failures", c->id,
		    user, (unsigned long long)mfa->users.period, mfa->users.max_failures);
	}
	lockout_fail(&mfa->sources, c->src, now);
}

void
mfa_count_failure(struct conn *c, const char *user)
{
	mfa_count(c, user);
}

/* The login failed at factor: audit, count, start over, answer (throttled). */
/* Audit and count a failed factor. */
static void
mfa_note_failure(struct mfa_login *l, const char *factor, const char *reason)
{
	struct conn *c = l->c;

	c->auth.tries++;
	c->auth.rejected++;
	snprintf(c->auth.last_reason, sizeof(c->auth.last_reason), "%s: %s", factor,
	    reason);
	server_audit(c->srv, "auth.failure", (struct audit_field[]){
	    AUDIT_STR("conn", c->id), AUDIT_STR("user", l->user),
	    AUDIT_STR("src", c->src), AUDIT_STR("factor", factor),
	    AUDIT_STR("reason", reason) }, 5);
	mfa_count(c, l->user);
}

/* Start the login over and answer the held request with a failure, late when
 * the source is throttled. */
static void
mfa_fail_reply(struct mfa_login *l)
{
	struct conn *c = l->c;
	struct mfa *mfa = c->srv->mfa;
	struct timeval tv = { 0, 0 };
	uint64_t wait;

	explicit_bzero(l->b32, sizeof(l->b32));
	l->phase = MFA_IDLE;
	c->auth.factors_done = 0;
	wait = lockout_delay(&mfa->sources, c->src, time(NULL));
	if (wait > 0 && (l->delay != NULL ||
	    (l->delay = evtimer_new(c->srv->base, mfa_delay_cb, l)) != NULL)) {
		tv.tv_sec = (time_t)wait;
		evtimer_add(l->delay, &tv);
		return;
	}
	mfa_reply_failure(l);
}

/* The login failed at factor: audit, count, start over, answer (throttled). */
static void
mfa_fail(struct mfa_login *l, const char *factor, const char *reason)
{
	mfa_note_failure(l, factor, reason);
	mfa_fail_reply(l);
}

static int
mfa_submit(struct mfa_login *l, enum authpool_op op, const char *secret,
    authpool_cb *cb)
{
	struct authpool_req req = { op, l->user, secret, l->c->src };

	return authpool_submit(l->c->srv->mfa->pool, &req, cb, l);
}

/* Ask one hidden answer over keyboard-interactive, in reply to the held request. */
static int
mfa_prompt(struct mfa_login *l, const char *prompt)
{
	const char *prompts[1] = { prompt };
	char echo[1] = { 0 };

	return ssh_message_auth_interactive_request(l->held, "", "", 1, prompts, echo);
}

static void
mfa_partial(struct mfa_login *l)
{
	l->phase = MFA_PARTIAL;
	ssh_set_auth_methods(l->c->ssh, SSH_AUTH_METHOD_INTERACTIVE);
	ssh_message_auth_reply_success(l->held, 1);
}

static void
mfa_granted(struct mfa_login *l, const char *how)
{
	struct conn *c = l->c;
	struct mfa *mfa = c->srv->mfa;
	char method[64];
	enum auth_result r;

	if (lockout_known(&mfa->users, l->user))
		mfa_keep(c->srv, AUTHPOOL_UNLOCK, l->user);
	lockout_clear(&mfa->users, l->user);
	if (l->key[0] != '\0')
		grace_remember(&mfa->grace, l->user, l->key, c->src, time(NULL));
	snprintf(method, sizeof(method), "%s+%s", mfa_factor_name(l->first), how);
	l->phase = MFA_IDLE;
	r = auth_grant(c, l->held, l->user, l->asset, method, l->key);
	mfa_done(l, r);
}

enum auth_result
mfa_after_key(struct conn *c, ssh_message m, const char *user, const char *asset,
    const char *keyfp)
{
	struct mfa_login *l;

	if (!mfa_locked(c->srv, user) &&
	    grace_covers(&c->srv->mfa->grace, user, keyfp, c->src, time(NULL)) == 1)
		return auth_grant(c, m, user, asset, "publickey+grace", keyfp);
	if ((l = mfa_login_get(c)) == NULL) {
		auth_advertise(c);
		ssh_message_reply_default(m);
		return AUTH_CONTINUE;
	}
	l->first = POLICY_AUTH_PUBLICKEY;
	l->known = 1;
	l->first_ok = 1;
	snprintf(l->user, sizeof(l->user), "%s", user);
	snprintf(l->asset, sizeof(l->asset), "%s", asset);
	snprintf(l->key, sizeof(l->key), "%s", keyfp);
	l->phase = MFA_PARTIAL;
	ssh_set_auth_methods(c->ssh, SSH_AUTH_METHOD_INTERACTIVE);
	ssh_message_auth_reply_success(m, 1);
	return AUTH_CONTINUE;
}

static void
mfa_first_cb(const struct authpool_reply *r, void *arg)
{
	struct mfa_login *l = arg;
	struct conn *c = l->c;
	unsigned auth;
	char why[512];

	if (c->state != CONN_AUTH) {
		mfa_done(l, AUTH_CONTINUE);
		return;
	}
	if (r->status != 0 && r->status != OTG_ERR_BADSIG)
		log_warnx("conn %.8s: %s check: %s", c->id, mfa_factor_name(l->first),
		    escape_str(why, sizeof(why), r->text[0] ? r->text : "refused"));
	l->first_ok = l->known && r->status == 0;
	auth = l->known ? mfa_user_auth(c->srv, l->user) : POLICY_AUTH_TOTP;
	if (auth & POLICY_AUTH_TOTP) {
		/* judged only after the code: whoever guesses learns nothing yet */
		mfa_partial(l);
		mfa_done(l, AUTH_CONTINUE);
	} else if (l->first_ok && mfa_locked(c->srv, l->user)) {
		mfa_fail(l, mfa_factor_name(l->first), "user locked");
	} else if (l->first_ok) {
		l->phase = MFA_IDLE;
		mfa_done(l, auth_grant(c, l->held, l->user, l->asset,
		    mfa_factor_name(l->first), ""));
	} else {
		mfa_fail(l, mfa_factor_name(l->first), r->status == OTG_ERR_PERM ?
		    "account refused" : "wrong password");
	}
}

enum auth_result
mfa_password(struct conn *c, ssh_message m, const char *user, const char *asset)
{
	struct mfa_login *l;
	const char *password = sshmsg_auth_password(m);
	unsigned auth = mfa_user_auth(c->srv, user);
	enum authpool_op op = AUTHPOOL_PASSWORD;

	if ((l = mfa_login_get(c)) == NULL) {
		auth_advertise(c);
		ssh_message_reply_default(m);
		return AUTH_CONTINUE;
	}
	l->first = POLICY_AUTH_PASSWORD;
	l->known = 0;
	if (!(auth & POLICY_AUTH_PUBLICKEY) && (auth & POLICY_AUTH_PASSWORD)) {
		l->known = 1;
	} else if (!(auth & POLICY_AUTH_PUBLICKEY) && (auth & POLICY_AUTH_PAM)) {
		l->known = 1;
		l->first = POLICY_AUTH_PAM;
		op = AUTHPOOL_PAM;
	}
	l->first_ok = 0;
	l->key[0] = '\0';
	l->phase = MFA_IDLE;
	c->auth.factors_done = 0;
	snprintf(l->user, sizeof(l->user), "%s", user);
	snprintf(l->asset, sizeof(l->asset), "%s", asset);
	/* an unknown user's password is hashed against a dummy all the same */
	if (password == NULL || strlen(password) > PASSWD_MAX)
		password = "";
	mfa_hold(l, m);
	if (mfa_submit(l, op, password, mfa_first_cb) != 0) {
		log_warnx("conn %.8s: auth helpers busy; refusing the attempt", c->id);
		l->held = NULL;
		c->refs--;
		auth_advertise(c);
		ssh_message_reply_default(m);
		return AUTH_CONTINUE;
	}
	return AUTH_HELD;
}

/* The QR code and otpauth line of l->b32, then "Verification code: ". */
static int
mfa_qr_prompt(struct mfa_login *l)
{
	char uri[TOTP_URI_MAX];
	struct buf text;
	int r = -1;

	/* OpenSSH mangles UTF-8 in the instruction, not in a prompt: the QR
	 * code goes into the prompt, after a newline; the otpauth line too,
	 * for those who type the secret in */
	buf_init(&text, 64 * 1024);
	if (totp_uri(l->user, l->b32, TOTP_DEFAULT_DIGITS, uri, sizeof(uri)) == 0 &&
	    buf_puts(&text, "\nScan this with your authenticator app:\n") == 0 &&
	    qr_render(uri, &text) == 0 && buf_printf(&text, "%s\n%s", uri,
	    MFA_CODE_PROMPT) == 0 && buf_putc(&text, '\0') == 0 &&
	    mfa_prompt(l, (const char *)buf_ptr(&text)) == SSH_OK)
		r = 0;
	explicit_bzero(uri, sizeof(uri));
	buf_free(&text);
	return r;
}

static void
mfa_confirm_cb(const struct authpool_reply *r, void *arg)
{
	struct mfa_login *l = arg;
	struct conn *c = l->c;

	if (c->state != CONN_AUTH) {
		mfa_done(l, AUTH_CONTINUE);
		return;
	}
	if (r->status == OTG_ERR_BADSIG && c->auth.tries + 1 < AUTH_MAX_TRIES) {
		/* the pending secret stays: show it again for another code */
		mfa_note_failure(l, "totp", "wrong code for the new secret");
		if (!mfa_locked(c->srv, l->user) &&
		    lockout_delay(&c->srv->mfa->sources, c->src, time(NULL)) == 0 &&
		    mfa_qr_prompt(l) == 0) {
			mfa_done(l, AUTH_CONTINUE);
			return;
		}
		mfa_fail_reply(l);
		return;
	}
	if (r->status == 0) {
		explicit_bzero(l->b32, sizeof(l->b32));
		server_audit(l->c->srv, "mfa.enrolled", (struct audit_field[]){
		    AUDIT_STR("conn", l->c->id), AUDIT_STR("user", l->user),
		    AUDIT_STR("src", l->c->src) }, 3);
		mfa_granted(l, "totp");
	} else {
		mfa_fail(l, "totp", "wrong code for the new secret");
	}
}

static void
mfa_invite_cb(const struct authpool_reply *r, void *arg)
{
	struct mfa_login *l = arg;

	if (l->c->state != CONN_AUTH) {
		mfa_done(l, AUTH_CONTINUE);
		return;
	}
	if (r->status != 0) {
		mfa_fail(l, "enrolment", r->status == OTG_ERR_NOTFOUND ?
		    "no valid enrolment code" : "wrong enrolment code");
		return;
	}
	if (strlen(r->text) >= sizeof(l->b32)) {
		mfa_fail(l, "enrolment", "cannot show the new secret");
		return;
	}
	memcpy(l->b32, r->text, strlen(r->text) + 1);
	if (mfa_qr_prompt(l) != 0) {
		mfa_fail(l, "enrolment", "cannot show the new secret");
		return;
	}
	l->phase = MFA_CONFIRM;
	mfa_done(l, AUTH_CONTINUE);
}

static void
mfa_code_cb(const struct authpool_reply *r, void *arg)
{
	struct mfa_login *l = arg;
	struct conn *c = l->c;
	char why[512];

	if (c->state != CONN_AUTH) {
		mfa_done(l, AUTH_CONTINUE);
		return;
	}
	if (!l->first_ok) {
		mfa_fail(l, mfa_factor_name(l->first), l->known ? "wrong password" :
		    "unknown user or factor");
	} else if (mfa_locked(c->srv, l->user)) {
		mfa_fail(l, "totp", "user locked");
	} else if (r->status == 0) {
		mfa_granted(l, "totp");
	} else {
		if (r->status != OTG_ERR_BADSIG && r->status != OTG_ERR_EXISTS &&
		    r->status != OTG_ERR_INVAL && r->status != OTG_ERR_NOTFOUND)
			log_warnx("conn %.8s: TOTP store: %s", c->id, escape_str(why,
			    sizeof(why), r->text));
		mfa_fail(l, "totp", r->status == OTG_ERR_EXISTS ? "code already used" :
		    r->status == OTG_ERR_INVAL ? "malformed code" :
		    r->status == OTG_ERR_NOTFOUND ? "not enrolled" :
		    r->status == OTG_ERR_BADSIG ? "wrong code" : "store unusable");
	}
}

static void
mfa_enrolled_cb(const struct authpool_reply *r, void *arg)
{
	struct mfa_login *l = arg;
	char why[512];

	if (l->c->state != CONN_AUTH) {
		mfa_done(l, AUTH_CONTINUE);
		return;
	}
	if (r->status != 0)
		log_warnx("conn %.8s: TOTP store: %s", l->c->id,
		    escape_str(why, sizeof(why), r->text));
	if (l->first_ok && r->status == 0 && r->value == 0 &&
	    !mfa_locked(l->c->srv, l->user)) {
		l->phase = MFA_INVITE;
		mfa_prompt(l, MFA_INVITE_PROMPT);
	} else {
		l->phase = MFA_CODE;
		mfa_prompt(l, MFA_CODE_PROMPT);
	}
	mfa_done(l, AUTH_CONTINUE);
}

enum auth_result
mfa_kbdint(struct conn *c, ssh_message m)
{
	struct mfa_login *l = c->auth.mfa;
	char answer[MFA_ANSWER_MAX + 1];
	const char *a, *secret;
	authpool_cb *cb;
	enum authpool_op op;
	int r;

	if (l == NULL || l->phase == MFA_IDLE ||
	    (!ssh_message_auth_kbdint_is_response(m) && l->phase != MFA_PARTIAL) ||
	    (ssh_message_auth_kbdint_is_response(m) && l->phase == MFA_PARTIAL)) {
		/* not after a first factor: refused, like any unadvertised method */
		if (l != NULL)
			l->phase = MFA_IDLE;
		c->auth.factors_done = 0;
		c->auth.rejected++;
		auth_advertise(c);
		ssh_message_reply_default(m);
		return AUTH_CONTINUE;
	}
	mfa_hold(l, m);
	if (!ssh_message_auth_kbdint_is_response(m)) {
		if (mfa_submit(l, AUTHPOOL_ENROLLED, "", mfa_enrolled_cb) != 0)
			mfa_fail(l, "totp", "auth helpers busy");
		return AUTH_HELD;
	}
	if (ssh_userauth_kbdint_getnanswers(c->ssh) != 1) {
		mfa_fail(l, "totp", "wrong number of answers");
		return AUTH_HELD;
	}
	a = ssh_userauth_kbdint_getanswer(c->ssh, 0);
	snprintf(answer, sizeof(answer), "%s", a != NULL && strlen(a) <= MFA_ANSWER_MAX ?
	    a : "");
	/* a locked user or a failed first factor is judged at full cost too */
	secret = l->first_ok && !mfa_locked(c->srv, l->user) ? answer : "";
	switch (l->phase) {
	case MFA_INVITE:
		op = AUTHPOOL_INVITE;
		cb = mfa_invite_cb;
		break;
	case MFA_CONFIRM:
		op = AUTHPOOL_CONFIRM;
		cb = mfa_confirm_cb;
		break;
	default:
		op = AUTHPOOL_TOTP;
		cb = mfa_code_cb;
		break;
	}
	r = mfa_submit(l, op, secret, cb);
	explicit_bzero(answer, sizeof(answer));
	if (r != 0)
		mfa_fail(l, "totp", "auth helpers busy");
	return AUTH_HELD;
}

int
mfa_user_command(struct server *srv, const char *verb, const char *user,
    struct buf *out)
{
	struct mfa *mfa = srv->mfa;
	struct authpool_req req = { AUTHPOOL_RESET, user, "", "" };
	static const char *const names[] = { "lock", "unlock", "reset-mfa" };
	const char *name;

	if (!value_name_ok(user)) {
		buf_printf(out, "not a valid user name\n");
		return -1;
	}
	/* the store's files block: a helper writes them (+users for
	 * pam_otgate, the secret for reset-mfa) */
	if (strcmp(verb, "lock") == 0) {
		name = names[0];
		req.op = AUTHPOOL_LOCK;
		if (lockout_lock(&mfa->users, user) != 0) {
			buf_printf(out, "cannot lock %s: the table is full\n", user);
			return -1;
		}
		grace_forget(&mfa->grace, user);
		buf_printf(out, "%s locked until unlocked\n", user);
	} else if (strcmp(verb, "unlock") == 0) {
		name = names[1];
		req.op = AUTHPOOL_UNLOCK;
		lockout_clear(&mfa->users, user);
		buf_printf(out, "%s unlocked\n", user);
	} else if (strcmp(verb, "reset-mfa") == 0) {
		name = names[2];
		grace_forget(&mfa->grace, user);
		buf_printf(out, "%s: TOTP secret removed; enrol again to log in\n", user);
	} else {
		buf_printf(out, "unknown user verb\n");
		return -1;
	}
	if (authpool_submit(mfa->pool, &req, mfa_store_cb, (void *)name) != 0) {
		buf_reset(out);
		buf_printf(out, "auth helpers busy: %s %s not saved; try again\n", name,
		    user);
		return -1;
	}
	server_audit(srv, "user.admin", (struct audit_field[]){
	    AUDIT_STR("verb", verb), AUDIT_STR("user", user) }, 2);
	return 0;
}

/* Failure counts and locks outlive a restart: they are kept in
 * STATE/totp/+users (read once here, before the loop runs; the helpers write
 * it), and counted again under this broker's max-auth-failures and lockout. */
static void
mfa_load_lockout(struct mfa *mfa, const char *state)
{
	char path[4096], why[512], esc[1024];
	struct lockout t;
	char *text;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/totp/+users", state);
	if ((r = statefile_read(path, &text, &len, why, sizeof(why))) != 0) {
		if (r != OTG_ERR_NOTFOUND)
			log_warnx("%s", escape_str(esc, sizeof(esc), why));
		return;
	}
	lockout_init(&t, mfa->users.max_failures, mfa->users.period, AUTHPOOL_USERS_MAX);
	if (lockout_parse(&t, text, len) != 0)
		log_warnx("%s: corrupt; no failure count or lock restored",
		    escape_str(esc, sizeof(esc), path));
	else if (lockout_merge(&mfa->users, &t, time(NULL)) != 0)
		log_warnx("%s: the login table is full; not every count was restored",
		    escape_str(esc, sizeof(esc), path));
	lockout_free(&t);
	free(text);
}

int
mfa_start(struct server *srv)
{
	const struct conf *conf = srv->conf;
	struct mfa *mfa;
	unsigned maxf = conf->max_auth_failures;
	uint64_t period = conf->lockout;

	if (maxf == 0 || maxf > LOCKOUT_SLOTS)
		maxf = LOCKOUT_DEFAULT_MAX_FAILURES;
	if (period == 0)
		period = LOCKOUT_DEFAULT_PERIOD;
	if ((mfa = calloc(1, sizeof(*mfa))) == NULL)
		return -1;
	srv->mfa = mfa;
	if (lockout_init(&mfa->users, maxf, period, MFA_TABLE_MAX) != 0 ||
	    lockout_init(&mfa->sources, maxf, period, MFA_TABLE_MAX) != 0 ||
	    grace_init(&mfa->grace, conf->mfa_grace, MFA_TABLE_MAX) != 0) {
		log_warnx("cannot set up the login tables");
		return -1;
	}
	mfa_load_lockout(mfa, conf->state);
	if (authpool_open(srv->base, conf->state, conf->user, &mfa->pool) != 0) {
		log_warnx("cannot start the auth helpers");
		return -1;
	}
	return 0;
}

void
mfa_stop(struct server *srv)
{
	struct mfa *mfa = srv->mfa;

	if (mfa == NULL)
		return;
	authpool_close(mfa->pool);	/* pending requests fail, unref their conns */
	lockout_free(&mfa->users);
	lockout_free(&mfa->sources);
	grace_free(&mfa->grace);
	free(mfa);
	srv->mfa = NULL;
}
