/*
 * cmd_index.c: the session index from the auditor's side. `otgate index
 * rebuild` recreates STATE/index.sqlite from the recordings (on a copy of the
 * state, too, and with an auditor's --key for encrypted ones); cmd_index_sessions is `otgate sessions` without --active: the
 * recorded sessions, filtered by user, asset and time, as text or JSON lines
 * with the fields of DESIGN section 8.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/common.h"
#include "recorder/recorder.h"

#define INDEX_USAGE "usage: otgate index rebuild [--state DIR] [--key FILE]\n"
#define SESSIONS_USAGE \
	"usage: otgate sessions [--state DIR] [--user U] [--asset A] [--since T]\n" \
	"                       [--until T] [--json]\n"

struct cmd_index_rebuild {
	struct rec_index *ix;
	void *key;
	unsigned long nrec, nlines, nbad, nlocked, npruned;
};

/* ID.cast.part beside ID.cast: the final file is the session's. */
static int
cmd_index_rebuild_cb(void *arg, const struct recfile *f)
{
	struct cmd_index_rebuild *rb = arg;
	unsigned long n;
	char path[4096];
	size_t len = strlen(f->path);
	FILE *fp;
	int r;

	if (f->part && len > 5 && len - 5 < sizeof(path)) {
		memcpy(path, f->path, len - 5);
		path[len - 5] = '\0';
		if ((fp = fopen(path, "r")) != NULL) {
			fclose(fp);
			return 0;
		}
	}
	if ((r = reindex_recording(rb->ix, f, rb->key, &n)) != 0) {
		/* encrypted to other auditors, or no --key: not ours to index */
		if (r == OTG_ERR_PERM || (f->encrypted && r == OTG_ERR_NOTFOUND)) {
			rb->nlocked++;
			return 0;
		}
		fprintf(stderr, "otgate: index: %s: %s\n", f->path, otg_strerror(r));
		rb->nbad++;
	}
	rb->nrec++;
	rb->nlines += n;
	return 0;
}

static int
cmd_index_open(const struct recstate *st, struct rec_index **ix)
{
	char path[4200];
	int r;

	snprintf(path, sizeof(path), "%s/index.sqlite", st->state);
	if ((r = index_open(path, ix)) != 0)
		fprintf(stderr, "otgate: %s: %s\n", path, otg_strerror(r));
	return r;
}

int
cmd_index_main(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_index_rebuild rb;
	const char *state_opt = NULL, *keyfile = NULL;
	struct recstate st;
	int ch, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 's')
			state_opt = optarg;
		else if (ch == 'k')
			keyfile = optarg;
		else {
			fputs(INDEX_USAGE, stderr);
			return CMD_USAGE;
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "rebuild") != 0) {
		fputs(INDEX_USAGE, stderr);
		return CMD_USAGE;
	}
	if (recstate_resolve(conf_path, state_opt, &st) != 0)
		return CMD_USAGE;
	memset(&rb, 0, sizeof(rb));
	if (keyfile != NULL && (r = atrest_key_load(keyfile, &rb.key)) != 0) {
		fprintf(stderr, "otgate: index: %s: %s\n", keyfile, otg_strerror(r));
		return CMD_NO;
	}
	if (cmd_index_open(&st, &rb.ix) != 0) {
		atrest_key_free(rb.key);
		return CMD_NO;
	}
	/* each recording replaces its own rows; rows of encrypted recordings this
	 * key cannot open stay (the broker wrote their metadata) */
	if ((r = index_begin(rb.ix)) == 0 &&
	    (r = recfile_walk(st.state, cmd_index_rebuild_cb, &rb)) == 0 &&
	    (r = index_prune(rb.ix, &rb.npruned)) == 0)
		r = index_commit(rb.ix);
	index_close(rb.ix);
	atrest_key_free(rb.key);
	if (r != 0) {
		fprintf(stderr, "otgate: index rebuild: %s\n", otg_strerror(r));
		return CMD_NO;
	}
	printf("indexed %lu recordings, %lu transcript lines", rb.nrec, rb.nlines);
	if (rb.nbad > 0)
		printf(" (%lu damaged, indexed up to the damage)", rb.nbad);
	if (rb.nlocked > 0)
		printf("; %lu encrypted recordings skipped (give --key FILE)", rb.nlocked);
	if (rb.npruned > 0)
		printf("; %lu sessions without a recording dropped", rb.npruned);
	printf("\n");
	return CMD_OK;
}

struct cmd_index_listing {
	int json;
	struct buf line;
};

static int
cmd_index_json_str(struct buf *b, const char *key, const char *value)
{
	int r;

	if ((r = buf_printf(b, "\"%s\":\"", key)) != 0 ||
	    (r = escape_json(b, value, strlen(value))) != 0)
		return r;
	return buf_puts(b, "\",");
}

static int
cmd_index_session_cb(void *arg, const struct index_session *s)
{
	struct cmd_index_listing *ls = arg;
	char start[32], end[32], who[128], asset[128], kind[32], status[16] = "-";
	struct buf *b = &ls->line;
	int r = 0;

	buf_reset(b);
	recstate_time((time_t)s->start, start, sizeof(start));
	if (s->end > 0)
		recstate_time((time_t)s->end, end, sizeof(end));
	if (ls->json) {
		if ((r = buf_putc(b, '{')) != 0 || (r = cmd_index_json_str(b, "id", s->id)) ||
		    (r = cmd_index_json_str(b, "conn", s->conn)) ||
		    (r = cmd_index_json_str(b, "user", s->user)) ||
		    (r = cmd_index_json_str(b, "company", s->company)) ||
		    (r = cmd_index_json_str(b, "asset", s->asset)) ||
		    (r = cmd_index_json_str(b, "src", s->src)) ||
		    (r = cmd_index_json_str(b, "kind", s->kind)) ||
		    (r = cmd_index_json_str(b, "start", start)))
			return r;
		r = s->end > 0 ? cmd_index_json_str(b, "end", end) : buf_puts(b, "\"end\":null,");
		if (r == 0)
			r = s->exit_status >= 0 ? buf_printf(b, "\"exit\":%d,", s->exit_status) :
			    buf_puts(b, "\"exit\":null,");
		if (r == 0)
			r = buf_printf(b, "\"bytes_in\":%llu,\"bytes_out\":%llu,",
			    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
		if (r == 0 && (r = cmd_index_json_str(b, "recording", s->recording)) == 0) {
			b->len--;	/* the last comma */
			r = buf_puts(b, "}\n");
		}
	} else {
		if (s->exit_status >= 0)
			snprintf(status, sizeof(status), "%d", s->exit_status);
		r = buf_printf(b, "%s  %s  %s  %-7s %s@%s  exit %s  in %llu  out %llu\n", s->id,
		    start, s->end > 0 ? end : "active", escape_str(kind, sizeof(kind), s->kind),
		    escape_str(who, sizeof(who), s->user),
		    escape_str(asset, sizeof(asset), s->asset), status,
		    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
	}
	if (r == 0)
		fwrite(buf_ptr(b), 1, buf_len(b), stdout);
	return r;
}

int
cmd_index_sessions(int argc, char **argv, const char *conf_path)
{
	struct cmd_index_listing ls;
	struct recstate_query o;
	struct rec_index *ix;
	int r;

	memset(&ls, 0, sizeof(ls));
	if (recstate_query_args(argc, argv, "sessions", SESSIONS_USAGE,
	    RECSTATE_QUERY_ASSET | RECSTATE_QUERY_UNTIL, &o) != 0)
		return CMD_USAGE;
	if (optind != argc) {
		fputs(SESSIONS_USAGE, stderr);
		return CMD_USAGE;
	}
	ls.json = o.json;
	if ((r = recstate_index_open(conf_path, o.state, "sessions", &ix)) != 0)
		return r == OTG_ERR_INVAL ? CMD_USAGE : CMD_NO;
	buf_init(&ls.line, BUF_DEFAULT_MAX);
	r = index_sessions(ix, &o.q, cmd_index_session_cb, &ls);
	buf_free(&ls.line);
	index_close(ix);
	if (r != 0) {
		fprintf(stderr, "otgate: sessions: %s\n", otg_strerror(r));
		return CMD_NO;
	}
	return CMD_OK;
}
