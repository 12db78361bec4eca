/*
 * pamauth.c: the first factor for `auth = pam`: the vendor's password is
 * handed to the PAM service `otgate` (sssd, LDAP, AD behind it). PAM blocks
 * and may sleep on failure, so the broker calls this only from its helper
 * processes, never from the event loop. The conversation answers exactly one
 * hidden prompt with the password the vendor already typed; a stack that asks
 * for anything more (a second secret, a visible answer) fails rather than
 * guess, since the broker asks its own second factor itself.
 */
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "common/common.h"
#include "pam/pam.h"

struct pamauth_conv {
	const char *password;
	int answered;
};

static void
pamauth_free_replies(struct pam_response *reply, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (reply[i].resp != NULL) {
			explicit_bzero(reply[i].resp, strlen(reply[i].resp));
			free(reply[i].resp);
		}
	}
	free(reply);
}

static int
pamauth_conv_cb(int n, const struct pam_message **msg, struct pam_response **out,
    void *arg)
{
	struct pamauth_conv *conv = arg;
	struct pam_response *reply;
	int i;

	*out = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((reply = calloc((size_t)n, sizeof(*reply))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if (conv->answered)
				goto fail;	/* a second secret we do not have */
			if ((reply[i].resp = strdup(conv->password)) == NULL)
				goto fail;
			conv->answered = 1;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			break;	/* nobody to show it to; the result says enough */
		default:
			goto fail;
		}
	}
	*out = reply;
	return PAM_SUCCESS;
fail:
	pamauth_free_replies(reply, n);
	return PAM_CONV_ERR;
}

int
pamauth_check(const char *service, const char *user, const char *password,
    const char *rhost, char *why, size_t whysz)
{
	struct pamauth_conv conv = { password, 0 };
	struct pam_conv pc = { pamauth_conv_cb, &conv };
	pam_handle_t *pamh = NULL;
	int pr, r;

	if (!value_name_ok(user) || strnlen(password, PASSWD_MAX + 1) > PASSWD_MAX)
		return OTG_ERR_BADSIG;	/* like a wrong password, without asking */
	if ((pr = pam_start(service, user, &pc, &pamh)) != PAM_SUCCESS) {
		snprintf(why, whysz, "PAM service %s: cannot start", service);
		return OTG_ERR_IO;
	}
	if ((rhost != NULL && (pr = pam_set_item(pamh, PAM_RHOST, rhost)) != PAM_SUCCESS) ||
	    (pr = pam_set_item(pamh, PAM_RUSER, user)) != PAM_SUCCESS) {
		snprintf(why, whysz, "PAM service %s: %s", service, pam_strerror(pamh, pr));
		r = OTG_ERR_IO;
		goto out;
	}
	pr = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (pr == PAM_SUCCESS)
		pr = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	switch (pr) {
	case PAM_SUCCESS:
		r = 0;
		break;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_MAXTRIES:
	case PAM_CRED_INSUFFICIENT:
	case PAM_CONV_ERR:
		r = OTG_ERR_BADSIG;
		break;
	case PAM_ACCT_EXPIRED:
	case PAM_PERM_DENIED:
	case PAM_NEW_AUTHTOK_REQD:
		snprintf(why, whysz, "PAM service %s: %s", service, pam_strerror(pamh, pr));
		r = OTG_ERR_PERM;
		break;
	default:
		snprintf(why, whysz, "PAM service %s: %s", service, pam_strerror(pamh, pr));
		r = OTG_ERR_IO;
		break;
	}
out:
	pam_end(pamh, pr);
	return r;
}
