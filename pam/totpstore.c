/*
 * totpstore.c: TOTP secrets, enrolments and enrolment codes under STATE/totp,
 * never in the policy. One small text file per purpose and user (see pam.h),
 * each replaced atomically under the user's flock, so the broker's helpers,
 * pam_otgate in sshd or sudo, and `otgate user` can all use the store at once
 * and a code is accepted once across all of them.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/common.h"
#include "pam/pam.h"

/* "BASE32 NUMBER\n": a secret or hash and a counter or expiry time */
struct totpstore_record {
	char word[TOTP_SECRET_B32_MAX];
	uint64_t num;
};

static int
totpstore_path(char *buf, size_t bufsz, const char *dir, const char *user,
    const char *suffix)
{
	int n;

	if (!value_name_ok(user))
		return OTG_ERR_INVAL;
	n = snprintf(buf, bufsz, "%s/%s%s", dir, user, suffix);
	return n < 0 || (size_t)n >= bufsz ? OTG_ERR_TOOBIG : 0;
}

/* Parse one record; anything else is a corrupt file, refused. */
static int
totpstore_parse(const char *text, size_t len, struct totpstore_record *rec)
{
	size_t i = 0, w = 0;
	uint64_t v = 0;

	memset(rec, 0, sizeof(*rec));
	for (; i < len && ((text[i] >= 'A' && text[i] <= 'Z') ||
	    (text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9'));
	    i++) {
		if (w + 1 >= sizeof(rec->word))
			return OTG_ERR_PROTO;
		rec->word[w++] = text[i];
	}
	if (w == 0 || i >= len || text[i++] != ' ' || i >= len ||
	    text[i] < '0' || text[i] > '9')
		return OTG_ERR_PROTO;
	for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return OTG_ERR_PROTO;
		v = v * 10 + (uint64_t)(text[i] - '0');
	}
	if (i + 1 != len || text[i] != '\n')
		return OTG_ERR_PROTO;
	rec->num = v;
	return 0;
}

static int
totpstore_load(const char *path, struct totpstore_record *rec, char *why,
    size_t whysz)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if ((r = statefile_read(path, &text, &len, why, whysz)) != 0)
		return r;
	if ((r = totpstore_parse(text, len, rec)) != 0)
		snprintf(why, whysz, "%s: corrupt (want \"SECRET NUMBER\" on one line)",
		    path);
	explicit_bzero(text, len);
	free(text);
	return r;
}

static int
totpstore_save(const char *path, const struct totpstore_record *rec, char *why,
    size_t whysz)
{
	char line[TOTP_SECRET_B32_MAX + 32];
	int n, r;

	n = snprintf(line, sizeof(line), "%s %" PRIu64 "\n", rec->word, rec->num);
	if (n < 0 || (size_t)n >= sizeof(line))
		return OTG_ERR_TOOBIG;
	r = statefile_write(path, line, (size_t)n, why, whysz);
	explicit_bzero(line, sizeof(line));
	return r;
}

int
totpstore_lock(const char *dir, const char *user, int *fd, char *why, size_t whysz)
{
	char path[PATH_MAX];
	int r;

	*fd = -1;
	if ((r = totpstore_path(path, sizeof(path), dir, user, "+lock")) != 0) {
		snprintf(why, whysz, "%s: bad user name or path", dir);
		return r;
	}
	if ((r = statefile_dir(dir, why, whysz)) != 0)
		return r;
	return statefile_lock(path, fd, why, whysz);
}

void
totpstore_unlock(int fd)
{
	statefile_unlock(fd);
}

/* Check code against the secret in rec (whose num is the last counter). */
static int
totpstore_check(const char *path, const struct totpstore_record *rec, time_t now,
    unsigned window, unsigned digits, const char *code, uint64_t last,
    uint64_t *counter, char *why, size_t whysz)
{
	uint8_t secret[TOTP_SECRET_MAX];
	size_t len;
	int r;

	if (totp_base32_decode(rec->word, secret, sizeof(secret), &len) != 0) {
		snprintf(why, whysz, "%s: corrupt (the secret is not base32 of %d..%d bytes)",
		    path, TOTP_SECRET_MIN, TOTP_SECRET_MAX);
		return OTG_ERR_PROTO;
	}
	r = totp_check(secret, len, now, window, digits, code, last, counter);
	explicit_bzero(secret, sizeof(secret));
	return r;
}

int
totpstore_verify(const char *dir, const char *user, time_t now, unsigned window,
    unsigned digits, const char *code, uint64_t *counter, char *why, size_t whysz)
{
	struct totpstore_record rec;
	char path[PATH_MAX];
	int r;

	*counter = 0;
	if ((r = totpstore_path(path, sizeof(path), dir, user, "")) != 0)
		return r;
	if ((r = totpstore_load(path, &rec, why, whysz)) != 0)
		goto out;
	r = totpstore_check(path, &rec, now, window, digits, code, rec.num, counter,
	    why, whysz);
	if (r != 0)
		goto out;
	/* spent from now on, everywhere */
	rec.num = *counter;
	r = totpstore_save(path, &rec, why, whysz);
out:
	explicit_bzero(&rec, sizeof(rec));
	return r;
}

int
totpstore_enrolled(const char *dir, const char *user, char *why, size_t whysz)
{
	struct totpstore_record rec;
	char path[PATH_MAX];
	int r;

	if ((r = totpstore_path(path, sizeof(path), dir, user, "")) != 0)
		return r;
	r = totpstore_load(path, &rec, why, whysz);
	explicit_bzero(&rec, sizeof(rec));
	if (r == OTG_ERR_NOTFOUND)
		return 0;
	return r == 0 ? 1 : r;
}

int
totpstore_pending_new(const char *dir, const char *user, time_t now, char *b32,
    size_t b32sz, char *why, size_t whysz)
{
	uint8_t secret[TOTP_SECRET_LEN];
	struct totpstore_record rec;
	char path[PATH_MAX];
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = totpstore_path(path, sizeof(path), dir, user, "+pending")) != 0)
		return r;
	if ((r = totp_secret_new(secret)) != 0 ||
	    (r = totp_base32_encode(secret, sizeof(secret), rec.word,
	    sizeof(rec.word))) != 0)
		goto out;
	if (strlen(rec.word) + 1 > b32sz) {
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	rec.num = (uint64_t)now + TOTPSTORE_PENDING_TTL;
	if ((r = totpstore_save(path, &rec, why, whysz)) != 0)
		goto out;
	memcpy(b32, rec.word, strlen(rec.word) + 1);
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(&rec, sizeof(rec));
	return r;
}

int
totpstore_pending_confirm(const char *dir, const char *user, time_t now,
    unsigned window, unsigned digits, const char *code, char *why, size_t whysz)
{
	struct totpstore_record rec;
	char pending[PATH_MAX], active[PATH_MAX];
	uint64_t counter;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = totpstore_path(pending, sizeof(pending), dir, user, "+pending")) != 0 ||
	    (r = totpstore_path(active, sizeof(active), dir, user, "")) != 0)
		return r;
	if ((r = totpstore_load(pending, &rec, why, whysz)) != 0)
		goto out;
	if (now < 0 || (uint64_t)now >= rec.num) {
		snprintf(why, whysz, "%s: enrolment expired", pending);
		statefile_remove(pending, why, whysz);
		r = OTG_ERR_NOTFOUND;
		goto out;
	}
	r = totpstore_check(pending, &rec, now, window, digits, code, 0, &counter,
	    why, whysz);
	if (r != 0)
		goto out;
	/* the confirming code is spent: it cannot also open a session */
	rec.num = counter;
	if ((r = totpstore_save(active, &rec, why, whysz)) != 0)
		goto out;
	r = statefile_remove(pending, why, whysz);
out:
	explicit_bzero(&rec, sizeof(rec));
	return r;
}

int
totpstore_pending_cancel(const char *dir, const char *user, char *why, size_t whysz)
{
	char path[PATH_MAX];
	int r;

	if ((r = totpstore_path(path, sizeof(path), dir, user, "+pending")) != 0)
		return r;
	return statefile_remove(path, why, whysz);
}

int
totpstore_remove(const char *dir, const char *user, char *why, size_t whysz)
{
	char path[PATH_MAX];
	int r;

	if ((r = totpstore_path(path, sizeof(path), dir, user, "")) != 0)
		return r;
	return statefile_remove(path, why, whysz);
}

/* SHA-256 hex of an enrolment code reduced to its 16 base32 characters. */
static int
totpstore_invite_hash(const char *code, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	char norm[16];
	size_t i, n = 0;
	unsigned mdlen = 0;
	int r = 0;

	for (i = 0; code[i] != '\0' && i < TOTPSTORE_INVITE_MAX * 2; i++) {
		if (code[i] == '-' || code[i] == ' ')
			continue;
		if (n == sizeof(norm)) {
			r = OTG_ERR_INVAL;
			goto out;
		}
		if (code[i] >= 'a' && code[i] <= 'z')
			norm[n++] = (char)(code[i] - 'a' + 'A');
		else if ((code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= '2' && code[i] <= '7'))
			norm[n++] = code[i];
		else {
			r = OTG_ERR_INVAL;
			goto out;
		}
	}
	if (n != sizeof(norm) || code[i] != '\0') {
		r = OTG_ERR_INVAL;
		goto out;
	}
	if (EVP_Digest(norm, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		r = OTG_ERR_CRYPTO;
		goto out;
	}
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
out:
	explicit_bzero(norm, sizeof(norm));
	return r;
}

int
totpstore_invite_create(const char *dir, const char *user, time_t now,
    uint64_t valid, char *code, size_t codesz, char *why, size_t whysz)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	struct totpstore_record rec;
	unsigned char rnd[16];
	char path[PATH_MAX], typed[TOTPSTORE_INVITE_MAX];
	size_t i, n = 0;
	int fd = -1, r;

	memset(&rec, 0, sizeof(rec));
	if (valid == 0 || valid > 366u * 86400 || now < 0 || codesz < 20)
		return OTG_ERR_INVAL;
	if ((r = totpstore_path(path, sizeof(path), dir, user, "+invite")) != 0)
		return r;
	/* 16 characters of 32: 80 bits, typed as XXXX-XXXX-XXXX-XXXX */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		r = OTG_ERR_CRYPTO;
		goto out;
	}
	for (i = 0; i < sizeof(rnd); i++) {
		if (i > 0 && i % 4 == 0)
			typed[n++] = '-';
		typed[n++] = alphabet[rnd[i] & 31];
	}
	typed[n] = '\0';
	if ((r = totpstore_invite_hash(typed, rec.word)) != 0)
		goto out;
	rec.num = (uint64_t)now + valid;
	if ((r = totpstore_lock(dir, user, &fd, why, whysz)) != 0)
		goto out;
	if ((r = totpstore_save(path, &rec, why, whysz)) != 0)
		goto out;
	memcpy(code, typed, n + 1);
out:
	totpstore_unlock(fd);
	explicit_bzero(rnd, sizeof(rnd));
	explicit_bzero(typed, sizeof(typed));
	return r;
}

int
totpstore_invite_redeem(const char *dir, const char *user, time_t now,
    const char *code, char *why, size_t whysz)
{
	struct totpstore_record rec;
	char path[PATH_MAX], hex[65];
	int r, bad;

	if ((r = totpstore_path(path, sizeof(path), dir, user, "+invite")) != 0)
		return r;
	/* a malformed code is just a wrong one, but is still compared so that
	 * its timing looks like any other */
	bad = totpstore_invite_hash(code, hex) != 0;
	if (bad)
		memset(hex, '0', 64);
	hex[64] = '\0';
	if ((r = totpstore_load(path, &rec, why, whysz)) != 0)
		return r;
	if (strlen(rec.word) != 64) {
		snprintf(why, whysz, "%s: corrupt (want a SHA-256 hash)", path);
		return OTG_ERR_PROTO;
	}
	if (now < 0 || (uint64_t)now >= rec.num) {
		snprintf(why, whysz, "%s: enrolment code expired", path);
		statefile_remove(path, why, whysz);
		return OTG_ERR_NOTFOUND;
	}
	if (CRYPTO_memcmp(hex, rec.word, 64) != 0 || bad)
		return OTG_ERR_BADSIG;
	return statefile_remove(path, why, whysz);
}
