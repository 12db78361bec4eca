/*
 * cmd_verify.c: `otgate verify`, the auditor's proof that recordings and the
 * audit log are as the broker wrote them. It needs only public keys (the
 * state's keys/ folder, or --keys DIR), so it runs on a copy of the state on an
 * auditor's own machine. One line per recording:
 *   ID: verified | unsealed tail at B | interrupted | tampered at B (...) |
 *   missing (...) | badly signed (...)
 * Exit 1 when any is tampered, missing or badly signed. --audit checks the
 * audit log after its rotated files (broker/auditset.c) and exits 4 when the
 * chain it checked does not start at seq 1. --checkpoints FILE
 * also holds the seals against session.checkpoint events exported to syslog
 * or a SIEM, which catches a seal file cut back or rewritten on the host.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "cli/cmd.h"
#include "common/common.h"
#include "recorder/recorder.h"

#define VERIFY_USAGE \
	"usage: otgate verify [--state DIR] [--keys DIR] [--checkpoints FILE] ID|FILE...\n" \
	"       otgate verify [--state DIR] [--keys DIR] [--checkpoints FILE] --all\n" \
	"       otgate verify --audit [FILE...]\n" \
	"       otgate verify --bundle DIR [--keys DIR]\n"

struct cmd_verify_run {
	struct reckey_set keys;
	struct verify_checkpoints cps;
	int bad, n;
};

static int
cmd_verify_one_cb(void *arg, const struct recfile *f)
{
	struct cmd_verify_run *run = arg;
	struct verify_result res;
	char line[1024];
	int r;

	if ((r = verify_recording_against(f, &run->keys, &run->cps, &res)) != 0) {
		fprintf(stderr, "otgate: verify %s: %s\n", f->id, otg_strerror(r));
		run->bad++;
		return 0;
	}
	verify_format(f, &res, line, sizeof(line));
	printf("%s\n", line);
	run->n++;
	if (res.status == VERIFY_TAMPERED || res.status == VERIFY_MISSING ||
	    res.status == VERIFY_BADSIG)
		run->bad++;
	return 0;
}

/* ID.cast and ID.cast.part of one session: only the final name is checked. */
static int
cmd_verify_all_cb(void *arg, const struct recfile *f)
{
	struct recfile final;
	char path[4096];
	size_t n = strlen(f->path);

	if (f->part && n > 5 && n - 5 < sizeof(path)) {
		memcpy(path, f->path, n - 5);
		path[n - 5] = '\0';
		if (recfile_from_path(path, &final) == 0 && access(path, F_OK) == 0)
			return 0;
	}
	return cmd_verify_one_cb(arg, f);
}

/* One file's verdict. The chain's first file (first_seq > 1) is incomplete:
 * nothing shows that lines before it were not cut. */
static void
cmd_verify_audit_print(const struct auditset_file *f, int start, int found)
{
	if (!f->checked)
		printf("%s: not checked (an earlier file failed)\n", f->path);
	else if (f->status != 0 && f->bad_line > 0)
		printf("%s: tampered at line %llu (%s)\n", f->path, f->bad_line, f->why);
	else if (f->status != 0)
		printf("%s: %s (%s)\n", f->path, f->why[0] ? f->why : otg_strerror(f->status),
		    otg_strerror(f->status));
	else if (start && f->first_seq > 1)
		printf("%s: incomplete: the chain starts at seq %llu, the events before it "
		    "were not checked (%s); %llu events verified from there\n", f->path,
		    f->first_seq, found ? "no older file found next to the log: deleted "
		    "by logrotate, or lines removed" : "give the rotated files first", f->nlines);
	else
		printf("%s: verified (%llu events)\n", f->path, f->nlines);
}

/* The given logs in order, or the configured one after its rotated files
 * (oldest first): each must continue the one before it. */
static int
cmd_verify_audit(const struct recstate *st, char **files, int nfiles)
{
	struct auditset set = { NULL, 0 };
	int i, r, start = 1, complete = 1;
	size_t j;

	if (nfiles == 0 && st->audit_log[0] == '\0') {
		fprintf(stderr, "otgate: verify --audit: no audit log (give FILE)\n");
		return CMD_USAGE;
	}
	for (i = 0, r = 0; r == 0 && i < nfiles; i++)
		r = auditset_add(&set, files[i]);
	if (nfiles == 0 && (r = auditset_find(st->audit_log, &set)) == OTG_ERR_EXISTS)
		fprintf(stderr, "otgate: verify --audit: both %s.N and %s-DATE files: give "
		    "them oldest first as FILE arguments\n", st->audit_log, st->audit_log);
	else if (r != 0)
		fprintf(stderr, "otgate: verify --audit: %s: %s\n", nfiles > 0 ? files[0] :
		    st->audit_log, r == OTG_ERR_IO ? strerror(errno) : otg_strerror(r));
	if (r != 0) {
		auditset_free(&set);
		return r == OTG_ERR_EXISTS ? CMD_USAGE : CMD_NO;
	}
	r = auditset_verify(&set);
	for (j = 0; j < set.n; j++) {
		cmd_verify_audit_print(&set.file[j], start, nfiles == 0);
		if (start && set.file[j].first_seq > 1)
			complete = 0;
		if (set.file[j].nlines > 0)
			start = 0;
	}
	auditset_free(&set);
	return r != 0 ? CMD_NO : complete ? CMD_OK : CMD_INCOMPLETE;
}

int
cmd_verify_main(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "audit", no_argument, NULL, 'A' },
		{ "state", required_argument, NULL, 's' },
		{ "keys", required_argument, NULL, 'k' },
		{ "checkpoints", required_argument, NULL, 'c' },
		{ "bundle", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	const char *state_opt = NULL, *keys_opt = NULL, *checkpoints = NULL, *bundle = NULL;
	unsigned long nbad;
	struct cmd_verify_run run;
	struct recstate st;
	struct recfile f;
	char keys[4200];
	int ch, all = 0, audit = 0, i, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': all = 1; break;
		case 'A': audit = 1; break;
		case 's': state_opt = optarg; break;
		case 'k': keys_opt = optarg; break;
		case 'c': checkpoints = optarg; break;
		case 'b': bundle = optarg; break;
		default:
			fputs(VERIFY_USAGE, stderr);
			return CMD_USAGE;
		}
	}
	/* a CSIRT checks a bundle without any broker configuration */
	if (bundle != NULL && !all && !audit && optind == argc)
		return cmd_report_verify_bundle(bundle, keys_opt);
	if (bundle != NULL) {
		fputs(VERIFY_USAGE, stderr);
		return CMD_USAGE;
	}
	if ((all + audit > 1) || (!audit && all == (optind < argc))) {
		fputs(VERIFY_USAGE, stderr);
		return CMD_USAGE;
	}
	if (recstate_resolve(conf_path, state_opt, &st) != 0)
		return CMD_USAGE;
	if (audit)
		return cmd_verify_audit(&st, argv + optind, argc - optind);
	snprintf(keys, sizeof(keys), "%s/keys", st.state);
	memset(&run, 0, sizeof(run));
	if ((r = reckey_load_public_dir(keys_opt != NULL ? keys_opt : keys, &run.keys)) != 0 &&
	    r != OTG_ERR_NOTFOUND) {
		fprintf(stderr, "otgate: verify: %s: %s\n", keys_opt ? keys_opt : keys,
		    otg_strerror(r));
		return CMD_NO;
	}
	if (checkpoints != NULL) {
		if ((r = verify_checkpoints_load(checkpoints, &run.cps, &nbad)) != 0) {
			fprintf(stderr, "otgate: verify: %s: %s\n", checkpoints, otg_strerror(r));
			reckey_set_free(&run.keys);
			return CMD_NO;
		}
		if (nbad > 0)
			fprintf(stderr, "otgate: verify: %s: %lu damaged checkpoint lines "
			    "ignored\n", checkpoints, nbad);
	}
	if (all) {
		if ((r = recfile_walk(st.state, cmd_verify_all_cb, &run)) != 0) {
			fprintf(stderr, "otgate: verify: %s/recordings: %s\n", st.state,
			    otg_strerror(r));
			run.bad++;
		} else if (run.n == 0) {
			printf("no recordings under %s/recordings\n", st.state);
		}
	}
	for (i = optind; !all && i < argc; i++) {
		if ((r = recfile_find(st.state, argv[i], &f)) != 0) {
			fprintf(stderr, "otgate: verify: %s: %s\n", argv[i],
			    r == OTG_ERR_EXISTS ? "ambiguous ID prefix" :
			    r == OTG_ERR_INVAL ? "not an ID (8+ hex characters) or a "
			    "recording file name" : "no such recording");
			run.bad++;
			continue;
		}
		cmd_verify_one_cb(&run, &f);
	}
	reckey_set_free(&run.keys);
	verify_checkpoints_free(&run.cps);
	return run.bad > 0 ? CMD_NO : CMD_OK;
}
