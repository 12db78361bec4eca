/*
 * cmd_user.c: the admin's `otgate user` verbs that work on the state folder
 * directly (no broker needed): enrolling a TOTP secret (at the admin's
 * terminal, or by a one-time code the vendor gives at first login) and setting
 * a password. lock, unlock and reset-mfa change the running broker's state and
 * go through its control socket instead.
 *
 *   otgate user enroll USER                        QR code, then a code to confirm
 *   otgate user enroll USER --invite [--valid 24h] a one-time enrolment code
 *   otgate user passwd USER [--stdin]
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "common/common.h"
#include "pam/pam.h"
#include "policy/policy.h"

#define CMD_USER_INVITE_VALID (24 * 3600)
#define CMD_USER_INVITE_MAX (366u * 86400)

static const char cmd_user_usage[] =
    "usage: otgate user enroll USER [--invite [--valid DURATION]]\n"
    "       otgate user passwd USER [--stdin]\n"
    "       otgate user lock|unlock|reset-mfa USER\n";

/* What the verbs need from the configuration and the policy. */
struct cmd_user {
	const char *name;
	char totp[PATH_MAX];	/* STATE/totp */
	char passwd[PATH_MAX];	/* STATE/passwd */
	unsigned auth;		/* the user's POLICY_AUTH_* */
	char why[PATH_MAX + 256];
};

/* Load the config and the policy; the user must be in it. */
static int
cmd_user_load(struct cmd_user *u, const char *conf_path, const char *name)
{
	struct conf *conf = NULL;
	struct policy *policy = NULL;
	const struct policy_user *pu;
	struct diag d;
	char shown[128];
	int status = CMD_NO;

	diag_init(&d);
	u->why[0] = '\0';
	if (!value_name_ok(name)) {
		fprintf(stderr, "otgate: \"%s\" is not a user name\n",
		    escape_str(shown, sizeof(shown), name));
		status = CMD_USAGE;
		goto out;
	}
	u->name = name;
	if (conf_load(conf_path, &d, &conf) != 0 ||
	    policy_load(conf->policy, &d, &policy) != 0)
		goto out;
	if ((pu = policy_user(policy, name)) == NULL) {
		fprintf(stderr, "otgate: %s: no such user in %s\n", name, conf->policy);
		goto out;
	}
	u->auth = pu->auth;
	if (snprintf(u->totp, sizeof(u->totp), "%s/totp", conf->state) >=
	    (int)sizeof(u->totp) ||
	    snprintf(u->passwd, sizeof(u->passwd), "%s/passwd", conf->state) >=
	    (int)sizeof(u->passwd)) {
		fprintf(stderr, "otgate: %s: path too long\n", conf->state);
		goto out;
	}
	status = CMD_OK;
out:
	/* the policy's warnings are policy check's business, not ours */
	if (status != CMD_OK)
		diag_print(&d, stderr);
	diag_free(&d);
	policy_free(policy);
	conf_free(conf);
	return status;
}

static int
cmd_user_fail(const struct cmd_user *u, int r)
{
	fprintf(stderr, "otgate: %s: %s\n", u->name,
	    u->why[0] != '\0' ? u->why : otg_strerror(r));
	return CMD_NO;
}

/* One line from fp without its newline; -1 at end of input or when too long. */
static int
cmd_user_line(FILE *fp, char *line, size_t linesz)
{
	size_t n;

	if (fgets(line, (int)linesz, fp) == NULL)
		return -1;
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	else if (!feof(fp))
		return -1;	/* longer than any answer we take */
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	return 0;
}

static int
cmd_user_invite(struct cmd_user *u, uint64_t valid)
{
	char code[TOTPSTORE_INVITE_MAX], until[64];
	time_t now = time(NULL), end;
	struct tm tm;
	int r;

	if ((r = statefile_dir(u->totp, u->why, sizeof(u->why))) != 0 ||
	    (r = totpstore_invite_create(u->totp, u->name, now, valid, code, sizeof(code),
	    u->why, sizeof(u->why))) != 0)
		return cmd_user_fail(u, r);
	end = now + (time_t)valid;
	gmtime_r(&end, &tm);
	strftime(until, sizeof(until), "%Y-%m-%d %H:%M UTC", &tm);
	printf("%s\n", code);
	fflush(stdout);
	fprintf(stderr, "otgate: %s: one-time enrolment code, valid until %s; the vendor "
	    "types it at the first login, then scans the QR code shown\n", u->name, until);
	explicit_bzero(code, sizeof(code));
	return CMD_OK;
}

static int
cmd_user_enroll_here(struct cmd_user *u)
{
	char b32[TOTP_SECRET_B32_MAX], uri[TOTP_URI_MAX], code[64];
	struct buf qr;
	int fd = -1, r, status = CMD_NO;

	buf_init(&qr, 64 * 1024);
	if ((r = statefile_dir(u->totp, u->why, sizeof(u->why))) != 0 ||
	    (r = totpstore_enrolled(u->totp, u->name, u->why, sizeof(u->why))) < 0) {
		status = cmd_user_fail(u, r);
		goto out;
	}
	if (r == 1)
		fprintf(stderr, "otgate: %s already has a TOTP secret; the new one replaces "
		    "it once confirmed\n", u->name);
	if ((u->auth & POLICY_AUTH_TOTP) == 0)
		fprintf(stderr, "otgate: note: %s's auth does not include totp yet\n",
		    u->name);
	/* the lock is not held while the admin types: the broker must not wait */
	if ((r = totpstore_lock(u->totp, u->name, &fd, u->why, sizeof(u->why))) != 0 ||
	    (r = totpstore_pending_new(u->totp, u->name, time(NULL), b32, sizeof(b32),
	    u->why, sizeof(u->why))) != 0) {
		status = cmd_user_fail(u, r);
		goto out;
	}
	totpstore_unlock(fd);
	fd = -1;
	if ((r = totp_uri(u->name, b32, TOTP_DEFAULT_DIGITS, uri, sizeof(uri))) != 0 ||
	    (r = qr_render(uri, &qr)) != 0) {
		status = cmd_user_fail(u, r);
		goto cancel;
	}
	printf("%s\n\n", uri);
	fwrite(buf_ptr(&qr), 1, buf_len(&qr), stdout);
	printf("\nScan this with the authenticator app, then type the code it shows.\n"
	    "Verification code: ");
	fflush(stdout);
	if (cmd_user_line(stdin, code, sizeof(code)) != 0) {
		fprintf(stderr, "otgate: %s: no code given; the secret was not activated\n",
		    u->name);
		goto cancel;
	}
	if ((r = totpstore_lock(u->totp, u->name, &fd, u->why, sizeof(u->why))) == 0)
		r = totpstore_pending_confirm(u->totp, u->name, time(NULL),
		    TOTP_DEFAULT_WINDOW, TOTP_DEFAULT_DIGITS, code, u->why, sizeof(u->why));
	if (r == 0) {
		printf("otgate: %s: TOTP secret active\n", u->name);
		status = CMD_OK;
		goto out;
	}
	if (r == OTG_ERR_BADSIG || r == OTG_ERR_INVAL || r == OTG_ERR_EXISTS)
		fprintf(stderr, "otgate: %s: wrong code; the secret was not activated\n",
		    u->name);
	else
		cmd_user_fail(u, r);
cancel:
	if (fd == -1)
		totpstore_lock(u->totp, u->name, &fd, u->why, sizeof(u->why));
	totpstore_pending_cancel(u->totp, u->name, u->why, sizeof(u->why));
out:
	totpstore_unlock(fd);
	explicit_bzero(b32, sizeof(b32));
	explicit_bzero(uri, sizeof(uri));
	explicit_bzero(code, sizeof(code));
	buf_free(&qr);
	return status;
}

static int
cmd_user_enroll(int argc, char **argv, const char *conf_path)
{
	struct cmd_user u;
	uint64_t valid = CMD_USER_INVITE_VALID;
	int i, invite = 0, status;

	memset(&u, 0, sizeof(u));
	if (argc < 3)
		goto usage;
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--invite") == 0) {
			invite = 1;
		} else if (strcmp(argv[i], "--valid") == 0 && i + 1 < argc) {
			if (value_duration(argv[++i], &valid) != 0 || valid == 0 ||
			    valid > CMD_USER_INVITE_MAX) {
				fprintf(stderr, "otgate: --valid wants a duration from 1s to "
				    "366d, like 24h\n");
				return CMD_USAGE;
			}
		} else {
			goto usage;
		}
	}
	if (!invite && valid != CMD_USER_INVITE_VALID)
		goto usage;	/* --valid without --invite */
	if ((status = cmd_user_load(&u, conf_path, argv[2])) != CMD_OK)
		return status;
	return invite ? cmd_user_invite(&u, valid) : cmd_user_enroll_here(&u);
usage:
	fputs(cmd_user_usage, stderr);
	return CMD_USAGE;
}

/* A new password twice from the terminal without echo, or once from stdin. */
static int
cmd_user_read_password(int from_stdin, char *pw, size_t pwsz)
{
	struct termios saved, quiet;
	char again[PASSWD_MAX + 2];
	FILE *tty = NULL;
	int r = -1, echo_off = 0;

	if (from_stdin)
		return cmd_user_line(stdin, pw, pwsz);
	if ((tty = fopen("/dev/tty", "r+")) == NULL) {
		fprintf(stderr, "otgate: no terminal to ask on (use --stdin)\n");
		return -1;
	}
	if (tcgetattr(fileno(tty), &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		echo_off = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	fputs("New password: ", tty);
	fflush(tty);
	if (cmd_user_line(tty, pw, pwsz) != 0)
		goto out;
	fputs("\nAgain: ", tty);
	fflush(tty);
	if (cmd_user_line(tty, again, sizeof(again)) != 0)
		goto out;
	fputs("\n", tty);
	if (strcmp(pw, again) != 0) {
		fprintf(stderr, "otgate: the two passwords differ\n");
		goto out;
	}
	r = 0;
out:
	if (echo_off)
		tcsetattr(fileno(tty), TCSAFLUSH, &saved);
	fclose(tty);
	explicit_bzero(again, sizeof(again));
	return r;
}

static int
cmd_user_passwd(int argc, char **argv, const char *conf_path)
{
	struct cmd_user u;
	char pw[PASSWD_MAX + 2], hash[PASSWD_HASH_MAX];
	int from_stdin = 0, r, status = CMD_NO;

	memset(&u, 0, sizeof(u));
	if (argc == 4 && strcmp(argv[3], "--stdin") == 0)
		from_stdin = 1;
	else if (argc != 3) {
		fputs(cmd_user_usage, stderr);
		return CMD_USAGE;
	}
	if ((status = cmd_user_load(&u, conf_path, argv[2])) != CMD_OK)
		return status;
	status = CMD_NO;
	if ((u.auth & POLICY_AUTH_PASSWORD) == 0)
		fprintf(stderr, "otgate: note: %s's auth does not include password\n",
		    u.name);
	if (cmd_user_read_password(from_stdin, pw, sizeof(pw)) != 0) {
		fprintf(stderr, "otgate: %s: no password read (at most %d bytes, one "
		    "line)\n", u.name, PASSWD_MAX);
		goto out;
	}
	if (pw[0] == '\0') {
		fprintf(stderr, "otgate: %s: empty password refused\n", u.name);
		goto out;
	}
	if ((r = passwd_hash(pw, hash, sizeof(hash))) != 0 ||
	    (r = passwd_set(u.passwd, u.name, hash, u.why, sizeof(u.why))) != 0) {
		status = cmd_user_fail(&u, r);
		goto out;
	}
	printf("otgate: %s: password set\n", u.name);
	status = CMD_OK;
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(hash, sizeof(hash));
	return status;
}

int
cmd_user_main(int argc, char **argv, const char *conf_path)
{
	if (argc >= 2 && strcmp(argv[1], "enroll") == 0)
		return cmd_user_enroll(argc, argv, conf_path);
	if (argc >= 2 && strcmp(argv[1], "passwd") == 0)
		return cmd_user_passwd(argc, argv, conf_path);
	/* these change the running broker's state: its control socket does them */
	if (argc >= 2 && (strcmp(argv[1], "lock") == 0 || strcmp(argv[1], "unlock") == 0 ||
	    strcmp(argv[1], "reset-mfa") == 0))
		return cmd_userctl_main(argc, argv, conf_path);
	fputs(cmd_user_usage, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? CMD_OK : CMD_USAGE;
}
