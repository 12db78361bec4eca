/*
 * passwd.c: vendor passwords for `auth = password`, as yescrypt hashes made by
 * libcrypt in STATE/passwd ("USER:HASH" lines, 0600). Hashing is slow on
 * purpose, so the broker runs this in its helper processes. An unknown user is
 * checked against a dummy hash of the same cost, so the time taken does not
 * tell whether the account exists.
 */
#include <crypt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/common.h"
#include "pam/pam.h"

/* yescrypt of a random password at libcrypt's default cost (j9T), like the
 * hashes passwd_hash makes; nothing hashes to it. */
static const char passwd_dummy[] =
    "$y$j9T$B0ruFiJlEUrHmDS0b3Lhs0$dsAk692oxp1W5AI4gTrC4voggRNjZ38Le4EJ.7.Spv9";

static int
passwd_hash_ok(const char *hash)
{
	size_t i;

	if (hash[0] != '$')
		return 0;
	for (i = 0; hash[i] != '\0'; i++) {
		if (i + 1 >= PASSWD_HASH_MAX || hash[i] == ':' || (unsigned char)hash[i] <= ' ' ||
		    (unsigned char)hash[i] >= 0x7f)
			return 0;
	}
	return 1;
}

int
passwd_hash(const char *password, char *hash, size_t hashsz)
{
	struct crypt_data *cd = NULL;
	char *salt = NULL;
	const char *h;
	size_t n;
	int r;

	if (strnlen(password, PASSWD_MAX + 1) > PASSWD_MAX)
		return OTG_ERR_TOOBIG;
	if ((salt = crypt_gensalt_ra("$y$", 0, NULL, 0)) == NULL)
		return OTG_ERR_CRYPTO;
	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	h = crypt_r(password, salt, cd);
	if (h == NULL || h[0] == '*' || !passwd_hash_ok(h)) {
		r = OTG_ERR_CRYPTO;
		goto out;
	}
	if ((n = strlen(h)) + 1 > hashsz) {
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	memcpy(hash, h, n + 1);
	r = 0;
out:
	if (cd != NULL) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	free(salt);
	return r;
}

/* The hash of user in the file's text, copied to hash; 0 or OTG_ERR_NOTFOUND. */
static int
passwd_find(const char *text, size_t len, const char *user, char *hash,
    size_t hashsz)
{
	const char *p = text, *end = text + len, *eol, *colon;
	size_t ulen = strlen(user);

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || (size_t)(colon - p) != ulen || memcmp(p, user, ulen) != 0)
			continue;
		if ((size_t)(eol - colon - 1) >= hashsz)
			return OTG_ERR_PROTO;
		memcpy(hash, colon + 1, (size_t)(eol - colon - 1));
		hash[eol - colon - 1] = '\0';
		return passwd_hash_ok(hash) ? 0 : OTG_ERR_PROTO;
	}
	return OTG_ERR_NOTFOUND;
}

int
passwd_verify(const char *path, const char *user, const char *password, char *why,
    size_t whysz)
{
	struct crypt_data *cd = NULL;
	char hash[PASSWD_HASH_MAX];
	char *text = NULL;
	const char *h;
	size_t len = 0;
	int r, known;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return OTG_ERR_NOMEM;
	r = statefile_read(path, &text, &len, why, whysz);
	if (r != 0 && r != OTG_ERR_NOTFOUND)
		goto out;
	known = r == 0 && value_name_ok(user) &&
	    (r = passwd_find(text, len, user, hash, sizeof(hash))) == 0;
	if (r == OTG_ERR_PROTO) {
		snprintf(why, whysz, "%s: corrupt line for a user (want USER:HASH)", path);
		goto out;
	}
	if (!known)
		memcpy(hash, passwd_dummy, sizeof(passwd_dummy));
	/* the same work for a known and an unknown user, and for long passwords */
	h = crypt_r(strnlen(password, PASSWD_MAX + 1) > PASSWD_MAX ? "" : password,
	    hash, cd);
	if (h == NULL || h[0] == '*' || strlen(h) != strlen(hash) ||
	    CRYPTO_memcmp(h, hash, strlen(hash)) != 0 || !known ||
	    strnlen(password, PASSWD_MAX + 1) > PASSWD_MAX)
		r = OTG_ERR_BADSIG;
	else
		r = 0;
out:
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
	return r;
}

int
passwd_set(const char *path, const char *user, const char *hash, char *why,
    size_t whysz)
{
	struct buf out;
	char lockpath[PATH_MAX];
	char *text = NULL;
	const char *p, *end, *eol;
	size_t len = 0, ulen = strlen(user);
	int fd = -1, r;

	buf_init(&out, STATEFILE_MAX);
	if (!value_name_ok(user) || !passwd_hash_ok(hash))
		return OTG_ERR_INVAL;
	if (snprintf(lockpath, sizeof(lockpath), "%s+lock", path) >= (int)sizeof(lockpath))
		return OTG_ERR_TOOBIG;
	if ((r = statefile_lock(lockpath, &fd, why, whysz)) != 0)
		return r;
	r = statefile_read(path, &text, &len, why, whysz);
	if (r != 0 && r != OTG_ERR_NOTFOUND)
		goto out;
	/* keep every other line as it was, in order; the user's goes last */
	for (p = text, end = text + len; p != NULL && p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) > ulen && p[ulen] == ':' && memcmp(p, user, ulen) == 0)
			continue;
		if (eol > p && ((r = buf_put(&out, p, (size_t)(eol - p))) != 0 ||
		    (r = buf_putc(&out, '\n')) != 0))
			goto out;
	}
	if ((r = buf_printf(&out, "%s:%s\n", user, hash)) != 0)
		goto out;
	r = statefile_write(path, buf_ptr(&out), buf_len(&out), why, whysz);
out:
	statefile_unlock(fd);
	buf_free(&out);
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
	return r;
}
