/*
 * cmd_operator.c: the operator's verbs on running sessions, through the
 * broker's control socket (which checks the caller and audits the uid):
 * `otgate kill ID [--reason TEXT]`, and the answers to just-in-time approval
 * requests: `otgate requests [--json]`, `otgate approve N [--for DURATION]`,
 * `otgate deny N [--reason TEXT]`.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"
#include "cli/cmd.h"

/* Every line of a reply, with any raw control byte made visible. */
static void
operator_print(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f)
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
}

/* One request with NUL-terminated arguments; prints the broker's answer
 * escaped (it is escaped already: this keeps raw bytes off the terminal), its
 * first line, or every line when all is set. */
static int
operator_ask(const char *conf_path, uint16_t type, uint32_t flags,
    const char *const *args, int nargs, int all)
{
	struct conf *conf = NULL;
	struct diag d;
	struct buf body, reply;
	uint16_t rtype;
	char why[512], line[1024];
	int i, status;

	diag_init(&d);
	buf_init(&body, CONTROL_ARG_MAX);
	buf_init(&reply, CONTROL_REPLY_MAX);
	for (i = 0; i < nargs; i++) {
		if (buf_put(&body, args[i], strlen(args[i]) + 1) != 0) {
			fprintf(stderr, "otgate: arguments too long\n");
			status = CMD_USAGE;
			goto out;
		}
	}
	if (conf_load(conf_path, &d, &conf) != 0) {
		diag_print(&d, stderr);
		status = CMD_NO;
		goto out;
	}
	if (control_request(conf->control, type, flags, buf_ptr(&body), buf_len(&body),
	    &rtype, &reply, why, sizeof(why)) != 0) {
		fprintf(stderr, "otgate: %s\n", why);
		status = CMD_NO;
		goto out;
	}
	if (all && rtype == CONTROL_OK) {
		operator_print(buf_ptr(&reply), buf_len(&reply));
		status = CMD_OK;
		goto out;
	}
	snprintf(line, sizeof(line), "%.*s", (int)buf_len(&reply),
	    (const char *)buf_ptr(&reply));
	line[strcspn(line, "\n")] = '\0';
	escape_str(why, sizeof(why), line);
	if (rtype == CONTROL_OK) {
		printf("%s\n", why);
		status = CMD_OK;
	} else {
		fprintf(stderr, "otgate: %s%s\n", rtype == CONTROL_ERROR ?
		    "the broker refused: " : "", why);
		status = CMD_NO;
	}
out:
	buf_free(&reply);
	buf_free(&body);
	conf_free(conf);
	diag_free(&d);
	return status;
}

int
cmd_kill_main(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *args[2] = { NULL, "" };
	int ch;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			args[1] = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	args[0] = argv[optind];
	if (strlen(args[1]) > CONTROL_REASON_MAX) {
		fprintf(stderr, "otgate: the reason must be at most %u bytes\n",
		    CONTROL_REASON_MAX);
		return CMD_USAGE;
	}
	return operator_ask(conf_path, CONTROL_KILL, 0, args, 2, 0);
usage:
	fprintf(stderr, "usage: otgate kill ID [--reason TEXT]\n");
	return CMD_USAGE;
}

int
cmd_requests_main(int argc, char **argv, const char *conf_path)
{
	if (argc == 1)
		return operator_ask(conf_path, CONTROL_REQUESTS, 0, NULL, 0, 1);
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		return operator_ask(conf_path, CONTROL_REQUESTS, CONTROL_F_JSON, NULL, 0, 1);
	fprintf(stderr, "usage: otgate requests [--json]\n");
	return CMD_USAGE;
}

/* approve N [--for DURATION] and deny N [--reason TEXT]: one option each. */
static int
operator_answer(int argc, char **argv, const char *conf_path, uint16_t type,
    const char *option, const char *usage)
{
	const char *args[2] = { NULL, "" };
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], option) == 0 && i + 1 < argc && args[1][0] == '\0')
			args[1] = argv[++i];
		else if (strncmp(argv[i], "--", 2) != 0 && args[0] == NULL)
			args[0] = argv[i];
		else
			goto usage;
	}
	if (args[0] == NULL || args[0][strspn(args[0], "0123456789")] != '\0' ||
	    args[0][0] == '\0')
		goto usage;
	if (strlen(args[1]) > CONTROL_REASON_MAX) {
		fprintf(stderr, "otgate: %s takes at most %u bytes\n", option,
		    CONTROL_REASON_MAX);
		return CMD_USAGE;
	}
	return operator_ask(conf_path, type, 0, args, 2, 0);
usage:
	fprintf(stderr, "usage: otgate %s\n", usage);
	return CMD_USAGE;
}

int
cmd_approve_main(int argc, char **argv, const char *conf_path)
{
	return operator_answer(argc, argv, conf_path, CONTROL_APPROVE, "--for",
	    "approve N [--for DURATION]");
}

int
cmd_deny_main(int argc, char **argv, const char *conf_path)
{
	return operator_answer(argc, argv, conf_path, CONTROL_DENY, "--reason",
	    "deny N [--reason TEXT]");
}
