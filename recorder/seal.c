/*
 * seal.c: tamper evidence for recordings. The bytes of a recording file, as
 * written, feed a hash chain; every few seconds (or 64 KiB) the chain head is
 * sealed: {seq, offset, time, h} signed by the session's own Ed25519 key, whose
 * certificate (signed by the long-term recording key) opens the sidecar file.
 * What gets signed is a fixed binary layout with a domain label, never the
 * JSON text, so a reader's parser cannot change what a signature means.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "common/common.h"
#include "recorder/recorder.h"

static const char seal_cert_label[24] = "otgate-session-cert-v1";
static const char seal_label[16] = "otgate-seal-v1";

int
seal_chain_init(struct seal_chain *c)
{
	memset(c, 0, sizeof(*c));
	if ((c->sha = EVP_MD_CTX_new()) == NULL)
		return OTG_ERR_NOMEM;
	if (EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c->sha, c->h, sizeof(c->h)) != 1) {
		seal_chain_free(c);
		return OTG_ERR_CRYPTO;
	}
	return 0;
}

int
seal_chain_update(struct seal_chain *c, const void *data, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(c->sha, data, len) != 1)
		return OTG_ERR_CRYPTO;
	c->offset += len;
	return 0;
}

int
seal_chain_next(struct seal_chain *c)
{
	unsigned int n;

	if (EVP_DigestFinal_ex(c->sha, c->h, &n) != 1 ||
	    EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c->sha, c->h, sizeof(c->h)) != 1)
		return OTG_ERR_CRYPTO;
	c->seq++;
	c->sealed = c->offset;
	return 0;
}

void
seal_chain_free(struct seal_chain *c)
{
	EVP_MD_CTX_free(c->sha);
	c->sha = NULL;
}

/* The session's signing key, as libsodium holds it (seed || public half).
 * Seals are signed by libsodium's Ed25519 rather than OpenSSL 3.0's, which
 * re-derives its digest contexts on every call: 29 against 65 microseconds a
 * signature here, and a GiB of recording is 16,384 of them (bench/NOTES.md).
 * Signatures are RFC 8032's either way; verification stays with OpenSSL. */
struct seal_signer {
	uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];
};

int
seal_signer_init(void **signer, void *pkey)
{
	uint8_t seed[crypto_sign_ed25519_SEEDBYTES], pub[REC_ED25519_LEN];
	uint8_t derived[crypto_sign_ed25519_PUBLICKEYBYTES];
	struct seal_signer *s;
	size_t n = sizeof(seed), np = sizeof(pub);
	int r = OTG_ERR_CRYPTO;

	*signer = NULL;
	if (sodium_init() < 0)
		return OTG_ERR_CRYPTO;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return OTG_ERR_NOMEM;
	/* both libraries must see the same key pair, or no seal would verify */
	if (EVP_PKEY_get_raw_private_key(pkey, seed, &n) == 1 && n == sizeof(seed) &&
	    EVP_PKEY_get_raw_public_key(pkey, pub, &np) == 1 && np == sizeof(pub) &&
	    crypto_sign_ed25519_seed_keypair(derived, s->sk, seed) == 0 &&
	    memcmp(derived, pub, sizeof(pub)) == 0)
		r = 0;
	sodium_memzero(seed, sizeof(seed));
	if (r != 0) {
		seal_signer_free(s);
		return r;
	}
	*signer = s;
	return 0;
}

int
seal_sign(void *signer, const void *msg, size_t len, uint8_t sig[REC_SIG_LEN])
{
	struct seal_signer *s = signer;

	if (crypto_sign_ed25519_detached(sig, NULL, msg, len, s->sk) != 0)
		return OTG_ERR_CRYPTO;
	return 0;
}

/* The session's private key is wiped here (DESIGN.md section 5). */
void
seal_signer_free(void *signer)
{
	struct seal_signer *s = signer;

	if (s == NULL)
		return;
	sodium_memzero(s->sk, sizeof(s->sk));
	free(s);
}

static uint8_t *
seal_put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--)
		*p++ = (uint8_t)(v >> (i * 8));
	return p;
}

void
seal_cert_message(uint8_t msg[SEAL_CERT_MSG_LEN], const char *session,
    const uint8_t pub[REC_ED25519_LEN], uint64_t time_ms)
{
	uint8_t *p = msg;

	memcpy(p, seal_cert_label, sizeof(seal_cert_label));
	p += sizeof(seal_cert_label);
	memcpy(p, session, REC_ID_LEN);
	p += REC_ID_LEN;
	memcpy(p, pub, REC_ED25519_LEN);
	p += REC_ED25519_LEN;
	seal_put64(p, time_ms);
}

void
seal_message(uint8_t msg[SEAL_MSG_LEN], const char *session, const struct seal_record *s)
{
	uint8_t *p = msg;

	memcpy(p, seal_label, sizeof(seal_label));
	p += sizeof(seal_label);
	memcpy(p, session, REC_ID_LEN);
	p += REC_ID_LEN;
	p = seal_put64(p, s->seq);
	p = seal_put64(p, s->offset);
	p = seal_put64(p, s->time_ms);
	memcpy(p, s->h, REC_HASH_LEN);
	p += REC_HASH_LEN;
	*p = s->final ? 1 : 0;
}

/* Lower-case hex of n bytes and a NUL into out[2 * n + 1]: a table, not a
 * printf per byte (a seal formats 64 bytes of hex twice, 16,384 seals a GiB). */
void
seal_hex_str(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
seal_hex(struct buf *out, const uint8_t *p, size_t n)
{
	char hex[2 * REC_HASH_LEN + 1];

	if (n > REC_HASH_LEN)
		return OTG_ERR_INVAL;
	seal_hex_str(hex, p, n);
	return buf_put(out, hex, 2 * n);
}

static int
seal_b64_field(struct buf *out, const char *key, const uint8_t *p, size_t n)
{
	int r;

	if ((r = buf_printf(out, ", \"%s\": \"", key)) != 0 ||
	    (r = base64_encode(out, p, n)) != 0)
		return r;
	return buf_putc(out, '"');
}

int
seal_cert_line(struct buf *out, const struct seal_cert *c)
{
	int r;

	if ((r = buf_printf(out, "{\"type\": \"cert\", \"session\": \"%s\", \"time\": %llu, "
	    "\"signer\": \"", c->session, (unsigned long long)c->time_ms)) != 0 ||
	    (r = seal_hex(out, c->key_fp, sizeof(c->key_fp))) != 0 ||
	    (r = buf_putc(out, '"')) != 0 ||
	    (r = seal_b64_field(out, "key", c->session_pub, sizeof(c->session_pub))) != 0 ||
	    (r = seal_b64_field(out, "sig", c->sig, sizeof(c->sig))) != 0)
		return r;
	return buf_puts(out, "}\n");
}

int
seal_record_line(struct buf *out, const struct seal_record *s)
{
	int r;

	if ((r = buf_printf(out, "{\"type\": \"seal\", \"seq\": %llu, \"offset\": %llu, "
	    "\"time\": %llu, \"h\": \"", (unsigned long long)s->seq,
	    (unsigned long long)s->offset, (unsigned long long)s->time_ms)) != 0 ||
	    (r = seal_hex(out, s->h, sizeof(s->h))) != 0 ||
	    (r = buf_printf(out, "\", \"final\": %s", s->final ? "true" : "false")) != 0 ||
	    (r = seal_b64_field(out, "sig", s->sig, sizeof(s->sig))) != 0)
		return r;
	return buf_puts(out, "}\n");
}

/* A non-negative integer that a double holds exactly. */
static int
seal_get_u64(const struct json *obj, const char *key, uint64_t *out)
{
	const struct json *v = json_get(obj, key);

	if (v == NULL || v->type != JSON_NUMBER || v->number < 0 ||
	    v->number > 9007199254740992.0 || v->number != floor(v->number))
		return OTG_ERR_PROTO;
	*out = (uint64_t)v->number;
	return 0;
}

static int
seal_get_hex(const struct json *obj, const char *key, uint8_t *out, size_t n)
{
	const char *s = json_get_str(obj, key);
	unsigned v;
	size_t i;

	if (s == NULL || strlen(s) != 2 * n)
		return OTG_ERR_PROTO;
	for (i = 0; i < n; i++) {
		if (!((s[2 * i] >= '0' && s[2 * i] <= '9') || (s[2 * i] >= 'a' &&
		    s[2 * i] <= 'f')) || !((s[2 * i + 1] >= '0' && s[2 * i + 1] <= '9') ||
		    (s[2 * i + 1] >= 'a' && s[2 * i + 1] <= 'f')))
			return OTG_ERR_PROTO;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return OTG_ERR_PROTO;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int
seal_get_b64(const struct json *obj, const char *key, uint8_t *out, size_t n)
{
	const struct json *v = json_get(obj, key);
	struct buf b;
	int r;

	if (v == NULL || v->type != JSON_STRING)
		return OTG_ERR_PROTO;
	buf_init(&b, n);
	r = base64_decode(v->str, v->len, &b);
	if (r == 0 && buf_len(&b) != n)
		r = OTG_ERR_PROTO;
	if (r == 0)
		memcpy(out, buf_ptr(&b), n);
	buf_free(&b);
	return r == 0 ? 0 : OTG_ERR_PROTO;
}

static int
seal_session_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != REC_ID_LEN)
		return 0;
	for (i = 0; i < REC_ID_LEN; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

int
seal_parse_line(const char *line, size_t len, int *is_cert, struct seal_cert *cert,
    struct seal_record *rec)
{
	const struct json *fin;
	struct json *j = NULL;
	const char *type, *session;
	int r;

	if ((r = json_parse(line, len, &j)) != 0)
		goto out;
	r = OTG_ERR_PROTO;
	if ((type = json_get_str(j, "type")) == NULL)
		goto out;
	if (strcmp(type, "cert") == 0) {
		*is_cert = 1;
		memset(cert, 0, sizeof(*cert));
		session = json_get_str(j, "session");
		if (!seal_session_ok(session) ||
		    seal_get_u64(j, "time", &cert->time_ms) != 0 ||
		    seal_get_hex(j, "signer", cert->key_fp, sizeof(cert->key_fp)) != 0 ||
		    seal_get_b64(j, "key", cert->session_pub, sizeof(cert->session_pub)) != 0 ||
		    seal_get_b64(j, "sig", cert->sig, sizeof(cert->sig)) != 0)
			goto out;
		memcpy(cert->session, session, REC_ID_LEN + 1);
	} else if (strcmp(type, "seal") == 0) {
		*is_cert = 0;
		memset(rec, 0, sizeof(*rec));
		fin = json_get(j, "final");
		if (seal_get_u64(j, "seq", &rec->seq) != 0 ||
		    seal_get_u64(j, "offset", &rec->offset) != 0 ||
		    seal_get_u64(j, "time", &rec->time_ms) != 0 ||
		    seal_get_hex(j, "h", rec->h, sizeof(rec->h)) != 0 ||
		    fin == NULL || fin->type != JSON_BOOL ||
		    seal_get_b64(j, "sig", rec->sig, sizeof(rec->sig)) != 0)
			goto out;
		rec->final = fin->boolean;
	} else {
		goto out;
	}
	r = 0;
out:
	json_free(j);
	return r;
}
