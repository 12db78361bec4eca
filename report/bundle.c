/*
 * bundle.c: `otgate report incident` writes its evidence bundle here, in an
 * order that makes the signature mean something: the audit chain is checked
 * first, then the timeline, the sessions with their recordings, the
 * policies, the indicators and the drafts are written, and only then is the
 * manifest computed over whatever is on disk and signed.
 *
 *   timeline.jsonl timeline.md  audit-verify.txt  sessions/ID/...
 *   policies/HASH.conf  keys/recording-FP16.pub  keys/allowed_signers
 *   indicators.json  report-24h.md  report-72h.md
 *   MANIFEST.sha256  MANIFEST.sha256.sig
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "report/report.h"

#define BUNDLE_MAX_COPY (64u * 1024 * 1024)

int
bundle_put_file(const struct bundle *b, const char *rel, const struct buf *data)
{
	char path[4096];
	const uint8_t *p = buf_ptr(data);
	size_t n = buf_len(data);
	ssize_t w;
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", b->p->outdir, rel) >= (int)sizeof(path))
		return OTG_ERR_TOOBIG;
	if ((fd = file_create(path, 0640)) == -1)
		return errno == EEXIST ? OTG_ERR_EXISTS : OTG_ERR_IO;
	while (n > 0) {
		if ((w = write(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = OTG_ERR_IO;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) != 0 && r == 0)
		r = OTG_ERR_IO;
	return r;
}

int
bundle_md(struct buf *out, const char *s)
{
	struct buf e;
	const uint8_t *p;
	size_t i;
	int r;

	buf_init(&e, BUF_DEFAULT_MAX);
	if ((r = escape_text(&e, s, strlen(s))) != 0)
		goto out;
	p = buf_ptr(&e);
	/* a vendor-chosen name must not break a table or open a code span */
	for (i = 0; r == 0 && i < buf_len(&e); i++) {
		if (p[i] == '|' || p[i] == '`' || p[i] == '*' || p[i] == '_' ||
		    p[i] == '<' || p[i] == '[')
			r = buf_putc(out, '\\');
		if (r == 0)
			r = buf_putc(out, p[i]);
	}
out:
	buf_free(&e);
	return r;
}

const char *
bundle_ts(const struct scope_event *ev, char *out, size_t outsz)
{
	const char *ts = json_get_str(ev->j, "ts");

	snprintf(out, outsz, "%s", ts != NULL ? ts : "?");
	return out;
}

void
bundle_chain_line(const struct auditlog *log, char *out, size_t outsz)
{
	char why[300];

	if (log->chain_ok && log->first_seq > 1)
		snprintf(out, outsz, "Audit log chain: verified (%llu events, from seq %llu on; "
		    "the earlier events are in a rotated file, not checked here).", log->nlines,
		    log->first_seq);
	else if (log->chain_ok)
		snprintf(out, outsz, "Audit log chain: verified (%llu events).", log->nlines);
	else if (log->bad_line > 0)
		snprintf(out, outsz, "**AUDIT LOG CHAIN BROKEN at line %llu (%s): events from "
		    "that line on may have been altered or removed.**", log->bad_line,
		    escape_str(why, sizeof(why), log->why));
	else
		snprintf(out, outsz, "**AUDIT LOG CHAIN NOT VERIFIED (%s).**",
		    escape_str(why, sizeof(why), log->why));
}

void
bundle_coverage_line(const struct auditlog *log, time_t since, char *out, size_t outsz)
{
	char first[32];

	out[0] = '\0';
	if (log->has_first && log->first_ts <= since)
		return;
	if (!log->has_first) {
		snprintf(out, outsz, "The audit log holds no events: if the broker ran in "
		    "the period, its events are in rotated files, which this report did not "
		    "read.");
		return;
	}
	recstate_time(log->first_ts, first, sizeof(first));
	snprintf(out, outsz, "The audit log begins at %s, after the start of the period: "
	    "if the broker ran before that, its earlier events are in rotated files, which "
	    "this report did not read (give --audit-log to read one).", first);
}

/* Copy a file as it is (a policy, a public key) into the bundle. */
static int
bundle_copy(const struct bundle *b, const char *from, const char *rel)
{
	struct buf data;
	char *text = NULL;
	size_t len = 0;
	int r;

	if ((r = file_read(from, BUNDLE_MAX_COPY, &text, &len)) != 0)
		return r;
	buf_init(&data, BUNDLE_MAX_COPY);
	if ((r = buf_put(&data, text, len)) == 0)
		r = bundle_put_file(b, rel, &data);
	buf_free(&data);
	free(text);
	return r;
}

static int
bundle_mkdir(const struct bundle *b, const char *rel)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", b->p->outdir, rel) >= (int)sizeof(path))
		return OTG_ERR_TOOBIG;
	return file_mkdirs(path, 0750);
}

static int
bundle_hash_ok(const char *h)
{
	size_t i;

	for (i = 0; h[i] != '\0'; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return i == 64;
}

static int
bundle_note_policy(struct bundle *b, const char *hash)
{
	if (!bundle_hash_ok(hash) || strlist_contains(&b->policies, hash))
		return 0;
	return strlist_push(&b->policies, hash);
}

/* The policy in force when the range began (the last one loaded before it)
 * and every one that a session used or a reload loaded within it. */
static int
bundle_policies(struct bundle *b)
{
	const struct auditlog *log = b->p->log;
	const char *before = NULL, *h, *result;
	char from[4096], rel[128];
	size_t i;
	int r;

	for (i = 0; i < log->n; i++) {
		if (strcmp(log->ev[i].event, "policy.reload") != 0)
			continue;
		result = json_get_str(log->ev[i].j, "result");
		h = json_get_str(log->ev[i].j, "policy");
		if (log->ev[i].ts < b->p->scope->since && h != NULL)
			before = h;
		else if (b->keep[i] && h != NULL && result != NULL && strcmp(result, "ok") == 0 &&
		    (r = bundle_note_policy(b, h)) != 0)
			return r;
	}
	if (before != NULL && (r = bundle_note_policy(b, before)) != 0)
		return r;
	for (i = 0; i < log->n; i++) {
		if (b->keep[i] && strcmp(log->ev[i].event, "session.start") == 0 &&
		    (h = json_get_str(log->ev[i].j, "policy")) != NULL &&
		    (r = bundle_note_policy(b, h)) != 0)
			return r;
	}
	if (b->policies.n > 0 && (r = bundle_mkdir(b, "policies")) != 0)
		return r;
	for (i = 0; i < b->policies.n; i++) {
		snprintf(from, sizeof(from), "%s/policies/%s.conf", b->p->state,
		    b->policies.v[i]);
		snprintf(rel, sizeof(rel), "policies/%s.conf", b->policies.v[i]);
		if ((r = bundle_copy(b, from, rel)) == OTG_ERR_NOTFOUND)
			r = strlist_push(&b->policies_missing, b->policies.v[i]);
		if (r != 0)
			return r;
	}
	return 0;
}

/* The public recording keys (so seals verify offline) and an allowed_signers
 * line for `ssh-keygen -Y verify`, naming the key that signs the manifest. */
static int
bundle_keys(const struct bundle *b)
{
	char dir[4096], from[4096 + 256], rel[300];
	uint8_t pub[REC_ED25519_LEN];
	size_t n = sizeof(pub), len;
	struct buf line;
	struct dirent *de;
	DIR *d;
	int r;

	if ((r = bundle_mkdir(b, "keys")) != 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/keys", b->p->state);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			len = strlen(de->d_name);
			if (len < 5 || len > 200 || strcmp(de->d_name + len - 4, ".pub") != 0 ||
			    de->d_name[0] == '.')
				continue;
			snprintf(from, sizeof(from), "%s/%s", dir, de->d_name);
			snprintf(rel, sizeof(rel), "keys/%s", de->d_name);
			if ((r = bundle_copy(b, from, rel)) != 0)
				break;
		}
		closedir(d);
		if (r != 0)
			return r;
	}
	if (EVP_PKEY_get_raw_public_key(b->reckey, pub, &n) != 1 || n != sizeof(pub))
		return OTG_ERR_CRYPTO;
	buf_init(&line, 4096);
	if ((r = buf_puts(&line, "otgate-recording namespaces=\"" SSHSIG_NAMESPACE "\" ")) ==
	    0 && (r = sshsig_pubkey_line(pub, &line)) == 0 &&
	    (r = buf_putc(&line, '\n')) == 0)
		r = bundle_put_file(b, "keys/allowed_signers", &line);
	buf_free(&line);
	return r;
}

static int
bundle_audit_verdict(const struct bundle *b)
{
	struct buf t;
	char line[600];
	int r;

	buf_init(&t, 65536);
	bundle_chain_line(b->p->log, line, sizeof(line));
	if ((r = buf_printf(&t, "%s\n%s: %llu lines read, %lu not events\n", line,
	    b->p->audit_log, b->p->log->nlines, b->p->log->nskipped)) != 0)
		goto out;
	bundle_coverage_line(b->p->log, b->p->scope->since, line, sizeof(line));
	if (line[0] != '\0' && (r = buf_printf(&t, "%s\n", line)) != 0)
		goto out;
	r = bundle_put_file(b, "audit-verify.txt", &t);
out:
	buf_free(&t);
	return r;
}

int
bundle_write(const struct bundle_params *p, struct bundle_summary *sum)
{
	struct bundle b;
	size_t i;
	int r;

	memset(&b, 0, sizeof(b));
	memset(sum, 0, sizeof(*sum));
	b.p = p;
	if ((r = reckey_load_private(p->sign_key, &b.reckey)) != 0)
		return r;
	if (p->log->n > 0 && (b.keep = calloc(p->log->n, 1)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	if (p->log->n > 0 && (r = scope_select(p->scope, p->log->ev, p->log->n, b.keep)) != 0)
		goto out;
	for (i = 0; i < p->log->n; i++)
		b.nkept += b.keep[i];
	if ((r = bundle_audit_verdict(&b)) != 0 || (r = timeline_write(&b)) != 0 ||
	    (r = evsession_collect(&b)) != 0)
		goto out;
	if ((r = evsession_write_all(&b)) != 0)
		goto out;
	if ((r = bundle_policies(&b)) != 0 || (r = bundle_keys(&b)) != 0 ||
	    (r = draft_indicators(&b)) != 0 || (r = draft_reports(&b)) != 0)
		goto out;
	r = manifest_write(p->outdir, b.reckey);
	sum->events = b.nkept;
	sum->sessions = b.nsess;
	for (i = 0; i < b.nsess; i++) {
		if (b.sess[i].status == VERIFY_OK)
			sum->verified++;
		else if (b.sess[i].status != VERIFY_INTERRUPTED &&
		    b.sess[i].status != VERIFY_UNSEALED_TAIL)
			sum->problems++;
	}
	sum->policies = b.policies.n;
out:
	for (i = 0; i < b.nsess; i++)
		evsession_free(&b.sess[i]);
	free(b.sess);
	free(b.keep);
	strlist_free(&b.policies);
	strlist_free(&b.policies_missing);
	reckey_free(b.reckey);
	return r;
}
