/*
 * cmd_policy.c: `otgate policy check|explain|dump`, the admin's view of the
 * policy engine. The policy file comes from otgated.conf's `policy` key
 * unless given on the command line, so an admin checks exactly what the
 * broker will load. Problems print as FILE:LINE:COL lines on stderr.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "policy/policy.h"

static const char cmd_policy_usage[] =
    "usage: otgate [-f CONFIG] policy check [FILE]\n"
    "       otgate [-f CONFIG] policy explain USER ASSET [--at TIME] [--tz ZONE]\n"
    "                          [--channel shell|exec|sftp|forward] [--json]\n"
    "                          [--policy FILE]\n"
    "       otgate [-f CONFIG] policy dump [FILE]\n"
    "\n"
    "check    load the policy (FILE, else the config's `policy`, with policy.d/)\n"
    "         and print every problem; OK: N users, N roles, N assets, N windows\n"
    "explain  decide whether USER may open a channel on ASSET and say why;\n"
    "         TIME is YYYY-MM-DD[ HH:MM[:SS]] read in ZONE (default: the host's),\n"
    "         RFC 3339, or a duration meaning that long ago (2h); default now\n"
    "dump     print the policy in canonical form (sorted, defaults written out)\n"
    "\n"
    "Exit status: 0 OK/allow, 1 errors/deny, 2 usage, 3 needs approval.\n";

static int cmd_policy_usage_error(const char *fmt, ...) OTG_PRINTF(1, 2);

/* A usage problem; arguments quoted in fmt must already be escaped. */
static int
cmd_policy_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "otgate policy: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(otgate policy --help shows the usage)\n");
	return CMD_USAGE;
}

/* Load the policy named by file, else by the config; NULL after printing why. */
static struct policy *
cmd_policy_load(const char *file, const char *conf_path)
{
	struct policy *p = NULL;
	struct conf *conf = NULL;
	struct diag d;

	diag_init(&d);
	if (file == NULL) {
		if (conf_load(conf_path, &d, &conf) != 0)
			goto out;
		file = conf->policy;
	}
	/* egress comes with the config; a FILE alone cannot be checked against it */
	if (policy_load(file, &d, &p) == 0 && conf != NULL && conf->negress > 0)
		policy_check_egress(p, conf->egress, conf->negress, &d);
out:
	diag_print(&d, stderr);
	diag_free(&d);
	conf_free(conf);
	return p;
}

/* The help flag (1), a lone optional FILE argument (0), or a usage error (-1). */
static int
cmd_policy_file_arg(int argc, char **argv, const char **file)
{
	char safe[128];

	*file = NULL;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(cmd_policy_usage, stdout);
		return 1;
	}
	if (argc > 2) {
		cmd_policy_usage_error("%s takes one FILE at most",
		    escape_str(safe, sizeof(safe), argv[0]));
		return -1;
	}
	if (argc == 2 && argv[1][0] == '-' && argv[1][1] != '\0') {
		cmd_policy_usage_error("unknown option '%s'",
		    escape_str(safe, sizeof(safe), argv[1]));
		return -1;
	}
	if (argc == 2)
		*file = argv[1];
	return 0;
}

static int
cmd_policy_check(int argc, char **argv, const char *conf_path)
{
	struct policy *p;
	const char *file;
	size_t users, roles, assets, windows;
	int r;

	if ((r = cmd_policy_file_arg(argc, argv, &file)) != 0)
		return r > 0 ? CMD_OK : CMD_USAGE;
	if ((p = cmd_policy_load(file, conf_path)) == NULL)
		return CMD_NO;
	policy_counts(p, &users, &roles, &assets, &windows);
	printf("OK: %zu users, %zu roles, %zu assets, %zu windows\n", users, roles,
	    assets, windows);
	policy_free(p);
	return CMD_OK;
}

static int
cmd_policy_dump(int argc, char **argv, const char *conf_path)
{
	struct policy *p;
	const char *file;
	int r;

	if ((r = cmd_policy_file_arg(argc, argv, &file)) != 0)
		return r > 0 ? CMD_OK : CMD_USAGE;
	if ((p = cmd_policy_load(file, conf_path)) == NULL)
		return CMD_NO;
	r = policy_dump(p, stdout);
	policy_free(p);
	if (r != 0) {
		fprintf(stderr, "otgate policy dump: %s\n", otg_strerror(r));
		return CMD_NO;
	}
	return CMD_OK;
}

/* "key":"escaped value", or "key":null; a nonzero result if the buffer filled. */
static int
cmd_policy_json_str(struct buf *b, const char *key, const char *value)
{
	int r = 0;

	r |= buf_printf(b, "\"%s\":", key);
	if (value == NULL) {
		r |= buf_puts(b, "null,");
	} else {
		r |= buf_putc(b, '"');
		r |= escape_json(b, value, strlen(value));
		r |= buf_puts(b, "\",");
	}
	return r;
}

/* Seconds a warm connection to the asset stays open unused, for a channel
 * that would use one; 0 when it would make its own connection. */
static uint64_t
cmd_policy_reuse_idle(const struct policy *p, const char *asset,
    enum policy_channel kind)
{
	const struct policy_asset *a = policy_asset(p, asset);

	return a != NULL && a->reuse && kind != POLICY_FORWARD ? a->reuse_idle : 0;
}

static int
cmd_policy_print_json(const char *user, const char *asset, enum policy_channel kind,
    time_t at, const struct policy_decision *dec, uint64_t reuse_idle)
{
	struct buf b;
	struct tm tm;
	char when[32];
	int r = 0;

	gmtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_init(&b, 1 << 20);
	r |= buf_putc(&b, '{');
	r |= cmd_policy_json_str(&b, "user", user);
	r |= cmd_policy_json_str(&b, "asset", asset);
	r |= cmd_policy_json_str(&b, "channel", policy_channel_name(kind));
	r |= cmd_policy_json_str(&b, "at", when);
	r |= cmd_policy_json_str(&b, "decision", policy_verdict_name(dec->verdict));
	r |= cmd_policy_json_str(&b, "rule", dec->role);
	r |= cmd_policy_json_str(&b, "reason", dec->reason);
	r |= buf_printf(&b, "\"max_session\":%llu,\"idle_timeout\":%llu,"
	    "\"reason_required\":%s,\"reuse_idle\":%llu}\n",
	    (unsigned long long)dec->max_session, (unsigned long long)dec->idle_timeout,
	    dec->reason_required ? "true" : "false", (unsigned long long)reuse_idle);
	if (r == 0 && fwrite(buf_ptr(&b), 1, buf_len(&b), stdout) != buf_len(&b))
		r = OTG_ERR_IO;
	buf_free(&b);
	return r != 0 ? OTG_ERR_IO : 0;
}

static int
cmd_policy_explain(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "tz", required_argument, NULL, 'z' },
		{ "channel", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *at = NULL, *zone = NULL, *file = NULL;
	char safe[128];
	enum policy_channel kind = POLICY_SHELL;
	struct policy_decision dec;
	struct policy *p = NULL;
	struct tz *tz = NULL;
	time_t when = time(NULL);
	uint64_t reuse_idle;
	int ch, json = 0, r, status = CMD_USAGE;

	optind = 0;	/* a fresh scan of this verb's own argv */
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			at = optarg;
			break;
		case 'z':
			zone = optarg;
			break;
		case 'c':
			if (policy_channel_parse(optarg, &kind) != 0)
				return cmd_policy_usage_error("unknown channel '%s' (expected "
				    "shell, exec, sftp or forward)",
				    escape_str(safe, sizeof(safe), optarg));
			break;
		case 'j':
			json = 1;
			break;
		case 'p':
			file = optarg;
			break;
		case 'h':
			fputs(cmd_policy_usage, stdout);
			return CMD_OK;
		case ':':
			return cmd_policy_usage_error("%s needs a value",
			    escape_str(safe, sizeof(safe), argv[optind - 1]));
		default:
			return cmd_policy_usage_error("unknown option '%s'",
			    escape_str(safe, sizeof(safe), argv[optind - 1]));
		}
	}
	if (argc - optind != 2)
		return cmd_policy_usage_error("explain needs USER and ASSET");
	if ((r = tz_load(zone, &tz)) != 0) {
		if (zone != NULL)
			return cmd_policy_usage_error("unknown time zone '%s'",
			    escape_str(safe, sizeof(safe), zone));
		fprintf(stderr, "otgate policy: cannot load the host's time zone: %s\n",
		    otg_strerror(r));
		return CMD_NO;
	}
	if (at != NULL && (r = timearg_parse(at, tz, when, &when)) != 0) {
		escape_str(safe, sizeof(safe), at);
		if (r == OTG_ERR_RANGE)
			fprintf(stderr, "otgate policy: --at '%s' does not exist in %s: "
			    "the clocks skip it (a DST gap)\n", safe, tz_name(tz));
		else
			cmd_policy_usage_error("bad --at '%s': expected YYYY-MM-DD[ HH:MM"
			    "[:SS]], RFC 3339 or a duration such as 2h", safe);
		goto out;
	}
	if ((p = cmd_policy_load(file, conf_path)) == NULL) {
		status = CMD_NO;
		goto out;
	}
	if (policy_decide(p, argv[optind], argv[optind + 1], kind, when, &dec) != 0) {
		status = CMD_NO;
		goto out;
	}
	reuse_idle = cmd_policy_reuse_idle(p, argv[optind + 1], kind);
	if (json) {
		if (cmd_policy_print_json(argv[optind], argv[optind + 1], kind, when,
		    &dec, reuse_idle) != 0) {
			fprintf(stderr, "otgate policy: cannot write the answer\n");
			status = CMD_NO;
			goto out;
		}
	} else {
		printf("decision: %s\nrule: %s\nreason: %s\n",
		    policy_verdict_name(dec.verdict), dec.role != NULL ? dec.role : "-",
		    dec.reason);
		if (reuse_idle > 0 && dec.verdict != POLICY_DENY)
			printf("connection: warm, shared with other vendor sessions "
			    "(reuse = yes, closed after %llus unused)\n",
			    (unsigned long long)reuse_idle);
	}
	status = dec.verdict == POLICY_ALLOW ? CMD_OK :
	    dec.verdict == POLICY_NEEDS_APPROVAL ? CMD_NEEDS_APPROVAL : CMD_NO;
out:
	policy_free(p);
	tz_free(tz);
	return status;
}

int
cmd_policy_main(int argc, char **argv, const char *conf_path)
{
	if (argc < 2) {
		fputs(cmd_policy_usage, stderr);
		return CMD_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(cmd_policy_usage, stdout);
		return CMD_OK;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_policy_check(argc - 1, argv + 1, conf_path);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_policy_explain(argc - 1, argv + 1, conf_path);
	if (strcmp(argv[1], "dump") == 0)
		return cmd_policy_dump(argc - 1, argv + 1, conf_path);
	return cmd_policy_usage_error("unknown policy verb '%s' (expected check, "
	    "explain or dump)", argv[1]);
}
