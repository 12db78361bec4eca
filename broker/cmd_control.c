/*
 * cmd_control.c: the otgate verbs that ask the running broker through its
 * control socket: `status`, `sessions --active [--json]` and `reload`. They
 * read otgated.conf only to find the socket; when no broker listens there they
 * say so in one line instead of a socket error. `sessions` without --active
 * is the recorder's listing of recorded sessions (recorder/cmd_index.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"
#include "cli/cmd.h"

/* The broker's text, with any raw control byte made visible: its output is
 * escaped already, this only guarantees nothing reaches the terminal raw. */
static void
control_cmd_print(FILE *fp, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f)
			fprintf(fp, "\\x%02x", p[i]);
		else
			fputc(p[i], fp);
	}
	if (len > 0 && p[len - 1] != '\n')
		fputc('\n', fp);
}

/* One request; the verb's exit status. */
static int
control_cmd_ask(const char *conf_path, uint16_t type, uint32_t flags)
{
	struct conf *conf = NULL;
	struct diag d;
	struct buf reply;
	uint16_t rtype;
	char why[512];
	int status;

	diag_init(&d);
	buf_init(&reply, CONTROL_REPLY_MAX);
	if (conf_load(conf_path, &d, &conf) != 0) {
		diag_print(&d, stderr);
		status = CMD_NO;
		goto out;
	}
	if (control_request(conf->control, type, flags, NULL, 0, &rtype, &reply, why,
	    sizeof(why)) != 0) {
		fprintf(stderr, "otgate: %s\n", why);
		status = CMD_NO;
		goto out;
	}
	switch (rtype) {
	case CONTROL_OK:
		control_cmd_print(stdout, buf_ptr(&reply), buf_len(&reply));
		status = CMD_OK;
		break;
	case CONTROL_FAILED:
		control_cmd_print(stderr, buf_ptr(&reply), buf_len(&reply));
		status = CMD_NO;
		break;
	default:
		fputs("otgate: the broker refused: ", stderr);
		control_cmd_print(stderr, buf_ptr(&reply), buf_len(&reply));
		status = CMD_NO;
		break;
	}
out:
	buf_free(&reply);
	conf_free(conf);
	diag_free(&d);
	return status;
}

int
cmd_status_main(int argc, char **argv, const char *conf_path)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: otgate status\n");
		return CMD_USAGE;
	}
	return control_cmd_ask(conf_path, CONTROL_STATUS, 0);
}

int
cmd_reload_main(int argc, char **argv, const char *conf_path)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: otgate reload\n");
		return CMD_USAGE;
	}
	return control_cmd_ask(conf_path, CONTROL_RELOAD, 0);
}

int
cmd_sessions_main(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "active", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, i, active = 0, json = 0;

	/* without --active: the recorded sessions, from the recorder's index */
	for (i = 1; i < argc && !active; i++)
		active = strcmp(argv[i], "--active") == 0;
	if (!active)
		return cmd_index_sessions(argc, argv, conf_path);
	opterr = 0;
	optind = 0;	/* reset getopt: main()'s "+f:" set another ordering mode */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			break;
		case 'j':
			json = 1;
			break;
		default:
			fprintf(stderr, "usage: otgate sessions --active [--json]\n");
			return CMD_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: otgate sessions --active [--json]\n");
		return CMD_USAGE;
	}
	return control_cmd_ask(conf_path, CONTROL_SESSIONS, json ? CONTROL_F_JSON : 0);
}
