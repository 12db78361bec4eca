/* username_fuzz.c: the SSH user name arrives before authentication: any bytes
 * give either two valid names that rebuild the input, or a one-line reason. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char user[USERNAME_MAX + 1], asset[USERNAME_MAX + 1], why[256], *in;
	size_t ulen;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (username_parse(in, user, sizeof(user), asset, sizeof(asset), why,
	    sizeof(why)) == 0) {
		ulen = strlen(user);
		if (!value_name_ok(user) || (asset[0] != '\0' && !value_name_ok(asset)) ||
		    strncmp(in, user, ulen) != 0)
			abort();
		if (asset[0] == '\0' ? in[ulen] != '\0' :
		    ((in[ulen] != '+' && in[ulen] != ':') || strcmp(in + ulen + 1, asset) != 0))
			abort();
	} else if (why[0] == '\0' || strchr(why, '\n') != NULL || strchr(why, '\r') != NULL ||
	    strchr(why, '\x1b') != NULL) {
		abort();
	}
	free(in);
	return 0;
}
