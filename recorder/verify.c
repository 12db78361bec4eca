/*
 * verify.c: does a recording hold exactly the bytes the broker sealed? Needs
 * only public keys. The seal file's certificate must be signed by a known
 * recording key and name this session; every seal must be signed by the
 * certified session key, follow its predecessor, and match the hash chain over
 * the recording's bytes. Bytes after the last seal are an unsealed tail (a
 * crash), a missing final seal means the session was interrupted; anything
 * else that does not add up is tampering, reported at the first byte of the
 * segment that fails.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/common.h"
#include "recorder/recorder.h"

struct verify_state {
	FILE *rec;
	struct seal_chain chain;
	const struct verify_checkpoints *cps;
	uint8_t chunk[65536];
};

static int
verify_set(struct verify_result *res, enum verify_status st, uint64_t off,
    const char *fmt, ...) OTG_PRINTF(4, 5);

static int
verify_set(struct verify_result *res, enum verify_status st, uint64_t off,
    const char *fmt, ...)
{
	va_list ap;

	res->status = st;
	res->offset = off;
	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
	return 0;
}

static int verify_checkpoint_matches(struct verify_state *vs, const struct recfile *f,
    const struct seal_record *s, uint64_t prev_offset, struct verify_result *res);

/* Hash the recording up to offset; 0, or OTG_ERR_TRUNCATED when it is shorter. */
static int
verify_hash_to(struct verify_state *vs, uint64_t offset)
{
	uint64_t want;
	size_t n;
	int r;

	while (vs->chain.offset < offset) {
		want = offset - vs->chain.offset;
		if (want > sizeof(vs->chunk))
			want = sizeof(vs->chunk);
		n = fread(vs->chunk, 1, (size_t)want, vs->rec);
		if (n == 0)
			return ferror(vs->rec) ? OTG_ERR_IO : OTG_ERR_TRUNCATED;
		if ((r = seal_chain_update(&vs->chain, vs->chunk, n)) != 0)
			return r;
	}
	return 0;
}

static int
verify_cert(const struct recfile *f, const struct reckey_set *keys,
    const struct seal_cert *cert, struct verify_result *res)
{
	uint8_t msg[SEAL_CERT_MSG_LEN];
	const uint8_t *pub;

	if (strcmp(cert->session, f->id) != 0)
		return verify_set(res, VERIFY_BADSIG, 0, "certificate is for session %s",
		    cert->session);
	if ((pub = reckey_set_find(keys, cert->key_fp)) == NULL)
		return verify_set(res, VERIFY_BADSIG, 0,
		    "certificate signed by a recording key not in keys/");
	seal_cert_message(msg, cert->session, cert->session_pub, cert->time_ms);
	if (reckey_verify_raw(pub, msg, sizeof(msg), cert->sig) != 0)
		return verify_set(res, VERIFY_BADSIG, 0, "bad certificate signature");
	return 1;
}

/* Check one seal; 1 when it holds, 0 with res set when not. */
static int
verify_seal(struct verify_state *vs, const struct recfile *f, const struct seal_cert *cert,
    const struct seal_record *s, uint64_t prev_offset, struct verify_result *res)
{
	uint8_t msg[SEAL_MSG_LEN];
	int r;

	if (s->seq != vs->chain.seq + 1 || s->offset < prev_offset)
		return verify_set(res, VERIFY_TAMPERED, prev_offset,
		    "seal %llu out of order", (unsigned long long)s->seq);
	seal_message(msg, f->id, s);
	if (reckey_verify_raw(cert->session_pub, msg, sizeof(msg), s->sig) != 0)
		return verify_set(res, VERIFY_BADSIG, prev_offset,
		    "bad signature on seal %llu", (unsigned long long)s->seq);
	if ((r = verify_hash_to(vs, s->offset)) != 0)
		return verify_set(res, VERIFY_TAMPERED, vs->chain.offset,
		    r == OTG_ERR_TRUNCATED ? "recording ends before sealed offset %llu" :
		    "cannot read the recording up to %llu", (unsigned long long)s->offset);
	if ((r = seal_chain_next(&vs->chain)) != 0)
		return verify_set(res, VERIFY_TAMPERED, prev_offset, "%s", otg_strerror(r));
	if (CRYPTO_memcmp(vs->chain.h, s->h, REC_HASH_LEN) != 0)
		return verify_set(res, VERIFY_TAMPERED, prev_offset,
		    "bytes %llu-%llu do not match seal %llu", (unsigned long long)prev_offset,
		    (unsigned long long)s->offset, (unsigned long long)s->seq);
	return verify_checkpoint_matches(vs, f, s, prev_offset, res);
}

/* An exported checkpoint of this seal must name the same offset and hash. */
static int
verify_checkpoint_matches(struct verify_state *vs, const struct recfile *f,
    const struct seal_record *s, uint64_t prev_offset, struct verify_result *res)
{
	const struct verify_checkpoint *cp;
	size_t i;

	for (i = 0; vs->cps != NULL && i < vs->cps->n; i++) {
		cp = &vs->cps->v[i];
		if (cp->seq != s->seq || strcmp(cp->session, f->id) != 0)
			continue;
		if (cp->offset != s->offset || CRYPTO_memcmp(cp->h, s->h, REC_HASH_LEN) != 0)
			return verify_set(res, VERIFY_TAMPERED, prev_offset,
			    "seal %llu differs from its exported checkpoint",
			    (unsigned long long)s->seq);
	}
	return 1;
}

/* The last exported checkpoint of the session, or NULL. */
static const struct verify_checkpoint *
verify_last_checkpoint(const struct verify_checkpoints *cps, const char *id)
{
	const struct verify_checkpoint *last = NULL;
	size_t i;

	for (i = 0; cps != NULL && i < cps->n; i++) {
		if (strcmp(cps->v[i].session, id) == 0 && (last == NULL ||
		    cps->v[i].seq > last->seq))
			last = &cps->v[i];
	}
	return last;
}

static int
verify_seals(struct verify_state *vs, FILE *sealfp, const struct recfile *f,
    const struct reckey_set *keys, struct verify_result *res)
{
	const struct verify_checkpoint *cp;
	struct seal_cert cert;
	struct seal_record s;
	struct recline lines;
	const char *line;
	uint64_t prev = 0;
	size_t len;
	int complete, is_cert, r, final = 0;

	recline_init(&lines, sealfp);
	r = recline_next(&lines, &line, &len, &complete);
	if (r != 0 || !complete || seal_parse_line(line, len, &is_cert, &cert, &s) != 0 ||
	    !is_cert) {
		verify_set(res, VERIFY_BADSIG, 0, "seal file does not start with a certificate");
		goto out;
	}
	if (verify_cert(f, keys, &cert, res) != 1)
		goto out;
	for (;;) {
		if ((r = recline_next(&lines, &line, &len, &complete)) == 1)
			break;
		/* a seal line cut by a crash is as if it had not been written */
		if (r == 0 && !complete)
			break;
		if (r != 0 || seal_parse_line(line, len, &is_cert, &cert, &s) != 0 || is_cert) {
			verify_set(res, VERIFY_TAMPERED, prev, "seal file line %lu is damaged",
			    lines.n);
			goto out;
		}
		if (final) {
			verify_set(res, VERIFY_TAMPERED, prev, "seal after the final seal");
			goto out;
		}
		if (verify_seal(vs, f, &cert, &s, prev, res) != 1)
			goto out;
		prev = s.offset;
		final = s.final;
		res->nseals++;
	}
	/* history cut back to an earlier seal, after later ones were exported */
	cp = verify_last_checkpoint(vs->cps, f->id);
	if (cp != NULL && cp->seq > vs->chain.seq) {
		verify_set(res, VERIFY_TAMPERED, prev, "checkpoint of seal %llu was exported "
		    "but the seals end at %llu", (unsigned long long)cp->seq,
		    (unsigned long long)vs->chain.seq);
		goto out;
	}
	/* is there more recording than was sealed? */
	if (verify_hash_to(vs, prev + 1) == 0) {
		if (final)
			verify_set(res, VERIFY_TAMPERED, prev, "bytes after the final seal");
		else
			verify_set(res, VERIFY_UNSEALED_TAIL, prev, "unsealed tail");
	} else if (!final) {
		verify_set(res, VERIFY_INTERRUPTED, prev, "no final seal");
	} else {
		verify_set(res, VERIFY_OK, prev, "verified");
	}
out:
	recline_free(&lines);
	return 0;
}

int
verify_recording(const struct recfile *f, const struct reckey_set *keys,
    struct verify_result *res)
{
	return verify_recording_against(f, keys, NULL, res);
}

int
verify_recording_against(const struct recfile *f, const struct reckey_set *keys,
    const struct verify_checkpoints *cps, struct verify_result *res)
{
	struct verify_state *vs;
	FILE *sealfp = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if ((vs = calloc(1, sizeof(*vs))) == NULL)
		return OTG_ERR_NOMEM;
	vs->cps = cps;
	if ((r = seal_chain_init(&vs->chain)) != 0)
		goto out;
	if ((vs->rec = fopen(f->path, "re")) == NULL) {
		verify_set(res, VERIFY_MISSING, 0, "recording: %s", strerror(errno));
		goto out;
	}
	if ((sealfp = fopen(f->seal, "re")) == NULL) {
		verify_set(res, VERIFY_MISSING, 0, "seal file: %s", strerror(errno));
		goto out;
	}
	r = verify_seals(vs, sealfp, f, keys, res);
out:
	if (sealfp != NULL)
		fclose(sealfp);
	if (vs->rec != NULL)
		fclose(vs->rec);
	seal_chain_free(&vs->chain);
	free(vs);
	return r;
}

void
verify_format(const struct recfile *f, const struct verify_result *res, char *out,
    size_t outsz)
{
	unsigned long long b = (unsigned long long)res->offset;

	switch (res->status) {
	case VERIFY_OK:
		snprintf(out, outsz, "%s: verified", f->id);
		break;
	case VERIFY_UNSEALED_TAIL:
		snprintf(out, outsz, "%s: unsealed tail at %llu", f->id, b);
		break;
	case VERIFY_INTERRUPTED:
		snprintf(out, outsz, "%s: interrupted", f->id);
		break;
	case VERIFY_TAMPERED:
		snprintf(out, outsz, "%s: tampered at %llu (%s)", f->id, b, res->why);
		break;
	case VERIFY_MISSING:
		snprintf(out, outsz, "%s: missing (%s)", f->id, res->why);
		break;
	case VERIFY_BADSIG:
		snprintf(out, outsz, "%s: badly signed (%s)", f->id, res->why);
		break;
	}
}

/* One exported line: JSON from its first '{' (syslog puts a prefix before). */
static int
verify_checkpoint_parse(const char *line, struct verify_checkpoint *cp)
{
	const char *brace = strchr(line, '{');
	const struct json *v;
	struct json *j = NULL;
	const char *event, *session, *h;
	unsigned x;
	size_t i;
	int r = 1;

	if (brace == NULL || json_parse(brace, strlen(brace), &j) != 0)
		return strstr(line, "session.checkpoint") != NULL ? OTG_ERR_PROTO : 1;
	if ((event = json_get_str(j, "event")) == NULL ||
	    strcmp(event, "session.checkpoint") != 0)
		goto out;
	r = OTG_ERR_PROTO;
	session = json_get_str(j, "session");
	h = json_get_str(j, "h");
	if (session == NULL || strlen(session) != REC_ID_LEN || h == NULL ||
	    strlen(h) != 2 * REC_HASH_LEN)
		goto out;
	memcpy(cp->session, session, REC_ID_LEN + 1);
	/* "seal", not "seq": the audit line's own "seq" numbers the event */
	if ((v = json_get(j, "seal")) == NULL || v->type != JSON_NUMBER || v->number < 1)
		goto out;
	cp->seq = (uint64_t)v->number;
	if ((v = json_get(j, "offset")) == NULL || v->type != JSON_NUMBER || v->number < 0)
		goto out;
	cp->offset = (uint64_t)v->number;
	for (i = 0; i < REC_HASH_LEN; i++) {
		if (sscanf(h + 2 * i, "%2x", &x) != 1)
			goto out;
		cp->h[i] = (uint8_t)x;
	}
	r = 0;
out:
	json_free(j);
	return r;
}

int
verify_checkpoints_load(const char *path, struct verify_checkpoints *out,
    unsigned long *nbad)
{
	struct verify_checkpoint cp, *v;
	struct recline lines;
	const char *line;
	size_t len;
	FILE *fp;
	int complete, r;

	memset(out, 0, sizeof(*out));
	*nbad = 0;
	if ((fp = fopen(path, "re")) == NULL)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	recline_init(&lines, fp);
	while ((r = recline_next(&lines, &line, &len, &complete)) == 0) {
		memset(&cp, 0, sizeof(cp));
		if ((r = verify_checkpoint_parse(line, &cp)) > 0)
			continue;
		if (r < 0) {
			(*nbad)++;
			continue;
		}
		if ((v = reallocarray(out->v, out->n + 1, sizeof(*v))) == NULL) {
			r = OTG_ERR_NOMEM;
			break;
		}
		out->v = v;
		out->v[out->n++] = cp;
	}
	recline_free(&lines);
	fclose(fp);
	if (r < 0) {
		verify_checkpoints_free(out);
		return r;
	}
	return 0;
}

void
verify_checkpoints_free(struct verify_checkpoints *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}
