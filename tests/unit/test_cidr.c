/* test_cidr.c: egress networks: IPv4, IPv6, IPv4-mapped addresses, /0, host
 * routes, prefixes off byte boundaries, and every malformed network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <cmocka.h>

#include "common/common.h"

/* a sockaddr for a numeric address of either family */
static const struct sockaddr *
addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(22);
	} else {
		assert_int_equal(inet_pton(AF_INET6, s, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(22);
	}
	return (const struct sockaddr *)ss;
}

static void
expect(const char *net, const char *a, int inside)
{
	struct sockaddr_storage ss;
	struct cidr c;

	assert_int_equal(cidr_parse(net, &c), 0);
	if (cidr_contains(&c, addr(a, &ss)) != inside)
		fail_msg("%s in %s: got %d, want %d", a, net, !inside, inside);
}

static void
test_ipv4(void **state)
{
	struct cidr c;

	(void)state;
	assert_int_equal(cidr_parse("10.0.0.0/8", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.bits, 8);
	expect("10.0.0.0/8", "10.0.0.0", 1);
	expect("10.0.0.0/8", "10.255.255.255", 1);
	expect("10.0.0.0/8", "11.0.0.0", 0);
	expect("10.0.0.0/8", "9.255.255.255", 0);
	expect("192.168.1.0/24", "192.168.1.77", 1);
	expect("192.168.1.0/24", "192.168.2.77", 0);
	/* prefixes that end inside a byte */
	expect("10.20.0.0/14", "10.23.255.255", 1);
	expect("10.20.0.0/14", "10.24.0.0", 0);
	expect("10.20.0.0/14", "10.19.255.255", 0);
	expect("172.16.0.0/12", "172.31.0.1", 1);
	expect("172.16.0.0/12", "172.32.0.1", 0);
	/* an IPv4 network never holds an IPv6 address */
	expect("10.0.0.0/8", "::a00:1", 0);
}

static void
test_host_routes_and_zero(void **state)
{
	struct cidr c;

	(void)state;
	/* a bare address is a host route */
	assert_int_equal(cidr_parse("127.0.0.2", &c), 0);
	assert_int_equal(c.bits, 32);
	expect("127.0.0.2", "127.0.0.2", 1);
	expect("127.0.0.2", "127.0.0.3", 0);
	expect("10.1.2.3/32", "10.1.2.3", 1);
	expect("10.1.2.3/32", "10.1.2.2", 0);
	expect("::1/128", "::1", 1);
	expect("::1", "::2", 0);
	/* /0 holds its whole family and nothing of the other */
	expect("0.0.0.0/0", "0.0.0.0", 1);
	expect("0.0.0.0/0", "255.255.255.255", 1);
	expect("0.0.0.0/0", "2001:db8::1", 0);
	expect("::/0", "2001:db8::1", 1);
	expect("::/0", "10.0.0.1", 0);
}

static void
test_ipv6(void **state)
{
	struct cidr c;

	(void)state;
	assert_int_equal(cidr_parse("2001:db8::/32", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.bits, 32);
	expect("2001:db8::/32", "2001:db8:ffff::1", 1);
	expect("2001:db8::/32", "2001:db9::1", 0);
	expect("fd00:1:2:3::/64", "fd00:1:2:3:ffff:ffff:ffff:ffff", 1);
	expect("fd00:1:2:3::/64", "fd00:1:2:4::", 0);
	expect("fe80::/10", "febf::1", 1);
	expect("fe80::/10", "fec0::1", 0);
	expect("2001:db8::/127", "2001:db8::1", 1);
	expect("2001:db8::/127", "2001:db8::2", 0);
}

static void
test_ipv4_mapped(void **state)
{
	(void)state;
	/* ::ffff:a.b.c.d is judged as a.b.c.d: an IPv4 rule covers it ... */
	expect("10.0.0.0/8", "::ffff:10.1.2.3", 1);
	expect("10.0.0.0/8", "::ffff:11.1.2.3", 0);
	expect("127.0.0.0/8", "::ffff:127.0.0.2", 1);
	/* ... and an IPv6 rule cannot be used to reach an IPv4 address */
	expect("::/0", "::ffff:10.1.2.3", 0);
	expect("::ffff:0:0/96", "::ffff:10.1.2.3", 0);
	/* look-alikes that are not mapped stay IPv6 */
	expect("10.0.0.0/8", "::10.1.2.3", 0);
	expect("10.0.0.0/8", "::fffe:10.1.2.3", 0);
	expect("::/96", "::10.1.2.3", 1);
}

static void
test_bad_syntax(void **state)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.256/8",
		"10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/8x", "10.0.0.0/ 8", " 10.0.0.0/8",
		"plc.example", "10.0.0.0/4294967304", "1:2:3:4:5:6:7:8:9/64", "[::1]/128",
		"10.0.0.0/8 ", "0x0a000000/8",
	};
	struct cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cidr_parse(bad[i], &c) != OTG_ERR_INVAL)
			fail_msg("'%s' was accepted", bad[i]);
}

static void
test_lists_and_other_families(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	struct cidr list[2];

	(void)state;
	assert_int_equal(cidr_parse("10.0.0.0/8", &list[0]), 0);
	assert_int_equal(cidr_parse("fd00::/8", &list[1]), 0);
	assert_int_equal(cidr_list_contains(list, 2, addr("10.9.9.9", &ss)), 1);
	assert_int_equal(cidr_list_contains(list, 2, addr("fd12::1", &ss)), 1);
	assert_int_equal(cidr_list_contains(list, 2, addr("192.0.2.1", &ss)), 0);
	/* an empty egress list lets nothing out */
	assert_int_equal(cidr_list_contains(list, 0, addr("10.9.9.9", &ss)), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(cidr_list_contains(list, 2, (const struct sockaddr *)&sun), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_host_routes_and_zero),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ipv4_mapped),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_lists_and_other_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
