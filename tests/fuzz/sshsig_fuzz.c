/* sshsig_fuzz.c: `otgate verify --bundle` reads MANIFEST.sha256.sig from a
 * bundle anyone may have edited: any bytes give a verdict, never a crash, and
 * only a signature that really verifies is accepted. The input is the armour;
 * the message is fixed, so an accepted input must be a genuine signature of it,
 * which the fuzzer cannot forge: acceptance aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char msg[] = "fuzzed manifest\n";
	uint8_t pub[REC_ED25519_LEN];
	int r;

	r = sshsig_verify((const char *)data, size, SSHSIG_NAMESPACE, msg, sizeof(msg) - 1,
	    pub);
	if (r == 0)
		abort();
	if (r != OTG_ERR_PROTO && r != OTG_ERR_BADSIG && r != OTG_ERR_NOMEM &&
	    r != OTG_ERR_TOOBIG && r != OTG_ERR_CRYPTO)
		abort();
	return 0;
}
