/*
 * recstate.c: the state directory the auditor verbs work on. On the broker
 * host it comes from otgated.conf; on an auditor's machine, with a copy of the
 * state and no broker configuration, `--state DIR` names it directly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

int
recstate_resolve(const char *conf_path, const char *state_opt, struct recstate *out)
{
	struct conf *conf = NULL;
	struct diag d;
	int r;

	memset(out, 0, sizeof(*out));
	if (state_opt != NULL) {
		if (snprintf(out->state, sizeof(out->state), "%s", state_opt) >=
		    (int)sizeof(out->state))
			return OTG_ERR_TOOBIG;
		return 0;
	}
	diag_init(&d);
	if ((r = conf_load(conf_path, &d, &conf)) != 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "otgate: cannot read %s (give --state DIR to work on a copy of "
		    "the state directory)\n", conf_path);
		diag_free(&d);
		return OTG_ERR_INVAL;
	}
	diag_free(&d);
	if (snprintf(out->state, sizeof(out->state), "%s", conf->state) >=
	    (int)sizeof(out->state) ||
	    snprintf(out->audit_log, sizeof(out->audit_log), "%s",
	    conf->audit_log != NULL ? conf->audit_log : "") >= (int)sizeof(out->audit_log))
		r = OTG_ERR_TOOBIG;
	conf_free(conf);
	return r;
}

void
recstate_time(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
recstate_timearg(const char *s, time_t *out)
{
	struct tz *tz = NULL;
	int r;

	if ((r = tz_load(NULL, &tz)) != 0)
		return r;
	r = timearg_parse(s, tz, time(NULL), out);
	tz_free(tz);
	return r;
}

int
recstate_open(const struct recfile *f, const char *keyfile, const char *verb, FILE **out)
{
	void *key = NULL;
	int r;

	if (keyfile != NULL && (r = atrest_key_load(keyfile, &key)) != 0) {
		fprintf(stderr, "otgate: %s: %s: %s\n", verb, keyfile, r == OTG_ERR_CRYPTO ?
		    "not an X25519 private key" : otg_strerror(r));
		return r;
	}
	r = recfile_open(f, key, out);
	atrest_key_free(key);
	if (r == OTG_ERR_PERM)
		fprintf(stderr, "otgate: %s: %s is encrypted: give --key FILE\n", verb, f->id);
	else if (r == OTG_ERR_NOTFOUND && f->encrypted)
		fprintf(stderr, "otgate: %s: %s is not encrypted to this key\n", verb, f->id);
	else if (r == OTG_ERR_BADSIG)
		fprintf(stderr, "otgate: %s: %s: the key does not open it, or its header "
		    "was altered\n", verb, f->id);
	else if (r != 0)
		fprintf(stderr, "otgate: %s: %s: %s\n", verb, f->path, r == OTG_ERR_IO ?
		    strerror(errno) : otg_strerror(r));
	return r;
}

/* --since or --until into q; -1 after telling what was wrong. */
static int
recstate_query_time(const char *verb, const char *arg, int64_t *out)
{
	time_t t;

	if (recstate_timearg(arg, &t) != 0) {
		fprintf(stderr, "otgate: %s: bad time '%s'\n", verb, arg);
		return -1;
	}
	*out = (int64_t)t;
	return 0;
}

int
recstate_query_args(int argc, char **argv, const char *verb, const char *usage,
    unsigned allow, struct recstate_query *out)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "asset", required_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(out, 0, sizeof(*out));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if ((ch == 'a' && !(allow & RECSTATE_QUERY_ASSET)) ||
		    (ch == 'U' && !(allow & RECSTATE_QUERY_UNTIL)))
			ch = '?';
		switch (ch) {
		case 's': out->state = optarg; break;
		case 'u': out->q.user = optarg; break;
		case 'a': out->q.asset = optarg; break;
		case 'j': out->json = 1; break;
		case 'S':
			if (recstate_query_time(verb, optarg, &out->q.since) != 0)
				return -1;
			break;
		case 'U':
			if (recstate_query_time(verb, optarg, &out->q.until) != 0)
				return -1;
			break;
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	return 0;
}

int
recstate_index_open(const char *conf_path, const char *state_opt, const char *verb,
    struct rec_index **out)
{
	struct recstate st;
	char path[4200];
	int r;

	if (recstate_resolve(conf_path, state_opt, &st) != 0)
		return OTG_ERR_INVAL;
	snprintf(path, sizeof(path), "%s/index.sqlite", st.state);
	if ((r = index_open_readonly(path, out)) != 0)
		fprintf(stderr, "otgate: %s: %s: %s\n", verb, path, r == OTG_ERR_NOTFOUND ?
		    "no index yet (otgate index rebuild makes one)" : otg_strerror(r));
	return r;
}
