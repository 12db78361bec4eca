/* value_fuzz.c: the small parsers every config, policy and `otgate` time
 * argument goes through (durations, dates, ports, numbers, UTF-8 text, CIDR
 * networks, time arguments) on any bytes: each accepts or refuses, and what
 * it accepts is in range. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cidr c;
	uint64_t secs, n;
	uint16_t port;
	time_t t;
	char *in;
	int y, m, d;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	(void)value_utf8_ok((const char *)data, size);
	(void)value_name_ok(in);
	(void)value_duration(in, &secs);
	if (value_date(in, &y, &m, &d) == 0 && (m < 1 || m > 12 || d < 1 || d > 31))
		abort();
	if (value_port(in, &port) == 0 && port == 0)
		abort();
	if (value_uint(in, 1000, &n) == 0 && n > 1000)
		abort();
	if (cidr_parse(in, &c) == 0 && (c.family == AF_INET ? c.bits > 32 : c.bits > 128))
		abort();
	(void)timearg_parse(in, NULL, 1700000000, &t);
	free(in);
	return 0;
}
