/*
 * reckey.c: the Ed25519 keys of tamper evidence. The long-term recording key
 * certifies per-session keys; only its public halves are needed to verify, and
 * they stay in STATE/keys/ after a rotation so old recordings still verify. A
 * public key is named by its fingerprint, SHA-256 of the 32 raw key bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define RECKEY_MAX_FILE 65536

static int
reckey_raw_public(EVP_PKEY *pkey, uint8_t pub[REC_ED25519_LEN])
{
	size_t n = REC_ED25519_LEN;

	if (!EVP_PKEY_is_a(pkey, "ED25519") ||
	    EVP_PKEY_get_raw_public_key(pkey, pub, &n) != 1 || n != REC_ED25519_LEN)
		return OTG_ERR_CRYPTO;
	return 0;
}

int
reckey_fingerprint(const uint8_t pub[REC_ED25519_LEN], uint8_t fp[REC_HASH_LEN])
{
	unsigned int n;

	if (EVP_Digest(pub, REC_ED25519_LEN, fp, &n, EVP_sha256(), NULL) != 1)
		return OTG_ERR_CRYPTO;
	return 0;
}

/* PEM text of a key into a buffer, private (PKCS#8) or public (SPKI). */
static int
reckey_pem(EVP_PKEY *pkey, int private, struct buf *out)
{
	BIO *bio;
	char *p;
	long n;
	int r = OTG_ERR_CRYPTO;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return OTG_ERR_NOMEM;
	if ((private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) :
	    PEM_write_bio_PUBKEY(bio, pkey)) != 1)
		goto out;
	if ((n = BIO_get_mem_data(bio, &p)) <= 0)
		goto out;
	r = buf_put(out, p, (size_t)n);
out:
	BIO_free(bio);
	return r;
}

int
reckey_generate(const char *keys_dir, char *pubpath, size_t pubpathsz)
{
	uint8_t pub[REC_ED25519_LEN], fp[REC_HASH_LEN];
	char path[4096];
	EVP_PKEY *pkey = NULL;
	struct buf pem;
	int r;

	buf_init(&pem, RECKEY_MAX_FILE);
	if ((r = file_mkdirs(keys_dir, 0755)) != 0)
		goto out;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		r = OTG_ERR_CRYPTO;
		goto out;
	}
	if ((r = reckey_raw_public(pkey, pub)) != 0 || (r = reckey_fingerprint(pub, fp)) != 0)
		goto out;
	/* the public half first: a key that signed anything must be verifiable */
	if ((r = reckey_pem(pkey, 0, &pem)) != 0)
		goto out;
	if (snprintf(pubpath, pubpathsz, "%s/recording-%02x%02x%02x%02x%02x%02x%02x%02x.pub",
	    keys_dir, fp[0], fp[1], fp[2], fp[3], fp[4], fp[5], fp[6], fp[7]) >=
	    (int)pubpathsz) {
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	if ((r = file_write_atomic(pubpath, buf_ptr(&pem), buf_len(&pem), 0644)) != 0)
		goto out;
	buf_free(&pem);
	if ((r = reckey_pem(pkey, 1, &pem)) != 0)
		goto out;
	if (snprintf(path, sizeof(path), "%s/%s", keys_dir, RECKEY_PRIVATE) >=
	    (int)sizeof(path)) {
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	r = file_write_atomic(path, buf_ptr(&pem), buf_len(&pem), 0600);
out:
	buf_free(&pem);
	EVP_PKEY_free(pkey);
	return r;
}

int
reckey_load_private(const char *path, void **out)
{
	char why[512], *text = NULL;
	EVP_PKEY *pkey = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	r = file_check_secret(fd, path, why, sizeof(why));
	close(fd);
	if (r != 0) {
		log_warnx("%s", why);
		return r;
	}
	if ((r = file_read(path, RECKEY_MAX_FILE, &text, &len)) != 0)
		return r;
	r = OTG_ERR_CRYPTO;
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL)
		goto out;
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL ||
	    !EVP_PKEY_is_a(pkey, "ED25519"))
		goto out;
	*out = pkey;
	pkey = NULL;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	explicit_bzero(text, len);
	free(text);
	return r;
}

void
reckey_free(void *pkey)
{
	/* OpenSSL clears an Ed25519 private key's bytes when it frees them */
	EVP_PKEY_free(pkey);
}

int
reckey_sign(void *pkey, const void *msg, size_t len, uint8_t sig[REC_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t n = REC_SIG_LEN;
	int r = OTG_ERR_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return OTG_ERR_NOMEM;
	if (EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, pkey, NULL) == 1 &&
	    EVP_DigestSign(ctx, sig, &n, msg, len) == 1 && n == REC_SIG_LEN)
		r = 0;
	EVP_MD_CTX_free(ctx);
	return r;
}

int
reckey_verify_raw(const uint8_t pub[REC_ED25519_LEN], const void *msg, size_t len,
    const uint8_t sig[REC_SIG_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *pkey;
	int r = OTG_ERR_BADSIG;

	if ((pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, pub,
	    REC_ED25519_LEN)) == NULL)
		return OTG_ERR_CRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pkey, NULL) == 1 &&
	    EVP_DigestVerify(ctx, sig, REC_SIG_LEN, msg, len) == 1)
		r = 0;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return r;
}

int
reckey_new_session(void **out, uint8_t pub[REC_ED25519_LEN])
{
	EVP_PKEY *pkey;
	int r;

	*out = NULL;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return OTG_ERR_CRYPTO;
	if ((r = reckey_raw_public(pkey, pub)) != 0) {
		EVP_PKEY_free(pkey);
		return r;
	}
	*out = pkey;
	return 0;
}

int
reckey_certify(void *pkey, const char *session, const uint8_t pub[REC_ED25519_LEN],
    uint64_t time_ms, uint8_t sig[REC_SIG_LEN], uint8_t fp[REC_HASH_LEN])
{
	uint8_t msg[SEAL_CERT_MSG_LEN], kpub[REC_ED25519_LEN];
	int r;

	if (strlen(session) != REC_ID_LEN)
		return OTG_ERR_INVAL;
	if ((r = reckey_raw_public(pkey, kpub)) != 0 || (r = reckey_fingerprint(kpub, fp)) != 0)
		return r;
	seal_cert_message(msg, session, pub, time_ms);
	return reckey_sign(pkey, msg, sizeof(msg), sig);
}

static int
reckey_load_public(const char *path, struct reckey_pub *out)
{
	EVP_PKEY *pkey = NULL;
	char *text = NULL;
	BIO *bio = NULL;
	size_t len;
	int r;

	if ((r = file_read(path, RECKEY_MAX_FILE, &text, &len)) != 0)
		return r;
	r = OTG_ERR_CRYPTO;
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL ||
	    (pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	if ((r = reckey_raw_public(pkey, out->pub)) == 0)
		r = reckey_fingerprint(out->pub, out->fp);
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	free(text);
	return r;
}

int
reckey_load_public_dir(const char *dir, struct reckey_set *out)
{
	struct reckey_pub *keys;
	struct dirent *de;
	char path[4096];
	size_t n;
	DIR *d;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if ((keys = reallocarray(out->keys, out->n + 1, sizeof(*keys))) == NULL) {
			r = OTG_ERR_NOMEM;
			break;
		}
		out->keys = keys;
		/* a file that is not an Ed25519 public key is not one of ours */
		if (reckey_load_public(path, &out->keys[out->n]) == 0)
			out->n++;
	}
	closedir(d);
	if (r != 0)
		reckey_set_free(out);
	return r;
}

const uint8_t *
reckey_set_find(const struct reckey_set *s, const uint8_t fp[REC_HASH_LEN])
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (memcmp(s->keys[i].fp, fp, REC_HASH_LEN) == 0)
			return s->keys[i].pub;
	}
	return NULL;
}

void
reckey_set_free(struct reckey_set *s)
{
	free(s->keys);
	memset(s, 0, sizeof(*s));
}
