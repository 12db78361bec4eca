/*
 * pam_otgate.c: pam_otgate.so, a PAM auth module that asks for the TOTP code
 * of otgate's store, so the jump host's own services (sshd for its admins,
 * sudo) share the vendors' second factor: the same secrets, the same
 * single-use rule (a code spent at the broker is spent here too) and the same
 * lockout. It runs inside other programs, so it logs only through pam_syslog
 * and exports only pam_sm_* (pam_otgate.map).
 *
 *   auth required pam_otgate.so [store=DIR] [window=N] [digits=6|8]
 *                               [max-auth-failures=N] [lockout=DURATION]
 *
 * Failure counts live beside the secrets: DIR/+users and DIR/+sources,
 * updated under DIR/+lock. Everything for one user runs under that user's
 * lock, so parallel attempts cannot outrun the lockout.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "common/common.h"
#include "pam/pam.h"

#define PAM_OTGATE_STORE "/var/lib/otgate/totp"
#define PAM_OTGATE_ENTRIES 1024		/* keys per failure table, fits STATEFILE_MAX */

struct pam_otgate_opts {
	const char *store;
	unsigned window;
	unsigned digits;
	unsigned max_failures;
	uint64_t period;
};

static int
pam_otgate_options(pam_handle_t *pamh, int argc, const char **argv,
    struct pam_otgate_opts *o)
{
	uint64_t v;
	int i;

	o->store = PAM_OTGATE_STORE;
	o->window = TOTP_DEFAULT_WINDOW;
	o->digits = TOTP_DEFAULT_DIGITS;
	o->max_failures = LOCKOUT_DEFAULT_MAX_FAILURES;
	o->period = LOCKOUT_DEFAULT_PERIOD;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "store=", 6) == 0 && argv[i][6] == '/') {
			o->store = argv[i] + 6;
		} else if (strncmp(argv[i], "window=", 7) == 0 &&
		    value_uint(argv[i] + 7, TOTP_WINDOW_MAX, &v) == 0) {
			o->window = (unsigned)v;
		} else if (strcmp(argv[i], "digits=6") == 0 || strcmp(argv[i], "digits=8") == 0) {
			o->digits = (unsigned)(argv[i][7] - '0');
		} else if (strncmp(argv[i], "max-auth-failures=", 18) == 0 &&
		    value_uint(argv[i] + 18, LOCKOUT_SLOTS, &v) == 0 && v > 0) {
			o->max_failures = (unsigned)v;
		} else if (strncmp(argv[i], "lockout=", 8) == 0 &&
		    value_duration(argv[i] + 8, &v) == 0 && v > 0) {
			o->period = v;
		} else {
			pam_syslog(pamh, LOG_ERR, "bad option \"%s\" (see pam_otgate(8))",
			    argv[i]);
			return -1;
		}
	}
	return 0;
}

/* Read both failure tables; an absent file is an empty table. */
static int
pam_otgate_tables_load(pam_handle_t *pamh, const char *store, struct lockout *t,
    const char *const names[2])
{
	char path[PATH_MAX], why[PATH_MAX + 128];
	char *text;
	size_t len;
	int i, r;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", store, names[i]);
		r = statefile_read(path, &text, &len, why, sizeof(why));
		if (r == OTG_ERR_NOTFOUND)
			continue;
		if (r == 0) {
			r = lockout_parse(&t[i], text, len);
			free(text);
			if (r != 0)
				snprintf(why, sizeof(why), "%s: corrupt: %s", path,
				    otg_strerror(r));
		}
		if (r != 0) {
			pam_syslog(pamh, LOG_ERR, "%s", why);
			return -1;
		}
	}
	return 0;
}

static int
pam_otgate_tables_save(pam_handle_t *pamh, const char *store, struct lockout *t,
    const char *const names[2], time_t now)
{
	char path[PATH_MAX], why[PATH_MAX + 128];
	struct buf b;
	int i, r = 0;

	buf_init(&b, STATEFILE_MAX);
	for (i = 0; i < 2 && r == 0; i++) {
		buf_reset(&b);
		snprintf(path, sizeof(path), "%s/%s", store, names[i]);
		if ((r = lockout_format(&t[i], now, &b)) != 0) {
			snprintf(why, sizeof(why), "%s: %s", path, otg_strerror(r));
			break;
		}
		/* an empty buf has no storage to point at */
		r = statefile_write(path, buf_len(&b) > 0 ? (const void *)buf_ptr(&b) : "",
		    buf_len(&b), why, sizeof(why));
	}
	buf_free(&b);
	if (r != 0) {
		pam_syslog(pamh, LOG_ERR, "%s", why);
		return -1;
	}
	return 0;
}

/* Under the tables' lock: load, then either look (record < 0) or count the
 * outcome (record 0 failure, 1 success) and save. */
static int
pam_otgate_tables(pam_handle_t *pamh, const struct pam_otgate_opts *o,
    const char *user, const char *source, int record, time_t now,
    uint64_t *locked, uint64_t *delay, int *newly_locked)
{
	static const char *const names[2] = { "+users", "+sources" };
	struct lockout t[2];
	char lockpath[PATH_MAX], why[PATH_MAX + 128];
	int fd = -1, r = -1;

	*locked = *delay = 0;
	*newly_locked = 0;
	lockout_init(&t[0], o->max_failures, o->period, PAM_OTGATE_ENTRIES);
	lockout_init(&t[1], o->max_failures, o->period, PAM_OTGATE_ENTRIES);
	snprintf(lockpath, sizeof(lockpath), "%s/+lock", o->store);
	if (statefile_lock(lockpath, &fd, why, sizeof(why)) != 0) {
		pam_syslog(pamh, LOG_ERR, "%s", why);
		goto out;
	}
	if (pam_otgate_tables_load(pamh, o->store, t, names) != 0)
		goto out;
	if (record < 0) {
		*locked = user != NULL ? lockout_locked(&t[0], user, now) : 0;
		*delay = source != NULL ? lockout_delay(&t[1], source, now) : 0;
		r = 0;
		goto out;
	}
	if (record == 1 && user != NULL)
		lockout_clear(&t[0], user);
	if (record == 0 && user != NULL && (r = lockout_fail(&t[0], user, now)) < 0) {
		pam_syslog(pamh, LOG_ERR, "%s/%s: full, cannot count a failure",
		    o->store, names[0]);
		goto out;	/* uncounted, so refused */
	}
	*newly_locked = record == 0 && user != NULL && r == 1;
	/* a source keeps its failures after a success: many users behind one
	 * address must not reset each other's throttle */
	if (record == 0 && source != NULL)
		lockout_fail(&t[1], source, now);
	r = pam_otgate_tables_save(pamh, o->store, t, names, now);
out:
	statefile_unlock(fd);
	lockout_free(&t[0]);
	lockout_free(&t[1]);
	return r;
}

/* Ask once for the code; NULL when the conversation failed. */
static char *
pam_otgate_ask(pam_handle_t *pamh)
{
	char *answer = NULL;

	if (pam_prompt(pamh, PAM_PROMPT_ECHO_ON, &answer, "Verification code: ") !=
	    PAM_SUCCESS)
		return NULL;
	return answer != NULL ? answer : strdup("");
}

/* "@ADDRESS" when the remote host is a plain address or name, else NULL. */
static const char *
pam_otgate_source(pam_handle_t *pamh, char *buf, size_t bufsz)
{
	const void *item = NULL;
	const char *rhost;
	size_t i;

	if (pam_get_item(pamh, PAM_RHOST, &item) != PAM_SUCCESS || item == NULL)
		return NULL;
	rhost = item;
	for (i = 0; rhost[i] != '\0'; i++) {
		if (i + 2 >= bufsz || !(rhost[i] == '.' || rhost[i] == ':' || rhost[i] == '-' ||
		    rhost[i] == '%' || (rhost[i] >= '0' && rhost[i] <= '9') ||
		    (rhost[i] >= 'a' && rhost[i] <= 'z') || (rhost[i] >= 'A' && rhost[i] <= 'Z')))
			return NULL;
	}
	if (i == 0)
		return NULL;
	snprintf(buf, bufsz, "@%s", rhost);
	return buf;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_otgate_opts o;
	char why[PATH_MAX + 128], shown[128], srcbuf[LOCKOUT_KEY_MAX];
	const char *user = NULL, *name, *source, *outcome;
	char *code = NULL;
	uint64_t locked, delay, counter;
	time_t now;
	int ufd = -1, r, rv = PAM_AUTH_ERR, newly, enrolled = 1;

	(void)flags;
	if (pam_otgate_options(pamh, argc, argv, &o) != 0)
		return PAM_SERVICE_ERR;
	if ((r = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS)
		return r;
	escape_str(shown, sizeof(shown), user != NULL ? user : "");
	/* an impossible name is asked and refused like anyone else */
	name = user != NULL && value_name_ok(user) ? user : NULL;
	source = pam_otgate_source(pamh, srcbuf, sizeof(srcbuf));
	if ((code = pam_otgate_ask(pamh)) == NULL)
		return PAM_CONV_ERR;
	outcome = "not enrolled";
	if (name == NULL)
		goto out;
	if (totpstore_lock(o.store, name, &ufd, why, sizeof(why)) != 0) {
		pam_syslog(pamh, LOG_ERR, "%s", why);
		outcome = "store unusable";
		goto out;
	}
	if (pam_otgate_tables(pamh, &o, name, source, -1, time(NULL), &locked, &delay,
	    &newly) != 0) {
		outcome = "store unusable";
		goto out;
	}
	if (delay > 0)
		sleep((unsigned)delay);	/* throttled source; we own this thread */
	now = time(NULL);
	if (locked > 0) {
		outcome = "locked";
	} else {
		r = totpstore_verify(o.store, name, now, o.window, o.digits, code,
		    &counter, why, sizeof(why));
		if (r == 0)
			rv = PAM_SUCCESS;
		else if (r == OTG_ERR_EXISTS)
			outcome = "code already used";
		else if (r == OTG_ERR_BADSIG || r == OTG_ERR_INVAL)
			outcome = "wrong code";
		else if (r == OTG_ERR_NOTFOUND)
			enrolled = 0;
		else {
			pam_syslog(pamh, LOG_ERR, "%s", why);
			outcome = "store unusable";
		}
	}
	/* only enrolled users are counted: names that cannot log in anyway
	 * must not fill the table and crowd out the real ones (the answer
	 * is the same either way) */
	if (pam_otgate_tables(pamh, &o, enrolled ? name : NULL, source,
	    rv == PAM_SUCCESS, now, &locked, &delay, &newly) != 0)
		rv = PAM_AUTH_ERR;	/* a failure that cannot be counted is no success */
	if (newly)
		pam_syslog(pamh, LOG_WARNING, "user %s locked for %llus after %u failures",
		    shown, (unsigned long long)o.period, o.max_failures);
out:
	totpstore_unlock(ufd);
	if (rv == PAM_SUCCESS)
		pam_syslog(pamh, LOG_INFO, "user %s: verification code accepted", shown);
	else
		pam_syslog(pamh, LOG_NOTICE, "user %s%s%s: %s", shown,
		    source != NULL ? " from " : "", source != NULL ? source + 1 : "",
		    outcome);
	explicit_bzero(code, strlen(code));
	free(code);
	return rv;
}

PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
