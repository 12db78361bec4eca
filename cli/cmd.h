/*
 * cmd.h: the otgate command's verbs. Each component keeps its verbs in its own
 * cmd_*.c; cli/otgate.c holds the table. A verb gets argv starting at its own
 * name and the config path (-f, $OTGATE_CONF or the default), and returns the
 * exit status: 0 success/allow, 1 a "no", 2 usage error, 3 needs approval.
 */
#ifndef OTGATE_CMD_H
#define OTGATE_CMD_H

enum {
	CMD_OK = 0,
	CMD_NO = 1,
	CMD_USAGE = 2,
	CMD_NEEDS_APPROVAL = 3,
	CMD_INCOMPLETE = 4	/* verify --audit: the chain's start was not checked */
};

typedef int cmd_fn(int argc, char **argv, const char *conf_path);

struct cmd_verb {
	const char *name;
	const char *usage;	/* lines shown by "otgate help", without "otgate " */
	cmd_fn *fn;
};

/* policy/cmd_policy.c */
int cmd_policy_main(int argc, char **argv, const char *conf_path);

/* broker/cmd_control.c: ask the running broker through its control socket */
int cmd_status_main(int argc, char **argv, const char *conf_path);
int cmd_sessions_main(int argc, char **argv, const char *conf_path);
int cmd_reload_main(int argc, char **argv, const char *conf_path);

/* broker/cmd_operator.c: the operator's verbs on running sessions */
int cmd_kill_main(int argc, char **argv, const char *conf_path);
int cmd_watch_main(int argc, char **argv, const char *conf_path);
int cmd_requests_main(int argc, char **argv, const char *conf_path);
int cmd_approve_main(int argc, char **argv, const char *conf_path);
int cmd_deny_main(int argc, char **argv, const char *conf_path);

/* broker/cmd_asset.c: asset host keys and vaulted credentials */
int cmd_asset_main(int argc, char **argv, const char *conf_path);
/* broker/cmd_userctl.c: user lock|unlock|reset-mfa through the control socket */
int cmd_userctl_main(int argc, char **argv, const char *conf_path);

/* pam/cmd_user.c: TOTP enrolment and passwords in the state folder */
int cmd_user_main(int argc, char **argv, const char *conf_path);

/* recorder/cmd_*.c: the auditor's verbs */
int cmd_verify_main(int argc, char **argv, const char *conf_path);
int cmd_replay_main(int argc, char **argv, const char *conf_path);
int cmd_export_main(int argc, char **argv, const char *conf_path);
int cmd_search_main(int argc, char **argv, const char *conf_path);
int cmd_index_main(int argc, char **argv, const char *conf_path);
/* `otgate sessions` without --active: recorded sessions from the index */
int cmd_index_sessions(int argc, char **argv, const char *conf_path);
int cmd_purge_main(int argc, char **argv, const char *conf_path);
int cmd_recording_main(int argc, char **argv, const char *conf_path);

/* report/cmd_report.c: NIS2 incident bundles and the access review */
int cmd_report_main(int argc, char **argv, const char *conf_path);
/* `otgate verify --bundle DIR [--keys DIR]`: the bundle's manifest and signature */
int cmd_report_verify_bundle(const char *dir, const char *keys_dir);

#endif
