/*
 * err.c: names for the OTG_ERR_* codes that library code returns.
 */
#include "common/common.h"

const char *
otg_strerror(int err)
{
	switch (err) {
	case OTG_OK:
		return "success";
	case OTG_ERR_NOMEM:
		return "out of memory";
	case OTG_ERR_INVAL:
		return "invalid input";
	case OTG_ERR_IO:
		return "input/output error";
	case OTG_ERR_TOOBIG:
		return "too large";
	case OTG_ERR_NOTFOUND:
		return "not found";
	case OTG_ERR_PERM:
		return "permission denied or loose permissions";
	case OTG_ERR_EXISTS:
		return "already exists";
	case OTG_ERR_CRYPTO:
		return "cryptographic operation failed";
	case OTG_ERR_PROTO:
		return "malformed data";
	case OTG_ERR_TRUNCATED:
		return "truncated data";
	case OTG_ERR_BADSIG:
		return "bad signature or hash";
	case OTG_ERR_RANGE:
		return "value out of range";
	}
	return "unknown error";
}
