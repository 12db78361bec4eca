/* ini_fuzz.c: the INI-like parser of otgated.conf and policy files takes any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d;
	struct ini *ini = NULL;

	diag_init(&d);
	(void)ini_parse("fuzz.conf", (const char *)data, size, &d, &ini);
	ini_free(ini);
	diag_free(&d);
	return 0;
}
