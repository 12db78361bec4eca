/*
 * cmd_search.c: `otgate search TEXT`, which sessions typed or printed it. Lists
 * the session ID, the time offset into the session, and the matching line as
 * the terminal showed it (escaped: recorded text is untrusted), and on stderr
 * how many sessions in scope the live index holds only in part.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/common.h"
#include "recorder/recorder.h"

#define SEARCH_USAGE \
	"usage: otgate search [--state DIR] TEXT [--user U] [--since T] [--json]\n"

struct cmd_search_out {
	int json;
	unsigned long n;
	struct buf line;
};

static int
cmd_search_match_cb(void *arg, const char *session, const char *user, int64_t start,
    double t, const char *line)
{
	struct cmd_search_out *so = arg;
	struct buf *b = &so->line;
	unsigned long secs = t > 0 ? (unsigned long)t : 0;
	char when[32];
	int r;

	buf_reset(b);
	recstate_time((time_t)start, when, sizeof(when));
	if (so->json) {
		if ((r = buf_printf(b, "{\"session\":\"%s\",\"user\":\"", session)) != 0 ||
		    (r = escape_json(b, user, strlen(user))) != 0 ||
		    (r = buf_printf(b, "\",\"start\":\"%s\",\"offset\":%.3f,\"line\":\"", when,
		    t)) != 0 || (r = escape_json(b, line, strlen(line))) != 0 ||
		    (r = buf_puts(b, "\"}\n")) != 0)
			return r;
	} else {
		if ((r = buf_printf(b, "%s  %lu:%02lu:%02lu  ", session, secs / 3600,
		    secs / 60 % 60, secs % 60)) != 0 ||
		    (r = escape_text(b, line, strlen(line))) != 0 || (r = buf_putc(b, '\n')) != 0)
			return r;
	}
	fwrite(buf_ptr(b), 1, buf_len(b), stdout);
	so->n++;
	return 0;
}

/* Bulk output outran the live index of some sessions: say so, on stderr. */
static void
cmd_search_partial(struct rec_index *ix, const struct index_query *q)
{
	unsigned long n;

	if (index_partial_count(ix, q, &n) == 0 && n > 0)
		fprintf(stderr, "otgate: search: %lu session%s indexed only in part (bulk "
		    "output outran the live index); `otgate index rebuild` completes %s\n",
		    n, n == 1 ? " is" : "s are", n == 1 ? "it" : "them");
}

int
cmd_search_main(int argc, char **argv, const char *conf_path)
{
	struct cmd_search_out so;
	struct recstate_query o;
	struct rec_index *ix;
	int r;

	memset(&so, 0, sizeof(so));
	if (recstate_query_args(argc, argv, "search", SEARCH_USAGE, 0, &o) != 0)
		return CMD_USAGE;
	if (optind + 1 != argc || argv[optind][0] == '\0') {
		fputs(SEARCH_USAGE, stderr);
		return CMD_USAGE;
	}
	o.q.text = argv[optind];
	so.json = o.json;
	if ((r = recstate_index_open(conf_path, o.state, "search", &ix)) != 0)
		return r == OTG_ERR_INVAL ? CMD_USAGE : CMD_NO;
	buf_init(&so.line, BUF_DEFAULT_MAX);
	r = index_search(ix, &o.q, cmd_search_match_cb, &so);
	buf_free(&so.line);
	cmd_search_partial(ix, &o.q);
	index_close(ix);
	if (r != 0) {
		fprintf(stderr, "otgate: search: %s\n", otg_strerror(r));
		return CMD_NO;
	}
	return so.n > 0 ? CMD_OK : CMD_NO;
}
