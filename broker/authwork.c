/*
 * authwork.c: one login request as an auth helper process runs it (see
 * authpool.c). Everything here blocks: crypt(3), PAM, the TOTP store's files
 * under their per-user flock. Nothing logs: a problem comes back as a status
 * and a one-line reason for the broker's log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/broker.h"
#include "pam/pam.h"

static void
authwork_totp(const char *dir, const struct authpool_req *req,
    struct authpool_reply *rep)
{
	time_t now = time(NULL);
	char b32[TOTP_SECRET_B32_MAX];
	uint64_t counter;
	int fd, r;

	if ((r = statefile_dir(dir, rep->text, sizeof(rep->text))) != 0 ||
	    (r = totpstore_lock(dir, req->user, &fd, rep->text, sizeof(rep->text))) != 0) {
		rep->status = r;
		return;
	}
	switch (req->op) {
	case AUTHPOOL_ENROLLED:
		r = totpstore_enrolled(dir, req->user, rep->text, sizeof(rep->text));
		rep->value = r > 0;
		r = r < 0 ? r : 0;
		break;
	case AUTHPOOL_TOTP:
		/* "" is how the broker asks for a judgement that must fail (a
		 * locked user, a wrong first factor) at the cost of a real one */
		r = totpstore_verify(dir, req->user, now, TOTP_DEFAULT_WINDOW,
		    TOTP_DEFAULT_DIGITS, req->secret, &counter, rep->text,
		    sizeof(rep->text));
		break;
	case AUTHPOOL_INVITE:
		r = totpstore_invite_redeem(dir, req->user, now, req->secret, rep->text,
		    sizeof(rep->text));
		if (r == 0 && (r = totpstore_pending_new(dir, req->user, now, b32,
		    sizeof(b32), rep->text, sizeof(rep->text))) == 0)
			snprintf(rep->text, sizeof(rep->text), "%s", b32);
		explicit_bzero(b32, sizeof(b32));
		break;
	case AUTHPOOL_CONFIRM:
		r = totpstore_pending_confirm(dir, req->user, now, TOTP_DEFAULT_WINDOW,
		    TOTP_DEFAULT_DIGITS, req->secret, rep->text, sizeof(rep->text));
		break;
	case AUTHPOOL_RESET:
		r = totpstore_remove(dir, req->user, rep->text, sizeof(rep->text));
		if (r == 0)
			r = totpstore_pending_cancel(dir, req->user, rep->text,
			    sizeof(rep->text));
		break;
	default:
		r = OTG_ERR_INVAL;
		break;
	}
	totpstore_unlock(fd);
	rep->status = r;
}

/* The broker's max-auth-failures and lockout for AUTHPOOL_FAIL ("N SECONDS"),
 * else pam_otgate's defaults. */
static int
authwork_table(const struct authpool_req *req, struct lockout *t)
{
	unsigned long long maxf = LOCKOUT_DEFAULT_MAX_FAILURES, period = LOCKOUT_DEFAULT_PERIOD;
	char extra;

	if (req->op == AUTHPOOL_FAIL &&
	    sscanf(req->secret, "%llu %llu%c", &maxf, &period, &extra) != 2)
		return OTG_ERR_INVAL;
	if (maxf > LOCKOUT_SLOTS)
		return OTG_ERR_INVAL;
	return lockout_init(t, (unsigned)maxf, period, AUTHPOOL_USERS_MAX);
}

/* A failure counted, or an admin's lock or unlock, written to DIR/+users,
 * the table pam_otgate reads, under DIR/+lock as pam_otgate takes it. */
static void
authwork_users(const char *dir, const struct authpool_req *req,
    struct authpool_reply *rep)
{
	char path[4096];
	struct lockout t;
	struct buf b;
	char *text = NULL;
	size_t len = 0;
	int fd = -1, r;

	memset(&t, 0, sizeof(t));
	buf_init(&b, STATEFILE_MAX);
	if ((r = authwork_table(req, &t)) != 0)
		goto out;
	if ((size_t)snprintf(path, sizeof(path), "%s/+lock", dir) >= sizeof(path)) {
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	if ((r = statefile_dir(dir, rep->text, sizeof(rep->text))) != 0 ||
	    (r = statefile_lock(path, &fd, rep->text, sizeof(rep->text))) != 0)
		goto out;
	if ((size_t)snprintf(path, sizeof(path), "%s/+users", dir) >= sizeof(path)) {
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	r = statefile_read(path, &text, &len, rep->text, sizeof(rep->text));
	if (r == 0 && (r = lockout_parse(&t, text, len)) != 0)
		snprintf(rep->text, sizeof(rep->text), "%.200s: corrupt", path);
	else if (r == OTG_ERR_NOTFOUND)
		r = 0;
	if (r != 0)
		goto out;
	if (req->op == AUTHPOOL_LOCK)
		r = lockout_lock(&t, req->user);
	else if (req->op == AUTHPOOL_FAIL)
		r = lockout_fail(&t, req->user, time(NULL)) < 0 ? OTG_ERR_TOOBIG : 0;
	else
		lockout_clear(&t, req->user);
	if (r == 0 && (r = lockout_format(&t, time(NULL), &b)) == 0)
		r = statefile_write(path, buf_len(&b) > 0 ? (const void *)buf_ptr(&b) : "",
		    buf_len(&b), rep->text, sizeof(rep->text));
out:
	if (fd != -1)
		statefile_unlock(fd);
	free(text);
	buf_free(&b);
	lockout_free(&t);
	rep->status = r;
}

void
authwork_run(const char *state, const struct authpool_req *req,
    struct authpool_reply *rep)
{
	char path[4096];

	memset(rep, 0, sizeof(*rep));
	switch (req->op) {
	case AUTHPOOL_PASSWORD:
		snprintf(path, sizeof(path), "%s/passwd", state);
		rep->status = passwd_verify(path, req->user, req->secret, rep->text,
		    sizeof(rep->text));
		/* an absent file is a wrong password, at the price of a hash */
		if (rep->status == OTG_ERR_NOTFOUND)
			rep->status = OTG_ERR_BADSIG;
		break;
	case AUTHPOOL_PAM:
		rep->status = pamauth_check(PAMAUTH_SERVICE, req->user, req->secret,
		    req->rhost, rep->text, sizeof(rep->text));
		break;
	case AUTHPOOL_LOCK:
	case AUTHPOOL_UNLOCK:
	case AUTHPOOL_FAIL:
		snprintf(path, sizeof(path), "%s/totp", state);
		authwork_users(path, req, rep);
		break;
	default:
		snprintf(path, sizeof(path), "%s/totp", state);
		authwork_totp(path, req, rep);
		break;
	}
}
