/*
 * policystore.c: every policy the broker has loaded, kept as
 * STATE/policies/SHA256.conf, so an auditor can read the exact rules that a
 * session.start event names by hash, long after the admin edited the file.
 * Each file is written once: the name is the content's hash.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"

int
policystore_keep(const char *state_dir, const struct policy *p)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *source, *hash;
	size_t len;
	int r;

	hash = policy_hash(p);
	source = policy_source(p, &len);
	if (hash == NULL || source == NULL)
		return OTG_ERR_INVAL;
	if (snprintf(dir, sizeof(dir), "%s/policies", state_dir) >= (int)sizeof(dir) ||
	    snprintf(path, sizeof(path), "%s/%s.conf", dir, hash) >= (int)sizeof(path))
		return OTG_ERR_TOOBIG;
	if ((r = file_mkdirs(dir, 0750)) != 0)
		return r;
	if (access(path, F_OK) == 0)
		return 0;
	if (errno != ENOENT)
		return OTG_ERR_IO;
	/* atomic: a crash never leaves a partial file under a hash it does not match */
	return file_write_atomic(path, source, len, 0640);
}
