/* test_recformat.c: the recorder's parsers and filters on hostile input (JSON
 * with lone surrogates, deep nesting, a 100 MB line, strict base64), the
 * replay neutraliser, the transcript renderer, and the index with its helper
 * thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/common.h"
#include "recorder/recorder.h"

static void
test_json_strings(void **state)
{
	struct json *j;
	const char *s;

	(void)state;
	s = "{\"a\": \"x\\u00e9\\ud83d\\ude00\\n\", \"lone\": \"\\ud800z\\udc00\", \"n\": -1.5e2}";
	assert_int_equal(json_parse(s, strlen(s), &j), 0);
	assert_string_equal(json_get_str(j, "a"), "x\xc3\xa9\xf0\x9f\x98\x80\n");
	/* a lone surrogate is U+FFFD, never a CESU-8 byte sequence */
	assert_string_equal(json_get_str(j, "lone"), "\xef\xbf\xbdz\xef\xbf\xbd");
	assert_true(json_get(j, "n")->number == -150.0);
	assert_null(json_get_str(j, "n"));
	json_free(j);
	/* a NUL inside a string is kept with its length */
	assert_int_equal(json_parse("\"a\\u0000b\"", 10, &j), 0);
	assert_int_equal(j->len, 3);
	json_free(j);
}

static void
test_json_rejects(void **state)
{
	static const char *bad[] = { "", "{", "[1,", "\"abc", "{\"a\" 1}", "[1] x", "tru",
	    "\"\\q\"", "\"a\x01\"", "1e999", "[01234567890123456789012345678901234567890"
	    "12345678901234567890123456789]", "{\"a\":}", "\"\\u12\"" };
	char deep[200];
	struct json *j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = (struct json *)1;
		if (json_parse(bad[i], strlen(bad[i]), &j) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_null(j);
	}
	memset(deep, '[', sizeof(deep));
	assert_int_equal(json_parse(deep, sizeof(deep), &j), OTG_ERR_TOOBIG);
}

static void
test_base64_strict(void **state)
{
	static const char *bad[] = { "A", "AB=C", "A===", "AB\n=", "AB=A", "AR==", "ABC+/=AA" };
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(base64_encode(&b, "\xff\xfe\x00", 3), 0);
	assert_int_equal(base64_encode(&b, "ab", 2), 0);
	assert_int_equal(buf_len(&b), 8);
	assert_memory_equal(buf_ptr(&b), "//4AYWI=", 8);
	buf_reset(&b);
	assert_int_equal(base64_decode("//4AYWI=", 8, &b), 0);
	assert_int_equal(buf_len(&b), 5);
	assert_memory_equal(buf_ptr(&b), "\xff\xfe\x00" "ab", 5);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		if (base64_decode(bad[i], strlen(bad[i]), &b) == 0)
			fail_msg("accepted: %s", bad[i]);
	}
	buf_free(&b);
}

/* A file of one endless line, produced as it is read: no disk, no 100 MB buffer. */
static ssize_t
endless_read(void *cookie, char *buf, size_t size)
{
	size_t *left = cookie, n = size < *left ? size : *left;

	memset(buf, 'a', n);
	*left -= n;
	return (ssize_t)n;
}

static void
test_cast_reader_hostile(void **state)
{
	static const char header[] = "{\"version\": 2, \"width\": 80, \"height\": 24}\n";
	cookie_io_functions_t io = { endless_read, NULL, NULL, NULL };
	size_t left = 100u * 1024 * 1024;
	struct cast_reader *r;
	struct cast_event ev;
	char text[512];
	FILE *fp;

	(void)state;
	/* a 100 MB header line: refused after REC_MAX_LINE bytes */
	assert_non_null(fp = fopencookie(&left, "r", io));
	assert_int_equal(cast_reader_open(fp, &r), OTG_ERR_TOOBIG);
	assert_true(left > 90u * 1024 * 1024);
	fclose(fp);
	/* events: a bad one, then a cut one */
	snprintf(text, sizeof(text), "%s[1.5, \"o\", \"ok\"]\n[1, \"o\"]\n[2, \"o\", \"cut",
	    header);
	assert_non_null(fp = fmemopen(text, strlen(text), "r"));
	assert_int_equal(cast_reader_open(fp, &r), 0);
	assert_int_equal(cast_reader_next(r, &ev), 0);
	assert_int_equal(ev.len, 2);
	assert_int_equal(cast_reader_next(r, &ev), OTG_ERR_PROTO);
	assert_int_equal(cast_reader_line(r), 3);
	assert_int_equal(cast_reader_next(r, &ev), OTG_ERR_TRUNCATED);
	cast_reader_free(r);
	fclose(fp);
	/* not asciicast v2 */
	snprintf(text, sizeof(text), "{\"version\": 1, \"width\": 80, \"height\": 24}\n");
	assert_non_null(fp = fmemopen(text, strlen(text), "r"));
	assert_int_equal(cast_reader_open(fp, &r), OTG_ERR_PROTO);
	fclose(fp);
	snprintf(text, sizeof(text), "{\"version\": 2, \"width\": 1e9, \"height\": 24}\n");
	assert_non_null(fp = fmemopen(text, strlen(text), "r"));
	assert_int_equal(cast_reader_open(fp, &r), OTG_ERR_PROTO);
	fclose(fp);
}

static void
test_stream_reader_hostile(void **state)
{
	uint8_t text[64] = "OTGSTRM1\0\0\0\x02{}";
	struct stream_reader *r;
	struct stream_frame f;
	FILE *fp;

	(void)state;
	/* a frame that claims 4 GiB */
	memcpy(text + 14, "\0\0\0\0\0\0\0\0o\xff\xff\xff\xff", 13);
	assert_non_null(fp = fmemopen(text, 27, "r"));
	assert_int_equal(stream_reader_open(fp, &r), 0);
	assert_int_equal(stream_reader_next(r, &f), OTG_ERR_TOOBIG);
	stream_reader_free(r);
	fclose(fp);
	/* a cut frame */
	memcpy(text + 14, "\0\0\0\0\0\0\0\0o\0\0\0\x09" "abc", 16);
	assert_non_null(fp = fmemopen(text, 30, "r"));
	assert_int_equal(stream_reader_open(fp, &r), 0);
	assert_int_equal(stream_reader_next(r, &f), OTG_ERR_TRUNCATED);
	stream_reader_free(r);
	fclose(fp);
	/* a header length past the limit */
	memcpy(text + 8, "\x7f\0\0\0", 4);
	assert_non_null(fp = fmemopen(text, 30, "r"));
	assert_int_equal(stream_reader_open(fp, &r), OTG_ERR_PROTO);
	fclose(fp);
}

static char *
neutralised(struct neutralise *nz, const char *in)
{
	static char out[1024];
	struct buf b;

	buf_init(&b, sizeof(out) - 1);
	assert_int_equal(neutralise_feed(nz, &b, in, strlen(in)), 0);
	memcpy(out, buf_len(&b) ? (const char *)buf_ptr(&b) : "", buf_len(&b));
	out[buf_len(&b)] = '\0';
	buf_free(&b);
	return out;
}

static void
test_neutralise(void **state)
{
	struct neutralise nz;

	(void)state;
	neutralise_init(&nz);
	/* what draws the screen passes */
	assert_string_equal(neutralised(&nz, "\x1b[1;31mred\x1b[0m \x1b[2J\x1b[H\x1b[?1049h"
	    "caf\xc3\xa9\r\n\t\x1b[?25l\x1b[5 q\x1b" "7\x1b" "8"),
	    "\x1b[1;31mred\x1b[0m \x1b[2J\x1b[H\x1b[?1049hcaf\xc3\xa9\r\n\t\x1b[?25l\x1b[5 q"
	    "\x1b" "7\x1b" "8");
	/* clipboard, title, colour query, DCS, APC: gone, with their payloads */
	assert_string_equal(neutralised(&nz, "a\x1b]52;c;cm0gLXJmIH4=\x07" "b\x1b]0;title\x1b\\"
	    "c\x1b]11;?\x07" "d\x1bP$q\"p\x1b\\e\x1b_apc\x1b\\f"), "abcdef");
	/* report queries and window operations */
	assert_string_equal(neutralised(&nz, "1\x1b[6n" "2\x1b[c" "3\x1b[>c" "4\x1b[21t"
	    "5\x1b[8;100;200t" "6\x1b[>0q" "7\x1b[?1$p" "8\x1b[?1000h" "9\x1b[?1006;1000h" "0"
	    "\x1bZ"), "1234567890");
	/* C1 controls (8-bit CSI and OSC) and invalid bytes */
	assert_string_equal(neutralised(&nz, "x\xc2\x9b" "6n\xc2\x9d" "y\xff"),
	    "x6ny\xef\xbf\xbd");
	/* a sequence split across two events is still caught */
	assert_string_equal(neutralised(&nz, "ok\x1b]5"), "ok");
	assert_string_equal(neutralised(&nz, "2;c;AAAA\x07" "done"), "done");
	assert_string_equal(neutralised(&nz, "\x1b["), "");
	assert_string_equal(neutralised(&nz, "6n!"), "!");
	/* an over-long CSI sequence is dropped whole */
	assert_string_equal(neutralised(&nz, "\x1b[111111111111111111111111111111111111111111111"
	    "11111111111111111111111111111111111111111111m<"), "<");
}

struct lines {
	char text[8][128];
	double t[8];
	int n;
};

static void
line_cb(void *arg, double t, const char *line, size_t len)
{
	struct lines *l = arg;

	assert_true(l->n < 8);
	snprintf(l->text[l->n], sizeof(l->text[0]), "%.*s", (int)len, line);
	l->t[l->n++] = t;
}

static void
feed(struct transcript *tr, double t, const char *s)
{
	transcript_feed(tr, t, s, strlen(s));
}

static void
test_transcript(void **state)
{
	struct transcript tr;
	struct lines l;
	char longline[3000];

	(void)state;
	memset(&l, 0, sizeof(l));
	transcript_init(&tr, line_cb, &l);
	/* a shell erases a typo with "\b \b" */
	feed(&tr, 1.0, "\x1b[32m$ \x1b[0mls -x\b \bla\r\n");
	feed(&tr, 2.0, "\x1b]0;title\x07progress 10%\rprogress 100%\n");
	feed(&tr, 3.0, "\r\n\r\n   \n");
	feed(&tr, 4.0, "no newline");
	transcript_flush(&tr);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.text[0], "$ ls -la");
	assert_true(l.t[0] == 1.0);
	assert_string_equal(l.text[1], "progress 100%");
	assert_string_equal(l.text[2], "no newline");
	memset(&l, 0, sizeof(l));
	memset(longline, 'x', sizeof(longline));
	transcript_feed(&tr, 5.0, longline, sizeof(longline));
	transcript_flush(&tr);
	assert_int_equal(l.n, 3);	/* cut at TRANSCRIPT_MAX_LINE */
}

struct hits {
	int n;
	char session[REC_ID_LEN + 1];
	char line[256];
};

static int
match_cb(void *arg, const char *session, const char *user, int64_t start, double t,
    const char *line)
{
	struct hits *h = arg;

	(void)user;
	(void)start;
	(void)t;
	h->n++;
	snprintf(h->session, sizeof(h->session), "%s", session);
	snprintf(h->line, sizeof(h->line), "%s", line);
	return 0;
}

static int
session_cb(void *arg, const struct index_session *s)
{
	int *n = arg;

	assert_int_equal(strlen(s->id), REC_ID_LEN);
	(*n)++;
	return 0;
}

static int
search(struct rec_index *ix, const char *text, const char *user, struct hits *h)
{
	struct index_query q;

	memset(&q, 0, sizeof(q));
	memset(h, 0, sizeof(*h));
	q.text = text;
	q.user = user;
	assert_int_equal(index_search(ix, &q, match_cb, h), 0);
	return h->n;
}

static void
test_index_and_indexer(void **state)
{
	char dir[] = "/tmp/test_recformat.XXXXXX", path[256], cmd[300];
	struct index_session s;
	struct index_query q;
	struct rec_index *ix;
	struct indexer *x;
	struct hits h;
	int n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/index.sqlite", dir);
	assert_int_equal(indexer_start(path, &x), 0);
	memset(&s, 0, sizeof(s));
	memcpy(s.id, "aaaaaaaabbbbbbbbccccccccdddddddd", REC_ID_LEN + 1);
	s.user = "alice";
	s.asset = "plc-line3";
	s.kind = "shell";
	s.start = 1700000000;
	s.exit_status = -1;
	s.recording = "/x.cast";
	assert_int_equal(indexer_session(x, &s), 0);
	assert_int_equal(indexer_line(x, s.id, 1.5, "maint@plc:~$ rm -rf /tmp/fw", 27), 0);
	assert_int_equal(indexer_line(x, s.id, 2.5, "Removed 3 FILES \"quoted\"", 24), 0);
	s.end = 1700000100;
	s.exit_status = 0;
	assert_int_equal(indexer_session(x, &s), 0);
	indexer_stop(x);	/* commits what was queued */
	assert_int_equal(index_open(path, &ix), 0);
	assert_int_equal(search(ix, "rm -rf", NULL, &h), 1);
	assert_string_equal(h.session, s.id);
	assert_string_equal(h.line, "maint@plc:~$ rm -rf /tmp/fw");
	assert_int_equal(search(ix, "removed 3 files", NULL, &h), 1);
	assert_int_equal(search(ix, "\"quoted\"", NULL, &h), 1);
	assert_int_equal(search(ix, "~$", NULL, &h), 1);	/* no word: a plain scan */
	assert_int_equal(search(ix, "rm -rf", "bob", &h), 0);
	assert_int_equal(search(ix, "rm -rfx", NULL, &h), 0);
	memset(&q, 0, sizeof(q));
	n = 0;
	q.asset = "plc-line3";
	assert_int_equal(index_sessions(ix, &q, session_cb, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	q.since = 1700000200;
	assert_int_equal(index_sessions(ix, &q, session_cb, &n), 0);
	assert_int_equal(n, 0);
	index_close(ix);
	/* an auditor who may only read the file can still search it */
	assert_int_equal(index_open_readonly(path, &ix), 0);
	assert_int_equal(search(ix, "rm -rf", NULL, &h), 1);
	assert_int_equal(index_put_session(ix, &s), OTG_ERR_PERM);
	index_close(ix);
	snprintf(cmd, sizeof(cmd), "%s/none.sqlite", dir);
	assert_int_equal(index_open_readonly(cmd, &ix), OTG_ERR_NOTFOUND);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_json_rejects),
		cmocka_unit_test(test_base64_strict),
		cmocka_unit_test(test_cast_reader_hostile),
		cmocka_unit_test(test_stream_reader_hostile),
		cmocka_unit_test(test_neutralise),
		cmocka_unit_test(test_transcript),
		cmocka_unit_test(test_index_and_indexer),
	};

	log_init("test_recformat", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
