/*
 * sshsig.c: OpenSSH's "SSHSIG" signature format (PROTOCOL.sshsig in
 * openssh-portable), so that a CSIRT checks an evidence bundle with nothing
 * but `ssh-keygen -Y verify`. Only Ed25519 and SHA-512 are produced; the
 * verifier takes the same, which is all otgate ever signs.
 *
 *   blob   = "SSHSIG" u32(1) string(pubkey) string(namespace) string("")
 *            string("sha512") string(signature)
 *   signed = "SSHSIG" string(namespace) string("") string("sha512")
 *            string(SHA-512(message))
 *   pubkey = string("ssh-ed25519") string(32 bytes)
 *   signature = string("ssh-ed25519") string(64 bytes)
 * Armoured as base64 in lines of 70 between BEGIN/END SSH SIGNATURE.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "report/report.h"

#define SSHSIG_MAGIC "SSHSIG"
#define SSHSIG_VERSION 1
#define SSHSIG_HASH "sha512"
#define SSHSIG_KEYTYPE "ssh-ed25519"
#define SSHSIG_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define SSHSIG_END "-----END SSH SIGNATURE-----"
#define SSHSIG_LINE 70
#define SSHSIG_MAX_ARMOUR 16384

static int
sshsig_put_string(struct buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return OTG_ERR_TOOBIG;
	if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	return buf_put(b, p, n);
}

static int
sshsig_put_cstring(struct buf *b, const char *s)
{
	return sshsig_put_string(b, s, strlen(s));
}

/* The next string of b: a pointer into b and its length. */
static int
sshsig_get_string(struct buf *b, const uint8_t **p, size_t *n)
{
	uint32_t len;
	int r;

	if ((r = buf_get_u32(b, &len)) != 0)
		return OTG_ERR_PROTO;
	if (len > buf_len(b))
		return OTG_ERR_PROTO;
	*p = buf_ptr(b);
	*n = len;
	return buf_consume(b, len) == 0 ? 0 : OTG_ERR_PROTO;
}

static int
sshsig_string_is(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

static int
sshsig_pubkey_blob(struct buf *b, const uint8_t pub[REC_ED25519_LEN])
{
	int r;

	if ((r = sshsig_put_cstring(b, SSHSIG_KEYTYPE)) != 0)
		return r;
	return sshsig_put_string(b, pub, REC_ED25519_LEN);
}

/* The bytes the key signs: the message is represented by its hash. */
static int
sshsig_signed_data(struct buf *b, const char *ns, const void *msg, size_t len)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hn = 0;
	int r;

	if (EVP_Digest(msg, len, h, &hn, EVP_sha512(), NULL) != 1)
		return OTG_ERR_CRYPTO;
	if ((r = buf_put(b, SSHSIG_MAGIC, 6)) != 0 ||
	    (r = sshsig_put_cstring(b, ns)) != 0 ||
	    (r = sshsig_put_string(b, "", 0)) != 0 ||
	    (r = sshsig_put_cstring(b, SSHSIG_HASH)) != 0)
		return r;
	return sshsig_put_string(b, h, hn);
}

int
sshsig_sign(void *pkey, const char *ns, const void *msg, size_t len, struct buf *out)
{
	struct buf tbs, blob, key, sig, b64;
	uint8_t pub[REC_ED25519_LEN], s[REC_SIG_LEN];
	size_t n = sizeof(pub), off;
	int r;

	buf_init(&tbs, 4096);
	buf_init(&blob, 4096);
	buf_init(&key, 256);
	buf_init(&sig, 256);
	buf_init(&b64, SSHSIG_MAX_ARMOUR);
	if (!EVP_PKEY_is_a(pkey, "ED25519") ||
	    EVP_PKEY_get_raw_public_key(pkey, pub, &n) != 1 || n != sizeof(pub)) {
		r = OTG_ERR_CRYPTO;
		goto out;
	}
	if ((r = sshsig_signed_data(&tbs, ns, msg, len)) != 0 ||
	    (r = reckey_sign(pkey, buf_ptr(&tbs), buf_len(&tbs), s)) != 0)
		goto out;
	if ((r = sshsig_pubkey_blob(&key, pub)) != 0 ||
	    (r = sshsig_put_cstring(&sig, SSHSIG_KEYTYPE)) != 0 ||
	    (r = sshsig_put_string(&sig, s, sizeof(s))) != 0)
		goto out;
	if ((r = buf_put(&blob, SSHSIG_MAGIC, 6)) != 0 ||
	    (r = buf_put_u32(&blob, SSHSIG_VERSION)) != 0 ||
	    (r = sshsig_put_string(&blob, buf_ptr(&key), buf_len(&key))) != 0 ||
	    (r = sshsig_put_cstring(&blob, ns)) != 0 ||
	    (r = sshsig_put_string(&blob, "", 0)) != 0 ||
	    (r = sshsig_put_cstring(&blob, SSHSIG_HASH)) != 0 ||
	    (r = sshsig_put_string(&blob, buf_ptr(&sig), buf_len(&sig))) != 0)
		goto out;
	if ((r = base64_encode(&b64, buf_ptr(&blob), buf_len(&blob))) != 0 ||
	    (r = buf_puts(out, SSHSIG_BEGIN "\n")) != 0)
		goto out;
	for (off = 0; off < buf_len(&b64); off += SSHSIG_LINE) {
		n = buf_len(&b64) - off < SSHSIG_LINE ? buf_len(&b64) - off : SSHSIG_LINE;
		if ((r = buf_put(out, buf_ptr(&b64) + off, n)) != 0 ||
		    (r = buf_putc(out, '\n')) != 0)
			goto out;
	}
	r = buf_puts(out, SSHSIG_END "\n");
out:
	buf_free(&tbs);
	buf_free(&blob);
	buf_free(&key);
	buf_free(&sig);
	buf_free(&b64);
	return r;
}

/* The base64 between the armour lines, without line breaks. */
static int
sshsig_dearmour(const char *a, size_t alen, struct buf *blob)
{
	struct buf b64;
	const char *p, *end = a + alen, *begin, *stop;
	size_t bl = strlen(SSHSIG_BEGIN), el = strlen(SSHSIG_END);
	int r = OTG_ERR_PROTO;

	buf_init(&b64, SSHSIG_MAX_ARMOUR);
	if (alen < bl + el || memcmp(a, SSHSIG_BEGIN, bl) != 0)
		goto out;
	begin = a + bl;
	if ((stop = memmem(begin, (size_t)(end - begin), SSHSIG_END, el)) == NULL)
		goto out;
	for (p = begin; p < stop; p++) {
		if (*p == '\n' || *p == '\r')
			continue;
		if ((r = buf_putc(&b64, *p)) != 0)
			goto out;
	}
	r = base64_decode((const char *)buf_ptr(&b64), buf_len(&b64), blob);
	if (r != 0)
		r = OTG_ERR_PROTO;
out:
	buf_free(&b64);
	return r;
}

int
sshsig_verify(const char *armoured, size_t alen, const char *ns, const void *msg,
    size_t len, uint8_t pub[REC_ED25519_LEN])
{
	struct buf blob, inner, tbs;
	const uint8_t *key, *nsp, *res, *hash, *sig, *t, *v;
	size_t keyn, nsn, resn, hashn, sign, tn, vn;
	uint8_t magic[6];
	uint32_t version;
	int r;

	buf_init(&blob, SSHSIG_MAX_ARMOUR);
	buf_init(&tbs, 4096);
	memset(&inner, 0, sizeof(inner));
	if ((r = sshsig_dearmour(armoured, alen, &blob)) != 0)
		goto out;
	r = OTG_ERR_PROTO;
	if (buf_get(&blob, magic, sizeof(magic)) != 0 ||
	    memcmp(magic, SSHSIG_MAGIC, sizeof(magic)) != 0 ||
	    buf_get_u32(&blob, &version) != 0 || version != SSHSIG_VERSION ||
	    sshsig_get_string(&blob, &key, &keyn) != 0 ||
	    sshsig_get_string(&blob, &nsp, &nsn) != 0 ||
	    sshsig_get_string(&blob, &res, &resn) != 0 ||
	    sshsig_get_string(&blob, &hash, &hashn) != 0 ||
	    sshsig_get_string(&blob, &sig, &sign) != 0 || buf_len(&blob) != 0)
		goto out;
	/* the public key: ssh-ed25519 and 32 bytes */
	buf_init(&inner, 256);
	if (buf_put(&inner, key, keyn) != 0 || sshsig_get_string(&inner, &t, &tn) != 0 ||
	    !sshsig_string_is(t, tn, SSHSIG_KEYTYPE) ||
	    sshsig_get_string(&inner, &v, &vn) != 0 || vn != REC_ED25519_LEN ||
	    buf_len(&inner) != 0)
		goto out;
	memcpy(pub, v, REC_ED25519_LEN);
	if (!sshsig_string_is(hash, hashn, SSHSIG_HASH))
		goto out;
	/* a signature made for another purpose must not pass for this one */
	r = OTG_ERR_BADSIG;
	if (!sshsig_string_is(nsp, nsn, ns))
		goto out;
	buf_reset(&inner);
	r = OTG_ERR_PROTO;
	if (buf_put(&inner, sig, sign) != 0 || sshsig_get_string(&inner, &t, &tn) != 0 ||
	    !sshsig_string_is(t, tn, SSHSIG_KEYTYPE) ||
	    sshsig_get_string(&inner, &v, &vn) != 0 || vn != REC_SIG_LEN ||
	    buf_len(&inner) != 0)
		goto out;
	/* otgate writes an empty reserved field; anything else is not ours */
	if (resn != 0 || (r = sshsig_signed_data(&tbs, ns, msg, len)) != 0)
		goto out;
	r = reckey_verify_raw(pub, buf_ptr(&tbs), buf_len(&tbs), v) == 0 ? 0 :
	    OTG_ERR_BADSIG;
out:
	buf_free(&blob);
	buf_free(&inner);
	buf_free(&tbs);
	return r;
}

int
sshsig_pubkey_line(const uint8_t pub[REC_ED25519_LEN], struct buf *out)
{
	struct buf key;
	int r;

	buf_init(&key, 256);
	if ((r = sshsig_pubkey_blob(&key, pub)) == 0 &&
	    (r = buf_puts(out, SSHSIG_KEYTYPE " ")) == 0)
		r = base64_encode(out, buf_ptr(&key), buf_len(&key));
	buf_free(&key);
	return r;
}
