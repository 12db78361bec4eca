/*
 * cmd_verify.c: `otgate verify`, the auditor's proof that recordings and the
 * audit log are as the broker wrote them. It needs only public keys (the
 * state's keys/ folder, or --keys DIR), so it runs on a copy of the state on an
 * auditor's own machine. One line per recording:
 *   ID: verified | unsealed tail at B | interrupted | tampered at B (...) |
 *   missing (...) | badly signed (...)
 * Exit 1 when any is tampered, missing or badly signed. --audit exits 4 when
 * the chain it checked does not start at seq 1. --checkpoints FILE
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

/* Where the chain of a log's first line says it starts: seq 1 for a fresh
 * log, later after logrotate (the line then names the rotated file's last). */
static int
cmd_verify_audit_start(const char *path, unsigned long long *seq, char prev[65])
{
	struct recline rl;
	struct json *j = NULL;
	const struct json *n;
	const char *line, *p;
	size_t len;
	int complete, r;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL)
		return OTG_ERR_IO;
	recline_init(&rl, fp);
	if ((r = recline_next(&rl, &line, &len, &complete)) != 0) {
		r = r == 1 ? OTG_ERR_TRUNCATED : r;
		goto out;
	}
	if ((r = json_parse(line, len, &j)) != 0)
		goto out;
	n = json_get(j, "seq");
	p = json_get_str(j, "prev");
	if (n == NULL || n->type != JSON_NUMBER || n->number < 1 || n->number > 9e15 ||
	    p == NULL || strlen(p) != 64) {
		r = OTG_ERR_PROTO;
		goto out;
	}
	*seq = (unsigned long long)n->number;
	memcpy(prev, p, 65);
out:
	json_free(j);
	recline_free(&rl);
	fclose(fp);
	return r;
}

/* One log, or several in order (rotated ones first): each must continue the
 * one before it. A first file that continues one not given is incomplete
 * (CMD_INCOMPLETE): nothing shows that its own first lines were not cut. */
static int
cmd_verify_audit(const struct recstate *st, char **files, int nfiles)
{
	unsigned long long nlines, bad, seq = 1, last_seq = 0;
	char why[512], prev[65], last[65];
	const char *path;
	int i, r, complete = 1;

	if (nfiles == 0 && st->audit_log[0] == '\0') {
		fprintf(stderr, "otgate: verify --audit: no audit log (give FILE)\n");
		return CMD_USAGE;
	}
	memset(prev, '0', 64);
	prev[64] = '\0';
	for (i = 0; i < (nfiles > 0 ? nfiles : 1); i++) {
		path = nfiles > 0 ? files[i] : st->audit_log;
		nlines = bad = 0;
		why[0] = '\0';
		if (i == 0 && (r = cmd_verify_audit_start(path, &seq, prev)) != 0 &&
		    r != OTG_ERR_TRUNCATED) {
			printf("%s: %s\n", path, r == OTG_ERR_IO ? strerror(errno) :
			    "first line is not an audit event");
			return CMD_NO;
		}
		if ((r = audit_verify_continued(path, seq, prev, &last_seq, last, &nlines,
		    &bad, why, sizeof(why))) != 0) {
			if (bad > 0)
				printf("%s: tampered at line %llu (%s)\n", path, bad, why);
			else
				printf("%s: %s (%s)\n", path, why[0] ? why : otg_strerror(r),
				    otg_strerror(r));
			return CMD_NO;
		}
		if (i == 0 && seq > 1) {
			/* a log whose first lines were cut looks just like this */
			printf("%s: incomplete: the chain starts at seq %llu, the events "
			    "before it were not checked (give the rotated files first); "
			    "%llu events verified from there\n", path, seq, nlines);
			complete = 0;
		} else {
			printf("%s: verified (%llu events)\n", path, nlines);
		}
		if (nlines > 0) {
			seq = last_seq + 1;
			memcpy(prev, last, sizeof(prev));
		}
	}
	return complete ? CMD_OK : CMD_INCOMPLETE;
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
