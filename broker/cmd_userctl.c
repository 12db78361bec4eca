/*
 * cmd_userctl.c: `otgate user lock|unlock|reset-mfa USER`. Locks and failure
 * counts live in the running broker, so these verbs go through its control
 * socket (which checks the caller and audits control.command with the uid);
 * reset-mfa is done there too so that the broker forgets mfa-grace at once.
 */
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"
#include "cli/cmd.h"

int
cmd_userctl_main(int argc, char **argv, const char *conf_path)
{
	struct conf *conf = NULL;
	struct diag d;
	struct buf reply;
	uint16_t type, rtype;
	char why[512], text[1024];
	int status;

	if (argc != 3) {
		fprintf(stderr, "usage: otgate user lock|unlock|reset-mfa USER\n");
		return CMD_USAGE;
	}
	if (strcmp(argv[1], "lock") == 0)
		type = CONTROL_USER_LOCK;
	else if (strcmp(argv[1], "unlock") == 0)
		type = CONTROL_USER_UNLOCK;
	else
		type = CONTROL_USER_RESET_MFA;
	if (!value_name_ok(argv[2])) {
		fprintf(stderr, "otgate: %s: not a valid user name\n",
		    escape_str(why, sizeof(why), argv[2]));
		return CMD_USAGE;
	}
	diag_init(&d);
	buf_init(&reply, CONTROL_REPLY_MAX);
	if (conf_load(conf_path, &d, &conf) != 0) {
		diag_print(&d, stderr);
		status = CMD_NO;
		goto out;
	}
	if (control_request(conf->control, type, 0, argv[2], strlen(argv[2]) + 1, &rtype,
	    &reply, why, sizeof(why)) != 0) {
		fprintf(stderr, "otgate: %s\n", why);
		status = CMD_NO;
		goto out;
	}
	/* the broker's text is escaped already; this keeps raw bytes off the tty */
	snprintf(text, sizeof(text), "%.*s", (int)buf_len(&reply),
	    (const char *)buf_ptr(&reply));
	text[strcspn(text, "\n")] = '\0';
	escape_str(why, sizeof(why), text);
	if (rtype == CONTROL_OK) {
		printf("%s\n", why);
		status = CMD_OK;
	} else {
		fprintf(stderr, "otgate: %s\n", why);
		status = CMD_NO;
	}
out:
	buf_free(&reply);
	conf_free(conf);
	diag_free(&d);
	return status;
}
