/* test_policy_decide.c: the access decision table of DESIGN.md section 3:
 * deny beats allow, the union of roles, approval only when every allowing
 * role needs it, the largest limits, expired and disabled users, window
 * bounds, midnight, wrapping day ranges, the DST switches in Europe/Rome
 * given as UTC instants, selectors, unknown names and each channel kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy.h"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIES7B5Edsx1l8gsNNrbn2L9BssPlB1o0pggTnQ7axw8s"
#define ASSET(n, tags) "[asset " n "]\naddress = 10.0.0.1\nlogin = x\nhostkey = " K1 \
	"\ntags = " tags "\n"

static const char text[] =
    ASSET("plc1", "zone:a level:1")
    ASSET("plc2", "zone:a level:2")
    ASSET("sis", "zone:a level:0")
    ASSET("hmi", "zone:b level:2")
    ASSET("other", "zone:c")
    "[window day]\ndays = mon-fri\ntime = 08:00-18:00\ntimezone = Europe/Rome\n"
    "[window night]\ndays = mon-fri\ntime = 22:00-06:00\ntimezone = Europe/Rome\n"
    "[window wrap]\ndays = fri-mon\ntime = 10:00-12:00\ntimezone = Europe/Rome\n"
    "[window late]\ndays = sat\ntime = 23:00-01:00\ntimezone = Europe/Rome\n"
    "[window dstnight]\ndays = sun\ntime = 01:00-04:00\ntimezone = Europe/Rome\n"
    "[window utcday]\ntime = 09:00-10:00\ntimezone = UTC\n"
    "[role maint]\nassets = zone:a\ndeny = level:0\nallow = shell exec sftp forward\n"
    "window = day\nmax-session = 2h\nidle-timeout = 15m\n"
    "[role nightly]\nassets = plc1\nallow = shell\nwindow = night\napproval = required\n"
    "reason = required\nmax-session = 4h\nidle-timeout = 5m\n"
    "[role viewer]\nassets = hmi plc2\nallow = sftp\nmax-session = 1h\n"
    "[role approver-only]\nassets = other\nallow = shell exec\napproval = required\n"
    "[role approver-two]\nassets = other\nallow = shell\napproval = required\n"
    "window = wrap\n"
    "[role free-other]\nassets = other\nallow = exec\nwindow = utcday\n"
    "[role wrapper]\nassets = plc2\nallow = shell\nwindow = wrap\n"
    "[role lateshift]\nassets = hmi\nallow = shell\nwindow = late\n"
    "[role dst]\nassets = hmi\nallow = exec\nwindow = dstnight\n"
    "[role star]\nassets = *\nallow = forward\nwindow = utcday\n"
    "[role blocker]\ndeny = hmi\n"
    "[role multi]\nassets = plc1\nallow = exec\nwindow = day\nwindow = wrap\n"
    "[user alice]\nroles = maint nightly viewer\nauth = password\n"
    "[user bob]\nroles = approver-only approver-two free-other\nauth = password\n"
    "[user carol]\nroles = maint\nauth = password\nexpires = 2026-10-31\n"
    "[user dave]\nroles = maint\nauth = password\ndisabled = yes\n"
    "[user erin]\nroles = viewer blocker\nauth = password\n"
    "[user frank]\nroles = wrapper lateshift dst star\nauth = password\n"
    "[user gina]\nauth = password\n"
    "[user hank]\nroles = multi\nauth = password\n";

static struct policy *policy;

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	assert_int_equal(tz_mktime(NULL, &tm, &t), 0);
	return t;
}

#define SH POLICY_SHELL
#define EX POLICY_EXEC
#define SF POLICY_SFTP
#define FW POLICY_FORWARD
#define A POLICY_ALLOW
#define D POLICY_DENY
#define N POLICY_NEEDS_APPROVAL

struct row {
	const char *user, *asset;
	enum policy_channel kind;
	int y, mo, d, h, mi, s;		/* UTC */
	enum policy_verdict verdict;
	const char *role;		/* NULL: none */
	const char *reason;		/* exact */
};

static void
check_rows(const struct row *rows, size_t n)
{
	struct policy_decision dec;
	time_t t;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		t = utc(r->y, r->mo, r->d, r->h, r->mi, r->s);
		assert_int_equal(policy_decide(policy, r->user, r->asset, r->kind, t,
		    &dec), 0);
		if (dec.verdict != r->verdict || strcmp(dec.reason, r->reason) != 0 ||
		    (r->role == NULL) != (dec.role == NULL) ||
		    (r->role != NULL && strcmp(r->role, dec.role) != 0))
			fail_msg("row %zu: %s %s %s at %04d-%02d-%02dT%02d:%02d:%02dZ: got "
			    "%s/%s/'%s', want %s/%s/'%s'", i, r->user, r->asset,
			    policy_channel_name(r->kind), r->y, r->mo, r->d, r->h, r->mi,
			    r->s, policy_verdict_name(dec.verdict),
			    dec.role ? dec.role : "-", dec.reason,
			    policy_verdict_name(r->verdict), r->role ? r->role : "-",
			    r->reason);
	}
}

#define OUT_DAY "outside window day (mon-fri 08:00-18:00 Europe/Rome)"
#define OUT_WRAP "outside window wrap (fri-mon 10:00-12:00 Europe/Rome)"

/* Monday 2026-11-23, Rome is UTC+1 */
static const struct row window_rows[] = {
	{ "alice", "plc1", SH, 2026, 11, 23, 9, 0, 0, A, "maint", "allowed by role maint" },
	/* A inclusive, B exclusive */
	{ "alice", "plc1", SH, 2026, 11, 23, 6, 59, 59, D, "maint", OUT_DAY },
	{ "alice", "plc1", SH, 2026, 11, 23, 7, 0, 0, A, "maint", "allowed by role maint" },
	{ "alice", "plc1", SH, 2026, 11, 23, 16, 59, 59, A, "maint", "allowed by role maint" },
	{ "alice", "plc1", SH, 2026, 11, 23, 17, 0, 0, D, "maint", OUT_DAY },
	/* across midnight, belonging to the evening's day */
	{ "alice", "plc1", SH, 2026, 11, 23, 21, 0, 0, N, "nightly",
	    "role nightly requires approval" },
	{ "alice", "plc1", SH, 2026, 11, 24, 4, 59, 59, N, "nightly",
	    "role nightly requires approval" },
	{ "alice", "plc1", SH, 2026, 11, 24, 5, 0, 0, D, "maint", OUT_DAY },
	/* saturday 01:00 is friday's night; monday 01:00 is sunday's, not listed */
	{ "alice", "plc1", SH, 2026, 11, 28, 0, 0, 0, N, "nightly",
	    "role nightly requires approval" },
	{ "alice", "plc1", SH, 2026, 11, 23, 0, 0, 0, D, "maint", OUT_DAY },
	/* wrapping day range fri-mon */
	{ "frank", "plc2", SH, 2026, 11, 27, 10, 0, 0, A, "wrapper", "allowed by role wrapper" },
	{ "frank", "plc2", SH, 2026, 11, 28, 10, 0, 0, A, "wrapper", "allowed by role wrapper" },
	{ "frank", "plc2", SH, 2026, 11, 29, 10, 0, 0, A, "wrapper", "allowed by role wrapper" },
	{ "frank", "plc2", SH, 2026, 11, 30, 10, 0, 0, A, "wrapper", "allowed by role wrapper" },
	{ "frank", "plc2", SH, 2026, 11, 24, 10, 0, 0, D, "wrapper", OUT_WRAP },
	{ "frank", "plc2", SH, 2026, 11, 26, 10, 0, 0, D, "wrapper", OUT_WRAP },
	{ "frank", "plc2", SH, 2026, 11, 29, 11, 0, 0, D, "wrapper", OUT_WRAP },
	/* a saturday window into sunday morning */
	{ "frank", "hmi", SH, 2026, 11, 28, 22, 30, 0, A, "lateshift",
	    "allowed by role lateshift" },
	{ "frank", "hmi", SH, 2026, 11, 28, 23, 30, 0, A, "lateshift",
	    "allowed by role lateshift" },
	{ "frank", "hmi", SH, 2026, 11, 29, 0, 0, 0, D, "lateshift",
	    "outside window late (sat 23:00-01:00 Europe/Rome)" },
	{ "frank", "hmi", SH, 2026, 11, 27, 23, 30, 0, D, "lateshift",
	    "outside window late (sat 23:00-01:00 Europe/Rome)" },
	/* a window in UTC, on every day */
	{ "frank", "sis", FW, 2026, 11, 25, 9, 30, 0, A, "star", "allowed by role star" },
	{ "frank", "sis", FW, 2026, 11, 25, 10, 0, 0, D, "star",
	    "outside window utcday (mon-sun 09:00-10:00 UTC)" },
	/* several windows on a role are a union, and all are named when outside */
	{ "hank", "plc1", EX, 2026, 11, 29, 10, 0, 0, A, "multi", "allowed by role multi" },
	{ "hank", "plc1", EX, 2026, 11, 24, 8, 0, 0, A, "multi", "allowed by role multi" },
	{ "hank", "plc1", EX, 2026, 11, 24, 19, 0, 0, D, "multi",
	    "outside windows day (mon-fri 08:00-18:00 Europe/Rome), "
	    "wrap (fri-mon 10:00-12:00 Europe/Rome)" },
};

static void
test_windows(void **state)
{
	(void)state;
	check_rows(window_rows, sizeof(window_rows) / sizeof(window_rows[0]));
}

#define DST_OK "allowed by role dst"
#define DST_OUT "outside window dstnight (sun 01:00-04:00 Europe/Rome)"

/* Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
 * Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC. */
static const struct row dst_rows[] = {
	{ "frank", "hmi", EX, 2026, 3, 28, 23, 59, 59, D, "dst", DST_OUT },
	{ "frank", "hmi", EX, 2026, 3, 29, 0, 0, 0, A, "dst", DST_OK },	/* 01:00 CET */
	{ "frank", "hmi", EX, 2026, 3, 29, 0, 59, 59, A, "dst", DST_OK },
	{ "frank", "hmi", EX, 2026, 3, 29, 1, 0, 0, A, "dst", DST_OK },	/* 03:00 CEST */
	{ "frank", "hmi", EX, 2026, 3, 29, 1, 59, 59, A, "dst", DST_OK },
	{ "frank", "hmi", EX, 2026, 3, 29, 2, 0, 0, D, "dst", DST_OUT },	/* 04:00 CEST */
	{ "frank", "hmi", EX, 2026, 10, 24, 22, 59, 59, D, "dst", DST_OUT },
	{ "frank", "hmi", EX, 2026, 10, 24, 23, 0, 0, A, "dst", DST_OK },	/* 01:00 CEST */
	{ "frank", "hmi", EX, 2026, 10, 25, 0, 30, 0, A, "dst", DST_OK },	/* 02:30 CEST */
	{ "frank", "hmi", EX, 2026, 10, 25, 1, 30, 0, A, "dst", DST_OK },	/* 02:30 CET */
	{ "frank", "hmi", EX, 2026, 10, 25, 2, 59, 59, A, "dst", DST_OK },
	{ "frank", "hmi", EX, 2026, 10, 25, 3, 0, 0, D, "dst", DST_OUT },	/* 04:00 CET */
	/* a summer day window in CEST */
	{ "alice", "plc1", SH, 2026, 7, 6, 5, 59, 59, D, "maint", OUT_DAY },
	{ "alice", "plc1", SH, 2026, 7, 6, 6, 0, 0, A, "maint", "allowed by role maint" },
	{ "alice", "plc1", SH, 2026, 7, 6, 15, 59, 59, A, "maint", "allowed by role maint" },
	{ "alice", "plc1", SH, 2026, 7, 6, 16, 0, 0, D, "maint", OUT_DAY },
};

static void
test_dst(void **state)
{
	(void)state;
	check_rows(dst_rows, sizeof(dst_rows) / sizeof(dst_rows[0]));
}

static const struct row role_rows[] = {
	/* deny beats allow: on every channel, at any time */
	{ "alice", "sis", SH, 2026, 11, 23, 9, 0, 0, D, "maint",
	    "denied by role maint: deny level:0" },
	{ "alice", "sis", SF, 2026, 11, 23, 21, 0, 0, D, "maint",
	    "denied by role maint: deny level:0" },
	{ "erin", "hmi", SF, 2026, 11, 23, 9, 0, 0, D, "blocker",
	    "denied by role blocker: deny hmi" },
	{ "erin", "plc2", SF, 2026, 11, 23, 9, 0, 0, A, "viewer", "allowed by role viewer" },
	/* union of roles: the first allowing one is named */
	{ "alice", "plc2", SF, 2026, 11, 23, 9, 0, 0, A, "maint", "allowed by role maint" },
	{ "alice", "plc2", SF, 2026, 11, 23, 20, 0, 0, A, "viewer", "allowed by role viewer" },
	/* approval only if every allowing role requires it */
	{ "bob", "other", SH, 2026, 11, 23, 9, 0, 0, N, "approver-only",
	    "role approver-only requires approval" },
	{ "bob", "other", EX, 2026, 11, 23, 9, 30, 0, A, "free-other",
	    "allowed by role free-other" },
	{ "bob", "other", EX, 2026, 11, 23, 10, 30, 0, N, "approver-only",
	    "role approver-only requires approval" },
	{ "bob", "other", SF, 2026, 11, 23, 9, 30, 0, D, NULL,
	    "no role of bob allows sftp on other" },
	/* each channel kind */
	{ "alice", "plc1", SH, 2026, 11, 23, 9, 0, 0, A, "maint", "allowed by role maint" },
	{ "alice", "plc1", EX, 2026, 11, 23, 9, 0, 0, A, "maint", "allowed by role maint" },
	{ "alice", "plc1", SF, 2026, 11, 23, 9, 0, 0, A, "maint", "allowed by role maint" },
	{ "alice", "plc1", FW, 2026, 11, 23, 9, 0, 0, A, "maint", "allowed by role maint" },
	{ "alice", "hmi", SH, 2026, 11, 23, 9, 0, 0, D, NULL,
	    "no role of alice allows shell on hmi" },
	{ "alice", "hmi", EX, 2026, 11, 23, 9, 0, 0, D, NULL,
	    "no role of alice allows exec on hmi" },
	{ "alice", "hmi", FW, 2026, 11, 23, 9, 0, 0, D, NULL,
	    "no role of alice allows forward on hmi" },
	{ "alice", "hmi", SF, 2026, 11, 23, 9, 0, 0, A, "viewer", "allowed by role viewer" },
	/* a kind one role allows outside its window, another inside without it */
	{ "alice", "plc1", EX, 2026, 11, 23, 21, 0, 0, D, "maint", OUT_DAY },
	/* tag, name and * selectors; nothing selected */
	{ "alice", "other", SH, 2026, 11, 23, 9, 0, 0, D, NULL,
	    "no role of alice selects other" },
	{ "gina", "plc1", SH, 2026, 11, 23, 9, 0, 0, D, NULL, "no role of gina selects plc1" },
	{ "frank", "other", FW, 2026, 11, 23, 9, 0, 0, A, "star", "allowed by role star" },
	/* users */
	{ "carol", "plc1", SH, 2026, 10, 30, 9, 0, 0, A, "maint", "allowed by role maint" },
	{ "carol", "plc1", SH, 2026, 10, 31, 23, 59, 59, D, "maint", OUT_DAY },
	{ "carol", "plc1", SH, 2026, 11, 1, 0, 0, 0, D, NULL, "user carol expired 2026-10-31" },
	{ "carol", "plc1", SH, 2026, 11, 23, 9, 0, 0, D, NULL, "user carol expired 2026-10-31" },
	{ "dave", "plc1", SH, 2026, 11, 23, 9, 0, 0, D, NULL, "user dave is disabled" },
	{ "zed", "plc1", SH, 2026, 11, 23, 9, 0, 0, D, NULL, "unknown user" },
	{ "alice", "nope", SH, 2026, 11, 23, 9, 0, 0, D, NULL, "unknown asset" },
	{ "", "", SH, 2026, 11, 23, 9, 0, 0, D, NULL, "unknown user" },
};

static void
test_roles_users_and_channels(void **state)
{
	(void)state;
	check_rows(role_rows, sizeof(role_rows) / sizeof(role_rows[0]));
}

static void
test_limits(void **state)
{
	struct policy_decision dec;

	(void)state;
	/* only maint allows: its limits */
	assert_int_equal(policy_decide(policy, "alice", "plc1", SH,
	    utc(2026, 11, 23, 9, 0, 0), &dec), 0);
	assert_int_equal(dec.max_session, 7200);
	assert_int_equal(dec.idle_timeout, 900);
	assert_false(dec.reason_required);
	/* maint and viewer: 2h beats 1h, and viewer's missing idle-timeout is no limit */
	assert_int_equal(policy_decide(policy, "alice", "plc2", SF,
	    utc(2026, 11, 23, 9, 0, 0), &dec), 0);
	assert_int_equal(dec.max_session, 7200);
	assert_int_equal(dec.idle_timeout, 0);
	/* the night role: its limits, and its reason requirement */
	assert_int_equal(policy_decide(policy, "alice", "plc1", SH,
	    utc(2026, 11, 23, 21, 0, 0), &dec), 0);
	assert_int_equal(dec.verdict, N);
	assert_int_equal(dec.max_session, 4 * 3600);
	assert_int_equal(dec.idle_timeout, 300);
	assert_true(dec.reason_required);
	/* no role without max-session: no limit at all */
	assert_int_equal(policy_decide(policy, "bob", "other", SH,
	    utc(2026, 11, 23, 9, 0, 0), &dec), 0);
	assert_int_equal(dec.max_session, 0);
	/* a deny carries no limits */
	assert_int_equal(policy_decide(policy, "alice", "sis", SH,
	    utc(2026, 11, 23, 9, 0, 0), &dec), 0);
	assert_int_equal(dec.max_session, 0);
	assert_int_equal(dec.idle_timeout, 0);
}

static void
test_bad_arguments(void **state)
{
	struct policy_decision dec;

	(void)state;
	assert_int_equal(policy_decide(NULL, "a", "b", SH, 0, &dec), OTG_ERR_INVAL);
	assert_int_equal(policy_decide(policy, NULL, "b", SH, 0, &dec), OTG_ERR_INVAL);
	assert_int_equal(policy_decide(policy, "a", NULL, SH, 0, &dec), OTG_ERR_INVAL);
	assert_int_equal(policy_decide(policy, "a", "b", SH, 0, NULL), OTG_ERR_INVAL);
	assert_int_equal(policy_decide(policy, "a", "b", POLICY_NCHANNELS, 0, &dec),
	    OTG_ERR_INVAL);
}

static void
test_assets_for(void **state)
{
	struct policy_menu_entry *menu;
	size_t n;

	(void)state;
	assert_int_equal(policy_assets_for(policy, "alice", utc(2026, 11, 23, 9, 0, 0),
	    &menu, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(menu[0].asset->name, "hmi");
	assert_int_equal(menu[0].decision.verdict, D);
	assert_string_equal(menu[0].decision.reason, "no role of alice allows shell on hmi");
	assert_string_equal(menu[1].asset->name, "plc1");
	assert_int_equal(menu[1].decision.verdict, A);
	assert_string_equal(menu[2].asset->name, "plc2");
	assert_int_equal(menu[2].decision.verdict, A);
	assert_string_equal(menu[3].asset->name, "sis");
	assert_string_equal(menu[3].decision.reason, "denied by role maint: deny level:0");
	free(menu);
	/* at night only the approval role is open */
	assert_int_equal(policy_assets_for(policy, "alice", utc(2026, 11, 23, 21, 0, 0),
	    &menu, &n), 0);
	assert_int_equal(menu[1].decision.verdict, N);
	assert_int_equal(menu[2].decision.verdict, D);
	free(menu);
	/* a deny-only role selects nothing to list; unknown users get nothing */
	assert_int_equal(policy_assets_for(policy, "erin", 0, &menu, &n), 0);
	assert_int_equal(n, 2);
	free(menu);
	assert_int_equal(policy_assets_for(policy, "gina", 0, &menu, &n), 0);
	assert_int_equal(n, 0);
	assert_null(menu);
	assert_int_equal(policy_assets_for(policy, "zed", 0, &menu, &n), 0);
	assert_int_equal(n, 0);
	/* the disabled are listed, with why they cannot go */
	assert_int_equal(policy_assets_for(policy, "dave", 0, &menu, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(menu[0].decision.reason, "user dave is disabled");
	free(menu);
}

static void
test_names(void **state)
{
	enum policy_channel k;

	(void)state;
	assert_string_equal(policy_channel_name(SH), "shell");
	assert_string_equal(policy_channel_name(EX), "exec");
	assert_string_equal(policy_channel_name(SF), "sftp");
	assert_string_equal(policy_channel_name(FW), "forward");
	assert_int_equal(policy_channel_parse("sftp", &k), 0);
	assert_int_equal(k, SF);
	assert_int_equal(policy_channel_parse("SFTP", &k), OTG_ERR_INVAL);
	assert_int_equal(policy_channel_parse("x11", &k), OTG_ERR_INVAL);
	assert_string_equal(policy_verdict_name(A), "allow");
	assert_string_equal(policy_verdict_name(D), "deny");
	assert_string_equal(policy_verdict_name(N), "needs-approval");
}

static int
setup(void **state)
{
	struct diag d;
	int r;

	(void)state;
	/* expiry is read in the host's zone: make the host UTC */
	setenv("TZ", "UTC", 1);
	diag_init(&d);
	r = policy_load_buffer("decide.conf", text, strlen(text), &d, &policy);
	diag_print(&d, stderr);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_dst),
		cmocka_unit_test(test_roles_users_and_channels),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_assets_for),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
