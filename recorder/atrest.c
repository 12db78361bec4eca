/*
 * atrest.c: encryption at rest of recordings (recording-recipient). A random
 * 32-byte file key encrypts the recording in AES-256-GCM chunks; the file key
 * is wrapped to each auditor's X25519 public key (ephemeral X25519, HKDF-SHA256,
 * AES-256-GCM), so once a session ends the broker itself can no longer read it.
 * Each flush is one chunk, so a crash loses at most what a second held; chunk
 * numbers and a last-chunk flag in the authenticated data catch reordering and
 * truncation. Readers get a FILE * that decrypts, so the cast and stream
 * readers work unchanged. The seals cover the encrypted bytes as written.
 * OpenSSL 3.0 EVP only (no HPKE before 3.2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define ATREST_KEY_LEN 32
#define ATREST_TAG_LEN 16
#define ATREST_STANZA_LEN (REC_HASH_LEN + 32 + ATREST_KEY_LEN + ATREST_TAG_LEN)
#define ATREST_LAST 0x01

static const char atrest_info[] = "otgate-recording-v1 file key";

struct atrest_writer {
	char session[REC_ID_LEN + 1];
	uint8_t key[ATREST_KEY_LEN];
	uint64_t chunk;
	EVP_CIPHER_CTX *ctx;
};

struct atrest_reader {
	FILE *in;
	char session[REC_ID_LEN + 1];
	uint8_t key[ATREST_KEY_LEN];
	uint64_t chunk;
	EVP_CIPHER_CTX *ctx;
	uint8_t *plain;		/* the current chunk, decrypted */
	size_t len, off;
	int last_seen, failed;
};

/* AES-256-GCM of one buffer; decrypt checks the tag. 0 or OTG_ERR_BADSIG. */
static int
atrest_gcm(EVP_CIPHER_CTX *ctx, int encrypt, const uint8_t key[ATREST_KEY_LEN],
    const uint8_t iv[12], const uint8_t *aad, size_t aadlen, const uint8_t *in,
    size_t len, uint8_t *out, uint8_t tag[ATREST_TAG_LEN])
{
	int n;

	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, encrypt) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1))
		return OTG_ERR_CRYPTO;
	if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, ATREST_TAG_LEN,
	    tag) != 1)
		return OTG_ERR_CRYPTO;
	if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
		return encrypt ? OTG_ERR_CRYPTO : OTG_ERR_BADSIG;
	if (encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, ATREST_TAG_LEN,
	    tag) != 1)
		return OTG_ERR_CRYPTO;
	return 0;
}

/* The key-encryption key of one stanza: HKDF(X25519(priv, peer)). */
static int
atrest_kek(EVP_PKEY *priv, const uint8_t peer[32], const uint8_t eph_pub[32],
    const uint8_t recipient_pub[32], const char *session, uint8_t kek[ATREST_KEY_LEN])
{
	uint8_t shared[32], salt[64], info[sizeof(atrest_info) + REC_ID_LEN];
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *peerkey = NULL;
	EVP_KDF_CTX *kctx = NULL;
	EVP_KDF *kdf = NULL;
	OSSL_PARAM params[5];
	size_t n = sizeof(shared);
	int r = OTG_ERR_CRYPTO;

	if ((peerkey = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, 32)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL)) == NULL ||
	    EVP_PKEY_derive_init(pctx) != 1 || EVP_PKEY_derive_set_peer(pctx, peerkey) != 1 ||
	    EVP_PKEY_derive(pctx, shared, &n) != 1 || n != sizeof(shared))
		goto out;
	memcpy(salt, eph_pub, 32);
	memcpy(salt + 32, recipient_pub, 32);
	memcpy(info, atrest_info, sizeof(atrest_info));
	memcpy(info + sizeof(atrest_info), session, REC_ID_LEN);
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, shared, sizeof(shared));
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof(salt));
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info));
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, kek, ATREST_KEY_LEN, params) == 1)
		r = 0;
out:
	explicit_bzero(shared, sizeof(shared));
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(peerkey);
	return r;
}

static int
atrest_raw_public(EVP_PKEY *pkey, uint8_t pub[32])
{
	size_t n = 32;

	if (!EVP_PKEY_is_a(pkey, "X25519") || EVP_PKEY_get_raw_public_key(pkey, pub, &n) != 1 ||
	    n != 32)
		return OTG_ERR_CRYPTO;
	return 0;
}

/* One recipient stanza: fingerprint, ephemeral public key, wrapped file key. */
static int
atrest_wrap(struct atrest_writer *w, const uint8_t recipient[32], struct buf *out)
{
	uint8_t stanza[ATREST_STANZA_LEN], kek[ATREST_KEY_LEN], iv[12] = { 0 };
	EVP_PKEY *eph = NULL;
	int r;

	if ((eph = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) == NULL)
		return OTG_ERR_CRYPTO;
	if ((r = reckey_fingerprint(recipient, stanza)) != 0 ||
	    (r = atrest_raw_public(eph, stanza + REC_HASH_LEN)) != 0 ||
	    (r = atrest_kek(eph, recipient, stanza + REC_HASH_LEN, recipient, w->session,
	    kek)) != 0)
		goto out;
	/* a fresh ephemeral key makes each kek unique: a zero nonce is safe */
	if ((r = atrest_gcm(w->ctx, 1, kek, iv, (const uint8_t *)w->session, REC_ID_LEN,
	    w->key, ATREST_KEY_LEN, stanza + REC_HASH_LEN + 32,
	    stanza + REC_HASH_LEN + 32 + ATREST_KEY_LEN)) != 0)
		goto out;
	r = buf_put(out, stanza, sizeof(stanza));
out:
	explicit_bzero(kek, sizeof(kek));
	EVP_PKEY_free(eph);
	return r;
}

int
atrest_writer_new(const char *session, const uint8_t (*recipients)[32], size_t n,
    struct buf *header, struct atrest_writer **out)
{
	struct atrest_writer *w;
	size_t i;
	int r;

	*out = NULL;
	if (n == 0 || n > ATREST_MAX_RECIPIENTS || strlen(session) != REC_ID_LEN)
		return OTG_ERR_INVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return OTG_ERR_NOMEM;
	memcpy(w->session, session, REC_ID_LEN + 1);
	if ((w->ctx = EVP_CIPHER_CTX_new()) == NULL || RAND_bytes(w->key, sizeof(w->key)) != 1) {
		r = OTG_ERR_CRYPTO;
		goto out;
	}
	if ((r = buf_put(header, ATREST_MAGIC, 8)) != 0 || (r = buf_putc(header, (int)n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = atrest_wrap(w, recipients[i], header)) != 0)
			goto out;
	}
	*out = w;
	return 0;
out:
	atrest_writer_free(w);
	return r;
}

static void
atrest_chunk_iv(uint64_t chunk, uint8_t iv[12], const char *session, int flags,
    uint8_t aad[REC_ID_LEN + 9])
{
	int i;

	memset(iv, 0, 12);
	for (i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(chunk >> (56 - 8 * i));
	memcpy(aad, session, REC_ID_LEN);
	memcpy(aad + REC_ID_LEN, iv + 4, 8);
	aad[REC_ID_LEN + 8] = (uint8_t)flags;
}

int
atrest_chunk(struct atrest_writer *w, const void *plain, size_t len, int last,
    struct buf *out)
{
	uint8_t iv[12], aad[REC_ID_LEN + 9], *cipher = NULL;
	int flags = last ? ATREST_LAST : 0, r;

	if (len > ATREST_MAX_CHUNK)
		return OTG_ERR_TOOBIG;
	if ((cipher = malloc(len + ATREST_TAG_LEN + 16)) == NULL)
		return OTG_ERR_NOMEM;
	atrest_chunk_iv(w->chunk, iv, w->session, flags, aad);
	if ((r = atrest_gcm(w->ctx, 1, w->key, iv, aad, sizeof(aad), plain, len, cipher,
	    cipher + len)) != 0)
		goto out;
	if ((r = buf_put_u32(out, (uint32_t)len)) != 0 || (r = buf_putc(out, flags)) != 0 ||
	    (r = buf_put(out, cipher, len + ATREST_TAG_LEN)) != 0)
		goto out;
	w->chunk++;
out:
	free(cipher);
	return r;
}

void
atrest_writer_free(struct atrest_writer *w)
{
	if (w == NULL)
		return;
	EVP_CIPHER_CTX_free(w->ctx);
	explicit_bzero(w, sizeof(*w));
	free(w);
}

int
atrest_keygen(const char *priv_path, const char *pub_path)
{
	EVP_PKEY *pkey;
	BIO *bio = NULL;
	char *p;
	long n;
	int r = OTG_ERR_CRYPTO;

	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) == NULL)
		return OTG_ERR_CRYPTO;
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PUBKEY(bio, pkey) != 1 || (n = BIO_get_mem_data(bio, &p)) <= 0)
		goto out;
	if ((r = file_write_atomic(pub_path, p, (size_t)n, 0644)) != 0)
		goto out;
	BIO_free(bio);
	r = OTG_ERR_CRYPTO;
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(bio, &p)) <= 0)
		goto out;
	r = file_write_atomic(priv_path, p, (size_t)n, 0600);
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return r;
}

int
atrest_public_load(const char *path, uint8_t pub[32])
{
	EVP_PKEY *pkey = NULL;
	char *text = NULL;
	BIO *bio = NULL;
	size_t len;
	int r;

	if ((r = file_read(path, 65536, &text, &len)) != 0)
		return r;
	r = OTG_ERR_CRYPTO;
	if ((bio = BIO_new_mem_buf(text, (int)len)) != NULL &&
	    (pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) != NULL)
		r = atrest_raw_public(pkey, pub);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	free(text);
	return r;
}

int
atrest_key_load(const char *path, void **out)
{
	EVP_PKEY *pkey = NULL;
	char *text = NULL, why[512];
	BIO *bio = NULL;
	size_t len = 0;
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
	if ((r = file_read(path, 65536, &text, &len)) != 0)
		return r;
	r = OTG_ERR_CRYPTO;
	if ((bio = BIO_new_mem_buf(text, (int)len)) != NULL &&
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) != NULL &&
	    EVP_PKEY_is_a(pkey, "X25519")) {
		*out = pkey;
		pkey = NULL;
		r = 0;
	}
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	explicit_bzero(text, len);
	free(text);
	return r;
}

void
atrest_key_free(void *pkey)
{
	EVP_PKEY_free(pkey);
}

/* Find our stanza and unwrap the file key. */
static int
atrest_unwrap(struct atrest_reader *rd, EVP_PKEY *priv)
{
	uint8_t head[9], stanza[ATREST_STANZA_LEN], pub[32], fp[REC_HASH_LEN];
	uint8_t kek[ATREST_KEY_LEN], iv[12] = { 0 };
	int i, n, r, found = OTG_ERR_NOTFOUND;

	if (fread(head, 1, sizeof(head), rd->in) != sizeof(head))
		return OTG_ERR_TRUNCATED;
	if (memcmp(head, ATREST_MAGIC, 8) != 0)
		return OTG_ERR_PROTO;
	n = head[8];
	if (n == 0 || n > ATREST_MAX_RECIPIENTS)
		return OTG_ERR_PROTO;
	if ((r = atrest_raw_public(priv, pub)) != 0 || (r = reckey_fingerprint(pub, fp)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (fread(stanza, 1, sizeof(stanza), rd->in) != sizeof(stanza))
			return OTG_ERR_TRUNCATED;
		if (found == 0 || CRYPTO_memcmp(stanza, fp, REC_HASH_LEN) != 0)
			continue;
		if ((r = atrest_kek(priv, stanza + REC_HASH_LEN, stanza + REC_HASH_LEN, pub,
		    rd->session, kek)) != 0)
			return r;
		r = atrest_gcm(rd->ctx, 0, kek, iv, (const uint8_t *)rd->session, REC_ID_LEN,
		    stanza + REC_HASH_LEN + 32, ATREST_KEY_LEN, rd->key,
		    stanza + REC_HASH_LEN + 32 + ATREST_KEY_LEN);
		explicit_bzero(kek, sizeof(kek));
		if (r != 0)
			return r;
		found = 0;
	}
	return found;
}

/* Decrypt the next chunk; 0, 1 at the end, negative on damage. */
static int
atrest_next_chunk(struct atrest_reader *rd)
{
	uint8_t head[5], iv[12], aad[REC_ID_LEN + 9], *cipher;
	size_t got;
	uint32_t len;
	int r;

	if ((got = fread(head, 1, sizeof(head), rd->in)) == 0)
		return rd->last_seen ? 1 : OTG_ERR_TRUNCATED;
	if (got != sizeof(head) || rd->last_seen)
		return rd->last_seen ? OTG_ERR_PROTO : OTG_ERR_TRUNCATED;
	len = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 |
	    head[3];
	if (len > ATREST_MAX_CHUNK || (head[4] & ~ATREST_LAST) != 0)
		return OTG_ERR_PROTO;
	if ((cipher = malloc((size_t)len + ATREST_TAG_LEN)) == NULL)
		return OTG_ERR_NOMEM;
	if (fread(cipher, 1, (size_t)len + ATREST_TAG_LEN, rd->in) != (size_t)len +
	    ATREST_TAG_LEN) {
		free(cipher);
		return OTG_ERR_TRUNCATED;
	}
	atrest_chunk_iv(rd->chunk, iv, rd->session, head[4], aad);
	r = atrest_gcm(rd->ctx, 0, rd->key, iv, aad, sizeof(aad), cipher, len, rd->plain,
	    cipher + len);
	free(cipher);
	if (r != 0)
		return r;
	rd->len = len;
	rd->off = 0;
	rd->chunk++;
	rd->last_seen = head[4] & ATREST_LAST;
	return 0;
}

static ssize_t
atrest_read_cb(void *cookie, char *buf, size_t size)
{
	struct atrest_reader *rd = cookie;
	size_t n;
	int r;

	while (rd->off == rd->len) {
		if (rd->failed)
			return 0;
		if ((r = atrest_next_chunk(rd)) != 0) {
			/* what was authenticated has been read; the rest is not served */
			rd->failed = r;
			if (r != 1)
				log_warnx("encrypted recording: %s after chunk %llu",
				    otg_strerror(r), (unsigned long long)rd->chunk);
			return 0;
		}
	}
	n = rd->len - rd->off < size ? rd->len - rd->off : size;
	memcpy(buf, rd->plain + rd->off, n);
	rd->off += n;
	return (ssize_t)n;
}

static int
atrest_close_cb(void *cookie)
{
	struct atrest_reader *rd = cookie;

	fclose(rd->in);
	EVP_CIPHER_CTX_free(rd->ctx);
	if (rd->plain != NULL)
		explicit_bzero(rd->plain, ATREST_MAX_CHUNK + 16);
	free(rd->plain);
	explicit_bzero(rd, sizeof(*rd));
	free(rd);
	return 0;
}

int
atrest_open(FILE *in, const char *session, void *pkey, FILE **out)
{
	cookie_io_functions_t io = { atrest_read_cb, NULL, NULL, atrest_close_cb };
	struct atrest_reader *rd;
	int r;

	*out = NULL;
	if (strlen(session) != REC_ID_LEN)
		return OTG_ERR_INVAL;
	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return OTG_ERR_NOMEM;
	rd->in = in;
	memcpy(rd->session, session, REC_ID_LEN + 1);
	if ((rd->ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    (rd->plain = malloc(ATREST_MAX_CHUNK + 16)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	if ((r = atrest_unwrap(rd, pkey)) != 0)
		goto out;
	if ((*out = fopencookie(rd, "r", io)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	return 0;
out:
	EVP_CIPHER_CTX_free(rd->ctx);
	free(rd->plain);
	explicit_bzero(rd, sizeof(*rd));
	free(rd);
	return r;
}
