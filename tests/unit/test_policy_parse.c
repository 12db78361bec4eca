/* test_policy_parse.c: reading the policy: every key into its field, its
 * default, every error and warning with its line and column, all-or-nothing
 * loads, policy.d merging and file permissions, the source hash, the
 * canonical dump, and hostile input (huge, long lines, NUL bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/policy.h"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIES7B5Edsx1l8gsNNrbn2L9BssPlB1o0pggTnQ7axw8s"
#define K2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMWmPiuUrF0IXtYYu2CmVTfwAlNjTStUxqvo2QOPswbg"
/* a good base64 blob under the wrong type name */
#define KBAD "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIES7B5Edsx1l8gsNNrbn2L9BssPlB1o0pggTnQ7axw8s"
/* one valid asset, for tests about other sections */
#define ASSET "[asset plc1]\naddress = 10.0.0.1\nlogin = maint\nhostkey = " K1 "\n" \
	"tags = zone:a level:1\n"

static void
print_diag(const struct diag *d)
{
	diag_print(d, stderr);
}

static struct policy *
load_ok(const char *text, struct diag *d)
{
	struct policy *p = NULL;

	diag_init(d);
	if (policy_load_buffer("t.conf", text, strlen(text), d, &p) != 0 || p == NULL) {
		print_diag(d);
		fail_msg("policy should load:\n%s", text);
	}
	return p;
}

static int
has_item(const struct diag *d, enum diag_level level, unsigned line, unsigned col,
    const char *substr)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->items[i].level == level && d->items[i].line == line &&
		    d->items[i].col == col && strstr(d->items[i].msg, substr) != NULL)
			return 1;
	return 0;
}

static void
expect_error(const char *text, unsigned line, unsigned col, const char *substr)
{
	struct policy *p = (struct policy *)1;
	struct diag d;

	diag_init(&d);
	if (policy_load_buffer("t.conf", text, strlen(text), &d, &p) != OTG_ERR_INVAL ||
	    p != NULL || !has_item(&d, DIAG_ERROR, line, col, substr)) {
		print_diag(&d);
		fail_msg("want error %u:%u '%s' for:\n%s", line, col, substr, text);
	}
	diag_free(&d);
}

static void
expect_warning(const char *text, unsigned line, unsigned col, const char *substr)
{
	struct policy *p;
	struct diag d;

	p = load_ok(text, &d);
	if (!has_item(&d, DIAG_WARNING, line, col, substr)) {
		print_diag(&d);
		fail_msg("want warning %u:%u '%s' for:\n%s", line, col, substr, text);
	}
	policy_free(p);
	diag_free(&d);
}

static const char full[] =
    "# every key once\n"
    "[asset plc-line3]\n"
    "address = 10.20.3.15\n"
    "port = 2222\n"
    "login = maint\n"
    "credential = plc-vault\n"
    "hostkey = " K1 "\n"
    "hostkey = " K2 " comment dropped\n"
    "tags = site:turin zone:cell-3 level:1\n"
    "forward = 502 44818\n"
    "max-sessions = 1\n"
    "legacy-algorithms = yes\n"
    "\n"
    "[asset hmi]\n"
    "address = hmi.plant.example\n"
    "login = op\n"
    "hostkey = " K2 "\n"
    "\n"
    "[window weekdays]\n"
    "days = mon-fri\n"
    "time = 07:00-18:00\n"
    "timezone = Europe/Rome\n"
    "\n"
    "[window always]\n"
    "\n"
    "[role line3]\n"
    "assets = zone:cell-3 hmi\n"
    "deny = level:0\n"
    "allow = shell sftp\n"
    "window = weekdays\n"
    "window = always\n"
    "approval = required\n"
    "approvers = plant-ops\n"
    "reason = required\n"
    "max-session = 2h\n"
    "idle-timeout = 15m\n"
    "\n"
    "[user alice]\n"
    "name = Alice Rossi\n"
    "company = Example Automation GmbH\n"
    "roles = line3\n"
    "auth = publickey password pam totp\n"
    "pubkey = " K1 " alice@laptop   two words\n"
    "expires = 2027-01-31\n"
    "disabled = yes\n"
    "\n"
    "[user bob]\n"
    "roles = line3\n"
    "auth = password\n";

static void
test_every_key(void **state)
{
	const struct policy_asset *a;
	const struct policy_user *u;
	const struct policy_role *r;
	const struct policy_window *w;
	struct policy *p;
	struct diag d;
	size_t users, roles, assets, windows;

	(void)state;
	p = load_ok(full, &d);
	assert_int_equal(d.nerrors, 0);
	/* deny = level:0 guards assets not yet added */
	assert_int_equal(d.nwarnings, 1);
	assert_true(has_item(&d, DIAG_WARNING, 28, 8, "selector 'level:0'"));
	policy_counts(p, &users, &roles, &assets, &windows);
	assert_int_equal(users, 2);
	assert_int_equal(roles, 1);
	assert_int_equal(assets, 2);
	assert_int_equal(windows, 2);
	assert_non_null(a = policy_asset(p, "plc-line3"));
	assert_string_equal(a->name, "plc-line3");
	assert_string_equal(a->address, "10.20.3.15");
	assert_int_equal(a->port, 2222);
	assert_string_equal(a->login, "maint");
	assert_string_equal(a->credential, "plc-vault");
	assert_int_equal(a->hostkeys.n, 2);
	assert_string_equal(a->hostkeys.v[0], K1);
	assert_string_equal(a->hostkeys.v[1], K2);
	assert_int_equal(a->tags.n, 3);
	assert_string_equal(a->tags.v[1], "zone:cell-3");
	assert_int_equal(a->nforward, 2);
	assert_int_equal(a->forward[0], 502);
	assert_int_equal(a->forward[1], 44818);
	assert_int_equal(a->max_sessions, 1);
	assert_int_equal(a->legacy_algorithms, 1);
	/* defaults */
	assert_non_null(a = policy_asset(p, "hmi"));
	assert_int_equal(a->port, 22);
	assert_string_equal(a->credential, "hmi");
	assert_int_equal(a->nforward, 0);
	assert_int_equal(a->max_sessions, 0);
	assert_int_equal(a->legacy_algorithms, 0);
	assert_int_equal(a->reuse, 0);
	assert_int_equal(a->reuse_idle, 300);
	/* name order */
	assert_int_equal(policy_nassets(p), 2);
	assert_string_equal(policy_asset_at(p, 0)->name, "hmi");
	assert_string_equal(policy_asset_at(p, 1)->name, "plc-line3");
	assert_null(policy_asset_at(p, 2));
	assert_null(policy_asset(p, "nope"));

	w = &p->windows[1];
	assert_string_equal(w->name, "weekdays");
	assert_int_equal(w->days, 0x3e);
	assert_int_equal(w->start, 7 * 60);
	assert_int_equal(w->end, 18 * 60);
	assert_string_equal(tz_name(w->tz), "Europe/Rome");
	w = &p->windows[0];
	assert_string_equal(w->name, "always");
	assert_int_equal(w->days, 0x7f);
	assert_int_equal(w->start, 0);
	assert_int_equal(w->end, 24 * 60);
	assert_null(w->zone);
	assert_ptr_equal(w->tz, p->host);

	r = &p->roles[0];
	assert_string_equal(r->name, "line3");
	assert_int_equal(r->assets.n, 2);
	assert_string_equal(r->deny.v[0], "level:0");
	assert_int_equal(r->allow, 1u << POLICY_SHELL | 1u << POLICY_SFTP);
	assert_int_equal(r->window_names.n, 2);
	assert_ptr_equal(r->windows[0], &p->windows[1]);
	assert_ptr_equal(r->windows[1], &p->windows[0]);
	assert_true(r->approval);
	assert_string_equal(r->approvers, "plant-ops");
	assert_string_equal(policy_role_approvers(p, "line3"), "plant-ops");
	assert_null(policy_role_approvers(p, "nosuchrole"));
	assert_true(r->reason);
	assert_int_equal(r->max_session, 7200);
	assert_int_equal(r->idle_timeout, 900);

	assert_non_null(u = policy_user(p, "alice"));
	assert_string_equal(u->fullname, "Alice Rossi");
	assert_string_equal(u->company, "Example Automation GmbH");
	assert_int_equal(u->roles.n, 1);
	assert_int_equal(u->auth, POLICY_AUTH_PUBLICKEY | POLICY_AUTH_PASSWORD |
	    POLICY_AUTH_PAM | POLICY_AUTH_TOTP);
	assert_string_equal(u->pubkeys.v[0], K1 " alice@laptop   two words");
	assert_true(u->disabled);
	assert_true(u->expires > 0);
	assert_non_null(u = policy_user(p, "bob"));
	assert_null(u->fullname);
	assert_int_equal(u->auth, POLICY_AUTH_PASSWORD);
	assert_int_equal(u->expires, 0);
	assert_false(u->disabled);
	assert_null(policy_user(p, "carol"));
	policy_free(p);
	diag_free(&d);
}

/* expires = D: valid through D 23:59:59 in the host's zone */
static void
test_expires_in_host_zone(void **state)
{
	struct policy *p;
	struct diag d;
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	setenv("TZ", "Europe/Rome", 1);
	p = load_ok("[user a]\nauth = password\nexpires = 2026-10-31\n", &d);
	/* 2026-10-31 23:59:59 CET is 22:59:59 UTC */
	assert_int_equal(policy_user(p, "a")->expires, 1793487600);
	policy_free(p);
	diag_free(&d);
	setenv("TZ", "UTC", 1);
	p = load_ok("[user a]\nauth = password\nexpires = 2026-10-31\n", &d);
	assert_int_equal(policy_user(p, "a")->expires, 1793491200);
	policy_free(p);
	diag_free(&d);
	if (saved != NULL) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
}

static const struct {
	const char *text;
	unsigned line, col;
	const char *msg;
} errors[] = {
	/* structure */
	{ "top = 1\n" ASSET, 1, 1, "key 'top' outside a section" },
	{ "[thing x]\n", 1, 1, "unknown section [thing]: expected [asset NAME]" },
	{ "[asset]\naddress = 1.2.3.4\nlogin = a\n", 1, 1, "[asset] needs a name" },
	{ "[user -x]\n", 1, 1, "bad user name '-x'" },
	{ "[role a b]\n", 1, 9, "expected one name" },
	{ "[asset a\n", 1, 9, "expected ']'" },
	{ "[asset a]\naddress\n", 2, 8, "expected 'key = value'" },
	{ ASSET "adress = 1.2.3.4\n", 6, 1, "unknown key 'adress' in [asset]; did you "
	    "mean 'address'? (valid: address, port, login, credential, hostkey, tags, "
	    "forward, max-sessions, legacy-algorithms, reuse, reuse-idle)" },
	{ ASSET "colour = red\n", 6, 1, "unknown key 'colour' in [asset] (valid:" },
	{ "[window w]\nzone = UTC\n", 2, 1, "(valid: days, time, timezone)" },
	{ "[role r]\nwindows = w\n", 2, 1, "did you mean 'window'?" },
	{ "[user u]\nrole = r\n", 2, 1, "did you mean 'roles'?" },
	{ ASSET "login = again\n", 6, 1, "duplicate key 'login' in [asset plc1] "
	    "(first at line 3)" },
	{ ASSET "port =\n", 6, 7, "port needs a value" },
	{ ASSET ASSET, 6, 1, "duplicate [asset plc1] (first at t.conf:1)" },
	{ "[window w]\n[window w]\n", 2, 1, "duplicate [window w]" },
	{ "[role r]\n[role r]\n", 2, 1, "duplicate [role r]" },
	{ "[user u]\nauth = password\n[user u]\nauth = password\n", 3, 1,
	    "duplicate [user u]" },
	/* assets */
	{ "[asset a]\nlogin = x\n", 1, 1, "asset a has no address" },
	{ "[asset a]\naddress = 10.0.0.1\n", 1, 1, "asset a has no login" },
	{ ASSET "[asset b]\naddress = 10.0.0.1/24\nlogin = x\n", 7, 11, "bad address" },
	{ ASSET "[asset b]\naddress = -host\nlogin = x\n", 7, 11, "bad address" },
	{ ASSET "port = 0\n", 6, 8, "bad port '0'" },
	{ ASSET "port = 65536\n", 6, 8, "bad port" },
	{ ASSET "[asset b]\naddress = h\nlogin = ma int\n", 8, 9, "bad login" },
	{ ASSET "credential = ../x\n", 6, 14, "bad credential" },
	{ ASSET "hostkey = ssh-ed25519\n", 6, 11, "bad hostkey" },
	{ ASSET "hostkey = ssh-ed25519 AAAA!!==\n", 6, 11, "bad hostkey" },
	{ ASSET "hostkey = " KBAD "\n", 6, 11, "bad hostkey" },
	{ ASSET "hostkey = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n", 6, 11, "bad hostkey" },
	{ ASSET "hostkey = " K1 "\n", 6, 11, "duplicate hostkey" },
	{ "[asset b]\naddress = h\nlogin = x\ntags = zone\n", 4, 8, "bad tag 'zone'" },
	{ "[asset b]\naddress = h\nlogin = x\ntags = a:b a:b\n", 4, 8,
	    "duplicate tag 'a:b'" },
	{ ASSET "forward = 502 0\n", 6, 11, "bad forward port '0'" },
	{ ASSET "forward = 502 502\n", 6, 11, "duplicate forward port 502" },
	{ ASSET "max-sessions = -1\n", 6, 16, "bad max-sessions" },
	{ ASSET "legacy-algorithms = maybe\n", 6, 21,
	    "bad legacy-algorithms 'maybe': expected yes or no" },
	{ ASSET "reuse = on\n", 6, 9, "bad reuse 'on': expected yes or no" },
	{ ASSET "reuse-idle = 0\n", 6, 14, "bad reuse-idle '0': expected a duration" },
	{ ASSET "reuse-idle = 2d\n", 6, 14, "bad reuse-idle '2d'" },
	{ ASSET "reuse-idle = soon\n", 6, 14, "bad reuse-idle 'soon'" },
	/* windows */
	{ "[window w]\ndays = mon-fry\n", 2, 8, "bad days 'mon-fry'" },
	{ "[window w]\ndays = Mon\n", 2, 8, "bad days" },
	{ "[window w]\ntime = 7:00-18:00\n", 2, 8, "bad time '7:00-18:00'" },
	{ "[window w]\ntime = 07:00\n", 2, 8, "bad time" },
	{ "[window w]\ntime = 24:00-06:00\n", 2, 8, "bad time" },
	{ "[window w]\ntime = 07:00-24:30\n", 2, 8, "bad time" },
	{ "[window w]\ntime = 07:60-08:00\n", 2, 8, "bad time" },
	{ "[window w]\ntimezone = Mars/Base\n", 2, 12, "unknown timezone 'Mars/Base'" },
	{ "[window w]\ntimezone = ../../etc/passwd\n", 2, 12, "unknown timezone" },
	/* roles */
	{ ASSET "[role r]\nassets = plc1 bad!\nallow = shell\n", 7, 10,
	    "bad selector 'bad!'" },
	{ ASSET "[role r]\nassets = zone:\nallow = shell\n", 7, 10, "bad selector" },
	{ ASSET "[role r]\ndeny = :a\n", 7, 8, "bad selector ':a'" },
	{ ASSET "[role r]\nassets = plc1\nallow = shell telnet\n", 8, 9,
	    "unknown channel kind 'telnet': expected shell, exec, sftp or forward" },
	{ "[role r]\nwindow = w!\n", 2, 10, "bad window name 'w!'" },
	{ "[window weekdays]\n[role r]\nwindow = weekdayz\n", 3, 10,
	    "role r names unknown window 'weekdayz' (no [window weekdayz] section); "
	    "did you mean 'weekdays'?" },
	{ "[role r]\napproval = yes\n", 2, 12, "bad approval 'yes': expected required "
	    "or none" },
	{ "[role r]\nreason = maybe\n", 2, 10, "bad reason 'maybe'" },
	{ "[role r]\nmax-session = 2x\n", 2, 15, "bad duration '2x' for max-session" },
	{ "[role r]\nidle-timeout = 15\n", 2, 16, "bad duration '15' for idle-timeout" },
	{ "[role r]\nrecord-input = maybe\n", 2, 16, "bad record-input 'maybe': "
	    "expected yes or no" },
	{ "[role r]\nsftp = read upload\n", 2, 8, "unknown sftp direction 'upload'" },
	{ "[role r]\nsftp = none read\n", 2, 8, "unknown sftp direction 'none'" },
	{ "[role r]\nmax-file-size = 10X\n", 2, 17, "bad max-file-size '10X'" },
	{ "[role r]\napprovers = Plant Ops\n", 2, 13, "bad approvers 'Plant Ops'" },
	{ "[role r]\napprovers = -ops\n", 2, 13, "bad approvers '-ops'" },
	{ "[role r]\nmax-file-size = -1\n", 2, 17, "bad max-file-size" },
	{ "[role r]\nmax-file-size = M\n", 2, 17, "bad max-file-size" },
	{ "[role r]\nmax-file-size = 99999999999999999T\n", 2, 17, "bad max-file-size" },
	/* users */
	{ "[user u]\nauth = password\nroles = r\n", 3, 9,
	    "user u names unknown role 'r' (no [role r] section)" },
	{ "[role line3]\n[user u]\nauth = password\nroles = line4\n", 4, 9,
	    "did you mean 'line3'?" },
	{ "[role r]\n[user u]\nauth = password\nroles = r r\n", 4, 9,
	    "role 'r' listed twice" },
	{ "[user u]\nauth = password\nroles = r/x\n", 3, 9, "bad role name 'r/x'" },
	{ "[user u]\nauth = password telnet\n", 2, 8, "unknown auth method 'telnet'" },
	{ "[user u]\nauth = totp\n", 2, 8, "has no first factor" },
	{ "[user u]\npubkey = not a key\n", 2, 10, "bad pubkey" },
	{ "[user u]\nauth = password\nexpires = 2026-02-30\n", 3, 11,
	    "bad date '2026-02-30': expected YYYY-MM-DD" },
	{ "[user u]\nauth = password\nexpires = 31.1.2027\n", 3, 11, "bad date" },
	{ "[user u]\nauth = password\ndisabled = perhaps\n", 3, 12,
	    "bad disabled 'perhaps': expected yes or no" },
	/* bytes */
	{ "[asset a]\naddress = 1\x01\n", 2, 12, "control character" },
	{ "[user u]\nname = \xff\xfe\n", 2, 1, "not valid UTF-8" },
};

static void
test_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		expect_error(errors[i].text, errors[i].line, errors[i].col, errors[i].msg);
}

static void
test_long_text_values(void **state)
{
	char text[600];

	(void)state;
	snprintf(text, sizeof(text), "[user u]\nauth = password\nname = %0201d\n", 0);
	expect_error(text, 3, 8, "name is too long");
	snprintf(text, sizeof(text), "[user u]\nauth = password\ncompany = %0201d\n", 0);
	expect_error(text, 3, 11, "company is too long");
}

static void
test_every_problem_reported(void **state)
{
	static const char text[] =
	    "[asset a]\n"
	    "port = 0\n"
	    "[window w]\n"
	    "days = xyz\n"
	    "[role r]\n"
	    "window = nope\n"
	    "[user u]\n"
	    "roles = missing\n";
	struct policy *p = NULL;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(policy_load_buffer("t.conf", text, strlen(text), &d, &p),
	    OTG_ERR_INVAL);
	assert_null(p);
	assert_true(has_item(&d, DIAG_ERROR, 2, 8, "bad port"));
	assert_true(has_item(&d, DIAG_ERROR, 1, 1, "no address"));
	assert_true(has_item(&d, DIAG_ERROR, 1, 1, "no login"));
	assert_true(has_item(&d, DIAG_ERROR, 4, 8, "bad days"));
	assert_true(has_item(&d, DIAG_ERROR, 6, 10, "unknown window 'nope'"));
	assert_true(has_item(&d, DIAG_ERROR, 8, 9, "unknown role 'missing'"));
	assert_int_equal(d.nerrors, 6);
	diag_free(&d);
}

static const struct {
	const char *text;
	unsigned line, col;
	const char *msg;
} warnings[] = {
	{ "[asset a]\naddress = h\nlogin = x\n", 1, 1, "asset a has no hostkey: "
	    "connections to it will be refused" },
	{ "[user u]\nauth = password\n", 1, 1, "user u has no role" },
	{ ASSET "[role r]\nassets = plc1\nallow = shell\n[user u]\nroles = r\n", 9, 1,
	    "user u cannot log in: auth has publickey but no pubkey" },
	{ ASSET "[role r]\nassets = plc1\nallow = shell\n[user u]\nroles = r\n"
	    "auth = password\npubkey = " K1 "\n", 9, 1,
	    "has a pubkey but auth does not include publickey" },
	{ ASSET "[role r]\nassets = plc1 plc2\nallow = shell\n", 7, 10,
	    "selector 'plc2' in role r matches no asset" },
	{ ASSET "[role r]\nassets = zone:b\nallow = shell\n", 7, 10,
	    "selector 'zone:b' in role r matches no asset" },
	{ ASSET "[role r]\ndeny = level:0\n", 7, 8,
	    "selector 'level:0' in role r matches no asset" },
	{ "[role r]\nassets = *\nallow = shell\n", 2, 10,
	    "selector '*' in role r matches no asset" },
	{ ASSET "[role r]\nassets = plc1\n", 6, 1, "role r selects assets but allows "
	    "nothing" },
};

static void
test_warnings(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(warnings) / sizeof(warnings[0]); i++)
		expect_warning(warnings[i].text, warnings[i].line, warnings[i].col,
		    warnings[i].msg);
}

static void
test_no_warning_when_selectors_match(void **state)
{
	struct policy *p;
	struct diag d;

	(void)state;
	p = load_ok(ASSET "[role r]\nassets = plc1 zone:a *\ndeny = level:1\n"
	    "allow = exec\n[user u]\nroles = r\npubkey = " K1 "\n", &d);
	if (d.nwarnings != 0) {
		print_diag(&d);
		fail_msg("no warnings expected");
	}
	policy_free(p);
	diag_free(&d);
}

static char topdir[64];

static void
write_file(const char *rel, const char *text, mode_t mode)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", topdir, rel);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static int
make_tree(void **state)
{
	char path[128];

	(void)state;
	snprintf(topdir, sizeof(topdir), "/tmp/test_policy_parse.XXXXXX");
	if (mkdtemp(topdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/policy.d", topdir);
	return mkdir(path, 0755);
}

static int
remove_tree(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", topdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_files_and_policy_d(void **state)
{
	struct policy *p = NULL;
	struct diag d;
	char path[128], link[128], dir[128];
	const char *src;
	size_t len, users, roles, assets, windows;

	(void)state;
	snprintf(path, sizeof(path), "%s/policy.conf", topdir);
	snprintf(dir, sizeof(dir), "%s/policy.d", topdir);
	write_file("policy.conf", ASSET, 0644);
	write_file("policy.d/20-users.conf", "[user u]\nroles = r\nauth = password\n",
	    0644);
	write_file("policy.d/10-roles.conf", "[role r]\nassets = plc1\nallow = shell\n",
	    0600);
	write_file("policy.d/.hidden.conf", "garbage\n", 0644);
	write_file("policy.d/notes.txt", "garbage\n", 0644);
	diag_init(&d);
	assert_int_equal(policy_load(path, &d, &p), 0);
	assert_non_null(p);
	policy_counts(p, &users, &roles, &assets, &windows);
	assert_int_equal(users, 1);
	assert_int_equal(roles, 1);
	assert_int_equal(assets, 1);
	src = policy_source(p, &len);
	assert_int_equal(strlen(src), len);
	/* main file first, then policy.d in name order */
	assert_non_null(strstr(src, "# file: "));
	assert_true(strstr(src, "policy.conf\n") < strstr(src, "10-roles.conf\n"));
	assert_true(strstr(src, "10-roles.conf\n") < strstr(src, "20-users.conf\n"));
	assert_null(strstr(src, "garbage"));
	assert_int_equal(strlen(policy_hash(p)), 64);
	policy_free(p);
	diag_free(&d);

	/* the same section in two files */
	write_file("policy.d/30-dup.conf", "[role r]\n", 0644);
	diag_init(&d);
	assert_int_equal(policy_load(path, &d, &p), OTG_ERR_INVAL);
	assert_null(p);
	assert_true(has_item(&d, DIAG_ERROR, 1, 1, "duplicate [role r] (first at "));
	assert_non_null(strstr(d.items[0].msg, "10-roles.conf:1)"));
	assert_non_null(strstr(d.items[0].file, "30-dup.conf"));
	diag_free(&d);

	/* writable by others: refused, the file named */
	write_file("policy.d/30-dup.conf", "", 0646);
	diag_init(&d);
	assert_int_equal(policy_load(path, &d, &p), OTG_ERR_INVAL);
	assert_true(has_item(&d, DIAG_ERROR, 0, 0, "refusing policy file: mode 0646"));
	assert_non_null(strstr(d.items[0].file, "30-dup.conf"));
	diag_free(&d);
	write_file("policy.d/30-dup.conf", "", 0644);
	assert_int_equal(chmod(dir, 0777), 0);
	diag_init(&d);
	assert_int_equal(policy_load(path, &d, &p), OTG_ERR_INVAL);
	assert_true(has_item(&d, DIAG_ERROR, 0, 0, "refusing policy folder"));
	diag_free(&d);
	assert_int_equal(chmod(dir, 0755), 0);
	write_file("policy.conf", ASSET, 0664);
	diag_init(&d);
	assert_int_equal(policy_load(path, &d, &p), OTG_ERR_INVAL);
	assert_true(has_item(&d, DIAG_ERROR, 0, 0, "mode 0664 lets others write it"));
	diag_free(&d);
	write_file("policy.conf", ASSET, 0644);

	/* a symlink is refused; a missing file is an error, not an empty policy */
	snprintf(link, sizeof(link), "%s/link.conf", topdir);
	assert_int_equal(symlink(path, link), 0);
	diag_init(&d);
	assert_int_equal(policy_load(link, &d, &p), OTG_ERR_INVAL);
	assert_true(has_item(&d, DIAG_ERROR, 0, 0, "cannot open policy"));
	diag_free(&d);
	snprintf(link, sizeof(link), "%s/missing.conf", topdir);
	diag_init(&d);
	assert_int_equal(policy_load(link, &d, &p), OTG_ERR_INVAL);
	assert_true(has_item(&d, DIAG_ERROR, 0, 0, "No such file"));
	diag_free(&d);
}

static void
test_egress(void **state)
{
	struct policy *p;
	struct diag d;
	struct cidr net[2];

	(void)state;
	p = load_ok(ASSET "[asset v6]\naddress = fd00::5\nlogin = x\nhostkey = " K1 "\n"
	    "[asset named]\naddress = plc.example\nlogin = x\nhostkey = " K1 "\n", &d);
	diag_free(&d);
	assert_int_equal(cidr_parse("10.0.0.0/8", &net[0]), 0);
	assert_int_equal(cidr_parse("fd00::/8", &net[1]), 0);
	diag_init(&d);
	policy_check_egress(p, net, 2, &d);
	assert_int_equal(d.n, 0);
	/* outside: each numeric address warned about at its section; names are not */
	assert_int_equal(cidr_parse("192.168.0.0/16", &net[0]), 0);
	policy_check_egress(p, net, 1, &d);
	assert_int_equal(d.nwarnings, 2);
	assert_int_equal(d.nerrors, 0);
	assert_true(has_item(&d, DIAG_WARNING, 1, 1, "asset plc1 address 10.0.0.1 is "
	    "outside the egress networks"));
	assert_true(has_item(&d, DIAG_WARNING, 6, 1, "asset v6 address fd00::5"));
	diag_free(&d);
	policy_free(p);
}

static void
test_hash_follows_text(void **state)
{
	struct policy *a, *b, *c;
	struct diag d;

	(void)state;
	a = load_ok(ASSET, &d);
	diag_free(&d);
	b = load_ok(ASSET, &d);
	diag_free(&d);
	c = load_ok(ASSET "# a comment changes the hash\n", &d);
	diag_free(&d);
	assert_string_equal(policy_hash(a), policy_hash(b));
	assert_string_not_equal(policy_hash(a), policy_hash(c));
	policy_free(a);
	policy_free(b);
	policy_free(c);
}

/* record-input is yes unless a role says no, and the dump says which. */
static void
test_record_input(void **state)
{
	struct policy *p;
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	(void)state;
	p = load_ok("[role quiet]\nrecord-input = no\n[role plain]\n"
	    "[role loud]\nrecord-input = yes\n", &d);
	assert_int_equal(p->nroles, 3);
	/* roles are sorted by name: loud, plain, quiet */
	assert_string_equal(p->roles[0].name, "loud");
	assert_int_equal(p->roles[0].record_input, 1);
	assert_int_equal(p->roles[1].record_input, 1);
	assert_string_equal(p->roles[2].name, "quiet");
	assert_int_equal(p->roles[2].record_input, 0);
	assert_int_equal(policy_role_record_input(p, "quiet"), 0);
	assert_int_equal(policy_role_record_input(p, "plain"), 1);
	assert_int_equal(policy_role_record_input(p, "nosuch"), 1);
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(policy_dump(p, fp), 0);
	fclose(fp);
	assert_non_null(strstr(out, "reason = none\nrecord-input = yes\n\n[role quiet]"));
	assert_non_null(strstr(out, "[role quiet]\n"));
	assert_non_null(strstr(strstr(out, "[role quiet]\n"), "record-input = no\n"));
	free(out);
	diag_free(&d);
	policy_free(p);
}

/* sftp directions default to both; max-file-size to no limit; both dumped
 * only when set, and parsed back the same. */
static void
test_sftp_keys(void **state)
{
	struct policy *p;
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	unsigned dirs;
	uint64_t max;
	FILE *fp;

	(void)state;
	p = load_ok("[role a]\nsftp = read\nmax-file-size = 500M\n[role b]\n"
	    "[role c]\nsftp = write read\nmax-file-size = 1234\n[role d]\nsftp = none\n"
	    "[role e]\nsftp = write\nmax-file-size = 2T\n", &d);
	policy_role_sftp(p, "a", &dirs, &max);
	assert_int_equal(dirs, POLICY_SFTP_READ);
	assert_int_equal(max, 500ull << 20);
	policy_role_sftp(p, "b", &dirs, &max);
	assert_int_equal(dirs, POLICY_SFTP_READ | POLICY_SFTP_WRITE);
	assert_int_equal(max, 0);
	policy_role_sftp(p, "c", &dirs, &max);
	assert_int_equal(dirs, POLICY_SFTP_READ | POLICY_SFTP_WRITE);
	assert_int_equal(max, 1234);
	policy_role_sftp(p, "d", &dirs, &max);
	assert_int_equal(dirs, 0);
	policy_role_sftp(p, "e", &dirs, &max);
	assert_int_equal(dirs, POLICY_SFTP_WRITE);
	assert_int_equal(max, 2ull << 40);
	policy_role_sftp(p, "nosuch", &dirs, &max);
	assert_int_equal(dirs, POLICY_SFTP_READ | POLICY_SFTP_WRITE);
	assert_int_equal(max, 0);
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(policy_dump(p, fp), 0);
	fclose(fp);
	assert_non_null(strstr(strstr(out, "[role a]\n"),
	    "sftp = read\nmax-file-size = 524288000\n"));
	/* role b is all defaults: its first sftp line is role d's */
	assert_true(strstr(strstr(out, "[role b]\n"), "sftp =") >
	    strstr(out, "[role d]\n"));
	assert_non_null(strstr(strstr(out, "[role d]\n"), "sftp = none\n"));
	assert_non_null(strstr(strstr(out, "[role e]\n"), "sftp = write\n"));
	free(out);
	diag_free(&d);
	policy_free(p);
}

static char *
dump_of(const char *text)
{
	struct policy *p;
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	p = load_ok(text, &d);
	assert_non_null(fp = open_memstream(&out, &len));
	assert_int_equal(policy_dump(p, fp), 0);
	fclose(fp);
	policy_free(p);
	diag_free(&d);
	return out;
}

static void
test_dump_round_trip(void **state)
{
	char *one, *two;

	(void)state;
	one = dump_of(full);
	two = dump_of(one);
	assert_string_equal(one, two);
	assert_non_null(strstr(one, "[asset plc-line3]\naddress = 10.20.3.15\nport = 2222\n"
	    "login = maint\ncredential = plc-vault\nhostkey = " K1 "\nhostkey = " K2 "\n"
	    "tags = level:1 site:turin zone:cell-3\nforward = 502 44818\n"
	    "max-sessions = 1\n"));
	assert_non_null(strstr(one, "[window always]\ndays = mon-sun\ntime = 00:00-24:00\n\n"));
	assert_non_null(strstr(one, "[role line3]\nassets = zone:cell-3 hmi\n"
	    "deny = level:0\nallow = shell sftp\nwindow = weekdays always\n"
	    "approval = required\napprovers = plant-ops\nreason = required\n"
	    "max-session = 2h\nidle-timeout = 15m\n"));
	assert_non_null(strstr(one, "auth = publickey password pam totp\n"));
	assert_non_null(strstr(one, "expires = 2027-01-31\ndisabled = yes\n"));
	/* assets, then windows, roles and users, each by name */
	assert_true(strstr(one, "[asset hmi]") < strstr(one, "[asset plc-line3]"));
	assert_true(strstr(one, "[asset plc-line3]") < strstr(one, "[window always]"));
	assert_true(strstr(one, "[window weekdays]") < strstr(one, "[role line3]"));
	assert_true(strstr(one, "[role line3]") < strstr(one, "[user alice]"));
	free(one);
	free(two);
}

/* reuse (warm asset connections): off by default, reuse-idle 5m unless set;
 * dumped only when on, and back to the same values. */
static void
test_reuse_keys(void **state)
{
	static const char text[] = ASSET "reuse = yes\nreuse-idle = 2m\n"
	    "[asset b]\naddress = h\nlogin = x\nreuse = yes\n"
	    "[asset c]\naddress = h\nlogin = x\n";
	const struct policy_asset *a;
	struct policy *p;
	struct diag d;
	char *one, *two, *c;

	(void)state;
	p = load_ok(text, &d);
	assert_non_null(a = policy_asset(p, "plc1"));
	assert_int_equal(a->reuse, 1);
	assert_int_equal(a->reuse_idle, 120);
	assert_non_null(a = policy_asset(p, "b"));
	assert_int_equal(a->reuse, 1);
	assert_int_equal(a->reuse_idle, 300);
	assert_non_null(a = policy_asset(p, "c"));
	assert_int_equal(a->reuse, 0);
	policy_free(p);
	diag_free(&d);
	one = dump_of(text);
	two = dump_of(one);
	assert_string_equal(one, two);
	assert_non_null(strstr(one, "reuse = yes\nreuse-idle = 120s\n"));
	assert_non_null(strstr(one, "reuse = yes\nreuse-idle = 300s\n"));
	/* sections by name: c comes before plc1, and has no reuse line */
	assert_non_null(c = strstr(one, "[asset c]"));
	assert_true(strstr(c, "reuse") > strstr(c, "[asset plc1]"));
	free(one);
	free(two);
}

/* Equivalent policies written differently dump the same. */
static void
test_dump_is_canonical(void **state)
{
	char *one, *two;

	(void)state;
	one = dump_of(
	    "[window w]\ndays = fri-mon\ntime = 22:00-00:00\n"
	    "[asset b]\naddress = h\nlogin = x\nhostkey = " K2 "\nhostkey = " K1 "\n"
	    "tags = z:1 a:1\nforward = 80 22\n"
	    "[role r]\nassets = b\nallow = sftp shell\nmax-session = 120m\n"
	    "approval = none\n"
	    "[user u]\nroles = r\nauth = totp password\n");
	two = dump_of(
	    "[user u]\n  roles   =   r  \nauth=password totp   # the same\n"
	    "[role r]\nallow = shell\tsftp\nassets = b\nmax-session = 7200s\n"
	    "[asset b]\nlogin = x\naddress = h\nport = 22\ncredential = b\n"
	    "hostkey = " K1 " old comment\nhostkey = " K2 "\ntags = a:1 z:1\n"
	    "forward = 22 80\nmax-sessions = 0\n"
	    "[window w]\ntime = 22:00-24:00\ndays = sat sun mon fri\n");
	assert_string_equal(one, two);
	assert_non_null(strstr(one, "days = fri-mon\ntime = 22:00-24:00\n"));
	assert_non_null(strstr(one, "max-session = 2h\n"));
	free(one);
	free(two);
}

/* Hostile input: clean errors, bounded diagnostics, no crash. */
static void
test_hostile_input(void **state)
{
	struct policy *p = NULL;
	struct diag d;
	size_t n = 100000, i, len = 0;
	char *text;

	(void)state;
	/* 100k sections, each with problems */
	assert_non_null(text = malloc(n * 32));
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "[asset a%zu]\nport = x\n", i);
	diag_init(&d);
	assert_int_equal(policy_load_buffer("big", text, len, &d, &p), OTG_ERR_INVAL);
	assert_null(p);
	assert_int_equal(d.n, DIAG_MAX_ITEMS);
	assert_true(d.nerrors >= 3 * n);
	assert_true(d.ndropped > 0);
	diag_free(&d);
	/* 100k valid sections load */
	len = 0;
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "[window w%zu]\n", i);
	diag_init(&d);
	assert_int_equal(policy_load_buffer("big", text, len, &d, &p), 0);
	assert_int_equal(p->nwindows, n);
	policy_free(p);
	diag_free(&d);
	/* a line far over the limit, and NUL bytes */
	memset(text, 'a', 100000);
	memcpy(text, "[user u]\nname = ", 16);
	diag_init(&d);
	assert_int_equal(policy_load_buffer("long", text, 100000, &d, &p), OTG_ERR_INVAL);
	assert_true(has_item(&d, DIAG_ERROR, 2, INI_MAX_LINE + 1, "line too long"));
	diag_free(&d);
	memcpy(text, "[user u]\nna\0e = x\n", 18);
	diag_init(&d);
	assert_int_equal(policy_load_buffer("nul", text, 18, &d, &p), OTG_ERR_INVAL);
	assert_true(has_item(&d, DIAG_ERROR, 2, 3, "NUL byte"));
	diag_free(&d);
	/* lists and repeated keys are bounded, so checks stay linear */
	len = (size_t)sprintf(text, "[asset a]\naddress = h\nlogin = x\ntags =");
	for (i = 0; i < 257; i++)
		len += (size_t)sprintf(text + len, " k:%zu", i);
	len += (size_t)sprintf(text + len, "\n");
	diag_init(&d);
	assert_int_equal(policy_load_buffer("many", text, len, &d, &p), OTG_ERR_INVAL);
	assert_true(has_item(&d, DIAG_ERROR, 4, 8, "too many values for tags (at most 256)"));
	diag_free(&d);
	len = (size_t)sprintf(text, "[user u]\nauth = password\n");
	for (i = 0; i < 65; i++)
		len += (size_t)sprintf(text + len, "pubkey = %s c%zu\n", K1, i);
	diag_init(&d);
	assert_int_equal(policy_load_buffer("many", text, len, &d, &p), OTG_ERR_INVAL);
	assert_true(has_item(&d, DIAG_ERROR, 67, 1, "too many 'pubkey' lines in [user u] "
	    "(at most 64)"));
	assert_int_equal(d.nerrors, 1);
	diag_free(&d);
	free(text);
	/* an empty policy is valid */
	diag_init(&d);
	assert_int_equal(policy_load_buffer("empty", "", 0, &d, &p), 0);
	assert_int_equal(policy_nassets(p), 0);
	policy_free(p);
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_expires_in_host_zone),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_text_values),
		cmocka_unit_test(test_every_problem_reported),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_no_warning_when_selectors_match),
		cmocka_unit_test_setup_teardown(test_files_and_policy_d, make_tree,
		    remove_tree),
		cmocka_unit_test(test_egress),
		cmocka_unit_test(test_hash_follows_text),
		cmocka_unit_test(test_record_input),
		cmocka_unit_test(test_sftp_keys),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_dump_is_canonical),
		cmocka_unit_test(test_reuse_keys),
		cmocka_unit_test(test_hostile_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
