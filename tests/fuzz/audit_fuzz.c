/* audit_fuzz.c: audit_verify reads logs an attacker may have edited: any bytes
 * give a verdict, and a broken chain names a line that exists. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "broker/broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long nlines, bad;
	char path[64], why[256];
	int fd, r;

	/* an in-memory file: no disk I/O per input */
	if ((fd = memfd_create("audit", 0)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = audit_verify(path, &nlines, &bad, why, sizeof(why));
	if (r == 0 && bad != 0)
		abort();
	if (r == OTG_ERR_BADSIG && (bad == 0 || bad > nlines || why[0] == '\0'))
		abort();
	close(fd);
	return 0;
}
