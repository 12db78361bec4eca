/* test_grace.c: mfa-grace covers the same user, key and source only, for the
 * period after the code, never for passwords, and is forgotten on request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"
#include "pam/pam.h"

#define T0 1700000000
#define KEY "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
#define KEY2 "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"

static void
test_same_three_only(void **state)
{
	struct grace g;

	(void)state;
	assert_int_equal(grace_init(&g, 300, 100), 0);
	assert_false(grace_covers(&g, "alice", KEY, "192.0.2.1", T0));
	assert_int_equal(grace_remember(&g, "alice", KEY, "192.0.2.1", T0), 0);
	assert_true(grace_covers(&g, "alice", KEY, "192.0.2.1", T0 + 1));
	assert_true(grace_covers(&g, "alice", KEY, "192.0.2.1", T0 + 299));
	assert_false(grace_covers(&g, "alice", KEY, "192.0.2.1", T0 + 300));
	assert_false(grace_covers(&g, "bob", KEY, "192.0.2.1", T0 + 1));
	assert_false(grace_covers(&g, "alice", KEY2, "192.0.2.1", T0 + 1));
	assert_false(grace_covers(&g, "alice", KEY, "192.0.2.2", T0 + 1));
	assert_false(grace_covers(&g, "alice", NULL, "192.0.2.1", T0 + 1));
	/* a new code restarts the period */
	assert_int_equal(grace_remember(&g, "alice", KEY, "192.0.2.1", T0 + 200), 0);
	assert_true(grace_covers(&g, "alice", KEY, "192.0.2.1", T0 + 499));
	assert_int_equal(g.n, 1);
	/* lock, unlock or reset-mfa forget the user everywhere */
	assert_int_equal(grace_remember(&g, "alice", KEY2, "192.0.2.9", T0 + 200), 0);
	assert_int_equal(grace_remember(&g, "bob", KEY, "192.0.2.1", T0 + 200), 0);
	grace_forget(&g, "alice");
	assert_false(grace_covers(&g, "alice", KEY, "192.0.2.1", T0 + 201));
	assert_false(grace_covers(&g, "alice", KEY2, "192.0.2.9", T0 + 201));
	assert_true(grace_covers(&g, "bob", KEY, "192.0.2.1", T0 + 201));
	/* nothing without a key */
	assert_int_equal(grace_remember(&g, "alice", NULL, "192.0.2.1", T0), OTG_ERR_INVAL);
	assert_int_equal(grace_remember(&g, "alice", "", "192.0.2.1", T0), OTG_ERR_INVAL);
	grace_free(&g);
}

static void
test_off_and_bounded(void **state)
{
	struct grace g;
	char user[16];
	int i;

	(void)state;
	/* mfa-grace = 0: nothing is remembered */
	assert_int_equal(grace_init(&g, 0, 100), 0);
	assert_int_equal(grace_remember(&g, "alice", KEY, "192.0.2.1", T0), 0);
	assert_false(grace_covers(&g, "alice", KEY, "192.0.2.1", T0));
	grace_free(&g);

	assert_int_equal(grace_init(&g, 300, 4), 0);
	for (i = 0; i < 4; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		assert_int_equal(grace_remember(&g, user, KEY, "192.0.2.1", T0 + i), 0);
	}
	/* full: the entry that ends soonest makes way */
	assert_int_equal(grace_remember(&g, "late", KEY, "192.0.2.1", T0 + 10), 0);
	assert_int_equal(g.n, 4);
	assert_false(grace_covers(&g, "user0", KEY, "192.0.2.1", T0 + 11));
	assert_true(grace_covers(&g, "user1", KEY, "192.0.2.1", T0 + 11));
	assert_true(grace_covers(&g, "late", KEY, "192.0.2.1", T0 + 11));
	grace_free(&g);
	assert_int_equal(grace_init(&g, 300, 0), OTG_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_three_only),
		cmocka_unit_test(test_off_and_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
