/*
 * cmd_report.c: `otgate report incident` (the NIS2 evidence bundle) and
 * `otgate report access` (the periodic access review), plus the bundle check
 * behind `otgate verify --bundle DIR`. Ranges must be bounded and in order;
 * assets and users named in the scope must exist in the policy or the audit
 * log, so a typo never yields a reassuringly empty report.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "policy/policy.h"
#include "report/report.h"

#define REPORT_USAGE \
	"usage: otgate report incident --since T [--until T] [--asset A]... [--user U]...\n" \
	"           [--src CIDR] [--key AUDITOR_KEY] [--sign-key FILE] [--state DIR]\n" \
	"           [--audit-log FILE] -o DIR [--force]\n" \
	"       otgate report access --since T [--until T] [--state DIR] [--audit-log FILE]\n" \
	"           [--json]\n"

struct report_args {
	const char *since, *until, *src, *key, *sign_key, *state, *audit_log, *out;
	struct scope scope;
	int force, json;
};

/* The policy otgated.conf names, for asset tags and the access review. */
static struct policy *
report_policy(const char *conf_path)
{
	struct conf *conf = NULL;
	struct policy *p = NULL;
	struct diag d;

	diag_init(&d);
	if (conf_load(conf_path, &d, &conf) == 0 && conf->policy != NULL)
		policy_load(conf->policy, &d, &p);
	diag_free(&d);
	conf_free(conf);
	return p;
}

static int
report_parse(int argc, char **argv, struct report_args *a)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "asset", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "src", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "state", required_argument, NULL, 's' },
		{ "audit-log", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S': a->since = optarg; break;
		case 'U': a->until = optarg; break;
		case 'c': a->src = optarg; break;
		case 'k': a->key = optarg; break;
		case 'K': a->sign_key = optarg; break;
		case 's': a->state = optarg; break;
		case 'l': a->audit_log = optarg; break;
		case 'o': a->out = optarg; break;
		case 'f': a->force = 1; break;
		case 'j': a->json = 1; break;
		case 'a':
			if (a->scope.nassets == SCOPE_MAX_NAMES)
				return -1;
			a->scope.assets[a->scope.nassets++] = optarg;
			break;
		case 'u':
			if (a->scope.nusers == SCOPE_MAX_NAMES)
				return -1;
			a->scope.users[a->scope.nusers++] = optarg;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* The range: --since is required (an unbounded report is not a report of an
 * incident), --until defaults to now, and it must not come first. */
static int
report_range(struct report_args *a)
{
	char s[32], u[32];

	if (a->since == NULL) {
		fprintf(stderr, "otgate: report: --since is required: the range must be "
		    "bounded\n");
		return CMD_USAGE;
	}
	if (recstate_timearg(a->since, &a->scope.since) != 0) {
		fprintf(stderr, "otgate: report: --since %s: not a time (YYYY-MM-DD[ HH:MM[:SS]], "
		    "RFC 3339, or a duration such as 2h)\n", a->since);
		return CMD_USAGE;
	}
	a->scope.until = time(NULL);
	if (a->until != NULL && recstate_timearg(a->until, &a->scope.until) != 0) {
		fprintf(stderr, "otgate: report: --until %s: not a time\n", a->until);
		return CMD_USAGE;
	}
	if (a->scope.until < a->scope.since) {
		recstate_time(a->scope.since, s, sizeof(s));
		recstate_time(a->scope.until, u, sizeof(u));
		fprintf(stderr, "otgate: report: the range is reversed: --since %s is after "
		    "--until %s\n", s, u);
		return CMD_USAGE;
	}
	return CMD_OK;
}

/* Load the audit log the range is read from. */
static int
report_log(const char *conf_path, struct report_args *a, struct recstate *st,
    struct auditlog *log)
{
	const char *path;
	int r;

	if (recstate_resolve(conf_path, a->state, st) != 0)
		return CMD_USAGE;
	path = a->audit_log != NULL ? a->audit_log : st->audit_log;
	if (path[0] == '\0') {
		fprintf(stderr, "otgate: report: no audit log: give --audit-log FILE with "
		    "--state\n");
		return CMD_USAGE;
	}
	if (a->audit_log != NULL)
		snprintf(st->audit_log, sizeof(st->audit_log), "%s", a->audit_log);
	if ((r = auditlog_load(path, a->scope.since, a->scope.until, log)) != 0) {
		fprintf(stderr, "otgate: report: %s: %s\n", path, otg_strerror(r));
		return CMD_NO;
	}
	return CMD_OK;
}

/* A name the scope gives must be an asset or user the policy or the period's
 * events know. */
static int
report_known(const struct auditlog *log, const struct policy *p, const char *name,
    int asset)
{
	char user[256];
	size_t i;

	if (p != NULL && (asset ? policy_asset(p, name) != NULL : policy_user(p, name) != NULL))
		return 1;
	for (i = 0; i < log->n; i++) {
		scope_user_part(log->ev[i].user, user, sizeof(user));
		if (strcmp(asset ? log->ev[i].asset : user, name) == 0)
			return 1;
	}
	return 0;
}

static int
report_check_names(const struct auditlog *log, const struct policy *p,
    const struct scope *s)
{
	char esc[256];
	size_t i;
	int bad = 0;

	for (i = 0; i < s->nassets; i++) {
		if (report_known(log, p, s->assets[i], 1))
			continue;
		fprintf(stderr, "otgate: report: unknown asset '%s' (not in the policy, "
		    "nor in the audit log of the period)\n",
		    escape_str(esc, sizeof(esc), s->assets[i]));
		bad = 1;
	}
	for (i = 0; i < s->nusers; i++) {
		if (report_known(log, p, s->users[i], 0))
			continue;
		fprintf(stderr, "otgate: report: unknown user '%s' (not in the policy, "
		    "nor in the audit log of the period)\n",
		    escape_str(esc, sizeof(esc), s->users[i]));
		bad = 1;
	}
	return bad;
}

static int
report_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* An existing folder is replaced only with --force, and only when it is a
 * bundle or empty: --force must never wipe an unrelated folder. */
static int
report_outdir(const char *dir, int force)
{
	char path[4096];
	struct stat st;

	if (lstat(dir, &st) == 0) {
		if (!force) {
			fprintf(stderr, "otgate: report: %s exists (give --force to replace a "
			    "bundle)\n", dir);
			return CMD_NO;
		}
		snprintf(path, sizeof(path), "%s/" MANIFEST_NAME, dir);
		if (!S_ISDIR(st.st_mode) || (access(path, F_OK) != 0 && rmdir(dir) != 0)) {
			fprintf(stderr, "otgate: report: %s exists and is not a bundle; not "
			    "replacing it\n", dir);
			return CMD_NO;
		}
		if (access(dir, F_OK) == 0 &&
		    nftw(dir, report_rm_cb, 16, FTW_DEPTH | FTW_PHYS) != 0) {
			fprintf(stderr, "otgate: report: cannot remove %s: %s\n", dir,
			    strerror(errno));
			return CMD_NO;
		}
	}
	if (mkdir(dir, 0750) != 0) {
		fprintf(stderr, "otgate: report: %s: %s\n", dir, strerror(errno));
		return CMD_NO;
	}
	return CMD_OK;
}

static void
report_command_line(int argc, char **argv, char *out, size_t outsz)
{
	size_t n;
	int i;

	snprintf(out, outsz, "otgate");
	for (i = 0; i < argc; i++) {
		n = strlen(out);
		snprintf(out + n, outsz - n, " %s", argv[i]);
	}
}

static int
report_incident(int argc, char **argv, const char *conf_path, struct report_args *a)
{
	struct bundle_params bp;
	struct bundle_summary sum;
	struct recstate st;
	struct auditlog log;
	struct policy *p = NULL;
	char sign_key[4200], cmdline[2048], chain[600];
	int r;

	if (a->out == NULL) {
		fputs(REPORT_USAGE, stderr);
		return CMD_USAGE;
	}
	if (a->src != NULL && cidr_parse(a->src, &a->scope.src) != 0) {
		fprintf(stderr, "otgate: report: --src %s: not an address or network\n", a->src);
		return CMD_USAGE;
	}
	a->scope.has_src = a->src != NULL;
	if ((r = report_range(a)) != CMD_OK)
		return r;
	if ((r = report_log(conf_path, a, &st, &log)) != CMD_OK)
		return r;
	p = report_policy(conf_path);
	r = CMD_NO;
	if (report_check_names(&log, p, &a->scope) || report_outdir(a->out, a->force) != 0)
		goto out;
	snprintf(sign_key, sizeof(sign_key), "%s/keys/" RECKEY_PRIVATE, st.state);
	report_command_line(argc, argv, cmdline, sizeof(cmdline));
	memset(&bp, 0, sizeof(bp));
	bp.state = st.state;
	bp.audit_log = st.audit_log;
	bp.outdir = a->out;
	bp.keyfile = a->key;
	bp.sign_key = a->sign_key != NULL ? a->sign_key : sign_key;
	bp.scope = &a->scope;
	bp.log = &log;
	bp.command_line = cmdline;
	bp.policy = p;
	if ((r = bundle_write(&bp, &sum)) != 0) {
		fprintf(stderr, "otgate: report: %s: %s%s\n", a->out, otg_strerror(r),
		    r == OTG_ERR_NOTFOUND || r == OTG_ERR_PERM ? " (the recording key "
		    "signs the manifest: run where it is readable, or give --sign-key)" : "");
		nftw(a->out, report_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		r = CMD_NO;
		goto out;
	}
	bundle_chain_line(&log, chain, sizeof(chain));
	printf("%s: %lu events, %lu sessions (%lu verified, %lu tampered or missing), "
	    "%lu policies\n%s\n", a->out, sum.events, sum.sessions, sum.verified,
	    sum.problems, sum.policies, chain);
	bundle_coverage_line(&log, a->scope.since, chain, sizeof(chain));
	if (chain[0] != '\0')
		fprintf(stderr, "otgate: report: %s\n", chain);
	/* the bundle is written either way; the status tells a script to look */
	r = log.chain_ok && sum.problems == 0 ? CMD_OK : CMD_NO;
out:
	policy_free(p);
	auditlog_free(&log);
	return r;
}

static int
report_access(const char *conf_path, struct report_args *a)
{
	struct recstate st;
	struct auditlog log;
	struct policy *p;
	int r;

	if (a->out != NULL || a->scope.nassets || a->scope.nusers || a->src || a->key) {
		fputs(REPORT_USAGE, stderr);
		return CMD_USAGE;
	}
	if ((r = report_range(a)) != CMD_OK)
		return r;
	if ((r = report_log(conf_path, a, &st, &log)) != CMD_OK)
		return r;
	if ((p = report_policy(conf_path)) == NULL)
		fprintf(stderr, "otgate: report: the policy could not be read from %s: "
		    "accounts, MFA and host keys are not reviewed\n", conf_path);
	r = access_report(&log, a->scope.since, a->scope.until, p, a->json, stdout);
	if (r != 0)
		fprintf(stderr, "otgate: report: %s\n", otg_strerror(r));
	policy_free(p);
	auditlog_free(&log);
	return r == 0 ? CMD_OK : CMD_NO;
}

int
cmd_report_main(int argc, char **argv, const char *conf_path)
{
	struct report_args a;

	memset(&a, 0, sizeof(a));
	if (argc < 2 || report_parse(argc - 1, argv + 1, &a) != 0) {
		fputs(REPORT_USAGE, stderr);
		return CMD_USAGE;
	}
	if (strcmp(argv[1], "incident") == 0)
		return report_incident(argc, argv, conf_path, &a);
	if (strcmp(argv[1], "access") == 0)
		return report_access(conf_path, &a);
	fputs(REPORT_USAGE, stderr);
	return CMD_USAGE;
}

int
cmd_report_verify_bundle(const char *dir, const char *keys_dir)
{
	struct reckey_set keys = { NULL, 0 };
	int r;

	if (keys_dir != NULL && (r = reckey_load_public_dir(keys_dir, &keys)) != 0) {
		fprintf(stderr, "otgate: verify: %s: %s\n", keys_dir, otg_strerror(r));
		return CMD_NO;
	}
	r = manifest_verify(dir, &keys, stdout);
	reckey_set_free(&keys);
	return r == 0 ? CMD_OK : CMD_NO;
}
