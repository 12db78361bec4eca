/* test_lockout.c: failure counting with a sliding window, lock duration, admin
 * locks, source throttling, the table bound and the persistent form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/common.h"
#include "pam/pam.h"

#define T0 1700000000

static void
test_five_failures_lock(void **state)
{
	struct lockout l;
	int i;

	(void)state;
	assert_int_equal(lockout_init(&l, 5, 900, 100), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(lockout_fail(&l, "alice", T0 + i * 60), 0);
		assert_int_equal(lockout_locked(&l, "alice", T0 + i * 60), 0);
	}
	/* the fifth within 15 minutes locks for 15 minutes from then */
	assert_int_equal(lockout_fail(&l, "alice", T0 + 600), 1);
	assert_int_equal(lockout_locked(&l, "alice", T0 + 600), 900);
	assert_int_equal(lockout_locked(&l, "alice", T0 + 1499), 1);
	assert_int_equal(lockout_locked(&l, "alice", T0 + 1500), 0);
	/* failures while locked are counted, but do not extend the lock */
	assert_int_equal(lockout_fail(&l, "alice", T0 + 700), 0);
	assert_int_equal(lockout_locked(&l, "alice", T0 + 1499), 1);
	/* another user is not affected */
	assert_int_equal(lockout_locked(&l, "bob", T0 + 600), 0);
	lockout_free(&l);
}

static void
test_window_slides(void **state)
{
	struct lockout l;
	int i;

	(void)state;
	assert_int_equal(lockout_init(&l, 5, 900, 100), 0);
	/* four failures, then four more just after the first ones aged out:
	 * never five within 900 s */
	for (i = 0; i < 4; i++)
		assert_int_equal(lockout_fail(&l, "alice", T0 + i), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(lockout_fail(&l, "alice", T0 + 900 + i), 0);
	assert_int_equal(lockout_locked(&l, "alice", T0 + 904), 0);
	/* the fifth within the last 900 s locks */
	assert_int_equal(lockout_fail(&l, "alice", T0 + 1000), 1);
	lockout_free(&l);
}

static void
test_clear_and_admin_lock(void **state)
{
	struct lockout l;

	(void)state;
	assert_int_equal(lockout_init(&l, 3, 60, 100), 0);
	assert_int_equal(lockout_fail(&l, "alice", T0), 0);
	assert_int_equal(lockout_fail(&l, "alice", T0 + 1), 0);
	/* a success forgets the failures */
	lockout_clear(&l, "alice");
	assert_int_equal(lockout_fail(&l, "alice", T0 + 2), 0);
	assert_int_equal(lockout_fail(&l, "alice", T0 + 3), 0);
	assert_int_equal(lockout_fail(&l, "alice", T0 + 4), 1);
	/* an unlock ends a lock at once */
	lockout_clear(&l, "alice");
	assert_int_equal(lockout_locked(&l, "alice", T0 + 5), 0);
	/* an admin lock has no end */
	assert_int_equal(lockout_lock(&l, "bob"), 0);
	assert_true(lockout_locked(&l, "bob", T0) == LOCKOUT_FOREVER);
	assert_true(lockout_locked(&l, "bob", T0 + 100 * 365 * 86400LL) == LOCKOUT_FOREVER);
	lockout_clear(&l, "bob");
	assert_int_equal(lockout_locked(&l, "bob", T0), 0);
	/* bad keys */
	assert_int_equal(lockout_fail(&l, "", T0), OTG_ERR_INVAL);
	assert_int_equal(lockout_fail(&l, "a b", T0), OTG_ERR_INVAL);
	assert_int_equal(lockout_lock(&l, "a\nb"), OTG_ERR_INVAL);
	lockout_free(&l);
	/* bad parameters */
	assert_int_equal(lockout_init(&l, 0, 60, 10), OTG_ERR_INVAL);
	assert_int_equal(lockout_init(&l, LOCKOUT_SLOTS + 1, 60, 10), OTG_ERR_INVAL);
	assert_int_equal(lockout_init(&l, 5, 0, 10), OTG_ERR_INVAL);
	lockout_free(&l);
}

static void
test_source_delay(void **state)
{
	struct lockout l;
	int i;

	(void)state;
	assert_int_equal(lockout_init(&l, 5, 900, 100), 0);
	for (i = 0; i < 4; i++)
		lockout_fail(&l, "@192.0.2.1", T0);
	assert_int_equal(lockout_delay(&l, "@192.0.2.1", T0), 0);
	lockout_fail(&l, "@192.0.2.1", T0);
	assert_int_equal(lockout_delay(&l, "@192.0.2.1", T0), 1);
	lockout_fail(&l, "@192.0.2.1", T0);
	assert_int_equal(lockout_delay(&l, "@192.0.2.1", T0), 2);
	lockout_fail(&l, "@192.0.2.1", T0);
	assert_int_equal(lockout_delay(&l, "@192.0.2.1", T0), 4);
	for (i = 0; i < 20; i++)
		lockout_fail(&l, "@192.0.2.1", T0);
	assert_int_equal(lockout_delay(&l, "@192.0.2.1", T0), LOCKOUT_DELAY_MAX);
	/* it fades once the failures are older than the period */
	assert_int_equal(lockout_delay(&l, "@192.0.2.1", T0 + 900), 0);
	assert_int_equal(lockout_delay(&l, "@198.51.100.7", T0), 0);
	lockout_free(&l);
}

static void
test_table_bound(void **state)
{
	struct lockout l;
	char key[32];
	int i;

	(void)state;
	assert_int_equal(lockout_init(&l, 5, 900, 8), 0);
	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "user%d", i);
		assert_int_equal(lockout_fail(&l, key, T0), 0);
	}
	/* full of recent failures: a new key is refused, old ones still count */
	assert_int_equal(lockout_fail(&l, "other", T0 + 1), OTG_ERR_TOOBIG);
	assert_int_equal(lockout_fail(&l, "user3", T0 + 1), 0);
	/* once they aged out, they make room */
	assert_int_equal(lockout_fail(&l, "other", T0 + 901), 0);
	assert_true(l.n <= 8);
	/* an admin lock always finds room */
	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "again%d", i);
		lockout_fail(&l, key, T0 + 902);
	}
	assert_int_equal(lockout_lock(&l, "mallory"), 0);
	assert_true(lockout_locked(&l, "mallory", T0 + 903) == LOCKOUT_FOREVER);
	lockout_free(&l);
}

static void
test_persistent_form(void **state)
{
	struct lockout l, back;
	struct buf b;
	char *text;
	int i;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(lockout_init(&l, 5, 900, 100), 0);
	assert_int_equal(lockout_init(&back, 5, 900, 100), 0);
	for (i = 0; i < 5; i++)
		lockout_fail(&l, "alice", T0 + i);
	lockout_fail(&l, "bob", T0 - 2000);	/* old: not written */
	lockout_fail(&l, "carol", T0);
	lockout_lock(&l, "dave");
	assert_int_equal(lockout_format(&l, T0 + 10, &b), 0);
	text = buf_strdup(&b);
	assert_non_null(strstr(text, "alice 1700000904 1700000000 1700000001 "
	    "1700000002 1700000003 1700000004\n"));
	assert_non_null(strstr(text, "carol 0 1700000000\n"));
	assert_non_null(strstr(text, "dave 18446744073709551615\n"));
	assert_null(strstr(text, "bob"));
	assert_int_equal(lockout_parse(&back, text, strlen(text)), 0);
	assert_int_equal(back.n, 3);
	assert_int_equal(lockout_locked(&back, "alice", T0 + 10), 894);
	assert_true(lockout_locked(&back, "dave", T0) == LOCKOUT_FOREVER);
	assert_int_equal(lockout_fail(&back, "carol", T0 + 11), 0);
	free(text);

	/* corrupt forms are refused and leave an empty table */
	assert_int_equal(lockout_parse(&back, "alice 0 1", 9), OTG_ERR_TRUNCATED);
	assert_int_equal(back.n, 0);
	assert_int_equal(lockout_parse(&back, "alice\n", 6), OTG_ERR_PROTO);
	assert_int_equal(lockout_parse(&back, "alice x\n", 8), OTG_ERR_PROTO);
	assert_int_equal(lockout_parse(&back, "alice 0  1\n", 11), OTG_ERR_PROTO);
	assert_int_equal(lockout_parse(&back, "alice 0 5 4\n", 12), OTG_ERR_PROTO);
	assert_int_equal(lockout_parse(&back, "alice 0\nalice 0\n", 16), OTG_ERR_PROTO);
	assert_int_equal(lockout_parse(&back, "alice 99999999999999999999\n", 27),
	    OTG_ERR_PROTO);
	assert_int_equal(lockout_parse(&back, " 0\n", 3), OTG_ERR_PROTO);
	assert_int_equal(lockout_parse(&back, "", 0), 0);
	lockout_free(&l);
	lockout_free(&back);
	buf_free(&b);
}

/* A restart: the table read back from disk counts on where it stopped, keeps
 * admin locks and running locks (never longer than a period), and ignores
 * failures from the future. */
static void
test_merge_after_restart(void **state)
{
	static const char text[] =
	    "alice 0 1700000000 1700000060 1700000120\n"
	    "bob 18446744073709551615\n"
	    "carol 1700009999 1700000100\n"
	    "dave 0 1700000100 1800000000\n";
	struct lockout stored, l;

	(void)state;
	assert_int_equal(lockout_init(&stored, 5, 900, 100), 0);
	assert_int_equal(lockout_parse(&stored, text, sizeof(text) - 1), 0);
	assert_int_equal(lockout_init(&l, 5, 900, 100), 0);
	assert_int_equal(lockout_merge(&l, &stored, T0 + 200), 0);
	/* alice had three: two more lock her */
	assert_int_equal(lockout_fail(&l, "alice", T0 + 210), 0);
	assert_int_equal(lockout_locked(&l, "alice", T0 + 210), 0);
	assert_int_equal(lockout_fail(&l, "alice", T0 + 220), 1);
	assert_int_equal(lockout_locked(&l, "bob", T0 + 200), LOCKOUT_FOREVER);
	/* carol's stored lock runs on, cut to one period from now */
	assert_int_equal(lockout_locked(&l, "carol", T0 + 200), 900);
	/* dave's failure "from 2027" is not counted: four more do not lock */
	assert_int_equal(lockout_fail(&l, "dave", T0 + 300), 0);
	assert_int_equal(lockout_fail(&l, "dave", T0 + 301), 0);
	assert_int_equal(lockout_fail(&l, "dave", T0 + 302), 0);
	assert_int_equal(lockout_locked(&l, "dave", T0 + 302), 0);
	assert_int_equal(lockout_known(&l, "dave"), 1);
	assert_int_equal(lockout_known(&l, "erin"), 0);
	lockout_free(&l);
	lockout_free(&stored);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_five_failures_lock),
		cmocka_unit_test(test_window_slides),
		cmocka_unit_test(test_clear_and_admin_lock),
		cmocka_unit_test(test_source_delay),
		cmocka_unit_test(test_table_bound),
		cmocka_unit_test(test_persistent_form),
		cmocka_unit_test(test_merge_after_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
