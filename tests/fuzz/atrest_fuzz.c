/* atrest_fuzz.c: the decrypting reader of encrypted recordings takes any
 * file: recipient counts, stanzas, chunk lengths and flags that lie. The key
 * is fixed so that the seed corpus (made for it) reaches the chunks. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "recorder/recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the private key the corpus was encrypted to: bytes 1..32 */
static const uint8_t atrest_fuzz_key[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	char chunk[4096];
	FILE *in, *plain;

	if (key == NULL && (key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL,
	    atrest_fuzz_key, sizeof(atrest_fuzz_key))) == NULL)
		return 0;
	if (size == 0 || (in = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	if (atrest_open(in, "0123456789abcdef0123456789abcdef", key, &plain) != 0) {
		fclose(in);
		return 0;
	}
	while (fread(chunk, 1, sizeof(chunk), plain) > 0)
		;
	fclose(plain);
	return 0;
}
