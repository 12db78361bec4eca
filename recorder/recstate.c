/*
 * recstate.c: the state directory the auditor verbs work on. On the broker
 * host it comes from otgated.conf; on an auditor's machine, with a copy of the
 * state and no broker configuration, `--state DIR` names it directly.
 */
#include <errno.h>
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
