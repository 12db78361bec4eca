/* audit_fuzz.c: audit_verify reads logs an attacker may have edited: any bytes
 * give a verdict, and a broken chain names a line that exists. The same bytes
 * as a stream whose chain starts where its first line says (the oldest of a
 * rotated set, auditset.c), and as a directory entry that may name a rotated
 * file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "broker/broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
verdict_ok(int r, unsigned long long nlines, unsigned long long bad, const char *why)
{
	if (r == 0 && bad != 0)
		abort();
	if (r == OTG_ERR_BADSIG && (bad == 0 || bad > nlines || why[0] == '\0'))
		abort();
}

static void
fuzz_stream(const uint8_t *data, size_t size)
{
	unsigned long long nlines, bad, last_seq;
	char why[256], last[65];
	FILE *fp;
	int r;

	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return;
	r = audit_verify_stream(fp, 0, NULL, &last_seq, last, &nlines, &bad, why,
	    sizeof(why));
	verdict_ok(r, nlines, bad, why);
	if (r == 0 && nlines > 0 && (last_seq < nlines || strlen(last) != 64))
		abort();
	fclose(fp);
}

static void
fuzz_name(const uint8_t *data, size_t size)
{
	struct auditset_key key;
	char name[300];

	if (size >= sizeof(name))
		size = sizeof(name) - 1;
	memcpy(name, data, size);
	name[size] = '\0';
	if (auditset_rotated("audit.log", name, &key) &&
	    (strncmp(name, "audit.log", 9) != 0 || strlen(key.date) >= sizeof(key.date) ||
	    (key.dated && key.date[0] == '\0')))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long nlines, bad;
	char path[64], why[256];
	int fd, r;

	fuzz_name(data, size);
	fuzz_stream(data, size);
	/* an in-memory file: no disk I/O per input */
	if ((fd = memfd_create("audit", 0)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = audit_verify(path, &nlines, &bad, why, sizeof(why));
	verdict_ok(r, nlines, bad, why);
	close(fd);
	return 0;
}
