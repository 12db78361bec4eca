/*
 * cmd_purge.c: `otgate purge`, retention. Recordings whose files were last
 * written before now minus the retention (recording-retention in otgated.conf,
 * 400 days by default, or --retention) are deleted with their seals and index
 * rows, and each deletion goes to the audit log as recording.purged, so the
 * chain shows that a record was removed, when, and which one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"
#include "cli/cmd.h"
#include "common/common.h"
#include "recorder/recorder.h"

#define PURGE_USAGE "usage: otgate purge [--dry-run] [--retention DURATION]\n"

struct cmd_purge_run {
	time_t cutoff;
	int dry_run;
	struct audit *audit;
	struct rec_index *ix;
	unsigned long n, failed;
};

static int
cmd_purge_cb(void *arg, const struct recfile *f)
{
	struct cmd_purge_run *run = arg;
	struct audit_field fields[3];
	struct stat st;

	if (stat(f->path, &st) == -1 || st.st_mtime >= run->cutoff)
		return 0;
	run->n++;
	if (run->dry_run) {
		printf("would delete %s\n", f->path);
		return 0;
	}
	if (unlink(f->path) == -1 || (unlink(f->seal) == -1 && errno != ENOENT)) {
		fprintf(stderr, "otgate: purge: %s: %s\n", f->path, strerror(errno));
		run->failed++;
		return 0;
	}
	if (run->ix != NULL)
		index_delete_session(run->ix, f->id);
	fields[0] = AUDIT_STR("session", f->id);
	fields[1] = AUDIT_STR("file", f->path);
	fields[2] = AUDIT_NUM("bytes", st.st_size);
	if (audit_event(run->audit, "recording.purged", fields, 3) != 0) {
		/* without its audit record the purge must not go on */
		fprintf(stderr, "otgate: purge: cannot write the audit log\n");
		return OTG_ERR_IO;
	}
	printf("deleted %s\n", f->path);
	return 0;
}

/* recording-retention of otgated.conf (its built-in default when unset). */
static int
cmd_purge_retention(const char *conf_path, uint64_t *retention)
{
	struct conf *conf = NULL;
	struct diag d;
	int r;

	diag_init(&d);
	if ((r = conf_load(conf_path, &d, &conf)) != 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "otgate: purge: cannot read %s\n", conf_path);
	} else {
		*retention = conf->recording_retention;
	}
	diag_free(&d);
	conf_free(conf);
	return r;
}

int
cmd_purge_main(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "retention", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_purge_run run;
	uint64_t retention = 0;	/* 0: recording-retention */
	struct recstate st;
	char path[4200];
	int ch, r;

	memset(&run, 0, sizeof(run));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			run.dry_run = 1;
			break;
		case 'r':
			if (value_duration(optarg, &retention) != 0 || retention == 0) {
				fprintf(stderr, "otgate: purge: bad duration '%s'\n", optarg);
				return CMD_USAGE;
			}
			break;
		default:
			fputs(PURGE_USAGE, stderr);
			return CMD_USAGE;
		}
	}
	if (optind != argc) {
		fputs(PURGE_USAGE, stderr);
		return CMD_USAGE;
	}
	/* purge runs where the broker runs: it needs the real audit log */
	if (recstate_resolve(conf_path, NULL, &st) != 0)
		return CMD_USAGE;
	if (retention == 0 && cmd_purge_retention(conf_path, &retention) != 0)
		return CMD_USAGE;
	if (retention == 0) {
		fprintf(stderr, "otgate: purge: recording-retention is 0 in %s\n", conf_path);
		return CMD_USAGE;
	}
	run.cutoff = time(NULL) - (time_t)retention;
	if (!run.dry_run) {
		if (st.audit_log[0] == '\0' || (r = audit_open(st.audit_log, &run.audit)) != 0) {
			fprintf(stderr, "otgate: purge: cannot open the audit log %s\n",
			    st.audit_log);
			return CMD_NO;
		}
		snprintf(path, sizeof(path), "%s/index.sqlite", st.state);
		if (index_open(path, &run.ix) != 0)
			fprintf(stderr, "otgate: purge: no index; run `otgate index rebuild`\n");
	}
	r = recfile_walk(st.state, cmd_purge_cb, &run);
	if (run.audit != NULL)
		audit_close(run.audit);
	index_close(run.ix);
	if (r != 0 || run.failed > 0)
		return CMD_NO;
	printf("%s%lu recordings older than %llu days\n", run.dry_run ? "would delete " :
	    "deleted ", run.n, (unsigned long long)(retention / 86400));
	return CMD_OK;
}
