/*
 * cmd_recording.c: `otgate recording keygen`, the long-term recording key.
 * Run once at installation, then to rotate: a new STATE/keys/recording.key
 * replaces the old private key, while every recording-FP.pub stays so that
 * recordings certified by an older key still verify. `otgate recording
 * auditor-keygen FILE` makes an auditor's X25519 pair for encryption at rest:
 * FILE (private, stays with the auditor) and FILE.pub (for recording-recipient).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "common/common.h"
#include "recorder/recorder.h"

#define RECORDING_USAGE \
	"usage: otgate recording keygen [--state DIR]\n" \
	"       otgate recording auditor-keygen FILE\n"

static int
cmd_recording_auditor(const char *path)
{
	char pub[4200];
	int r;

	if (snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub)) {
		fputs(RECORDING_USAGE, stderr);
		return CMD_USAGE;
	}
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "otgate: recording auditor-keygen: %s exists\n", path);
		return CMD_NO;
	}
	if ((r = atrest_keygen(path, pub)) != 0) {
		fprintf(stderr, "otgate: recording auditor-keygen: %s: %s\n", path,
		    otg_strerror(r));
		return CMD_NO;
	}
	printf("private key: %s (keep it off the broker)\npublic key: %s "
	    "(list it in recording-recipient)\n", path, pub);
	return CMD_OK;
}

int
cmd_recording_main(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char *state_opt = NULL;
	char keys[4200], priv[4300], pub[4400];
	struct recstate st;
	int ch, r, rotated;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 's') {
			fputs(RECORDING_USAGE, stderr);
			return CMD_USAGE;
		}
		state_opt = optarg;
	}
	if (optind + 2 == argc && strcmp(argv[optind], "auditor-keygen") == 0)
		return cmd_recording_auditor(argv[optind + 1]);
	if (optind + 1 != argc || strcmp(argv[optind], "keygen") != 0) {
		fputs(RECORDING_USAGE, stderr);
		return CMD_USAGE;
	}
	if (recstate_resolve(conf_path, state_opt, &st) != 0)
		return CMD_USAGE;
	snprintf(keys, sizeof(keys), "%s/keys", st.state);
	snprintf(priv, sizeof(priv), "%s/%s", keys, RECKEY_PRIVATE);
	rotated = access(priv, F_OK) == 0;
	if ((r = reckey_generate(keys, pub, sizeof(pub))) != 0) {
		fprintf(stderr, "otgate: recording keygen: %s: %s\n", keys, otg_strerror(r));
		return CMD_NO;
	}
	printf("recording key: %s\npublic key: %s\n", priv, pub);
	if (rotated)
		printf("the previous key was replaced; its public key stays in %s\n", keys);
	return CMD_OK;
}
