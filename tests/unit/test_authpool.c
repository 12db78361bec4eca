/* test_authpool.c: the auth helpers' framing refuses anything malformed, and a
 * real pool (forked helpers driven by a libevent loop) answers each request
 * once: passwords against STATE/passwd (unknown users too), TOTP codes spent
 * once, enrolment by invite, admin locks in +users, a killed helper replaced,
 * a full queue refused, and every queued request answered (failing closed)
 * when the pool closes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>
#include <liboath/oath.h>

#include "broker/broker.h"
#include "pam/pam.h"

static void
test_request_framing(void **state)
{
	struct authpool_req in = { AUTHPOOL_TOTP, "alice", "123456", "127.0.0.1" }, out;
	uint8_t msg[AUTHPOOL_MSG_MAX], copy[AUTHPOOL_MSG_MAX];
	char big[PASSWD_MAX + 2];
	size_t len;

	(void)state;
	assert_int_equal(authpool_encode_req(&in, msg, sizeof(msg), &len), 0);
	memcpy(copy, msg, len);
	assert_int_equal(authpool_decode_req(copy, len, &out), 0);
	assert_int_equal(out.op, AUTHPOOL_TOTP);
	assert_string_equal(out.user, "alice");
	assert_string_equal(out.secret, "123456");
	assert_string_equal(out.rhost, "127.0.0.1");
	/* cut short, one byte more, a missing NUL */
	memcpy(copy, msg, len);
	assert_int_equal(authpool_decode_req(copy, len - 1, &out), OTG_ERR_PROTO);
	memcpy(copy, msg, len);
	copy[len] = 'x';
	assert_int_equal(authpool_decode_req(copy, len + 1, &out), OTG_ERR_PROTO);
	memcpy(copy, msg, len);
	copy[len - 1] = 'x';
	assert_int_equal(authpool_decode_req(copy, len, &out), OTG_ERR_PROTO);
	/* a wrong version or op */
	memcpy(copy, msg, len);
	copy[0] = 2;
	assert_int_equal(authpool_decode_req(copy, len, &out), OTG_ERR_PROTO);
	memcpy(copy, msg, len);
	copy[1] = 99;
	assert_int_equal(authpool_decode_req(copy, len, &out), OTG_ERR_PROTO);
	/* a user name that could walk out of the store */
	in.user = "../etc";
	assert_int_equal(authpool_encode_req(&in, msg, sizeof(msg), &len), 0);
	assert_int_equal(authpool_decode_req(msg, len, &out), OTG_ERR_PROTO);
	/* a password over PASSWD_MAX is never framed */
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	in.user = "alice";
	in.secret = big;
	assert_int_equal(authpool_encode_req(&in, msg, sizeof(msg), &len), OTG_ERR_INVAL);
}

static void
test_reply_framing(void **state)
{
	struct authpool_reply in, out;
	uint8_t msg[AUTHPOOL_MSG_MAX];
	size_t len;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.status = OTG_ERR_EXISTS;
	in.value = 1;
	snprintf(in.text, sizeof(in.text), "JBSWY3DP");
	assert_int_equal(authpool_encode_reply(&in, msg, sizeof(msg), &len), 0);
	assert_int_equal(authpool_decode_reply(msg, len, &out), 0);
	assert_int_equal(out.status, OTG_ERR_EXISTS);
	assert_int_equal(out.value, 1);
	assert_string_equal(out.text, "JBSWY3DP");
	assert_int_equal(authpool_decode_reply(msg, len - 1, &out), OTG_ERR_PROTO);
	assert_int_equal(authpool_decode_reply(msg, 15, &out), OTG_ERR_PROTO);
	/* a status that is no OTG_ERR_* code */
	in.status = 5;
	assert_int_equal(authpool_encode_reply(&in, msg, sizeof(msg), &len), 0);
	assert_int_equal(authpool_decode_reply(msg, len, &out), OTG_ERR_PROTO);
	in.status = -1000;
	assert_int_equal(authpool_encode_reply(&in, msg, sizeof(msg), &len), 0);
	assert_int_equal(authpool_decode_reply(msg, len, &out), OTG_ERR_PROTO);
}

struct fixture {
	char dir[64];
	char totp[128];
	struct event_base *base;
	struct authpool *pool;
	int answered;
	struct authpool_reply last;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/otgate-authpool.XXXXXX");
	if (mkdtemp(f->dir) == NULL || (f->base = event_base_new()) == NULL)
		return -1;
	snprintf(f->totp, sizeof(f->totp), "%s/totp", f->dir);
	if (authpool_open(f->base, f->dir, NULL, &f->pool) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	authpool_close(f->pool);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
answered_cb(const struct authpool_reply *r, void *arg)
{
	struct fixture *f = arg;

	f->answered++;
	f->last = *r;
}

/* One request, run the loop until it is answered (bounded). */
static struct authpool_reply *
ask(struct fixture *f, enum authpool_op op, const char *user, const char *secret)
{
	struct authpool_req req = { op, user, secret, "127.0.0.1" };
	int before = f->answered, i;

	assert_int_equal(authpool_submit(f->pool, &req, answered_cb, f), 0);
	for (i = 0; i < 500 && f->answered == before; i++) {
		struct timeval tv = { 0, 20000 };

		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_int_equal(f->answered, before + 1);
	return &f->last;
}

static void
code_now(const char *b32, char out[7])
{
	uint8_t key[64];
	size_t len;

	assert_int_equal(totp_base32_decode(b32, key, sizeof(key), &len), 0);
	assert_int_equal(oath_totp_generate((const char *)key, len, time(NULL),
	    TOTP_PERIOD, 0, 6, out), OATH_OK);
}

static void
test_passwords(void **state)
{
	struct fixture *f = *state;
	char path[128], hash[PASSWD_HASH_MAX], why[256];

	/* no STATE/passwd: a wrong password, not an error */
	assert_int_equal(ask(f, AUTHPOOL_PASSWORD, "alice", "pw")->status, OTG_ERR_BADSIG);
	snprintf(path, sizeof(path), "%s/passwd", f->dir);
	assert_int_equal(passwd_hash("right horse", hash, sizeof(hash)), 0);
	assert_int_equal(passwd_set(path, "alice", hash, why, sizeof(why)), 0);
	assert_int_equal(ask(f, AUTHPOOL_PASSWORD, "alice", "right horse")->status, 0);
	assert_int_equal(ask(f, AUTHPOOL_PASSWORD, "alice", "wrong")->status,
	    OTG_ERR_BADSIG);
	assert_int_equal(ask(f, AUTHPOOL_PASSWORD, "nobody", "right horse")->status,
	    OTG_ERR_BADSIG);
}

static void
test_totp_and_invite(void **state)
{
	struct fixture *f = *state;
	char why[256], b32[TOTP_SECRET_B32_MAX], code[7], invite[TOTPSTORE_INVITE_MAX];
	struct authpool_reply *r;

	r = ask(f, AUTHPOOL_ENROLLED, "bob", "");
	assert_int_equal(r->status, 0);
	assert_int_equal(r->value, 0);
	/* an invite: wrong code refused, the right one yields a pending secret */
	assert_int_equal(statefile_dir(f->totp, why, sizeof(why)), 0);
	assert_int_equal(totpstore_invite_create(f->totp, "bob", time(NULL), 3600, invite,
	    sizeof(invite), why, sizeof(why)), 0);
	assert_int_equal(ask(f, AUTHPOOL_INVITE, "bob", "AAAA-BBBB-CCCC-DDDD")->status,
	    OTG_ERR_BADSIG);
	r = ask(f, AUTHPOOL_INVITE, "bob", invite);
	assert_int_equal(r->status, 0);
	assert_true(strlen(r->text) < sizeof(b32));
	memcpy(b32, r->text, strlen(r->text) + 1);
	assert_true(strlen(b32) >= 32);
	assert_int_equal(ask(f, AUTHPOOL_INVITE, "bob", invite)->status, OTG_ERR_NOTFOUND);
	code_now(b32, code);
	assert_int_equal(ask(f, AUTHPOOL_CONFIRM, "bob", code)->status, 0);
	r = ask(f, AUTHPOOL_ENROLLED, "bob", "");
	assert_int_equal(r->value, 1);
	/* the confirming code is spent; "" (a judgement that must fail) fails */
	assert_int_equal(ask(f, AUTHPOOL_TOTP, "bob", code)->status, OTG_ERR_EXISTS);
	assert_int_not_equal(ask(f, AUTHPOOL_TOTP, "bob", "")->status, 0);
	assert_int_equal(ask(f, AUTHPOOL_TOTP, "bob", "12 456")->status, OTG_ERR_INVAL);
	assert_int_equal(ask(f, AUTHPOOL_RESET, "bob", "")->status, 0);
	assert_int_equal(ask(f, AUTHPOOL_ENROLLED, "bob", "")->value, 0);
	assert_int_equal(ask(f, AUTHPOOL_TOTP, "bob", code)->status, OTG_ERR_NOTFOUND);
}

/* A helper killed while idle is replaced; requests go on being answered. */
static void
test_helper_dies(void **state)
{
	struct fixture *f = *state;
	char path[64], buf[256];
	FILE *fp;
	int pid = 0, i;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	if ((fp = fopen(path, "r")) == NULL)
		skip();
	if (fgets(buf, sizeof(buf), fp) != NULL)
		pid = atoi(buf);
	fclose(fp);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	/* wait until it is dead (a zombie: its socket is closed) */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 200; i++) {
		if ((fp = fopen(path, "r")) == NULL)
			break;
		buf[0] = '\0';
		if (fgets(buf, sizeof(buf), fp) == NULL)
			buf[0] = '\0';
		fclose(fp);
		if (strstr(buf, ") Z ") != NULL)
			break;
		usleep(10000);
	}
	for (i = 0; i < 2 * AUTHPOOL_HELPERS; i++)
		assert_int_equal(ask(f, AUTHPOOL_PASSWORD, "alice", "pw")->status,
		    OTG_ERR_BADSIG);
	/* the dead one is noticed (EOF) and reaped, not left a zombie */
	for (i = 0; i < 100 && kill(pid, 0) == 0; i++) {
		struct timeval tv = { 0, 20000 };

		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
	assert_int_equal(kill(pid, 0), -1);
}

/* Admin locks land in STATE/totp/+users as pam_otgate reads them. */
static void
test_admin_locks(void **state)
{
	struct fixture *f = *state;
	char path[160], why[256], *text;
	struct lockout t;
	size_t len;

	assert_int_equal(ask(f, AUTHPOOL_LOCK, "dave", "")->status, 0);
	assert_int_equal(ask(f, AUTHPOOL_LOCK, "erin", "")->status, 0);
	snprintf(path, sizeof(path), "%s/+users", f->totp);
	assert_int_equal(statefile_read(path, &text, &len, why, sizeof(why)), 0);
	assert_int_equal(lockout_init(&t, 5, 900, 16), 0);
	assert_int_equal(lockout_parse(&t, text, len), 0);
	free(text);
	assert_int_equal(lockout_locked(&t, "dave", time(NULL)), LOCKOUT_FOREVER);
	assert_int_equal(lockout_locked(&t, "erin", time(NULL)), LOCKOUT_FOREVER);
	lockout_free(&t);
	assert_int_equal(ask(f, AUTHPOOL_UNLOCK, "dave", "")->status, 0);
	assert_int_equal(statefile_read(path, &text, &len, why, sizeof(why)), 0);
	assert_int_equal(lockout_init(&t, 5, 900, 16), 0);
	assert_int_equal(lockout_parse(&t, text, len), 0);
	free(text);
	assert_int_equal(lockout_locked(&t, "dave", time(NULL)), 0);
	assert_int_equal(lockout_locked(&t, "erin", time(NULL)), LOCKOUT_FOREVER);
	lockout_free(&t);
}

static void
test_queue_bound_and_close(void **state)
{
	struct fixture *f = *state;
	struct authpool_req req = { AUTHPOOL_PASSWORD, "carol", "pw", "127.0.0.1" };
	int i, accepted = 0;

	/* nothing runs the loop: helpers take AUTHPOOL_HELPERS, the queue the rest */
	for (i = 0; i < AUTHPOOL_HELPERS + AUTHPOOL_QUEUE_MAX + 5; i++)
		if (authpool_submit(f->pool, &req, answered_cb, f) == 0)
			accepted++;
	assert_int_equal(accepted, AUTHPOOL_HELPERS + AUTHPOOL_QUEUE_MAX);
	assert_int_equal(authpool_submit(f->pool, &req, answered_cb, f), OTG_ERR_TOOBIG);
	/* closing answers every one of them exactly once */
	authpool_close(f->pool);
	f->pool = NULL;
	assert_int_equal(f->answered, accepted);
	assert_int_equal(f->last.status, OTG_ERR_IO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_framing),
		cmocka_unit_test(test_reply_framing),
		cmocka_unit_test_setup_teardown(test_passwords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totp_and_invite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound_and_close, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
