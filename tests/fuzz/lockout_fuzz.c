/* lockout_fuzz.c: the failure tables that pam_otgate reads back from disk
 * (STATE/totp/+users, +sources) take any bytes; what parses, formats and
 * parses again to the same table. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "pam/pam.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lockout l, again;
	struct buf one, two;

	buf_init(&one, 1 << 24);
	buf_init(&two, 1 << 24);
	lockout_init(&l, 5, 900, 64);
	lockout_init(&again, 5, 900, 64);
	if (lockout_parse(&l, (const char *)data, size) == 0) {
		/* what was written reads back to a table that writes the same */
		if (lockout_format(&l, 0, &one) != 0)
			abort();
		if (buf_len(&one) > 0 && (lockout_parse(&again, (const char *)buf_ptr(&one),
		    buf_len(&one)) != 0 || lockout_format(&again, 0, &two) != 0 ||
		    buf_len(&one) != buf_len(&two) ||
		    memcmp(buf_ptr(&one), buf_ptr(&two), buf_len(&one)) != 0))
			abort();
		/* a broker restarting on this table */
		lockout_free(&again);
		lockout_init(&again, 3, 60, 64);
		(void)lockout_merge(&again, &l, 1700000000);
		if (l.n > 0) {
			(void)lockout_fail(&l, l.v[0].key, 1700000000);
			(void)lockout_locked(&l, l.v[0].key, 1700000000);
			(void)lockout_delay(&l, l.v[0].key, 1700000000);
		}
	}
	lockout_free(&l);
	lockout_free(&again);
	buf_free(&one);
	buf_free(&two);
	return 0;
}
