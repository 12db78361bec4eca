/* test_forward.c: which ssh -L targets name an asset's forwarded port, and
 * every other spelling of a host refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker.h"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

static const char text[] =
    "[asset plc1]\naddress = 10.0.0.5\nlogin = m\nhostkey = " K1 "\nforward = 502 102\n"
    "[asset plc2]\naddress = 10.0.0.6\nlogin = m\nhostkey = " K1 "\nforward = 44818\n"
    "[asset hmi]\naddress = hmi.plant.example\nlogin = m\nhostkey = " K1 "\n";

static struct policy *policy;

static int
setup(void **state)
{
	struct diag d;
	int r;

	(void)state;
	diag_init(&d);
	r = policy_load_buffer("forward.conf", text, strlen(text), &d, &policy);
	diag_free(&d);
	return r;
}

static int
teardown(void **state)
{
	(void)state;
	policy_free(policy);
	return 0;
}

static void
expect_ok(const char *conn_asset, const char *host, unsigned port, const char *asset)
{
	const struct policy_asset *a;
	char why[256] = "";

	if (forward_target(policy, conn_asset, host, port, &a, why, sizeof(why)) != 0)
		fail_msg("%s port %u refused: %s", host, port, why);
	assert_string_equal(a->name, asset);
}

static void
expect_refused(const char *conn_asset, const char *host, unsigned port, const char *needle)
{
	const struct policy_asset *a = NULL;
	char why[256] = "";

	assert_int_equal(forward_target(policy, conn_asset, host, port, &a, why,
	    sizeof(why)), OTG_ERR_PERM);
	assert_null(a);
	if (strstr(why, needle) == NULL)
		fail_msg("%s port %u: reason '%s' lacks '%s'", host ? host : "(null)", port,
		    why, needle);
}

static void
test_allowed(void **state)
{
	(void)state;
	expect_ok("", "plc1", 502, "plc1");
	expect_ok("", "plc1", 102, "plc1");
	expect_ok("", "10.0.0.5", 502, "plc1");
	expect_ok("plc2", "plc2", 44818, "plc2");
	expect_ok(NULL, "10.0.0.6", 44818, "plc2");
}

static void
test_refused(void **state)
{
	(void)state;
	expect_refused("", "plc1", 22, "port 22 is not in asset plc1's forward list");
	expect_refused("", "plc1", 44818, "not in asset plc1's forward list");
	expect_refused("", "plc1", 0, "forward list");
	expect_refused("", "plc1", 65536 + 502, "forward list");
	expect_refused("", "hmi", 80, "not in asset hmi's forward list");
	/* other spellings of an asset's address, loopback, the broker */
	expect_refused("", "167772165", 502, "not an asset");
	expect_refused("", "0xa000005", 502, "not an asset");
	expect_refused("", "::ffff:10.0.0.5", 502, "not an asset");
	expect_refused("", "010.000.000.005", 502, "not an asset");
	expect_refused("", "10.0.0.5.", 502, "not an asset");
	expect_refused("", "PLC1", 502, "not an asset");
	expect_refused("", "127.0.0.1", 502, "not an asset");
	expect_refused("", "localhost", 502, "not an asset");
	expect_refused("", "", 502, "no host");
	expect_refused("", NULL, 502, "no host");
	/* a connection for one asset reaches no other */
	expect_refused("plc1", "plc2", 44818, "this connection is for asset plc1");
	expect_refused("plc1", "10.0.0.6", 44818, "this connection is for asset plc1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
