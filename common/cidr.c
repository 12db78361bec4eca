/*
 * cidr.c: networks written as ADDR/BITS (or a bare address), and whether an
 * address falls inside one. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
 * judged as the IPv4 address it carries, so it cannot slip past an IPv4 rule.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

int
cidr_parse(const char *s, struct cidr *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash;
	size_t hostlen;
	uint64_t bits;
	unsigned maxbits;

	memset(out, 0, sizeof(*out));
	slash = strchr(s, '/');
	hostlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hostlen == 0 || hostlen >= sizeof(host))
		return OTG_ERR_INVAL;
	memcpy(host, s, hostlen);
	host[hostlen] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		maxbits = 128;
	} else {
		return OTG_ERR_INVAL;
	}
	out->bits = maxbits;
	if (slash != NULL) {
		if (value_uint(slash + 1, maxbits, &bits) != 0)
			return OTG_ERR_INVAL;
		out->bits = (unsigned)bits;
	}
	return 0;
}

static int
cidr_match_bytes(const uint8_t *net, const uint8_t *addr, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(net, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (net[full] & mask) == (addr[full] & mask);
}

int
cidr_contains(const struct cidr *c, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *addr;
	int family = sa->sa_family;

	if (family == AF_INET) {
		addr = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			addr += 12;
			family = AF_INET;
		}
	} else {
		return 0;
	}
	if (family != c->family)
		return 0;
	return cidr_match_bytes(c->addr, addr, c->bits);
}

int
cidr_list_contains(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_contains(&list[i], sa))
			return 1;
	return 0;
}
