/*
 * totp.c: the TOTP check itself (RFC 6238: HMAC-SHA-1, 30 s steps, 6 or 8
 * digits), pure and shared by otgated and pam_otgate.so. liboath computes the
 * codes; the comparison and the window walk are ours, because liboath's
 * validators compare with strcmp and stop at the first step that matches,
 * while we compare in constant time and must skip steps already spent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/common.h"
#include "pam/pam.h"

/* liboath keeps no state worth tearing down; init once per process. */
static int
totp_oath_init(void)
{
	static int done;

	if (!done) {
		if (oath_init() != OATH_OK)
			return OTG_ERR_CRYPTO;
		done = 1;
	}
	return 0;
}

int
totp_code_syntax(const char *code, unsigned digits)
{
	size_t i;

	if (code == NULL || (digits != 6 && digits != 8))
		return OTG_ERR_INVAL;
	for (i = 0; i < digits; i++) {
		if (code[i] < '0' || code[i] > '9')
			return OTG_ERR_INVAL;	/* also the NUL of a short code */
	}
	return code[digits] == '\0' ? 0 : OTG_ERR_INVAL;
}

int
totp_check(const uint8_t *secret, size_t secretlen, time_t now,
    unsigned window, unsigned digits, const char *code, uint64_t last_counter,
    uint64_t *counter)
{
	char expect[16];
	uint64_t step, c, found = 0;
	int r, matched = 0, spent = 0;
	unsigned i;

	*counter = 0;
	if (totp_code_syntax(code, digits) != 0)
		return OTG_ERR_INVAL;
	if (secret == NULL || secretlen < TOTP_SECRET_MIN || secretlen > TOTP_SECRET_MAX ||
	    now < 0 || window > TOTP_WINDOW_MAX)
		return OTG_ERR_INVAL;
	if ((r = totp_oath_init()) != 0)
		return r;
	step = (uint64_t)now / TOTP_PERIOD;
	/* every step in the window is computed and compared, match or not,
	 * so the time taken says nothing about where a code matched */
	for (i = 0; i <= 2 * window; i++) {
		if (step + i < window)
			continue;	/* before the epoch */
		c = step + i - window;
		if (oath_totp_generate2((const char *)secret, secretlen,
		    (time_t)(c * TOTP_PERIOD), TOTP_PERIOD, 0, digits, 0, expect) != OATH_OK) {
			explicit_bzero(expect, sizeof(expect));
			return OTG_ERR_CRYPTO;
		}
		if (CRYPTO_memcmp(expect, code, digits) == 0) {
			if (c > last_counter) {
				if (!matched)
					found = c;
				matched = 1;
			} else {
				spent = 1;
			}
		}
	}
	explicit_bzero(expect, sizeof(expect));
	if (matched) {
		*counter = found;
		return 0;
	}
	return spent ? OTG_ERR_EXISTS : OTG_ERR_BADSIG;
}

int
totp_secret_new(uint8_t secret[TOTP_SECRET_LEN])
{
	return RAND_bytes(secret, TOTP_SECRET_LEN) == 1 ? 0 : OTG_ERR_CRYPTO;
}

int
totp_base32_encode(const uint8_t *secret, size_t len, char *out, size_t outsz)
{
	char *b32 = NULL;
	size_t b32len = 0, n;
	int r;

	if (len < TOTP_SECRET_MIN || len > TOTP_SECRET_MAX)
		return OTG_ERR_INVAL;
	if ((r = totp_oath_init()) != 0)
		return r;
	if (oath_base32_encode((const char *)secret, len, &b32, &b32len) != OATH_OK)
		return OTG_ERR_NOMEM;
	/* apps want no '=' padding */
	for (n = 0; n < b32len && b32[n] != '='; n++)
		;
	if (n + 1 > outsz) {
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	memcpy(out, b32, n);
	out[n] = '\0';
	r = 0;
out:
	explicit_bzero(b32, b32len);
	free(b32);
	return r;
}

int
totp_base32_decode(const char *b32, uint8_t *out, size_t outsz, size_t *len)
{
	char *raw = NULL;
	size_t rawlen = 0, n;
	int r;

	*len = 0;
	n = strnlen(b32, TOTP_SECRET_B32_MAX);
	if (n == 0 || n == TOTP_SECRET_B32_MAX)
		return OTG_ERR_INVAL;
	if ((r = totp_oath_init()) != 0)
		return r;
	/* liboath accepts lower case, spaces and missing padding */
	if (oath_base32_decode(b32, n, &raw, &rawlen) != OATH_OK)
		return OTG_ERR_INVAL;
	if (rawlen < TOTP_SECRET_MIN || rawlen > TOTP_SECRET_MAX || rawlen > outsz) {
		r = OTG_ERR_INVAL;
		goto out;
	}
	memcpy(out, raw, rawlen);
	*len = rawlen;
	r = 0;
out:
	explicit_bzero(raw, rawlen);
	free(raw);
	return r;
}

int
totp_uri(const char *user, const char *b32, unsigned digits, char *out, size_t outsz)
{
	int n;

	if (!value_name_ok(user) || (digits != 6 && digits != 8))
		return OTG_ERR_INVAL;
	n = snprintf(out, outsz, "otpauth://totp/otgate:%s?secret=%s&issuer=otgate"
	    "&algorithm=SHA1&digits=%u&period=%d", user, b32, digits, TOTP_PERIOD);
	if (n < 0 || (size_t)n >= outsz)
		return OTG_ERR_TOOBIG;
	return 0;
}
