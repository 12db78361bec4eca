/*
 * otgate: the admins' and auditors' command. One program whose main is a table
 * of verbs; each verb lives with the component it serves, in a cmd_*.c file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "common/common.h"

static const struct cmd_verb verbs[] = {
	{ "policy", "policy check [FILE]\n"
	    "policy explain USER ASSET [--at TIME] [--tz ZONE] [--channel KIND] [--json]\n"
	    "policy dump [FILE]", cmd_policy_main },
	{ "status", "status", cmd_status_main },
	{ "sessions", "sessions --active [--json]\n"
	    "sessions [--user U] [--asset A] [--since T] [--until T] [--state DIR] [--json]",
	    cmd_sessions_main },
	{ "reload", "reload", cmd_reload_main },
	{ "watch", "watch ID", cmd_watch_main },
	{ "kill", "kill ID [--reason TEXT]", cmd_kill_main },
	{ "requests", "requests [--json]", cmd_requests_main },
	{ "approve", "approve N [--for DURATION]", cmd_approve_main },
	{ "deny", "deny N [--reason TEXT]", cmd_deny_main },
	{ "asset", "asset trust NAME\n"
	    "asset credential NAME --key FILE | --password", cmd_asset_main },
	{ "user", "user enroll USER [--invite [--valid DURATION]]\n"
	    "user passwd USER [--stdin]\n"
	    "user lock|unlock|reset-mfa USER", cmd_user_main },
	{ "verify", "verify [--state DIR] [--keys DIR] [--checkpoints FILE] ID|FILE... | --all\n"
	    "verify --audit [FILE...]\n"
	    "verify --bundle DIR [--keys DIR]", cmd_verify_main },
	{ "replay", "replay ID|FILE [--speed X] [--idle-limit S] [--from [[HH:]MM:]SS] [--raw] "
	    "[--key FILE]", cmd_replay_main },
	{ "export", "export ID|FILE -o FILE | --pcap FILE [--input] [--key FILE] [--state DIR]",
	    cmd_export_main },
	{ "search", "search TEXT [--user U] [--since T] [--json] [--state DIR]",
	    cmd_search_main },
	{ "index", "index rebuild [--key FILE] [--state DIR]", cmd_index_main },
	{ "purge", "purge [--dry-run] [--retention DURATION]", cmd_purge_main },
	{ "recording", "recording keygen [--state DIR]\n"
	    "recording auditor-keygen FILE", cmd_recording_main },
	{ "report", "report incident --since T [--until T] [--asset A]... [--user U]... "
	    "[--src CIDR] [--key FILE] -o DIR [--force]\n"
	    "report access --since T [--until T] [--json]", cmd_report_main },
};

static void
usage(FILE *fp)
{
	size_t i;
	const char *u, *nl;

	fprintf(fp, "usage: otgate [-f CONFIG] VERB [ARGS...]\n\nverbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		for (u = verbs[i].usage; *u != '\0'; u = nl + (*nl != '\0')) {
			nl = strchr(u, '\n');
			if (nl == NULL)
				nl = u + strlen(u);
			fprintf(fp, "  otgate %.*s\n", (int)(nl - u), u);
		}
	}
	fprintf(fp, "  otgate help\n  otgate --version\n\n"
	    "CONFIG defaults to $OTGATE_CONF, else " CONF_DEFAULT_PATH ".\n"
	    "Exit status: 0 success/allow, 1 no (deny, mismatch, invalid input),\n"
	    "2 usage error, 3 needs approval.\n");
}

int
main(int argc, char **argv)
{
	const char *conf_arg = NULL;
	size_t i;
	int ch;

	log_init("otgate", 1, LOG_LEVEL_WARN);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("otgate %s\n", OTGATE_VERSION);
		return CMD_OK;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return CMD_OK;
	}
	/* "+": stop at the verb, its options are its own */
	while ((ch = getopt(argc, argv, "+f:")) != -1) {
		switch (ch) {
		case 'f':
			conf_arg = optarg;
			break;
		default:
			usage(stderr);
			return CMD_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return CMD_USAGE;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[0], verbs[i].name) == 0) {
			optind = 1;	/* the verb parses its own options from argv */
			return verbs[i].fn(argc, argv, conf_default_path(conf_arg));
		}
	}
	fprintf(stderr, "otgate: unknown verb '%s' (otgate help lists them)\n", argv[0]);
	return CMD_USAGE;
}
