/*
 * base64.c: RFC 4648 base64 for the bytes a JSON recording cannot hold (output
 * that is not UTF-8, keys and signatures in the seal file). Decoding is strict
 * so one file has one meaning: padding required, no whitespace, no stray bits.
 */
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_encode(struct buf *out, const void *in, size_t len)
{
	const uint8_t *p = in;
	char q[4];
	uint32_t v;
	size_t i;
	int r;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		q[0] = base64_alphabet[v >> 18];
		q[1] = base64_alphabet[(v >> 12) & 63];
		q[2] = base64_alphabet[(v >> 6) & 63];
		q[3] = base64_alphabet[v & 63];
		if ((r = buf_put(out, q, 4)) != 0)
			return r;
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		q[0] = base64_alphabet[v >> 18];
		q[1] = base64_alphabet[(v >> 12) & 63];
		q[2] = i + 1 < len ? base64_alphabet[(v >> 6) & 63] : '=';
		q[3] = '=';
		if ((r = buf_put(out, q, 4)) != 0)
			return r;
	}
	return 0;
}

static int
base64_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(base64_alphabet, c)) == NULL)
		return -1;
	return (int)(p - base64_alphabet);
}

int
base64_decode(const char *in, size_t len, struct buf *out)
{
	uint8_t bytes[3];
	uint32_t v;
	size_t i, npad, k;
	int d, r;

	if (len % 4 != 0)
		return OTG_ERR_PROTO;
	for (i = 0; i < len; i += 4) {
		npad = 0;
		v = 0;
		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				npad++;
				v <<= 6;
				continue;
			}
			if (npad > 0 || (d = base64_value(in[i + k])) < 0)
				return OTG_ERR_PROTO;
			v = v << 6 | (uint32_t)d;
		}
		/* the unused low bits must be zero */
		if ((npad == 1 && (v & 0xff) != 0) || (npad == 2 && (v & 0xffff) != 0))
			return OTG_ERR_PROTO;
		bytes[0] = (uint8_t)(v >> 16);
		bytes[1] = (uint8_t)(v >> 8);
		bytes[2] = (uint8_t)v;
		if ((r = buf_put(out, bytes, 3 - npad)) != 0)
			return r;
	}
	return 0;
}
